import LabConfig
import LabKernels
import LabModel
import LabRouting

// The two layer diagnostics the paper pairs with the balance loss (LONGCAT.md section 5),
// measured every `train.telemetry_interval` steps because each costs a pass over [R, E] or
// [N, N, D] numbers: the gradient-norm ratio R_g and router weight similarity.
//
// Letters: R rows (tokens) of the step, N FFN experts, E = N + Z experts, D model width.

/// Arms the MoE backward's router-gradient capture on due steps and turns the captured
/// gradients into `layer_steps.grad_norm_ratio` and `router_similarity`.
///
/// Use: `prepare(forStep:)` before the step's pass, `measure(layer:)` after it (before another
/// pass overwrites the routing). Capturing copies a buffer and never changes training.
final class LayerTelemetry {
    /// `train.telemetry_interval`; 0 = never.
    let interval: Int
    private let model: LongCatModel
    private let config: LabConfig
    /// `[R, E]` scratch for the balance loss's gradient alone.
    private let balanceGradient: FloatBuffer
    /// Per layer, the capture generation when the current step was armed; nil when not armed.
    private var armedGeneration: [Int?]

    init(config: LabConfig, model: LongCatModel) {
        interval = config.train.telemetryInterval
        self.model = model
        self.config = config
        balanceGradient = FloatBuffer(count: model.saved.first?.moe.probs.count ?? 0)
        armedGeneration = Array(repeating: nil, count: model.saved.count)
    }

    /// True on steps 0, n, 2n, ... for n = `interval` > 0.
    func isDue(_ step: Int) -> Bool { interval > 0 && step % interval == 0 }

    /// Arms every layer's capture when `step` is due, disarms it otherwise.
    func prepare(forStep step: Int) {
        let due = isDue(step)
        model.captureRouterGradients(due)
        for l in model.saved.indices {
            armedGeneration[l] = due ? model.saved[l].moe.routerGradientCapture.generation : nil
        }
    }

    /// R_g and router similarity of layer `l` for the pass just run; nil, nil unless the step
    /// was armed and a backward pass captured the gradient since.
    func measure(layer l: Int) throws -> (gradNormRatio: Double?, routerSimilarity: Double?) {
        let moe = model.saved[l].moe
        let capture = moe.routerGradientCapture
        guard let armed = armedGeneration[l], capture.generation > armed else { return (nil, nil) }
        let plan = moe.plan, rows = capture.rows, experts = plan.experts
        balanceGradient.ptr.update(repeating: 0, count: rows * experts)
        try deviceBalanceLoss(dProbs: balanceGradient.ptr, probs: moe.probs.ptr, plan: plan,
                              groups: config.balance.groups, targetFfnExperts: config.effectiveTargetFfnExperts,
                              alpha: Float(config.balance.alpha))
        let ratio = gradientNormRatio(lmGradient: capture.gradient.ptr, balanceGradient: balanceGradient.ptr,
                                      tokens: rows, experts: experts)
        let m = config.model
        let similarity = routerWeightSimilarity(weights: model.params.ptr + model.layout.layers[l].moe.router,
                                                experts: m.nRoutedExperts, dim: m.hiddenSize)
        return (ratio, similarity)
    }
}
