import LabConfig
import LabKernels
import LabRouting
import Testing
import TestSupport
@testable import LabModel

// Finite-difference checks of one module at a time, on every coordinate of its weights and
// input: a module's mistake shows at its own tensors instead of being diluted in the whole
// model's loss. Each module's loss is a random projection of its output, sum(out * R),
// accumulated in Double (so dOut = R), on B = 2 sequences of T = 5 tokens of the tiny config.
//
// Tolerances: forward passes run in Float32 (the kernels have no Float64 path), so the central
// difference with eps 1e-2 sees the loss's rounding, about 1e-7 relative of a loss of order
// 1-10 divided by 2 eps: a few 1e-5 absolute, against gradients of order 1e-3 to 1; its
// truncation error eps^2 f''' / 6 is small except where a tiny derivative sits under a large
// curvature. Coordinates below the floor (1e-3 unless a test says otherwise) are judged by
// absolute error floor * tolerance. Each test checks every coordinate one by one (a loose bound
// that still fails a sign flip or a dropped term, error 1 to 2) and each tensor as a whole by
// its relative L2 error (a tight bound); the measured worst values are stated beside each.

/// B, T and R = B*T of every module check.
private let batch = 2, seqLen = 5, rows = batch * seqLen

@Suite("Module gradients")
struct ModuleGradientTests {
    /// One MLA block (both scale calibrations as given), every weight coordinate and every input
    /// coordinate.
    static func checkMLA(scaleQ: Bool, scaleKV: Bool, eps: Float = 1e-2, floor: Double = 1e-3) -> [CoordinateCheck] {
        var c = tinyConfig()
        c.model.mlaScaleQLora = scaleQ
        c.model.mlaScaleKvLora = scaleKV
        let w = ModuleWeights(c)
        let shape = MLAShape(c.model), o = w.layout.layers[0].attention[0], d = c.model.hiddenSize
        let saved = MLASaved(shape, batch: batch, seqLen: seqLen), scratch = MLAScratch(shape, rows: rows)
        let rope = RopeTable(dim: c.model.qkRopeHeadDim, maxPositions: seqLen, theta: c.model.ropeTheta)
        let x = randomBuffer(rows * d, seed: 21), y = FloatBuffer(count: rows * d)   // [R, D]
        let projection = randomBuffer(rows * d, seed: 22)                           // [R, D]
        let loss = { () -> Double in
            y.zero()
            mlaForward(y: y.ptr, x: x.constPtr, weights: w.params.constPtr, at: o, shape: shape, saved: saved,
                       scratch: scratch, rope: rope, batch: batch, seqLen: seqLen)
            return projectionLoss(y, projection)
        }
        _ = loss()
        let dx = w.increments(inputCount: rows * d, seed: 23) { dx, g in
            mlaBackward(dx: dx, dWeights: g, dy: projection.constPtr, x: x.constPtr, weights: w.params.constPtr,
                        at: o, shape: shape, saved: saved, scratch: scratch, rope: rope, batch: batch, seqLen: seqLen)
        }
        var checks = w.checkTensors(["model.layers.0.self_attn.0."], eps: eps, floor: floor, loss: loss)
        checks.append(checkEveryCoordinate("x", x, analytic: dx, eps: eps, floor: floor, loss: loss))
        return checks
    }

    /// Guards MLA's backward (latent norms, decoupled RoPE key, the attention kernel's wiring)
    /// and the scale calibration's factor in backward: a forward that scales a latent by
    /// alpha = sqrt(D / r) with a backward that forgets it is off by that factor at W_qa / W_kva.
    @Test("MLA, each scale calibration on and off", arguments: [true, false], [true, false])
    func mla(scaleQ: Bool, scaleKV: Bool) {
        print("MLA mla_scale_q_lora \(scaleQ) mla_scale_kv_lora \(scaleKV):")
        // Measured: worst coordinate 0.027, worst tensor L2 6e-5, at least 99% carrying.
        expectChecks(Self.checkMLA(scaleQ: scaleQ, scaleKV: scaleKV), tolerance: 5e-2, l2Tolerance: 1e-3, minCarrying: 0.9)
    }

    /// Guards the dense SwiGLU FFN's backward (gate and up halves of the stacked weight, the
    /// SwiGLU derivative written over the saved pre-activations, the input gradient).
    @Test("Dense FFN")
    func denseFFN() {
        let c = tinyConfig()
        let w = ModuleWeights(c)
        let d = c.model.hiddenSize, f = c.model.ffnHiddenSize, o = w.layout.layers[0].ffn[1]
        let saved = FFNSaved(rows: rows, hidden: f), scratch = FFNScratch(rows: rows, hidden: f)
        let u = randomBuffer(rows * d, seed: 31), y = FloatBuffer(count: rows * d)   // [R, D]
        let projection = randomBuffer(rows * d, seed: 32)
        let loss = { () -> Double in
            y.zero()
            ffnForward(y: y.ptr, u: u.constPtr, weights: w.params.constPtr, at: o, d: d, hidden: f, rows: rows,
                       saved: saved, scratch: scratch)
            return projectionLoss(y, projection)
        }
        _ = loss()
        let du = w.increments(inputCount: rows * d, seed: 33) { du, g in
            ffnBackward(du: du, dWeights: g, dy: projection.constPtr, u: u.constPtr, weights: w.params.constPtr,
                        at: o, d: d, hidden: f, rows: rows, saved: saved, scratch: scratch)
        }
        var checks = w.checkTensors(["model.layers.0.mlps.1."], eps: 1e-2, floor: 1e-3, loss: loss)
        checks.append(checkEveryCoordinate("u", u, analytic: du, eps: 1e-2, floor: 1e-3, loss: loss))
        print("dense FFN:")
        // Measured: worst coordinate 0.013, worst tensor L2 2e-5, all carrying.
        expectChecks(checks, tolerance: 5e-2, l2Tolerance: 1e-3, minCarrying: 0.9)
    }
}
