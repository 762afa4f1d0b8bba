import Foundation
import LabKernels
import LabRouting

// The zero-computation experts' term of the MoE (LONGCAT.md section 3; MoE++ kinds), forward
// and backward. For a slot of token t on zero expert z with gate g:
//
//   identity:  g * u_t                                   (LongCat)
//   zero/drop: 0
//   constant:  g * (a1 u_t + a2 v_z),  (a1, a2) = softmax(W_c,z u_t),  W_c,z [2, D], v_z [D]

/// y += g * Z_z(u) for one slot of a token on zero expert `z`. y, u [D].
@inline(__always)
func zeroExpertForward(y: UnsafeMutablePointer<Float>, u: UnsafePointer<Float>, gate g: Float, zeroExpert z: Int,
                       weights: MoEWeights, shape s: MoEShape) {
    switch s.zeroKind {
    case .identity:
        addInPlaceSerial(y, u, s.d, scale: g)
    case .zero, .drop:
        return
    case .constant:
        let (a1, a2) = constantExpertMix(u: u, mixWeights: weights.constantMix(z, s), d: s.d)
        addInPlaceSerial(y, u, s.d, scale: g * a1)
        addInPlaceSerial(y, weights.constantValue(z, s), s.d, scale: g * a2)
    }
}

/// (a1, a2) = softmax(W_c u) of one MoE++ constant expert, W_c [2, D].
@inline(__always)
func constantExpertMix(u: UnsafePointer<Float>, mixWeights wc: UnsafePointer<Float>, d: Int) -> (Float, Float) {
    let l0 = dot(wc, u, d), l1 = dot(wc + d, u, d)
    let mx = max(l0, l1)
    let e0 = expf(l0 - mx), e1 = expf(l1 - mx)
    return (e0 / (e0 + e1), e1 / (e0 + e1))
}

/// Backward of an identity, zero or drop slot (weights are not involved): du += g dy, and
/// returns dL/dg = <dy, u> (0 for zero/drop). du, dy, u [D].
@inline(__always)
func zeroExpertBackward(du: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, u: UnsafePointer<Float>,
                        gate g: Float, shape s: MoEShape) -> Float {
    guard s.zeroKind == .identity else { return 0 }
    addInPlaceSerial(du, dy, s.d, scale: g)
    return dot(dy, u, s.d)
}

/// Backward of every MoE++ constant-expert slot, serial because their weight gradients are
/// shared: du, dW_c, dv +=, and dprobs[t, e] = s * dL/dg for each such slot. u, du, dy [R, D],
/// dprobs [R, E].
func constantExpertsBackward(du: UnsafeMutablePointer<Float>, dWeights g: UnsafeMutablePointer<Float>,
                             dprobs: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, u: UnsafePointer<Float>,
                             weights: MoEWeights, shape s: MoEShape, rows r: Int, plan: RoutingPlan) {
    let d = s.d, k = s.topK, o = weights.o
    let expert = plan.expert, gate = plan.gate
    for tok in 0..<r {
        let dyRow = dy + tok * d, uRow = u + tok * d
        for j in 0..<k {
            let slot = tok * k + j, ex = Int(expert[slot])
            if ex < s.routed { continue }
            let z = ex - s.routed, gv = gate[slot]
            let wc = weights.constantMix(z, s), v = weights.constantValue(z, s)
            let (a1, a2) = constantExpertMix(u: uRow, mixWeights: wc, d: d)
            let du0 = dot(dyRow, uRow, d), dv0 = dot(dyRow, v, d)
            // out = a1 u + a2 v; dgate = <dy, out>; da_i = g <dy, (u | v)>; softmax backward.
            dprobs[tok * s.experts + ex] = s.zeroGateScale * (a1 * du0 + a2 * dv0)
            let da0 = gv * du0, da1 = gv * dv0
            let mean = a1 * da0 + a2 * da1
            let dl0 = a1 * (da0 - mean), dl1 = a2 * (da1 - mean)
            addInPlaceSerial(du + tok * d, dyRow, d, scale: gv * a1)
            addInPlaceSerial(du + tok * d, wc, d, scale: dl0)
            addInPlaceSerial(du + tok * d, wc + d, d, scale: dl1)
            addInPlaceSerial(g + o.constantMix + z * 2 * d, uRow, d, scale: dl0)
            addInPlaceSerial(g + o.constantMix + z * 2 * d + d, uRow, d, scale: dl1)
            addInPlaceSerial(g + o.constantValue + z * d, dyRow, d, scale: gv * a2)
        }
    }
}
