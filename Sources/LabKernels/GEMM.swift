import CBLAS

/// Matrix products: the BLAS wrapper (split across the lab's threads), its serial form, the
/// plain-loop reference, and the linear layer built on them.
///
/// All matrices are row-major. op(A) is [m, k], op(B) is [k, n], C is [m, n]; `lda`, `ldb`,
/// `ldc` are the row strides of the matrices as stored (A stored [k, m] when `transA`).

/// Below this many multiply-adds (m * n * k) a product runs as one BLAS call: splitting costs
/// more in thread hand-off than it saves. Measured on the 2-core machine (median of 15 runs,
/// 2-way split vs one call) with the second core idle: 128x128x128 0.96x, 128x128x256 1.23x,
/// 256x128x256 (8.4M) 1.44x, 256^3 1.71x, 4096x256x512 1.96x; with the second core busy with
/// another process, splits below about 30M lose 5-25%. 2^23 sits between the two. A tuning knob:
/// set it, if at all, at start-up.
public nonisolated(unsafe) var gemmParallelThreshold = 1 << 23

/// C = alpha * op(A) * op(B) + beta * C, split into `LabThreads.count` single-threaded BLAS calls
/// (along m, or along n when n is the larger side) when the product is large enough.
///
/// Deterministic for a given thread count: each element of C is produced by exactly one call
/// over a fixed split. Different thread counts may differ in the last bits (OpenBLAS accumulates
/// an element in a different order when it falls in a register-block tail of a smaller call).
public func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let threads = LabThreads.count
    if threads == 1 || m * n * k < gemmParallelThreshold || max(m, n) < 2 * threads {
        gemmSerial(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    gemmSplit(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
              b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, pieces: threads)
}

/// `gemm` always split into `pieces` single-threaded BLAS calls run by `parallelFor`: along m
/// when m >= n, else along n. Exposed so tests can force the split path at small sizes.
public func gemmSplit(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, pieces: Int) {
    let pa = SendablePointer(UnsafeMutablePointer(mutating: a))
    let pb = SendablePointer(UnsafeMutablePointer(mutating: b))
    let pc = SendablePointer(c)
    if m >= n {
        // Split rows of op(A) and of C.
        parallelFor(pieces) { p in
            let (lo, hi) = splitPoint(m, p, pieces)
            if hi <= lo { return }
            let aPiece = transA ? pa.base + lo : pa.base + lo * lda
            gemmSerial(transA: transA, transB: transB, m: hi - lo, n: n, k: k, alpha: alpha,
                       a: aPiece, lda: lda, b: pb.base, ldb: ldb, beta: beta,
                       c: pc.base + lo * ldc, ldc: ldc)
        }
    } else {
        // Split columns of op(B) and of C.
        parallelFor(pieces) { p in
            let (lo, hi) = splitPoint(n, p, pieces)
            if hi <= lo { return }
            let bPiece = transB ? pb.base + lo * ldb : pb.base + lo
            gemmSerial(transA: transA, transB: transB, m: m, n: hi - lo, k: k, alpha: alpha,
                       a: pa.base, lda: lda, b: bPiece, ldb: ldb, beta: beta,
                       c: pc.base + lo, ldc: ldc)
        }
    }
}

/// Piece `p` of `parts` over 0..<count. When pieces are large, inner boundaries are rounded to
/// multiples of 16 (BLAS kernels work in register blocks; ragged pieces waste part of a block).
@inline(__always)
func splitPoint(_ count: Int, _ p: Int, _ parts: Int) -> (Int, Int) {
    func boundary(_ q: Int) -> Int {
        if q == parts { return count }
        let raw = count * q / parts
        if count < 32 * parts { return raw }
        return min(count, (raw + 8) / 16 * 16)
    }
    return (boundary(p), boundary(p + 1))
}

/// C = alpha * op(A) * op(B) + beta * C as one single-threaded BLAS call (for use inside the
/// lab's own parallel loops over experts, heads or batch elements).
@inline(__always)
public func gemmSerial(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                       a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                       beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m <= 0 || n <= 0 { return }
    if k <= 0 { // an empty sum: C = beta * C (BLAS would reject the zero leading dimensions)
        for i in 0..<m {
            if beta == 0 { (c + i * ldc).update(repeating: 0, count: n) } else { scaleSerial(c + i * ldc, n, by: beta) }
        }
        return
    }
    accountedBLAS(flops: 2 * m * n * k) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// The plain triple loop, the oracle for `gemm`: each dot product is accumulated in Double and
/// rounded once, so it is at least as accurate as BLAS. beta == 0 ignores C's old contents (as
/// BLAS does, so NaN garbage in C does not leak through).
public func gemmReference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                          a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                          beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let aip = transA ? a[p * lda + i] : a[i * lda + p]
                let bpj = transB ? b[j * ldb + p] : b[p * ldb + j]
                sum += Double(aip) * Double(bpj)
            }
            let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
            c[i * ldc + j] = Float(Double(alpha) * sum + old)
        }
    }
}

// MARK: - Linear layer

/// y[rows, out] = x[rows, in] * W^T with W [out, in] (PyTorch's layout); adds into y when
/// `accumulate`. `serial` uses one BLAS call (inside a parallel loop).
public func linearForward(y: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                          rows: Int, inFeatures: Int, outFeatures: Int,
                          accumulate: Bool = false, serial: Bool = false) {
    gemmChoosing(serial: serial, transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures,
                 a: x, lda: inFeatures, b: w, ldb: inFeatures, beta: accumulate ? 1 : 0,
                 c: y, ldc: outFeatures)
}

/// Backward of `linearForward`: dx[rows, in] += dy * W (skipped when `dx` is nil; written
/// instead of added when `accumulateDx` is false, which spares the caller zeroing a scratch
/// buffer) and dw[out, in] += dy^T * x.
public func linearBackward(dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>,
                           dy: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                           rows: Int, inFeatures: Int, outFeatures: Int, serial: Bool = false,
                           accumulateDx: Bool = true) {
    if let dx {
        gemmChoosing(serial: serial, transA: false, transB: false, m: rows, n: inFeatures, k: outFeatures,
                     a: dy, lda: outFeatures, b: w, ldb: inFeatures, beta: accumulateDx ? 1 : 0, c: dx, ldc: inFeatures)
    }
    gemmChoosing(serial: serial, transA: true, transB: false, m: outFeatures, n: inFeatures, k: rows,
                 a: dy, lda: outFeatures, b: x, ldb: inFeatures, beta: 1, c: dw, ldc: inFeatures)
}

/// `gemmSerial` when `serial`, else `gemm`.
@inline(__always)
func gemmChoosing(serial: Bool, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if serial {
        gemmSerial(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc)
    } else {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
             beta: beta, c: c, ldc: ldc)
    }
}
