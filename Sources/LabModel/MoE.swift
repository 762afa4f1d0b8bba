import LabKernels
import LabRouting

// Forward and backward of the MoE: router -> routed experts (Experts.swift) -> combine with the
// zero-expert term (ZeroExperts.swift). Shapes, saved tensors and scratch are in MoEBuffers.swift.
//
//   forward:  p = softmax(u W_r^T), plan = route(p, b)      (router)
//             out = E_i(u) for every FFN slot               (experts, expert-sorted)
//             y[t] += sum_j g_tj * (out[row of slot] | Z(u_t))   (combine, slot order)
//   backward: the same stages in reverse; dL/dp = s * dL/dg for the chosen experts (+ balance).

/// y += MoE(u). Routes with `bias` [E]; returns the balance loss (0 when alpha is 0).
/// y, u [R, D].
func moeForward(y: UnsafeMutablePointer<Float>, u: UnsafePointer<Float>, weights: MoEWeights,
                bias: UnsafePointer<Float>, shape s: MoEShape, rows r: Int,
                saved m: MoESaved, scratch t: MoEScratch) -> Double {
    var laps = ProfileLaps()
    routerForward(u: u, weights: weights, bias: bias, shape: s, rows: r, saved: m, scratch: t)
    if !m.routingEdits.isEmpty { m.applyRoutingEdits(bias: bias, gateScale: s.gateScale) }   // forced routing, off by default
    let plan = m.plan
    m.balanceLoss = 0
    if s.balanceAlpha > 0 {
        // The config was validated (groups divide N), so the balance loss cannot throw here.
        m.balanceLoss = try! deviceBalanceLoss(dProbs: nil, probs: m.probs.ptr, plan: plan, groups: s.balanceGroups,
                                               targetFfnExperts: s.targetFfnExperts, alpha: s.balanceAlpha)
    }
    laps.lap(.router)
    expertsForward(out: t.y.ptr, gu: m.gu.ptr, h: t.h.ptr, u: u, weights: weights, shape: s, plan: plan)
    laps.lap(.experts)
    combineForward(routed: y, zero: y, u: u, expertOutputs: t.y.ptr, weights: weights, shape: s, rows: r, plan: plan)
    laps.lap(.moeCombine)
    return m.balanceLoss
}

/// Backward of `moeForward`: du += dMoE/du^T dy, weight gradients += their shares.
/// The bias gets no gradient; the router learns only through the chosen experts' p (and the
/// balance loss).
func moeBackward(du: UnsafeMutablePointer<Float>, dWeights g: UnsafeMutablePointer<Float>,
                 dy: UnsafePointer<Float>, u: UnsafePointer<Float>, weights: MoEWeights,
                 shape s: MoEShape, rows r: Int, saved m: MoESaved, scratch t: MoEScratch) {
    let plan = m.plan
    var laps = ProfileLaps(backward: true)
    expertsBackward(dx: t.y.ptr, dgateRow: t.dgateRow.ptr, dWeights: g, dy: dy, u: u, gu: m.gu.ptr, h: t.h.ptr,
                    dh: t.dh.ptr, weights: weights, shape: s, plan: plan)
    laps.lap(.experts)
    combineBackward(du: du, dprobs: t.dprobs.ptr, dWeights: g, dy: dy, u: u, expertInputGradients: t.y.ptr,
                    dgateRow: t.dgateRow.ptr, weights: weights, shape: s, rows: r, plan: plan)
    laps.lap(.moeCombine)
    routerBackward(du: du, dWeights: g, u: u, weights: weights, shape: s, rows: r, saved: m, scratch: t)
    laps.lap(.router)
}

/// p = softmax(u W_router^T) in fp32 over all N+Z experts jointly, then the plan: top-K of
/// p + bias, gates s * p.
private func routerForward(u: UnsafePointer<Float>, weights: MoEWeights, bias: UnsafePointer<Float>,
                           shape s: MoEShape, rows r: Int, saved m: MoESaved, scratch t: MoEScratch) {
    linearForward(y: t.logits.ptr, x: u, w: weights.w + weights.o.router, rows: r, inFeatures: s.d, outFeatures: s.experts)
    softmaxRowsForward(y: m.probs.ptr, x: t.logits.ptr, rows: r, cols: s.experts)
    route(probs: m.probs.ptr, bias: bias, tokens: r, routedExperts: s.routed, zeroExperts: s.zero,
          topK: s.topK, gateScale: s.gateScale, zeroGateScale: s.zeroGateScale, fixedFfnSlots: s.fixedFfnSlots,
          into: &m.plan, threads: LabThreads.count)
}

