import LabConfig
import LabKernels
import LabRouting

// Mixture of experts with zero-computation experts (LONGCAT.md section 3).
// Letters: R rows (tokens), D width, N routed experts, Z zero experts, E = N+Z, K slots per
// token, F expert hidden, S = FFN slots of the step (<= R*K), sorted by expert.
//
//   p      = softmax(u W_router^T)                 [R, E]   fp32
//   chosen = topk(p + b, K)                        bias chooses, never weights
//   g      = s * p[chosen]                         s = routed scaling (x gamma when compensating)
//   y     += sum_chosen g * E_i(u)                 E_i = SwiGLU_i for i < N, a zero expert else
//
// Experts run one GEMM each over their rows of a gathered, expert-sorted copy of u; zero
// experts cost no FLOPs.

/// Shapes and settings of the MoE, derived from the config.
public struct MoEShape: Sendable {
    public let d, routed, zero, topK, hidden: Int
    public let gateScale: Float
    /// The zero experts' gate scale: `gateScale`, or s without gamma when compensation covers
    /// the FFN experts only (`init.variance_compensation_scope = "routed"`).
    public let zeroGateScale: Float
    /// FFN experts every token takes (`routing.mode` fixed_split / no_zero_selection); nil = adaptive.
    public let fixedFfnSlots: Int?
    public let zeroKind: ZeroExpertKind
    public let balanceAlpha: Float
    public let balanceGroups: Int
    public let targetFfnExperts: Double
    public var experts: Int { routed + zero }

    public init(_ c: LabConfig) {
        let m = c.model
        d = m.hiddenSize; routed = m.nRoutedExperts; zero = m.zeroExpertNum; topK = m.moeTopk
        hidden = m.expertFfnHiddenSize
        gateScale = Float(c.moeOutputScale)
        zeroGateScale = Float(c.zeroExpertOutputScale)
        fixedFfnSlots = c.fixedFfnSlots
        zeroKind = m.zeroExpertType
        balanceAlpha = Float(c.balance.alpha)
        balanceGroups = c.balance.groups
        targetFfnExperts = c.effectiveTargetFfnExperts
    }
}

/// What a zero-computation expert computes (MoE++ kinds; LongCat uses identity): `model.zero_expert_type`.
public typealias ZeroExpertKind = ZeroExpertType

/// What one MoE's forward saves for its backward.
public final class MoESaved {
    /// Router probabilities, unbiased. [R, E]
    public let probs: FloatBuffer
    /// The routing of this step (chosen experts, gates, expert-sorted slots).
    public var plan = RoutingPlan()
    /// This step's device-level balance loss (0 when off).
    public internal(set) var balanceLoss = 0.0
    /// Forced routing (ForcedRouting.swift): edits applied to the plan between routing and the
    /// experts on every forward pass while set; empty (the ordinary forward) by default.
    public internal(set) var routingEdits: [TokenRoutingEdit] = []
    /// Per edit of the last forward pass: whether it changed the token's expert set.
    public internal(set) var routingEditsChanged: [Bool] = []
    /// Gate/up pre-activations of every FFN slot, expert-sorted. [R*K, 2F]
    let gu: FloatBuffer
    /// Telemetry: a copy of dL/dp taken by the backward while armed (allocated on first use).
    private var capture: RouterGradientCapture?

    init(_ s: MoEShape, rows r: Int) {
        probs = FloatBuffer(count: r * s.experts)
        gu = FloatBuffer(count: r * s.topK * 2 * s.hidden)
    }

    /// This MoE's router-gradient capture (created, disarmed, on first use).
    public var routerGradientCapture: RouterGradientCapture {
        if let capture { return capture }
        let c = RouterGradientCapture(capacity: probs.count)
        capture = c
        return c
    }

    /// Called by `moeBackward` with dL/dp `[rows, E]` before the balance gradient is added;
    /// copies it when this MoE's capture is armed.
    func captureRouterGradient(_ dprobs: UnsafePointer<Float>, rows: Int, experts: Int) {
        guard let c = capture, c.isArmed else { return }
        c.gradient.ptr.update(from: dprobs, count: rows * experts)
        c.rows = rows
        c.generation += 1
    }
}

/// Scratch shared by every MoE of the model.
final class MoEScratch {
    let y: FloatBuffer             // [R*K, D] expert outputs (forward) / input gradients (backward), expert-sorted
    let h, dh: FloatBuffer         // [R*K, F] hidden activations and their gradient
    let logits: FloatBuffer        // [R, E] router logits; router-logit gradient in backward
    let dprobs: FloatBuffer        // [R, E]
    let dgateRow: FloatBuffer      // [R*K] by sorted FFN row
    init(_ s: MoEShape, rows r: Int) {
        let slots = r * s.topK
        y = FloatBuffer(count: slots * s.d)
        h = FloatBuffer(count: slots * s.hidden); dh = FloatBuffer(count: slots * s.hidden)
        logits = FloatBuffer(count: r * s.experts); dprobs = FloatBuffer(count: r * s.experts)
        dgateRow = FloatBuffer(count: slots)
    }
}

/// Rows an expert gathers at a time into its own small buffer (so no [R*K, D] copy of the
/// MoE input is kept): large enough for efficient GEMMs, small enough to stay in cache.
let expertChunkRows = 256

/// Copies the source rows of sorted FFN rows `rows` (token = slot / K) into `into` [rows.count, D].
@inline(__always)
func gatherRows(into: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, rows: Range<Int>,
                sortedSlots: UnsafePointer<Int32>, topK k: Int, d: Int) {
    for (i, p) in rows.enumerated() {
        (into + i * d).update(from: source + (Int(sortedSlots[p]) / k) * d, count: d)
    }
}
