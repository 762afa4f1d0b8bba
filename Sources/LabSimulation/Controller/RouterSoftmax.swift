#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// e^x for 8 lanes: x = n ln2 + r with |r| <= ln2 / 2, e^r by the Cephes `expf` polynomial,
/// 2^n put into the exponent bits. Relative error about 2e-7 on [-87, 88]; below -87 it
/// returns about 0, which is what a softmax needs.
@inline(__always)
func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    var x = x.replacing(with: 88, where: x .> 88)
    x = x.replacing(with: -87, where: x .< -87)
    // n = round(x / ln2) by the 1.5 * 2^23 trick: the low mantissa bits of t hold n.
    let t = SIMD8<Float>(repeating: 12_582_912).addingProduct(x, 1.442_695_04)   // x log2(e) rounded into the mantissa
    let n = t - 12_582_912
    let r = x.addingProduct(n, -0.693_359_375).addingProduct(n, 2.121_944_4e-4)   // ln2 in two parts
    var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
    p = SIMD8(repeating: 1.398_199_95e-3).addingProduct(p, r)
    p = SIMD8(repeating: 8.333_451_9e-3).addingProduct(p, r)
    p = SIMD8(repeating: 4.166_579_6e-2).addingProduct(p, r)
    p = SIMD8(repeating: 1.666_666_55e-1).addingProduct(p, r)
    p = SIMD8(repeating: 5.000_000_1e-1).addingProduct(p, r)
    let er = (r + 1).addingProduct(p, r * r)
    let bits = unsafeBitCast(t, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127
    return er * unsafeBitCast(bits &<< 23, to: SIMD8<Float>.self)
}

/// Softmax of one token's router logits in place, and the entropy of the result.
///
/// p_e = exp(l_e - max) / sum; entropy = log(sum) - sum_e p_e (l_e - max) in nats.
/// Eight lanes at a time; a tail of E mod 8 entries goes through the C library's `expf`.
/// - Parameters:
///   - logits: `[E]` in, probabilities out.
/// - Returns: the entropy.
@inline(__always)
func softmaxInPlace(_ logits: UnsafeMutablePointer<Float>, count E: Int) -> Float {
    let raw = UnsafeMutableRawPointer(logits)
    let body = E - E % 8
    var m = SIMD8<Float>(repeating: -.infinity)
    for i in stride(from: 0, to: body, by: 8) {
        let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        m = m.replacing(with: v, where: v .> m)
    }
    var top = m.max()
    for i in body..<E { top = max(top, logits[i]) }
    var sum = SIMD8<Float>(repeating: 0), weighted = SIMD8<Float>(repeating: 0)
    for i in stride(from: 0, to: body, by: 8) {
        let shifted = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - top
        let e = exp8(shifted)
        sum += e
        weighted += e * shifted
        raw.storeBytes(of: e, toByteOffset: i * 4, as: SIMD8<Float>.self)
    }
    var total = sum.sum(), weightedTotal = weighted.sum()
    for i in body..<E {
        let shifted = logits[i] - top
        let e = expf(shifted)
        total += e
        weightedTotal += e * shifted
        logits[i] = e
    }
    let inverse = 1 / total
    for i in stride(from: 0, to: body, by: 8) {
        let e = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        raw.storeBytes(of: e * inverse, toByteOffset: i * 4, as: SIMD8<Float>.self)
    }
    for i in body..<E { logits[i] *= inverse }
    return log(total) - weightedTotal / total
}
