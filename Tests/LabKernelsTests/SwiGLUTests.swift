import Foundation
import LabKernels
import Testing
import TestSupport

@Suite("SwiGLU")
struct SwiGLUTests {
    /// Guards against swapped gate/up halves or a wrong activation.
    @Test("forward is silu(gate) * up with gate in the first half")
    func forwardFormula() {
        let (rows, F) = (3, 11)
        let gu = randomBuffer(rows * 2 * F, seed: 1, std: 2)
        let h = FloatBuffer(count: rows * F)
        swigluForward(h: h.ptr, gu: gu.ptr, rows: rows, hidden: F)
        for r in 0..<rows {
            for i in 0..<F {
                let g = Double(gu[r * 2 * F + i]), u = Double(gu[r * 2 * F + F + i])
                let expected = g / (1 + exp(-g)) * u
                #expect(abs(Double(h[r * F + i]) - expected) < 1e-5 * max(1, abs(expected)))
            }
        }
    }

    /// Guards against errors in the gate derivative sigmoid(g)(1 + g(1 - sigmoid(g))) or the
    /// up derivative, in both the 8-lane body and the tail (F = 13).
    @Test("backward matches finite differences")
    func gradCheckSwiGLU() {
        let (rows, F) = (3, 13)
        let gu = randomBuffer(rows * 2 * F, seed: 2, std: 2), r = randomBuffer(rows * F, seed: 3)
        let h = FloatBuffer(count: rows * F)
        let loss = {
            swigluForward(h: h.ptr, gu: gu.ptr, rows: rows, hidden: F)
            return projectionLoss(h, r)
        }
        let dgu = gradientIncrements([rows * 2 * F]) { g in
            swigluBackward(dgu: g[0].ptr, dh: r.ptr, gu: gu.ptr, rows: rows, hidden: F)
        }[0]
        let report = gradCheck(gu, analytic: dgu, samples: 78, eps: 1e-2, floor: 0.05, loss: loss)
        #expect(report.maxRelativeError < 1e-2, "\(report)")
    }

    /// Guards against NaN for saturated gates (exp overflow in the sigmoid).
    @Test("large gates give finite values and gradients")
    func saturatedGates() {
        let F = 8
        let gu = FloatBuffer([-500, -100, -20, 0, 20, 100, 500, 1e4] + [Float](repeating: 1, count: F))
        let h = FloatBuffer(count: F), dgu = FloatBuffer(count: 2 * F)
        let dh = FloatBuffer([Float](repeating: 1, count: F))
        swigluForward(h: h.ptr, gu: gu.ptr, rows: 1, hidden: F)
        swigluBackward(dgu: dgu.ptr, dh: dh.ptr, gu: gu.ptr, rows: 1, hidden: F)
        #expect(dh.count == F) // keeps dh alive past the backward call
        #expect(h.array.allSatisfy { $0.isFinite })
        #expect(dgu.array.allSatisfy { $0.isFinite }, "\(dgu.array)")
        #expect(h[7] == 1e4 && abs(h[0]) < 1e-30)
    }

    /// Guards against the in-place backward drifting from the accumulating one: same bits as
    /// `swigluBackward` into a zeroed buffer, at a size with an 8-lane tail.
    @Test("in-place backward equals the accumulating backward")
    func inPlaceBackwardMatches() {
        let rows = 5, F = 13
        let gu = randomBuffer(rows * 2 * F, seed: 21), dh = randomBuffer(rows * F, seed: 22)
        let dgu = FloatBuffer(count: rows * 2 * F)
        swigluBackward(dgu: dgu.ptr, dh: dh.ptr, gu: gu.ptr, rows: rows, hidden: F)
        let inPlace = clone(gu)
        swigluBackwardInPlace(gu: inPlace.ptr, dh: dh.ptr, rows: rows, hidden: F)
        #expect(inPlace.array == dgu.array)
        #expect(dh.count == rows * F && gu.count == rows * 2 * F)
    }
}
