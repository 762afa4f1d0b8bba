import LabConfig
import LabKernels
import Testing
import TestSupport
@testable import LabModel

/// Whole-model gradient checks: a tiny LongCat (two layers, MLA with both scales, zero
/// experts) against central finite differences of the total loss: every coordinate of both
/// routers (where the balance loss acts) and 6 random coordinates of every other tensor.
///
/// Tolerance: 5e-2 relative with a 1e-3 floor (absolute 5e-5 below it). The forward passes run
/// in Float32 with eps 1e-2: the total loss (about 3-10) resolves about 1e-6, so the difference
/// carries a few 1e-5 of noise; the worst coordinate measured over these checks is 0.022. A
/// dropped or negated gradient gives errors of 1 to 2 where it matters.
@Suite("Whole-model gradients")
struct ModelGradientTests {
    /// Coefficients of the small-coefficient losses in the every-loss checks: large enough that
    /// dropping or flipping any one of their gradients fails the check in both layouts. Shown in
    /// a scratch build, each gradient dropped, then negated, in the source (the z-loss's into the
    /// last hidden state, the balance loss's into the router probabilities, the MTP head's whole
    /// gradient and only its part into the main model): worst errors 1.76 to 2.0 against the
    /// tolerance 0.05, in both layouts, while the unmutated source measures 0.022.
    static let zLoss = 0.05, balance = 0.5, mtp = 1.0
    /// Batch seeds whose base routing has a clear top-k margin (at least 0.02, checked below), so
    /// that perturbations of eps rarely change a choice (the default seed's sequential routing
    /// has a 1e-4 margin: 87 of 588 coordinates changed a choice).
    static let seeds: [String: UInt64] = ["scmoe": 58, "sequential": 4]

    static func expectModel(_ checks: [CoordinateCheck], tolerance: Double = 5e-2, minCarrying: Double = 0.8,
                            minRouterCarrying: Double = 0.9, minChecked: Int = 100, sourceLocation: SourceLocation = #_sourceLocation) {
        let s = ModelCheckSummary(checks)
        print("gradient check: \(s)")
        #expect(s.checked >= minChecked, "\(s)", sourceLocation: sourceLocation)
        #expect(Double(s.carrying) >= minCarrying * Double(s.checked), "too few carry gradient: \(s)",
                sourceLocation: sourceLocation)
        // A routing change under a perturbation is rare at eps 1e-2; many would mean the
        // check no longer looks at the routers.
        #expect(Double(s.nondifferentiable) <= 0.05 * Double(s.checked + s.nondifferentiable), "\(s)",
                sourceLocation: sourceLocation)
        for c in checks where c.name.contains("mlp.router.") {
            #expect(Double(c.carrying) >= minRouterCarrying * Double(c.checked), "router coordinates without gradient: \(c)",
                    sourceLocation: sourceLocation)
        }
        #expect(s.worst.worst < tolerance, "\(s)", sourceLocation: sourceLocation)
    }

    /// Guards the hidden z-loss, balance-loss and MTP gradients at the model level (their
    /// wiring into the last hidden state and the routers), in each layout: at these
    /// coefficients a dropped or negated gradient of any one of them fails.
    @Test("Every loss on, coefficients that matter", arguments: ["scmoe", "sequential"])
    func everyLoss(layout: String) {
        let c = tinyConfig(layout: layout, mtp: Self.mtp, zLoss: Self.zLoss, balance: Self.balance)
        let b = TinyBatch(c, seed: Self.seeds[layout]!)
        b.pass(train: false)
        let margin = b.model.saved.map { smallestMargin($0.moe.plan) }.min()!
        #expect(margin >= 0.02, "smallest top-k margin \(margin)")
        Self.expectModel(checkModelGradients(b))
    }

    /// Guards the MoE++ constant zero experts' mix and value gradients inside the model.
    @Test("MoE++ constant zero experts")
    func constantZeroExpertGradients() {
        // Without the balance loss some router coordinates fall under the floor (measured 81%).
        Self.expectModel(checkModelGradients(TinyBatch(tinyConfig(zeroKind: "constant", mtp: 0, zLoss: 0, balance: 0))),
                         minRouterCarrying: 0.7)
    }

    /// Guards plain top-k routing (no zero experts) with the MLA scales off.
    @Test("MLA scales off, no zero experts")
    func plainTopKGradients() {
        var c = tinyConfig(mtp: 0, zLoss: 0, balance: 0)
        c.model.zeroExpertNum = 0
        c.model.mlaScaleQLora = false
        c.model.mlaScaleKvLora = false
        c.controller.targetFfnExperts = 0
        Self.expectModel(checkModelGradients(TinyBatch(c)))
    }

    /// Guards the chunked gradient accumulation of the expert weights: experts with more rows
    /// than one gather chunk (`expertChunkRows`). With one layer nothing after the MoE routes, so
    /// perturbing the experts, the final norm or the LM head cannot change a choice: 12
    /// coordinates of each, none left out.
    @Test("Experts larger than one chunk")
    func chunkedExpertGradients() {
        var c = tinyConfig(mtp: 0, zLoss: 0, balance: 0)
        c.model.numLayers = 1
        c.model.nRoutedExperts = 2
        c.model.zeroExpertNum = 1
        c.model.moeTopk = 2
        c.controller.targetFfnExperts = 0
        let b = TinyBatch(c, batch: 2, seqLen: 300)
        b.pass(train: false)
        let plan = b.model.saved[0].moe.plan
        #expect((0..<2).contains { plan.load(expert: $0) > expertChunkRows }, "no expert exceeds one chunk")
        let checks = checkModelGradients(b, perTensor: 12, every: [], only: ["mlp.experts.", "model.norm.", "lm_head."])
        #expect(checks.count == 4 && checks.allSatisfy { $0.nondifferentiable == 0 }, "\(checks)")
        // Gradients averaged over 600 tokens are small: 79% of the coordinates reach the floor.
        Self.expectModel(checks, minCarrying: 0.6, minChecked: 40)
    }
}
