/// Vectorisable `exp` and SiLU, and the 8-wide load/store helpers the kernels share.
///
/// The C library's `expf` is a call the loop cannot vectorise (about 3.4 ns per element); this
/// polynomial runs 8 lanes at a time. Method: exp(x) = 2^n * exp(r) with n = round(x / ln 2) and
/// r = x - n ln 2 in [-ln2/2, ln2/2] (Cody-Waite split of ln 2 so r is exact), exp(r) by its
/// degree-6 Taylor polynomial in fused multiply-adds (truncation below 1.2e-7 relative), 2^n
/// built in the exponent bits.
///
/// Range: inputs above `fastExpMaxInput` (about 88.38) are clamped there (result about 2.5e38,
/// finite, never inf or NaN); inputs below `fastExpMinInput` (about -87.34, where the result
/// would be subnormal) give exactly 0. A NaN input gives NaN.

/// Largest input computed exactly; larger inputs are clamped to it (2^127.5 stays finite).
public let fastExpMaxInput: Float = 88.376_26
/// Smallest input with a normal result; smaller inputs give 0.
public let fastExpMinInput: Float = -87.336_54

@usableFromInline let expLog2e: Float = 1.442_695_04
@usableFromInline let expLn2Hi: Float = 0.693_359_375 // 355/512: n * ln2Hi is exact for |n| < 2^15
@usableFromInline let expLn2Lo: Float = -2.121_944_4e-4
/// 1.5 * 2^23: adding it rounds to the nearest integer and leaves that integer in the low bits.
@usableFromInline let expRoundMagic: Float = 12_582_912
@usableFromInline let expC2: Float = 1.0 / 2
@usableFromInline let expC3: Float = 1.0 / 6
@usableFromInline let expC4: Float = 1.0 / 24
@usableFromInline let expC5: Float = 1.0 / 120
@usableFromInline let expC6: Float = 1.0 / 720

/// exp of 8 lanes (see the file comment for accuracy and range). Transparent: the optimiser's
/// inliner skipped `@inline(__always)` in larger callers (measured 2x slower z-loss).
@_transparent
public func fastExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    var v = x.replacing(with: fastExpMaxInput, where: x .> fastExpMaxInput)
    v = v.replacing(with: fastExpMinInput, where: v .< fastExpMinInput)
    let t = v * expLog2e + expRoundMagic
    let n = t - expRoundMagic
    let r = v.addingProduct(n, -expLn2Hi).addingProduct(n, -expLn2Lo)
    var p = SIMD8<Float>(repeating: expC5).addingProduct(r, expC6)
    p = SIMD8<Float>(repeating: expC4).addingProduct(p, r)
    p = SIMD8<Float>(repeating: expC3).addingProduct(p, r)
    p = SIMD8<Float>(repeating: expC2).addingProduct(p, r)
    p = SIMD8<Float>(repeating: 1).addingProduct(p, r)
    p = SIMD8<Float>(repeating: 1).addingProduct(p, r)
    let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- Int32(bitPattern: expRoundMagic.bitPattern)
    let scale = unsafeBitCast((ni &+ 127) &<< 23, to: SIMD8<Float>.self)
    return (p * scale).replacing(with: 0, where: x .< fastExpMinInput)
}

/// exp of one value, the same operations as the 8-lane version (used for loop tails, so a
/// result never depends on where an element falls in its row). Written out rather than as one
/// lane of the vector version: that form stopped the compiler from inlining the vector version
/// into the hot loops (measured 1.5x slower softmax).
@inlinable @inline(__always)
public func fastExp(_ x: Float) -> Float {
    if x < fastExpMinInput { return 0 }
    let v = x > fastExpMaxInput ? fastExpMaxInput : x
    let t = v * expLog2e + expRoundMagic
    let n = t - expRoundMagic
    let r = v.addingProduct(n, -expLn2Hi).addingProduct(n, -expLn2Lo)
    var p = expC5.addingProduct(r, expC6)
    p = expC4.addingProduct(p, r)
    p = expC3.addingProduct(p, r)
    p = expC2.addingProduct(p, r)
    p = Float(1).addingProduct(p, r)
    p = Float(1).addingProduct(p, r)
    let ni = Int32(bitPattern: t.bitPattern) &- Int32(bitPattern: expRoundMagic.bitPattern)
    return p * Float(bitPattern: UInt32(bitPattern: (ni &+ 127) &<< 23))
}

/// SiLU (x * sigmoid(x)) of 8 lanes: x / (1 + exp(-x)).
@inlinable @inline(__always)
public func silu(_ x: SIMD8<Float>) -> SIMD8<Float> { x / (1 + fastExp(-x)) }

/// SiLU of one value.
@inlinable @inline(__always)
public func silu(_ x: Float) -> Float { x / (1 + fastExp(-x)) }

/// Logistic sigmoid of 8 lanes.
@inlinable @inline(__always)
public func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> { 1 / (1 + fastExp(-x)) }

/// Logistic sigmoid of one value.
@inlinable @inline(__always)
public func sigmoid(_ x: Float) -> Float { 1 / (1 + fastExp(-x)) }

// MARK: - 8-wide memory access

/// Loads 8 floats starting at `p` (no alignment needed).
@inlinable @inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Loads 8 floats starting at `p` (no alignment needed).
@inlinable @inline(__always)
func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Stores 8 floats starting at `p` (no alignment needed).
@inlinable @inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Sum of the 8 lanes, in a fixed order (pairwise halves).
@inlinable @inline(__always)
func horizontalSum(_ v: SIMD8<Float>) -> Float {
    let h4 = v.lowHalf + v.highHalf
    let h2 = h4.lowHalf + h4.highHalf
    return h2[0] + h2[1]
}

/// Largest of the 8 lanes.
@inlinable @inline(__always)
func horizontalMax(_ v: SIMD8<Float>) -> Float {
    let a = v.lowHalf, b = v.highHalf
    let h4 = a.replacing(with: b, where: b .> a)
    let c = h4.lowHalf, d = h4.highHalf
    let h2 = c.replacing(with: d, where: d .> c)
    return h2[0] > h2[1] ? h2[0] : h2[1]
}

/// dst_i = exp(src_i - sub) over `count` floats (src may equal dst); returns the sum of the
/// results (accumulated in 8 lanes, then in a fixed order).
@inlinable
func expShifted(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int, sub: Float) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= count {
        let e = fastExp(load8(src + i) - sub)
        store8(e, dst + i)
        acc += e
        i += 8
    }
    var total = horizontalSum(acc)
    while i < count {
        let e = fastExp(src[i] - sub)
        dst[i] = e
        total += e
        i += 1
    }
    return total
}

/// Largest of `count` floats (count > 0).
@inlinable
func maxOf(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    var i = 0
    var best = -Float.infinity
    if count >= 8 {
        var m = load8(x)
        i = 8
        while i + 8 <= count {
            let v = load8(x + i)
            m = m.replacing(with: v, where: v .> m)
            i += 8
        }
        best = horizontalMax(m)
    }
    while i < count {
        if x[i] > best { best = x[i] }
        i += 1
    }
    return best
}

/// sum_i exp(x_i - sub) over `count` floats, without writing.
@inlinable
func sumExpShifted(_ x: UnsafePointer<Float>, _ count: Int, sub: Float) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= count {
        acc += fastExp(load8(x + i) - sub)
        i += 8
    }
    var total = horizontalSum(acc)
    while i < count {
        total += fastExp(x[i] - sub)
        i += 1
    }
    return total
}
