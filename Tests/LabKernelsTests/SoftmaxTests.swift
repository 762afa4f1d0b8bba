import LabKernels
import Testing
import TestSupport

@Suite("Row softmax")
struct SoftmaxTests {
    /// Guards against overflow for large logits (the maximum must be subtracted) and rows that
    /// do not sum to 1.
    @Test("forward rows sum to 1 and survive large logits")
    func forwardStable() {
        let (rows, cols) = (4, 19)
        let x = randomBuffer(rows * cols, seed: 1, std: 3)
        for i in 0..<cols { x[i] += 1000 } // row 0 shifted far up
        let y = FloatBuffer(count: rows * cols)
        softmaxRowsForward(y: y.ptr, x: x.ptr, rows: rows, cols: cols)
        for r in 0..<rows {
            var sum = 0.0
            for i in 0..<cols {
                #expect(y[r * cols + i].isFinite && y[r * cols + i] >= 0)
                sum += Double(y[r * cols + i])
            }
            #expect(abs(sum - 1) < 1e-5, "row \(r) sums to \(sum)")
        }
        // Shift invariance: row 0 equals the softmax of the unshifted row.
        for i in 0..<cols { x[i] -= 1000 }
        let y0 = FloatBuffer(count: rows * cols)
        softmaxRowsForward(y: y0.ptr, x: x.ptr, rows: rows, cols: cols)
        for i in 0..<cols { #expect(abs(y[i] - y0[i]) < 1e-4 * max(y0[i], 1e-3)) }
    }

    /// Guards against errors in the Jacobian-vector product y * (dy - dy . y).
    @Test("backward matches finite differences")
    func gradCheckSoftmax() {
        let (rows, cols) = (3, 11)
        let x = randomBuffer(rows * cols, seed: 2), r = randomBuffer(rows * cols, seed: 3)
        let y = FloatBuffer(count: rows * cols)
        let loss = {
            softmaxRowsForward(y: y.ptr, x: x.ptr, rows: rows, cols: cols)
            return projectionLoss(y, r)
        }
        _ = loss()
        let dx = gradientIncrements([rows * cols]) { g in
            softmaxRowsBackward(dx: g[0].ptr, dy: r.ptr, y: y.ptr, rows: rows, cols: cols)
        }[0]
        let report = gradCheck(x, analytic: dx, samples: 33, eps: 1e-2, floor: 0.02, loss: loss)
        #expect(report.maxRelativeError < 1e-2, "\(report)")
    }
}
