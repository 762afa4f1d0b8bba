import LabKernels
import Testing
import TestSupport

/// One product's shape and storage: op(A) [m, k], op(B) [k, n], C [m, n], with padded strides.
struct ProductCase: CustomStringConvertible {
    let transA: Bool, transB: Bool, m: Int, n: Int, k: Int, pad: Int, beta: Float
    var lda: Int { (transA ? m : k) + pad }
    var ldb: Int { (transB ? k : n) + pad }
    var ldc: Int { n + pad }
    var aCount: Int { (transA ? k : m) * lda }
    var bCount: Int { (transB ? n : k) * ldb }
    var cCount: Int { m * ldc }
    var description: String { "transA \(transA) transB \(transB) \(m)x\(n)x\(k) pad \(pad) beta \(beta)" }

    static var all: [ProductCase] {
        var cases: [ProductCase] = []
        for transA in [false, true] {
            for transB in [false, true] {
                for (m, n, k) in [(1, 1, 1), (7, 5, 3), (13, 31, 17), (33, 9, 40)] {
                    for (pad, beta) in [(0, Float(0)), (3, 1), (5, 0.5)] {
                        cases.append(ProductCase(transA: transA, transB: transB, m: m, n: n, k: k,
                                                 pad: pad, beta: beta))
                    }
                }
            }
        }
        return cases
    }
}

/// Runs `product` and `gemmReference` on the same random data; returns the largest difference
/// inside C and whether the padding columns of C were left untouched.
private func compareWithReference(
    _ c: ProductCase,
    _ product: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
) -> (maxDiff: Float, paddingIntact: Bool) {
    let a = randomBuffer(c.aCount, seed: 1), b = randomBuffer(c.bCount, seed: 2)
    let fast = randomBuffer(c.cCount, seed: 3), slow = clone(fast)
    product(a.constPtr, b.constPtr, fast.ptr)
    gemmReference(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, alpha: 0.75,
                  a: a.ptr, lda: c.lda, b: b.ptr, ldb: c.ldb, beta: c.beta, c: slow.ptr, ldc: c.ldc)
    var worst: Float = 0
    var intact = true
    let original = randomBuffer(c.cCount, seed: 3)
    for i in 0..<c.m {
        for j in 0..<c.ldc {
            let idx = i * c.ldc + j
            if j < c.n { worst = max(worst, abs(fast[idx] - slow[idx])) }
            else if fast[idx] != original[idx] { intact = false }
        }
    }
    return (worst, intact)
}

@Suite("GEMM")
struct GEMMTests {
    /// Guards against wrong transpose flags, strides or beta handling in the BLAS wrapper.
    @Test("gemm matches the plain loop for all transposes, odd sizes, strides and betas",
          arguments: ProductCase.all)
    func gemmMatchesReference(_ c: ProductCase) {
        let result = compareWithReference(c) { a, b, out in
            gemm(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, alpha: 0.75,
                 a: a, lda: c.lda, b: b, ldb: c.ldb, beta: c.beta, c: out, ldc: c.ldc)
        }
        #expect(result.maxDiff < 1e-4 * Float(c.k), "\(c)")
        #expect(result.paddingIntact, "\(c) wrote outside its columns")
    }

    /// Guards against wrong piece offsets when the product is split across threads (rows of
    /// op(A) for transposed and plain A, columns of op(B) likewise).
    @Test("split gemm matches the plain loop", arguments: ProductCase.all.filter { $0.m > 1 || $0.n > 1 })
    func splitGemmMatchesReference(_ c: ProductCase) {
        for pieces in [2, 3] {
            let result = compareWithReference(c) { a, b, out in
                gemmSplit(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, alpha: 0.75,
                          a: a, lda: c.lda, b: b, ldb: c.ldb, beta: c.beta, c: out, ldc: c.ldc,
                          pieces: pieces)
            }
            #expect(result.maxDiff < 1e-4 * Float(c.k), "\(c) pieces \(pieces)")
            #expect(result.paddingIntact, "\(c) pieces \(pieces) wrote outside its columns")
        }
    }

    /// The serial form is the same product (it is what parallel loops over experts call).
    @Test("gemmSerial matches the plain loop")
    func serialMatchesReference() {
        let c = ProductCase(transA: true, transB: false, m: 19, n: 23, k: 11, pad: 2, beta: 1)
        let result = compareWithReference(c) { a, b, out in
            gemmSerial(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, alpha: 0.75,
                       a: a, lda: c.lda, b: b, ldb: c.ldb, beta: c.beta, c: out, ldc: c.ldc)
        }
        #expect(result.maxDiff < 1e-3)
        #expect(result.paddingIntact)
    }