/// Backward of the router from `t.dprobs` [R, E] (the gates' share): adds the balance loss's
/// gradient, then softmax and router-weight backward; du +=.
private func routerBackward(du: UnsafeMutablePointer<Float>, dWeights g: UnsafeMutablePointer<Float>,
                            u: UnsafePointer<Float>, weights: MoEWeights, shape s: MoEShape, rows r: Int,
                            saved m: MoESaved, scratch t: MoEScratch) {
    m.captureRouterGradient(t.dprobs.ptr, rows: r, experts: s.experts)  // telemetry (R_g): before the balance gradient
    if s.balanceAlpha > 0 {
        _ = try! deviceBalanceLoss(dProbs: t.dprobs.ptr, probs: m.probs.ptr, plan: m.plan, groups: s.balanceGroups,
                                   targetFfnExperts: s.targetFfnExperts, alpha: s.balanceAlpha)
    }
    t.logits.zero()
    softmaxRowsBackward(dx: t.logits.ptr, dy: t.dprobs.ptr, y: m.probs.ptr, rows: r, cols: s.experts)
    linearBackward(dx: du, dw: g + weights.o.router, dy: t.logits.ptr, x: u, w: weights.w + weights.o.router,
                   rows: r, inFeatures: s.d, outFeatures: s.experts)
}

/// routed[t] += g * out[row of slot] over t's FFN slots and zero[t] += g * Z(u_t) over its zero
/// slots, in slot order (deterministic). Training passes the same buffer for both (y += MoE(u));
/// the variance probe passes two. routed, zero, u [R, D]; expertOutputs [S, D] expert-sorted.
func combineForward(routed: UnsafeMutablePointer<Float>, zero: UnsafeMutablePointer<Float>, u: UnsafePointer<Float>,
                    expertOutputs: UnsafePointer<Float>, weights: MoEWeights, shape s: MoEShape, rows r: Int,
                    plan: RoutingPlan) {
    let d = s.d, k = s.topK
    let expert = plan.expert, gate = plan.gate, sortedRow = plan.sortedRow
    let routedP = SendablePointer(routed), zeroP = SendablePointer(zero)
    let uP = ReadPointer(u), out = ReadPointer(expertOutputs)
    parallelRanges(r, costPerItem: k * d) { tokens in
        for tok in tokens {
            let uRow = uP.base + tok * d
            for j in 0..<k {
                let slot = tok * k + j, ex = Int(expert[slot]), g = gate[slot]
                if ex < s.routed {
                    addInPlaceSerial(routedP.base + tok * d, out.base + Int(sortedRow[slot]) * d, d, scale: g)
                } else {
                    zeroExpertForward(y: zeroP.base + tok * d, u: uRow, gate: g, zeroExpert: ex - s.routed,
                                      weights: weights, shape: s)
                }
            }
        }
    }
}

/// Backward of `combineForward` (one output): du[t] += the expert input-gradient rows of t's FFN
/// slots and the zero-expert terms; dprobs[t, i] = s * dL/dg for every chosen expert i (the
/// FFN slots' from `dgateRow`). dprobs [R, E] is zeroed here first.
private func combineBackward(du: UnsafeMutablePointer<Float>, dprobs: UnsafeMutablePointer<Float>,
                             dWeights g: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, u: UnsafePointer<Float>,
                             expertInputGradients dx: UnsafePointer<Float>, dgateRow: UnsafePointer<Float>,
                             weights: MoEWeights, shape s: MoEShape, rows r: Int, plan: RoutingPlan) {
    let d = s.d, k = s.topK, e = s.experts
    dprobs.update(repeating: 0, count: r * e)
    let expert = plan.expert, gate = plan.gate, sortedRow = plan.sortedRow
    let duP = SendablePointer(du), dprobsP = SendablePointer(dprobs)
    let dyP = ReadPointer(dy), uP = ReadPointer(u), dxP = ReadPointer(dx), dgateP = ReadPointer(dgateRow)
    parallelRanges(r, costPerItem: k * d) { tokens in
        for tok in tokens {
            let duRow = duP.base + tok * d, dyRow = dyP.base + tok * d, uRow = uP.base + tok * d
            for j in 0..<k {
                let slot = tok * k + j, ex = Int(expert[slot])
                var dgate: Float = 0
                if ex < s.routed {
                    let row = Int(sortedRow[slot])
                    addInPlaceSerial(duRow, dxP.base + row * d, d)
                    dgate = dgateP.base[row]
                } else if s.zeroKind == .constant {
                    continue  // constantExpertsBackward below (shared weight gradients)
                } else {
                    dgate = zeroExpertBackward(du: duRow, dy: dyRow, u: uRow, gate: gate[slot], shape: s)
                }
                dprobsP[tok * e + ex] = (ex < s.routed ? s.gateScale : s.zeroGateScale) * dgate
            }
        }
    }
    if s.zeroKind == .constant {
        constantExpertsBackward(du: du, dWeights: g, dprobs: dprobs, dy: dy, u: u, weights: weights, shape: s,
                                rows: r, plan: plan)
    }
}
