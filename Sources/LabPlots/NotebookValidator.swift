import Foundation

/// Checks a notebook file against the rules of the nbformat 4 JSON schema (v4.5) that a
/// notebook without outputs can break: the top-level keys and versions, metadata, and each
/// cell's type, id, metadata, source and code-cell fields, with no unknown keys.
///
/// The official `nbformat.validate` checks more (output types, for instance); the tests run it
/// too where Python's nbformat is installed.
public enum NotebookValidator {
    /// Every problem found, each naming where it is (`cells[3].source`); empty when valid.
    public static func problems(in data: Data) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: data), let nb = object as? [String: Any] else {
            return ["the file is not a JSON object"]
        }
        var p: [String] = []
        let topKeys: Set<String> = ["metadata", "nbformat", "nbformat_minor", "cells"]
        for k in topKeys where nb[k] == nil { p.append("missing top-level key '\(k)'") }
        for k in nb.keys where !topKeys.contains(k) { p.append("unknown top-level key '\(k)'") }
        if let v = nb["nbformat"], integer(v) != 4 { p.append("nbformat is \(v), not 4") }
        let minor = nb["nbformat_minor"].flatMap(integer)
        if nb["nbformat_minor"] != nil, (minor ?? -1) < 0 { p.append("nbformat_minor is not a non-negative integer") }
        if let m = nb["metadata"] {
            if let meta = m as? [String: Any] { p += metadataProblems(meta) } else { p.append("metadata is not an object") }
        }
        guard let cellsValue = nb["cells"] else { return p }
        guard let cells = cellsValue as? [Any] else { return p + ["cells is not an array"] }
        var ids: Set<String> = []
        for (i, c) in cells.enumerated() {
            guard let cell = c as? [String: Any] else { p.append("cells[\(i)] is not an object"); continue }
            p += cellProblems(cell, at: "cells[\(i)]", needsID: (minor ?? 0) >= 5, ids: &ids)
        }
        return p
    }

    static func metadataProblems(_ meta: [String: Any]) -> [String] {
        var p: [String] = []
        if let k = meta["kernelspec"] {
            if let ks = k as? [String: Any] {
                for key in ["name", "display_name"] where !(ks[key] is String) { p.append("metadata.kernelspec.\(key) is not a string") }
            } else { p.append("metadata.kernelspec is not an object") }
        }
        if let l = meta["language_info"] {
            if let li = l as? [String: Any] {
                if !(li["name"] is String) { p.append("metadata.language_info.name is not a string") }
            } else { p.append("metadata.language_info is not an object") }
        }
        return p
    }

    static func cellProblems(_ cell: [String: Any], at path: String, needsID: Bool, ids: inout Set<String>) -> [String] {
        var p: [String] = []
        let type = cell["cell_type"] as? String
        var allowed: Set<String> = ["id", "cell_type", "metadata", "source"]
        switch type {
        case "code": allowed.formUnion(["outputs", "execution_count"])
        case "markdown", "raw": allowed.insert("attachments")
        default: return [path + ".cell_type is \(cell["cell_type"].map { "\($0)" } ?? "missing"), not code, markdown or raw"]
        }
        for k in cell.keys where !allowed.contains(k) { p.append("\(path) has unknown key '\(k)' for a \(type!) cell") }
        if let id = cell["id"] {
            if let s = id as? String, (1...64).contains(s.count),
               s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
                if !ids.insert(s).inserted { p.append("\(path).id '\(s)' is not unique") }
            } else { p.append("\(path).id is not 1-64 characters of letters, digits, - and _") }
        } else if needsID { p.append("\(path).id is missing (required from nbformat 4.5)") }
        if !(cell["metadata"] is [String: Any]) { p.append("\(path).metadata is missing or not an object") }
        switch cell["source"] {
        case is String: break
        case let list as [Any] where list.allSatisfy({ $0 is String }): break
        default: p.append("\(path).source is not a string or a list of strings")
        }
        if type == "code" {
            if !(cell["outputs"] is [Any]) { p.append("\(path).outputs is missing or not an array") }
            switch cell["execution_count"] {
            case is NSNull: break
            case let n? where (integer(n) ?? -1) >= 0: break
            default: p.append("\(path).execution_count is missing or not null / a non-negative integer")
            }
        }
        return p
    }

    /// An integer JSON number (not a boolean, not a fraction).
    static func integer(_ v: Any) -> Int? {
        // JSON true/false arrive as NSNumber too, with the C type `char`.
        guard let n = v as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
        let d = n.doubleValue
        return d == d.rounded() ? Int(d) : nil
    }
}
