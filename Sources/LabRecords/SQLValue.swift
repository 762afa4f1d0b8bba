/// One SQLite value as the generic `RecordStore.query` binds and returns it.
///
/// SQLite stores NaN as NULL, so a NaN bound as `.real` reads back as `.null`.
public enum SQLValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    /// The value as an integer (reals truncate), or nil for NULL and text.
    public var int: Int? {
        switch self {
        case .integer(let v): return Int(v)
        case .real(let v): return v.isFinite ? Int(v) : nil
        case .null, .text: return nil
        }
    }

    /// The value as a double (integers widen), or nil for NULL and text.
    public var double: Double? {
        switch self {
        case .integer(let v): return Double(v)
        case .real(let v): return v
        case .null, .text: return nil
        }
    }

    /// The value as text, or nil unless it is `.text`.
    public var string: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    public var isNull: Bool { self == .null }

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .integer(let v): return String(v)
        case .real(let v): return String(v)
        case .text(let s): return s
        }
    }
}

extension SQLValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByNilLiteral
{
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(nilLiteral: ()) { self = .null }
}
