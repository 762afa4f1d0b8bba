import LabKernels
import Testing
import TestSupport

@Suite("RMSNorm")
struct RMSNormTests {
    // Sizes cover the 8-lane body and the scalar tail (dim 13), and more rows than one chunk
    // of the dWeight reduction (70 > 64).
    static let shapes = [(rows: 3, dim: 16), (rows: 70, dim: 13)]

    /// Guards against a wrong normaliser (mean vs sum, eps placement) or a dropped scale.
    @Test("forward matches the formula")
    func forwardFormula() {
        let (rows, dim) = (4, 11)
        let x = randomBuffer(rows * dim, seed: 1), w = randomBuffer(dim, seed: 2)
        let out = FloatBuffer(count: rows * dim), rstd = FloatBuffer(count: rows)
        rmsNormForward(out: out.ptr, rstd: rstd.ptr, x: x.ptr, weight: w.ptr, rows: rows, dim: dim,
                       eps: 1e-5, scale: 1.7)
        for r in 0..<rows {
            var ms = 0.0
            for i in 0..<dim { ms += Double(x[r * dim + i]) * Double(x[r * dim + i]) }
            let inv = 1 / (ms / Double(dim) + 1e-5).squareRoot()
            #expect(abs(Double(rstd[r]) - inv) < 1e-5 * inv)
            for i in 0..<dim {
                let expected = 1.7 * Double(w[i]) * Double(x[r * dim + i]) * inv
                #expect(abs(Double(out[r * dim + i]) - expected) < 1e-5 * max(1, abs(expected)))
            }
        }
    }

    /// The forward that also copies x (for the residual stream) must give the same bits as the
    /// plain forward and an exact copy, over the 8-lane body and the scalar tail, and with rows
    /// enough (1,200 x 13) to run on the worker threads.
    @Test("forward with copyTo gives the same bits and copies x", arguments: [(3, 16), (70, 13), (1_200, 13)])
    func forwardWithCopy(rows: Int, dim: Int) {
        let x = randomBuffer(rows * dim, seed: 7), w = randomBuffer(dim, seed: 8)
        let plain = FloatBuffer(count: rows * dim), rstdPlain = FloatBuffer(count: rows)
        let fused = FloatBuffer(count: rows * dim), rstdFused = FloatBuffer(count: rows)
        let copied = FloatBuffer(count: rows * dim)
        rmsNormForward(out: plain.ptr, rstd: rstdPlain.ptr, x: x.ptr, weight: w.ptr, rows: rows, dim: dim,
                       eps: 1e-5, scale: 1.3)
        rmsNormForward(out: fused.ptr, rstd: rstdFused.ptr, x: x.ptr, weight: w.ptr, rows: rows, dim: dim,
                       eps: 1e-5, scale: 1.3, copyTo: copied.ptr)
        #expect(fused.array == plain.array)
        #expect(rstdFused.array == rstdPlain.array)
        #expect(copied.array == x.array)
    }

    /// Guards against errors in the input and weight gradients (including the term through
    /// rstd, and the chunked dWeight reduction).
    @Test("backward matches finite differences", arguments: RMSNormTests.shapes.indices)
    func gradCheckRMSNorm(shapeIndex: Int) {
        let (rows, dim) = RMSNormTests.shapes[shapeIndex]
        let x = randomBuffer(rows * dim, seed: 3), w = randomBuffer(dim, seed: 4)
        let r = randomBuffer(rows * dim, seed: 5)
        let out = FloatBuffer(count: rows * dim), rstd = FloatBuffer(count: rows)
        let scale: Float = 1.3
        let loss = {
            rmsNormForward(out: out.ptr, rstd: rstd.ptr, x: x.ptr, weight: w.ptr, rows: rows, dim: dim,
                           eps: 1e-5, scale: scale)
            return projectionLoss(out, r)
        }
        _ = loss()
        let grads = gradientIncrements([rows * dim, dim]) { g in
            rmsNormBackward(dx: g[0].ptr, dWeight: g[1].ptr, dOut: r.ptr, x: x.ptr, rstd: rstd.ptr,
                            weight: w.ptr, rows: rows, dim: dim, scale: scale)
        }
        let (dx, dw) = (grads[0], grads[1])
        // Float32 forward, eps 1e-2 on O(1) inputs: central-difference error well under 1%.
        let dxReport = gradCheck(x, analytic: dx, eps: 1e-2, floor: 0.1, loss: loss)
        let dwReport = gradCheck(w, analytic: dw, eps: 1e-2, floor: 0.1, loss: loss)
        #expect(dxReport.maxRelativeError < 1e-2, "dx: \(dxReport)")
        #expect(dwReport.maxRelativeError < 1e-2, "dWeight: \(dwReport)")
    }

    /// Guards against a dWeight reduction whose order depends on thread scheduling.
    @Test("backward is deterministic")
    func deterministic() {
        let (rows, dim) = (300, 24)
        let x = randomBuffer(rows * dim, seed: 8), w = randomBuffer(dim, seed: 9)
        let dy = randomBuffer(rows * dim, seed: 10)
        let out = FloatBuffer(count: rows * dim), rstd = FloatBuffer(count: rows)
        rmsNormForward(out: out.ptr, rstd: rstd.ptr, x: x.ptr, weight: w.ptr, rows: rows, dim: dim, eps: 1e-6)
        var results: [(FloatBuffer, FloatBuffer)] = []
        for _ in 0..<2 {
            let dx = FloatBuffer(count: rows * dim), dw = FloatBuffer(count: dim)
            rmsNormBackward(dx: dx.ptr, dWeight: dw.ptr, dOut: dy.ptr, x: x.ptr, rstd: rstd.ptr,
                            weight: w.ptr, rows: rows, dim: dim)
            results.append((dx, dw))
        }
        #expect(bitwiseEqual(results[0].0, results[1].0))
        #expect(bitwiseEqual(results[0].1, results[1].1))
    }
}
