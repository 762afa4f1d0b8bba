/// UTF-8 well-formedness (Unicode 15, table 3-7) with the position of the first error.
///
/// A hand loop rather than `String(validating:)` because the error must carry a byte offset
/// and the input may be a memory-mapped file larger than memory (one pass, no copy).

/// Offset of the first byte of the first ill-formed UTF-8 sequence in `bytes`, nil when all
/// of it is well formed. A sequence cut off by the end of the buffer is ill formed.
public func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    guard let p = bytes.baseAddress else { return nil }
    let n = bytes.count
    var i = 0
    while i < n {
        // ASCII fast path, eight bytes at a time.
        while i + 8 <= n,
              UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            i += 8
        }
        if i >= n { break }
        let lead = p[i]
        if lead < 0x80 { i += 1; continue }
        // Length and the allowed range of the second byte (which excludes overlong forms,
        // surrogates and code points above U+10FFFF).
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return i
        }
        guard i + length <= n, (low...high).contains(p[i + 1]) else { return i }
        for k in 2..<length where p[i + k] & 0xC0 != 0x80 { return i }
        i += length
    }
    return nil
}

/// 1-based line number of byte `offset` (newlines before it, plus one).
func lineNumber(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var line = 1
    for i in 0..<min(offset, bytes.count) where bytes[i] == 0x0A { line += 1 }
    return line
}
