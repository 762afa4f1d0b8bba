/// Floating-point state encoded as its bit patterns, so a value decoded from a checkpoint is
/// the value encoded, bit for bit (-0.0, subnormals and the last ulp included), whatever the
/// text format does with decimal numbers.
///
/// `@BitExact var integral: [Double]` makes a struct's synthesized `Codable` write the field as
/// `[UInt64]` (Float as `UInt32`); a nil optional is written as null and also read when absent.
@propertyWrapper
public struct BitExact<Value: BitExactCodable>: Codable, Sendable, Equatable {
    public var wrappedValue: Value
    public init(wrappedValue: Value) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        wrappedValue = Value(exactBits: try decoder.singleValueContainer().decode(Value.ExactBits.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(wrappedValue.exactBits)
    }
}

/// A value `BitExact` can store: Float, Double, and arrays and optionals of them.
public protocol BitExactCodable: Sendable, Equatable {
    /// The integers that hold the value exactly.
    associatedtype ExactBits: Codable
    var exactBits: ExactBits { get }
    init(exactBits: ExactBits)
}

extension Double: BitExactCodable {
    public var exactBits: UInt64 { bitPattern }
    public init(exactBits: UInt64) { self.init(bitPattern: exactBits) }
}

extension Float: BitExactCodable {
    public var exactBits: UInt32 { bitPattern }
    public init(exactBits: UInt32) { self.init(bitPattern: exactBits) }
}

extension Array: BitExactCodable where Element: BitExactCodable {
    public var exactBits: [Element.ExactBits] { map(\.exactBits) }
    public init(exactBits: [Element.ExactBits]) { self = exactBits.map(Element.init(exactBits:)) }
}

extension Optional: BitExactCodable where Wrapped: BitExactCodable {
    public var exactBits: Wrapped.ExactBits? { map(\.exactBits) }
    public init(exactBits: Wrapped.ExactBits?) { self = exactBits.map(Wrapped.init(exactBits:)) }
}

public extension KeyedDecodingContainer {
    /// An optional `BitExact` field missing from the data reads as nil (as a plain optional does).
    func decode<T: BitExactCodable>(_ type: BitExact<T?>.Type, forKey key: Key) throws -> BitExact<T?> {
        try decodeIfPresent(type, forKey: key) ?? BitExact(wrappedValue: nil)
    }
}