    /// Guards against scheduling-dependent results: for a given number of pieces (threads), a
    /// split product gives the same bits on every call. (Different piece counts may differ in
    /// the last bits: OpenBLAS accumulates register-block tails in a different order.)
    @Test("split gemm is deterministic for a given piece count")
    func splitIsDeterministic() {
        let (m, n, k) = (96, 80, 64)
        let a = randomBuffer(m * k, seed: 5), b = randomBuffer(n * k, seed: 6)
        for pieces in [2, 3] {
            let first = FloatBuffer(count: m * n), second = FloatBuffer(count: m * n)
            for c in [first, second] {
                gemmSplit(transA: false, transB: true, m: m, n: n, k: k, a: a.ptr, lda: k, b: b.ptr, ldb: k,
                          beta: 0, c: c.ptr, ldc: n, pieces: pieces)
            }
            #expect(bitwiseEqual(first, second), "pieces \(pieces)")
        }
    }

    /// Guards against BLAS rejecting an empty inner dimension (e.g. a batch with no tokens for
    /// an expert feeding a weight-gradient product): C = beta * C.
    @Test("k = 0 scales C by beta")
    func emptyInnerDimension() {
        let a = FloatBuffer(count: 1), b = FloatBuffer(count: 1)
        let c = FloatBuffer([1, 2, 3, 4, 5, 6])
        gemm(transA: true, transB: false, m: 2, n: 3, k: 0, a: a.ptr, lda: 2, b: b.ptr, ldb: 3,
             beta: 0.5, c: c.ptr, ldc: 3)
        #expect(c.array == [0.5, 1, 1.5, 2, 2.5, 3])
        gemm(transA: false, transB: false, m: 2, n: 3, k: 0, a: a.ptr, lda: 0, b: b.ptr, ldb: 3,
             beta: 0, c: c.ptr, ldc: 3)
        #expect(c.array == [0, 0, 0, 0, 0, 0])
    }

    /// The doctor command's self-check reports a small difference on healthy BLAS.
    @Test("doctor's sgemm check reports agreement")
    func doctorCheck() {
        #expect(checkSgemmAgainstReference(size: 48) < 1e-3)
        #expect(!blasKernelName.isEmpty)
    }
}

@Suite("Linear layer")
struct LinearTests {
    /// Guards against a transposed weight or missing accumulation in the linear layer's
    /// backward pass: every input and weight gradient is checked by finite differences.
    @Test("linear backward matches finite differences", arguments: [false, true])
    func linearGradCheck(serial: Bool) {
        let (rows, inF, outF) = (5, 7, 6)
        let x = randomBuffer(rows * inF, seed: 11), w = randomBuffer(outF * inF, seed: 12, std: 0.5)
        let r = randomBuffer(rows * outF, seed: 13)
        let y = FloatBuffer(count: rows * outF)
        let grads = gradientIncrements([rows * inF, outF * inF]) { g in
            linearBackward(dx: g[0].ptr, dw: g[1].ptr, dy: r.ptr, x: x.ptr, w: w.ptr, rows: rows,
                           inFeatures: inF, outFeatures: outF, serial: serial)
        }
        let (dx, dw) = (grads[0], grads[1])
        let loss = {
            linearForward(y: y.ptr, x: x.ptr, w: w.ptr, rows: rows, inFeatures: inF, outFeatures: outF,
                          serial: serial)
            return projectionLoss(y, r)
        }
        // Linear in each input: the central difference is exact up to Float rounding.
        let dxReport = gradCheck(x, analytic: dx, eps: 1e-2, floor: 1e-2, loss: loss)
        let dwReport = gradCheck(w, analytic: dw, eps: 1e-2, floor: 1e-2, loss: loss)
        #expect(dxReport.maxRelativeError < 1e-3, "dx: \(dxReport)")
        #expect(dwReport.maxRelativeError < 1e-3, "dw: \(dwReport)")
    }

    /// Guards against `accumulate` overwriting, and `dx: nil` touching anything.
    @Test("linear accumulates into y and skips dx when nil")
    func linearAccumulates() {
        let (rows, inF, outF) = (3, 4, 5)
        let x = randomBuffer(rows * inF, seed: 1), w = randomBuffer(outF * inF, seed: 2)
        let once = FloatBuffer(count: rows * outF), twice = FloatBuffer(count: rows * outF)
        linearForward(y: once.ptr, x: x.ptr, w: w.ptr, rows: rows, inFeatures: inF, outFeatures: outF)
        linearForward(y: twice.ptr, x: x.ptr, w: w.ptr, rows: rows, inFeatures: inF, outFeatures: outF)
        linearForward(y: twice.ptr, x: x.ptr, w: w.ptr, rows: rows, inFeatures: inF, outFeatures: outF,
                      accumulate: true)
        for i in 0..<once.count { #expect(abs(twice[i] - 2 * once[i]) < 1e-5) }
        let dw = FloatBuffer(count: outF * inF)
        linearBackward(dx: nil, dw: dw.ptr, dy: once.ptr, x: x.ptr, w: w.ptr, rows: rows,
                       inFeatures: inF, outFeatures: outF)
        #expect(maxAbs(dw) > 0)
    }
}
