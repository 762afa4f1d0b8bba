import LabConfig
import LabKernels
import Testing
@testable import LabModel

/// The controls that isolate the paper's mechanisms, inside the whole model: `routing.mode`
/// fixed_split / no_zero_selection and `init.variance_compensation_scope = "routed"`.
@Suite("Routing controls")
struct RoutingControlTests {
    /// The tiny model with every loss that touches the router (balance loss on).
    func config(_ mode: RoutingMode, target: Double) -> LabConfig {
        var c = tinyConfig(mtp: 0, zLoss: 0, balance: 0.5)
        c.routing.mode = mode
        c.controller.targetFfnExperts = target
        return c
    }

    /// Guards the fixed split end to end: every token of every layer takes exactly K_e FFN
    /// experts in the model, and the gradients (router included, through the softmax over
    /// N+Z) match finite differences.
    @Test("fixed_split: K_e FFN experts per token, gradients")
    func fixedSplitGradients() throws {
        let c = config(.fixedSplit, target: 1)
        try validate(c)
        let b = TinyBatch(c, seed: 58)
        b.pass(train: false)
        for saved in b.model.saved {
            let plan = saved.moe.plan
            #expect((0..<plan.tokens).allSatisfy { plan.ffnCount[$0] == 1 })
            #expect((0..<plan.topK * plan.tokens).contains { plan.expert[$0] >= 4 })
        }
        ModelGradientTests.expectModel(checkModelGradients(b))
    }

    /// Guards the undiluted-gate control end to end: no zero expert is chosen, the gradients
    /// through the softmax over N+Z (whose zero-expert columns get only the softmax's share)
    /// match finite differences.
    @Test("no_zero_selection: no zero expert, gradients")
    func noZeroSelectionGradients() throws {
        let c = config(.noZeroSelection, target: 0)
        try validate(c)
        // The first seed whose routing (one sequence of 5) has a clear margin (>= 0.01) in every
        // layer, so that perturbations of eps rarely change a choice (K = 2 of N = 4 is crowded:
        // seed 58 with two sequences left 63 of 561 coordinates changing a choice).
        let seed = try #require((1...500).first { seed in
            let b = TinyBatch(c, batch: 1, seed: UInt64(seed))
            b.pass(train: false)
            return b.model.saved.map { smallestMargin($0.moe.plan) }.min()! >= 0.01
        })
        let b = TinyBatch(c, batch: 1, seed: UInt64(seed))
        b.pass(train: false)
        for saved in b.model.saved {
            let plan = saved.moe.plan
            #expect((0..<plan.tokens).allSatisfy { plan.ffnCount[$0] == 2 })
        }
        ModelGradientTests.expectModel(checkModelGradients(b))
    }

    /// Guards the zero experts' gate-scale in the backward with scope "routed": a backward that
    /// still used s * gamma for the zero experts' router gradient fails the router check.
    @Test("variance_compensation_scope = routed: gradients")
    func routedScopeGradients() {
        var c = config(.adaptive, target: 1.5)
        c.initialization.varianceCompensation = true
        c.initialization.fineGrainFactor = 4
        c.initialization.varianceCompensationScope = .routed
        ModelGradientTests.expectModel(checkModelGradients(TinyBatch(c, seed: 58)))
    }

    /// Largest |a - scale * b| relative to the largest |scale * b|.
    func relativeError(_ a: FloatBuffer, _ b: FloatBuffer, scale: Float, _ n: Int) -> Double {
        var worst = 0.0, size = 1e-30
        for i in 0..<n {
            worst = max(worst, Double(abs(a.ptr[i] - scale * b.ptr[i])))
            size = max(size, Double(abs(scale * b.ptr[i])))
        }
        return worst / size
    }

    /// Guards the scope of gamma at step 0 (what the variance probe splits): with "routed" the
    /// first layer's identity (zero-expert) part equals the uncompensated model's and the FFN
    /// part is gamma times it; with "all" both parts are scaled (the paper's, and today's).
    @Test("gamma scope: identity path unchanged with routed", arguments: [CompensationScope.routed, .all])
    func scopeOfGammaAtStepZero(scope: CompensationScope) {
        var off = tinyConfig(mtp: 0, zLoss: 0, balance: 0)
        off.initialization.fineGrainFactor = 4
        var on = off
        on.initialization.varianceCompensation = true
        on.initialization.varianceCompensationScope = scope
        let plain = TinyBatch(off), compensated = TinyBatch(on)
        plain.pass(train: false); compensated.pass(train: false)
        let r = plain.batch * plain.model.seqLen, d = off.model.hiddenSize
        // Layer 0 sees the same input in both models (nothing before its MoE depends on gamma).
        let a = plain.model.moeParts(layer: 0, rows: r), b = compensated.model.moeParts(layer: 0, rows: r)
        #expect(relativeError(b.routed, a.routed, scale: 4, r * d) < 1e-6)
        #expect(relativeError(b.zero, a.zero, scale: scope == .routed ? 1 : 4, r * d) < 1e-6)
        var zeroMass: Float = 0
        for i in 0..<(r * d) { zeroMass += abs(a.zero.ptr[i]) }
        #expect(zeroMass > 0, "no token chose a zero expert")
    }
}
