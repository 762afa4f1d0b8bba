/// A TOML value as read from a file (dates and times are not supported).
public enum TOMLValue: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)

    /// The kind's name for error messages: "a string", "an integer", ...
    public var kindName: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a float"
        case .boolean: return "a boolean"
        case .array: return "an array"
        case .table: return "a table"
        }
    }

    /// The value written as TOML (strings quoted and escaped, floats round-trippable).
    public var description: String {
        switch self {
        case .string(let s): return tomlQuoted(s)
        case .integer(let i): return String(i)
        case .float(let x): return tomlFloat(x)
        case .boolean(let b): return b ? "true" : "false"
        case .array(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .table(let t):
            if t.isEmpty { return "{}" }
            return "{ " + t.entries.map { "\(tomlKey($0.key)) = \($0.value)" }.joined(separator: ", ") + " }"
        }
    }
}

/// A TOML table that keeps its keys in file order and remembers the line each key was set on.
///
/// Equality ignores order and line numbers: two tables are equal when they hold the same keys
/// with equal values, as TOML's semantics say.
public struct TOMLTable: Equatable, Sendable {
    private var order: [String] = []
    private var storage: [String: (value: TOMLValue, line: Int)] = [:]

    public init() {}

    /// Keys in the order they first appeared.
    public var keys: [String] { order }
    public var count: Int { order.count }
    public var isEmpty: Bool { order.isEmpty }

    /// Key/value pairs in file order.
    public var entries: [(key: String, value: TOMLValue)] {
        order.map { ($0, storage[$0]!.value) }
    }

    public subscript(key: String) -> TOMLValue? {
        storage[key]?.value
    }

    /// The 1-based line a key was defined on (a table's header line); 0 when built in code.
    public func line(of key: String) -> Int? {
        storage[key]?.line
    }

    /// Sets a key, appending it to the order when new.
    public mutating func set(_ key: String, _ value: TOMLValue, line: Int = 0) {
        if storage[key] == nil { order.append(key) }
        storage[key] = (value, line)
    }

    public static func == (a: TOMLTable, b: TOMLTable) -> Bool {
        a.count == b.count && a.order.allSatisfy { a[$0] == b[$0] }
    }
}

/// A basic TOML string with `"`, `\` and control characters escaped.
func tomlQuoted(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        default:
            if u.value < 0x20 || u.value == 0x7F {
                let hex = String(u.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}

/// A key written bare when it can be, quoted otherwise (so `"controller.kind"` stays one key).
func tomlKey(_ key: String) -> String {
    let bare = !key.isEmpty && key.unicodeScalars.allSatisfy(isBareKeyScalar)
    return bare ? key : tomlQuoted(key)
}

/// Swift's shortest round-trip form is valid TOML (`3.0`, `1e-16`, `1e+16`, `inf`, `nan`).
func tomlFloat(_ x: Double) -> String {
    x.description
}

func isBareKeyScalar(_ u: Unicode.Scalar) -> Bool {
    switch u {
    case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
    default: return false
    }
}
