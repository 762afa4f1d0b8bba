/// RMSNorm: out = scale * weight * x / sqrt(mean(x^2) + eps), row by row.
///
/// Shapes: x, out [rows, dim]; weight [dim]; rstd [rows] = 1 / sqrt(mean(x^2) + eps), saved by
/// the forward pass for the backward pass. `scale` is a constant multiplier (MLA's alpha_kv is
/// applied after the latent norm; folding it in here saves a pass).

/// Rows per partial sum of dWeight; fixed so that the sum's bits do not depend on the thread count.
let rmsNormChunkRows = 64

/// Forward: out = scale * weight * x * rstd, rstd = 1 / sqrt(mean(x^2) + eps) saved per row.
/// With `copyTo`, also copies x there [rows, dim], each row while it is in cache (a layer's
/// residual stream is copied into the next block's output buffer as it is normalised).
public func rmsNormForward(out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                           x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           rows: Int, dim: Int, eps: Float, scale: Float = 1,
                           copyTo: UnsafeMutablePointer<Float>? = nil) {
    let pOut = SendablePointer(out), pRstd = SendablePointer(rstd)
    let pX = SendablePointer(UnsafeMutablePointer(mutating: x))
    let pW = SendablePointer(UnsafeMutablePointer(mutating: weight))
    let pCopy = copyTo.map { SendablePointer($0) }
    parallelRanges(rows, costPerItem: 3 * dim) { range in
        for r in range {
            let xr = UnsafePointer(pX.base + r * dim), yr = pOut.base + r * dim
            let w = UnsafePointer(pW.base)
            let inv = 1 / (sumOfSquares(xr, dim) / Float(dim) + eps).squareRoot()
            pRstd[r] = inv
            let s = scale * inv
            if let pCopy { (pCopy.base + r * dim).update(from: xr, count: dim) }
            var i = 0
            while i + 8 <= dim {
                store8(load8(w + i) * load8(xr + i) * s, yr + i)
                i += 8
            }
            while i < dim {
                yr[i] = w[i] * xr[i] * s
                i += 1
            }
        }
    }
}

/// Backward: dx += d out/dx^T dOut and dWeight += sum over rows of scale * dOut * x * rstd.
///
/// With g = weight * dOut and r = rstd: dx = scale * r * (g - x * r^2 * (g . x) / dim).
public func rmsNormBackward(dx: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
                            dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                            weight: UnsafePointer<Float>, rows: Int, dim: Int, scale: Float = 1) {
    let chunks = chunkCount(rows, chunkSize: rmsNormChunkRows)
    let partial = FloatBuffer(count: chunks * dim) // [chunks, dim] partial sums of dWeight
    let pDx = SendablePointer(dx), pPartial = SendablePointer(partial.ptr)
    let pDy = SendablePointer(UnsafeMutablePointer(mutating: dOut))
    let pX = SendablePointer(UnsafeMutablePointer(mutating: x))
    let pR = SendablePointer(UnsafeMutablePointer(mutating: rstd))
    let pW = SendablePointer(UnsafeMutablePointer(mutating: weight))
    parallelChunks(rows, chunkSize: rmsNormChunkRows, costPerItem: 6 * dim) { chunk, range in
        let dw = pPartial.base + chunk * dim
        let w = UnsafePointer(pW.base)
        for row in range {
            let xr = UnsafePointer(pX.base + row * dim), dyr = UnsafePointer(pDy.base + row * dim)
            let dxr = pDx.base + row * dim
            let r = pR[row]
            let gx = weightedDot(w, dyr, xr, dim)
            let s = scale * r
            let c = s * r * r * gx / Float(dim)
            var i = 0
            while i + 8 <= dim {
                let xv = load8(xr + i), dyv = load8(dyr + i)
                store8(load8(dxr + i) + s * load8(w + i) * dyv - c * xv, dxr + i)
                store8(load8(dw + i) + s * dyv * xv, dw + i)
                i += 8
            }
            while i < dim {
                dxr[i] += s * w[i] * dyr[i] - c * xr[i]
                dw[i] += s * dyr[i] * xr[i]
                i += 1
            }
        }
    }
    for chunk in 0..<chunks {
        addInPlace(dWeight, partial.ptr + chunk * dim, dim)
    }
}

/// Sum of x^2 over `count` floats.
@inlinable @inline(__always)
func sumOfSquares(_ x: UnsafePointer<Float>, _ count: Int) -> Float { dotFloat(x, x, count) }

/// sum_i a_i * b_i * c_i over `count` floats.
@inlinable
func weightedDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>,
                 _ count: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= count {
        acc += load8(a + i) * load8(b + i) * load8(c + i)
        i += 8
    }
    var total = horizontalSum(acc)
    while i < count {
        total += a[i] * b[i] * c[i]
        i += 1
    }
    return total
}
