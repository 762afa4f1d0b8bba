import LabConfig
import LabKernels
import Testing
@testable import LabModel

/// Whole-model gradient checks: every parameter tensor of a tiny LongCat (two ScMoE layers,
/// MLA with both scales, zero experts, balance loss, hidden z-loss, MTP head) against central
/// finite differences of the total loss. Tolerance: 5% relative with a 2e-3 floor, Float32
/// forward passes with eps 1e-2 (the Float32 loss resolves about 1e-6).
@Suite("Whole-model gradients")
struct ModelGradientTests {
    @Test("ScMoE layout with every feature on")
    func scmoeGradients() {
        let r = checkModelGradients(TinyBatch(tinyConfig()))
        print("gradient check: \(r)")
        #expect(r.checked > 100, "\(r)")
        #expect(r.worst < 0.05, "\(r)")
    }

    @Test("Sequential layout (MoE beside the second FFN)")
    func sequentialGradients() {
        let r = checkModelGradients(TinyBatch(tinyConfig(layout: "sequential")))
        print("gradient check: \(r)")
        #expect(r.checked > 100, "\(r)")
        #expect(r.worst < 0.05, "\(r)")
    }

    @Test("MoE++ constant zero experts")
    func constantZeroExpertGradients() {
        let r = checkModelGradients(TinyBatch(tinyConfig(zeroKind: "constant", mtp: 0, zLoss: 0, balance: 0)))
        print("gradient check: \(r)")
        #expect(r.checked > 80, "\(r)")
        #expect(r.worst < 0.05, "\(r)")
    }

    @Test("MLA scales off, no zero experts")
    func plainTopKGradients() {
        var c = tinyConfig(mtp: 0, zLoss: 0, balance: 0)
        c.model.zeroExpertNum = 0
        c.model.mlaScaleQLora = false
        c.model.mlaScaleKvLora = false
        c.controller.targetFfnExperts = 0
        let r = checkModelGradients(TinyBatch(c))
        print("gradient check: \(r)")
        #expect(r.checked > 80, "\(r)")
        #expect(r.worst < 0.05, "\(r)")
    }

    /// Experts with more rows than one gather chunk (`expertChunkRows`), so the chunked
    /// gradient accumulation of the expert weights is exercised.
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
        let r = checkModelGradients(b, perTensor: 3)
        print("gradient check: \(r)")
        #expect(r.checked > 40, "\(r)")
        #expect(r.worst < 0.05, "\(r)")
    }
}
