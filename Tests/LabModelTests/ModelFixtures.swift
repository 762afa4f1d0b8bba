import LabConfig
import LabKernels
import TestSupport
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
    var routing: [[Int32]] { model.saved.map { chosenExperts($0.moe.plan) } }
}

/// Central differences of the total loss against the analytic gradient, per parameter tensor:
/// every coordinate of the tensors whose names contain one of `every` (the routers, where the
/// balance loss acts), `perTensor` distinct random coordinates of every other tensor. A
/// coordinate whose perturbation changes any top-k choice is not differentiable there; it is
/// counted in its tensor's `nondifferentiable`, never silently dropped. `only` restricts the
/// check to the tensors whose names contain one of its strings.
func checkModelGradients(_ b: TinyBatch, perTensor: Int = 6, every: [String] = ["mlp.router."], only: [String]? = nil,
                         eps: Float = 1e-2,
                         floor: Double = 1e-3, seed: UInt64 = 99, analyticOverride: FloatBuffer? = nil) -> [CoordinateCheck] {
    b.pass(train: true)
    let analytic = analyticOverride ?? clone(b.model.grads)
    let baseRouting = b.routing
    let slices = b.model.layout.slices.enumerated().filter { _, s in only?.contains { s.name.contains($0) } ?? true }
    return slices.map { n, s in
        let indices = every.contains { s.name.contains($0) }
            ? Array(0..<s.count) : sampleIndices(s.count, samples: perTensor, seed: seed + UInt64(n))
        return checkCoordinates(s.name, input: b.model.params.ptr + s.offset, analytic: analytic.constPtr + s.offset,
                                indices: indices, eps: eps, floor: floor,
                                nondifferentiable: { b.routing != baseRouting }, loss: { b.pass(train: false).total })
    }
}

/// The whole-model checks summed: coordinates checked, carrying gradient, left out for a
/// routing change, and the worst tensor.
struct ModelCheckSummary: CustomStringConvertible {
    let checked, carrying, nondifferentiable: Int
    let worst: CoordinateCheck

    init(_ checks: [CoordinateCheck]) {
        checked = checks.reduce(0) { $0 + $1.checked }
        carrying = checks.reduce(0) { $0 + $1.carrying }
        nondifferentiable = checks.reduce(0) { $0 + $1.nondifferentiable }
        worst = checks.max { $0.worst < $1.worst } ?? CoordinateCheck(name: "none")
    }

    var description: String {
        "\(checked) checked, \(carrying) carry gradient, \(nondifferentiable) not differentiable; worst \(worst)"
    }
}
