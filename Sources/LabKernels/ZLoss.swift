/// Hidden z-loss against massive activations (LongCat-Flash, section 7 of the reference):
/// L_Z = (lambda / rows) * sum_t (logsumexp_i |z_t,i|)^2 over the last layer's output z [rows, dim].

/// Rows per partial loss sum; fixed so the sum's bits do not depend on the thread count.
let zLossChunkRows = 16

/// Returns L_Z and adds its gradient into dz:
/// dz_t,i += (2 lambda / rows) * lse_t * softmax(|z_t|)_i * sign(z_t,i)   (sign(0) = 0).
public func hiddenZLossForwardBackward(dz: UnsafeMutablePointer<Float>, z: UnsafePointer<Float>,
                                       rows: Int, dim: Int, coef lambda: Float) -> Double {
    if rows == 0 { return 0 }
    let pDz = SendablePointer(dz), pZ = SendablePointer(UnsafeMutablePointer(mutating: z))
    let gradCoef = 2 * lambda / Float(rows)
    let total = parallelSum(rows, chunkSize: zLossChunkRows, costPerItem: 16 * dim) { range in
        var partial = 0.0
        for r in range {
            let zr = UnsafePointer(pZ.base + r * dim), dzr = pDz.base + r * dim
            let lse = absLogSumExp(zr, dim)
            partial += Double(lse) * Double(lse)
            addZLossGradient(dzr, zr, dim, coef: gradCoef * lse, lse: lse)
        }
        return partial
    }
    return Double(lambda) / Double(rows) * total
}

// The row loops below are kept out of line on purpose: with both inlined into the parallel
// closure, the compiler stopped inlining `fastExp` into them (measured about 2x slower).

/// dz_i += coef * exp(|z_i| - lse) * sign(z_i) over one row.
@inline(never)
private func addZLossGradient(_ dz: UnsafeMutablePointer<Float>, _ z: UnsafePointer<Float>, _ count: Int,
                              coef c: Float, lse: Float) {
    var i = 0
    while i + 8 <= count {
        let v = load8(z + i)
        let e = fastExp(abs8(v) - lse) * c
        let g = withSignOf(v, e).replacing(with: 0, where: v .== 0)
        store8(load8(dz + i) + g, dz + i)
        i += 8
    }
    while i < count {
        let v = z[i]
        if v != 0 {
            let e = fastExp(Swift.abs(v) - lse) * c
            dz[i] += v > 0 ? e : -e
        }
        i += 1
    }
}

/// logsumexp of |x| over one row.
@inline(never)
private func absLogSumExp(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    var m: Float = 0 // |x| >= 0
    var i = 0
    if count >= 8 {
        var mv = SIMD8<Float>(repeating: 0)
        while i + 8 <= count {
            let a = abs8(load8(x + i))
            mv = mv.replacing(with: a, where: a .> mv)
            i += 8
        }
        m = horizontalMax(mv)
    }
    while i < count {
        m = Swift.max(m, Swift.abs(x[i]))
        i += 1
    }
    var acc = SIMD8<Float>(repeating: 0)
    i = 0
    while i + 8 <= count {
        acc += fastExp(abs8(load8(x + i)) - m)
        i += 8
    }
    var sum = horizontalSum(acc)
    while i < count {
        sum += fastExp(Swift.abs(x[i]) - m)
        i += 1
    }
    return m + _logf(sum)
}

/// |v| lane by lane (clears the sign bits: one instruction).
@inline(__always)
private func abs8(_ v: SIMD8<Float>) -> SIMD8<Float> {
    unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
}

/// magnitude (non-negative) with the sign of `v`, lane by lane.
@inline(__always)
private func withSignOf(_ v: SIMD8<Float>, _ magnitude: SIMD8<Float>) -> SIMD8<Float> {
    let sign = unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x8000_0000
    return unsafeBitCast(unsafeBitCast(magnitude, to: SIMD8<UInt32>.self) | sign, to: SIMD8<Float>.self)
}
