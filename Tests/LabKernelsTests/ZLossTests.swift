import Foundation
import LabKernels
import Testing
import TestSupport

@Suite("Hidden z-loss")
struct ZLossTests {
    /// Guards against a wrong formula: L = (lambda / rows) * sum_t (logsumexp |z_t|)^2.
    @Test("loss matches the formula")
    func lossFormula() {
        let (rows, dim) = (3, 10)
        let z = randomBuffer(rows * dim, seed: 1, std: 2)
        let dz = FloatBuffer(count: rows * dim)
        let loss = hiddenZLossForwardBackward(dz: dz.ptr, z: z.ptr, rows: rows, dim: dim, coef: 0.3)
        var expected = 0.0
        for r in 0..<rows {
            var sum = 0.0
            for i in 0..<dim { sum += exp(abs(Double(z[r * dim + i]))) }
            expected += log(sum) * log(sum)
        }
        expected *= 0.3 / Double(rows)
        #expect(abs(loss - expected) < 1e-5 * expected)
    }

    /// Guards against a missing sign(z) factor or a wrong 2 * lambda / rows coefficient.
    @Test("gradient matches finite differences and accumulates")
    func gradCheckZLoss() {
        let (rows, dim) = (4, 11)
        let z = randomBuffer(rows * dim, seed: 2, std: 1.5)
        let lambda: Float = 0.7
        let loss = {
            let scratch = FloatBuffer(count: rows * dim)
            return hiddenZLossForwardBackward(dz: scratch.ptr, z: z.ptr, rows: rows, dim: dim, coef: lambda)
        }
        let dz = gradientIncrements([rows * dim]) { g in
            _ = hiddenZLossForwardBackward(dz: g[0].ptr, z: z.ptr, rows: rows, dim: dim, coef: lambda)
        }[0]
        let report = gradCheck(z, analytic: dz, samples: 44, eps: 1e-2, floor: 0.01, loss: loss)
        #expect(report.maxRelativeError < 1e-2, "\(report)")
    }

    /// Guards against overflow for massive activations (the case the loss exists for).
    @Test("massive activations give a finite loss and gradient")
    func massiveActivations() {
        let z = FloatBuffer([500, -3000, 0, 1, 2, 3, 4, 5, 6])
        let dz = FloatBuffer(count: z.count)
        let loss = hiddenZLossForwardBackward(dz: dz.ptr, z: z.ptr, rows: 1, dim: z.count, coef: 1e-4)
        #expect(loss.isFinite && abs(loss - 1e-4 * 3000 * 3000) < 1e-3)
        #expect(dz.array.allSatisfy { $0.isFinite })
        #expect(dz[1] < 0 && dz[2] == 0)
    }
}
