/// A JSON value written with keys in a fixed order, numbers in Swift's shortest round-trip form
/// (floats always with a point or exponent, so Python reads them back as floats).
indirect enum JSONText: Sendable {
    case int(Int), double(Double), bool(Bool), string(String), null
    case array([JSONText])
    case object([(String, JSONText)])

    /// Pretty-printed with two-space indentation and a final newline.
    var text: String { render(indent: "") + "\n" }

    private func render(indent: String) -> String {
        switch self {
        case .int(let i): return String(i)
        case .double(let x): return x.description
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .string(let s): return JSONText.quoted(s)
        case .array(let items):
            if items.isEmpty { return "[]" }
            let inner = indent + "  "
            return "[\n" + items.map { inner + $0.render(indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            let inner = indent + "  "
            let lines = members.map { inner + JSONText.quoted($0.0) + ": " + $0.1.render(indent: inner) }
            return "{\n" + lines.joined(separator: ",\n") + "\n" + indent + "}"
        }
    }

    /// Strings here are the fixed ASCII names of config.json (keys, "silu", "default"), which
    /// need no escapes.
    static func quoted(_ s: String) -> String {
        precondition(s.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" },
                     "JSONText writes plain ASCII strings only")
        return "\"" + s + "\""
    }
}
