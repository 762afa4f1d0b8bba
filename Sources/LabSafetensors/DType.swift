/// The element types the safetensors format defines, spelled as in the header.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case u8 = "U8", i8 = "I8"
    case f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3", f8e8m0 = "F8_E8M0"
    case f4 = "F4", f6e2m3 = "F6_E2M3", f6e3m2 = "F6_E3M2"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case i64 = "I64", u64 = "U64", f64 = "F64", c64 = "C64"

    /// Bits per element (sub-byte types pack several elements per byte).
    public var bits: Int {
        switch self {
        case .f4: return 4
        case .f6e2m3, .f6e3m2: return 6
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0: return 8
        case .i16, .u16, .f16, .bf16: return 16
        case .i32, .u32, .f32: return 32
        case .i64, .u64, .f64, .c64: return 64
        }
    }

    /// Whether `SafetensorsFile.floats` converts this type to Float32. F64 is rounded to the
    /// nearest Float (magnitudes beyond Float's range become infinities).
    public var convertsToFloat: Bool {
        switch self {
        case .f32, .f16, .bf16, .f64: return true
        default: return false
        }
    }
}

/// Element conversions to Float32: exact for F16 and BF16 (subnormals, infinities and NaN
/// payloads included), rounding to nearest for F64.
enum FloatConversion {
    /// IEEE 754 binary16 bits -> Float.
    @inline(__always)
    static func half(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1f
        let mantissa = UInt32(h & 0x03ff)
        if exponent == 0 {
            // Zero or subnormal: mantissa * 2^-24, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return Float(bitPattern: sign | magnitude.bitPattern)
        }
        if exponent == 0x1f {
            // Infinity or NaN; the payload moves to the top of Float's mantissa.
            return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        }
        // Normal: rebias the exponent from 15 to 127.
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// bfloat16 bits -> Float (bfloat16 is the upper half of a Float).
    @inline(__always)
    static func bfloat(_ b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }
}
