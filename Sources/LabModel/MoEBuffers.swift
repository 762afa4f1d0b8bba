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
        zeroKind = ZeroExpertKind(rawValue: m.zeroExpertType) ?? .identity
        balanceAlpha = Float(c.balance.alpha)
        balanceGroups = c.balance.groups
        targetFfnExperts = c.effectiveTargetFfnExperts
    }
}

/// What a zero-computation expert computes (MoE++ kinds; LongCat uses identity).
public enum ZeroExpertKind: String, Sendable {
    case identity, zero, drop, constant
}

/// What one MoE's forward saves for its backward.
public final class MoESaved {
    /// Router probabilities, unbiased. [R, E]
    public let probs: FloatBuffer
    /// The routing of this step (chosen experts, gates, expert-sorted slots).
    public var plan = RoutingPlan()
    /// This step's device-level balance loss (0 when off).
    public internal(set) var balanceLoss = 0.0
    /// Gate/up pre-activations of every FFN slot, expert-sorted. [R*K, 2F]
    let gu: FloatBuffer
    init(_ s: MoEShape, rows r: Int) {
        probs = FloatBuffer(count: r * s.experts)
        gu = FloatBuffer(count: r * s.topK * 2 * s.hidden)
    }
}

/// Scratch shared by every MoE of the model.
final class MoEScratch {
    let x, y: FloatBuffer          // [R*K, D] gathered inputs; outputs (forward) / dOut rows (backward)
    let h, dgu: FloatBuffer        // [R*K, F], [R*K, 2F]
    let logits: FloatBuffer        // [R, E] router logits; router-logit gradient in backward
    let dprobs: FloatBuffer        // [R, E]
    let dgateRow: FloatBuffer      // [R*K] by sorted FFN row
    let dgateSlot: FloatBuffer     // [R*K] by slot (t*K + j)
    var rowOfSlot: [Int32]         // [R*K] sorted row of an FFN slot, -1 for zero-expert slots
    init(_ s: MoEShape, rows r: Int) {
        let slots = r * s.topK
        x = FloatBuffer(count: slots * s.d); y = FloatBuffer(count: slots * s.d)
        h = FloatBuffer(count: slots * s.hidden); dgu = FloatBuffer(count: slots * 2 * s.hidden)
        logits = FloatBuffer(count: r * s.experts); dprobs = FloatBuffer(count: r * s.experts)
        dgateRow = FloatBuffer(count: slots); dgateSlot = FloatBuffer(count: slots)
        rowOfSlot = [Int32](repeating: -1, count: slots)
    }

    /// Fills `rowOfSlot` from the plan and gathers rows of `source` [R, D] into `into` [S, D] in
    /// expert-sorted order. Returns S.
    func gather(_ source: UnsafePointer<Float>, into: FloatBuffer, plan: RoutingPlan, d: Int) -> Int {
        let ffnSlots = plan.offsets[plan.routedExperts]
        let k = plan.topK
        let src = UnsafeMutablePointer(mutating: source)
        let dst = SendablePointer(into.ptr)
        let srcP = SendablePointer(src)
        plan.sortedSlots.withUnsafeBufferPointer { sorted in
            let sortedP = SendablePointer(UnsafeMutablePointer(mutating: sorted.baseAddress!))
            parallelRanges(ffnSlots, costPerItem: d) { rows in
                for p in rows {
                    let token = Int(sortedP[p]) / k
                    (dst.base + p * d).update(from: srcP.base + token * d, count: d)
                }
            }
        }
        return ffnSlots
    }

    func fillRowOfSlot(plan: RoutingPlan) {
        let ffnSlots = plan.offsets[plan.routedExperts]
        for i in rowOfSlot.indices { rowOfSlot[i] = -1 }
        for p in 0..<ffnSlots { rowOfSlot[Int(plan.sortedSlots[p])] = Int32(p) }
    }
}
