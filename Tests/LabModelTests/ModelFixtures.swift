import LabConfig
import LabKernels
@testable import LabModel

/// A tiny LongCat config (every feature on) small enough for finite differences in debug builds.
func tinyConfig(layout: String = "scmoe", zeroKind: String = "identity", mtp: Double = 0.3,
                zLoss: Double = 1e-3, balance: Double = 0.01) -> LabConfig {
    var c = LabConfig()
    c.model.vocabSize = 24
    c.model.hiddenSize = 16
    c.model.numLayers = 2
    c.model.numAttentionHeads = 2
    c.model.qLoraRank = 8
    c.model.kvLoraRank = 6
    c.model.qkNopeHeadDim = 4
    c.model.qkRopeHeadDim = 4
    c.model.vHeadDim = 4
    c.model.ffnHiddenSize = 12
    c.model.expertFfnHiddenSize = 6
    c.model.nRoutedExperts = 4
    c.model.zeroExpertNum = 2
    c.model.moeTopk = 2
    c.model.routedScalingFactor = 1.5
    c.model.layout = MoELayout(rawValue: layout)!
    c.model.zeroExpertType = ZeroExpertType(rawValue: zeroKind)!
    c.model.mtpLossCoef = mtp
    c.model.hiddenZLossCoef = zLoss
    c.balance.alpha = balance
    c.balance.groups = 2
    c.controller.targetFfnExperts = 1.5
    c.initialization.std = 0.3
    c.initialization.embeddingStd = 1.0
    return c
}

/// A model with deterministic random weights and a batch of token ids.
struct TinyBatch {
    let model: LongCatModel
    var tokens: [Int32], targets: [Int32], mtpTargets: [Int32]
    let batch: Int

    init(_ c: LabConfig, batch: Int = 2, seqLen: Int = 5, seed: UInt64 = 7) {
        model = LongCatModel(config: c, batch: batch, seqLen: seqLen)
        model.initializeWeights(seed: seed)
        var rng = LabRandom(seed: seed + 1)
        let r = batch * seqLen, v = c.model.vocabSize
        tokens = (0..<r).map { _ in Int32(rng.nextInt(below: v)) }
        targets = (0..<r).map { _ in Int32(rng.nextInt(below: v)) }
        mtpTargets = (0..<r).map { i in i % seqLen == seqLen - 1 ? -1 : Int32(rng.nextInt(below: v)) }
        self.batch = batch
    }

    @discardableResult
    func pass(train: Bool) -> Losses {
        tokens.withUnsafeBufferPointer { tk in
            targets.withUnsafeBufferPointer { tg in
                mtpTargets.withUnsafeBufferPointer { mt in
                    model.pass(tokens: tk.baseAddress!, targets: tg.baseAddress!, mtpTargets: mt.baseAddress!,
                               batch: batch, train: train)
                }
            }
        }
    }

    /// Chosen experts of every layer (to detect a routing change under a perturbation).
    var routing: [[Int32]] { model.saved.map { $0.moe.plan.expert } }
}

/// Result of comparing analytic gradients with central finite differences.
struct GradientReport: CustomStringConvertible {
    var checked = 0, skipped = 0
    var worst = 0.0
    var worstName = ""
    var description: String { "checked \(checked), skipped \(skipped) (routing changed), worst relative error \(worst) at \(worstName)" }
}

/// Central differences of the total loss for `perTensor` random elements of every parameter
/// tensor. A coordinate whose perturbation changes any top-k choice is skipped (the loss is
/// not differentiable across a routing change).
func checkModelGradients(_ b: TinyBatch, perTensor: Int = 3, eps: Float = 1e-2, floor: Double = 2e-3) -> GradientReport {
    b.pass(train: true)
    let analytic = Array(UnsafeBufferPointer(start: b.model.grads.ptr, count: b.model.layout.count))
    let baseRouting = b.routing
    var rng = LabRandom(seed: 99)
    var report = GradientReport()
    for s in b.model.layout.slices {
        for _ in 0..<min(perTensor, s.count) {
            let i = s.offset + rng.nextInt(below: s.count)
            let p = b.model.params.ptr
            let keep = p[i]
            p[i] = keep + eps
            let plus = b.pass(train: false).total
            let routingPlus = b.routing
            p[i] = keep - eps
            let minus = b.pass(train: false).total
            let routingMinus = b.routing
            p[i] = keep
            if routingPlus != baseRouting || routingMinus != baseRouting { report.skipped += 1; continue }
            let numeric = (plus - minus) / (2 * Double(eps))
            let a = Double(analytic[i])
            let err = abs(a - numeric) / max(abs(a), abs(numeric), floor)
            report.checked += 1
            if err > report.worst { report.worst = err; report.worstName = "\(s.name)[\(i - s.offset)] analytic \(a) numeric \(numeric)" }
        }
    }
    return report
}
