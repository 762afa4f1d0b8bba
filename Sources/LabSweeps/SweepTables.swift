import Foundation
import LabConfig

/// Reads the `[sweep]` and `[variants.NAME]` tables of a parsed sweep file, checking each
/// entry (key path, value types, empty or repeated values) with messages that name it.
struct SweepTableReader {
    let file: String
    let document: TOMLTable

    struct Sweep {
        var axes: [SweepAxis] = []
        var seeds: [Int]? = nil
        var prefix: String? = nil
    }

    /// The keys `[sweep]` holds besides grid axes.
    static let reservedKeys = ["seeds", "prefix"]

    func readSweep() throws -> Sweep {
        guard let value = document["sweep"] else {
            if document["variants"] == nil {
                throw ConfigError(source: .file(file, line: nil),
                                  "no [sweep] table and no [variants.NAME] tables: nothing to sweep. Add e.g. [sweep] \"controller.kind\" = [\"none\", \"pid\"] or seeds = [1, 2]")
            }
            return Sweep()
        }
        guard case .table(let table) = value else {
            throw problem(document.line(of: "sweep"), "sweep", "sweep must be a table: write [sweep] on a line of its own")
        }
        var sweep = Sweep()
        if table.isEmpty && document["variants"] == nil {
            throw problem(document.line(of: "sweep"), "sweep",
                          "[sweep] is empty: give at least one grid key (e.g. \"controller.kind\" = [\"none\", \"pid\"]) or seeds = [1, 2]")
        }
        for (key, value, line) in flatten(table, lines: table) {
            switch key {
            case "seeds":
                sweep.seeds = try readSeeds(value, line: line)
            case "prefix":
                guard case .string(let p) = value, p.isEmpty || isNameSafe(p) else {
                    throw problem(line, "sweep.prefix", "sweep.prefix = \(value): expected a string of letters, digits, '.', '_' or '-'")
                }
                sweep.prefix = p
            default:
                sweep.axes.append(try readAxis(key, value, line: line))
            }
        }
        return sweep
    }

    func readVariants() throws -> [SweepVariant] {
        guard let value = document["variants"] else { return [] }
        guard case .table(let table) = value, !table.isEmpty else {
            throw problem(document.line(of: "variants"), "variants",
                          "variants must hold named tables, e.g. [variants.baseline]; it is empty or not a table")
        }
        return try table.entries.map { name, body in
            let line = table.line(of: name)
            guard isNameSafe(name) else {
                throw problem(line, "variants.\(name)", "variant name '\(name)': use letters, digits, '.', '_' or '-' (it becomes part of run names)")
            }
            guard case .table(let settings) = body else {
                throw problem(line, "variants.\(name)", "variants.\(name) = \(body): expected a table [variants.\(name)] of config keys")
            }
            var list: [SweepSetting] = [], derivation: SweepVariant.Derivation? = nil
            for (key, value, keyLine) in flatten(settings, lines: settings) {
                if key == "derive" {
                    guard case .string(let s) = value, let d = SweepVariant.Derivation(rawValue: s) else {
                        let allowed = SweepVariant.Derivation.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                        throw problem(keyLine, "variants.\(name).derive", "variants.\(name).derive = \(value): must be one of \(allowed)")
                    }
                    derivation = d
                    continue
                }
                try check(key, value, line: keyLine, entry: "variants.\(name)")
                list.append(SweepSetting(key: key, value: value, line: keyLine))
            }
            return SweepVariant(name: name, settings: list, derivation: derivation, line: line)
        }
    }

    private func readSeeds(_ value: TOMLValue, line: Int?) throws -> [Int] {
        guard case .array(let items) = value else {
            throw problem(line, "sweep.seeds", "sweep.seeds = \(value): expected an array of seeds, e.g. seeds = [1, 2, 3]")
        }
        guard !items.isEmpty else { throw problem(line, "sweep.seeds", "sweep.seeds is empty: give at least one seed") }
        var seeds: [Int] = []
        for item in items {
            guard case .integer(let s) = item, s >= 0 else {
                throw problem(line, "sweep.seeds", "sweep.seeds holds \(item): seeds must be integers >= 0")
            }
            guard !seeds.contains(s) else { throw problem(line, "sweep.seeds", "sweep.seeds lists \(s) twice") }
            seeds.append(s)
        }
        return seeds
    }

    private func readAxis(_ key: String, _ value: TOMLValue, line: Int?) throws -> SweepAxis {
        let entry = "sweep.\"\(key)\""
        guard case .array(let values) = value else {
            throw problem(line, key, "[sweep] \"\(key)\" = \(value): expected an array of values to sweep, e.g. [\(value)]")
        }
        guard !values.isEmpty else {
            throw problem(line, key, "[sweep] \"\(key)\" = []: the grid is empty; give at least one value")
        }
        var seen: [TOMLValue] = []
        for v in values {
            try check(key, v, line: line, entry: "[sweep]")
            if seen.contains(v) { throw problem(line, key, "[sweep] \"\(key)\" lists \(v) twice") }
            seen.append(v)
        }
        if key == "train.threads" {
            throw problem(line, key, "\(entry): train.threads is set by the sweep (--threads, split over --jobs); remove it from the grid")
        }
        return SweepAxis(key: key, values: values, line: line)
    }

    /// Throws LabConfig's own message (unknown key with suggestions, wrong type) for `key = value`.
    private func check(_ key: String, _ value: TOMLValue, line: Int?, entry: String) throws {
        var scratch = LabConfig()
        do {
            try scratch.set(key, value)
        } catch let error as ConfigError {
            throw problem(line, key, "\(entry): " + error.problems.map(\.message).joined(separator: "; "))
        }
    }

    private func problem(_ line: Int?, _ key: String, _ message: String) -> ConfigError {
        ConfigError(source: .file(file, line: line), keyPath: key, message)
    }
}

/// Entries of `table` with nested tables flattened into dotted paths (`controller = {kind = ...}`
/// -> `controller.kind`), each with the line of its outermost key.
func flatten(_ table: TOMLTable, lines: TOMLTable) -> [(String, TOMLValue, Int?)] {
    var out: [(String, TOMLValue, Int?)] = []
    for (key, value) in table.entries {
        let line = lines.line(of: key)
        if case .table(let inner) = value {
            out += flatten(inner, lines: inner).map { ("\(key).\($0.0)", $0.1, $0.2 ?? line) }
        } else {
            out.append((key, value, line))
        }
    }
    return out
}

/// Letters, digits, `.`, `_` and `-` only: safe in run names, file names and Slurm scripts.
func isNameSafe(_ s: String) -> Bool {
    !s.isEmpty && s.unicodeScalars.allSatisfy { u in
        switch u {
        case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-": return true
        default: return false
        }
    }
}
