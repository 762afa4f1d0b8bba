import Foundation
import LabKernels
import LabRouting

// Forward and backward of the MoE; the shapes, saved tensors and scratch are in MoEBuffers.swift.

/// The MoE's weights seen by one pass: the base pointer and this layer's offsets.
struct MoEWeights: @unchecked Sendable {
    let w: UnsafePointer<Float>
    let o: MoEOffsets
    func gateUp(_ e: Int, _ s: MoEShape) -> UnsafePointer<Float> { w + o.gateUp + e * 2 * s.hidden * s.d }
    func down(_ e: Int, _ s: MoEShape) -> UnsafePointer<Float> { w + o.down + e * s.d * s.hidden }
}

/// y += MoE(u). Routes with `bias` [E]; returns the balance loss (0 when alpha is 0).
func moeForward(y: UnsafeMutablePointer<Float>, u: UnsafePointer<Float>, weights: MoEWeights,
                bias: UnsafePointer<Float>, shape s: MoEShape, rows r: Int,
                saved m: MoESaved, scratch t: MoEScratch) -> Double {
    let e = s.experts, d = s.d, f = s.hidden, k = s.topK
    // Router, in fp32, over all N+Z experts jointly.
    Profiler.time(.router) {
        linearForward(y: t.logits.ptr, x: u, w: weights.w + weights.o.router, rows: r, inFeatures: d, outFeatures: e)
        softmaxRowsForward(y: m.probs.ptr, x: t.logits.ptr, rows: r, cols: e)
        route(probs: m.probs.ptr, bias: bias, tokens: r, routedExperts: s.routed, zeroExperts: s.zero,
              topK: k, gateScale: s.gateScale, into: &m.plan, threads: LabThreads.count)
    }
    let plan = m.plan
    // Routed experts: one GEMM per expert over its expert-sorted rows.
    Profiler.time(.experts) {
        t.fillRowOfSlot(plan: plan)
        let input = SendablePointer(UnsafeMutablePointer(mutating: u))
        let out = SendablePointer(t.y.ptr), h = SendablePointer(t.h.ptr), gu = SendablePointer(m.gu.ptr)
        plan.offsets.withUnsafeBufferPointer { offB in
        plan.sortedSlots.withUnsafeBufferPointer { sortedB in
            let offsets = SendablePointer(UnsafeMutablePointer(mutating: offB.baseAddress!))
            let sorted = SendablePointer(UnsafeMutablePointer(mutating: sortedB.baseAddress!))
            parallelFor(s.routed) { ex in
                let lo = offsets[ex], hi = offsets[ex + 1], n = hi - lo
                if n == 0 { return }
                let x = UnsafeMutablePointer<Float>.allocate(capacity: min(n, expertChunkRows) * d)
                defer { x.deallocate() }
                for c in stride(from: lo, to: hi, by: expertChunkRows) {
                    let rows = c..<min(c + expertChunkRows, hi)
                    gatherRows(into: x, from: input.base, rows: rows, sortedSlots: sorted.base, topK: k, d: d)
                    linearForward(y: gu.base + c * 2 * f, x: x, w: weights.gateUp(ex, s),
                                  rows: rows.count, inFeatures: d, outFeatures: 2 * f, serial: true)
                }
                swigluForward(h: h.base + lo * f, gu: gu.base + lo * 2 * f, rows: n, hidden: f)
                linearForward(y: out.base + lo * d, x: h.base + lo * f, w: weights.down(ex, s),
                              rows: n, inFeatures: f, outFeatures: d, serial: true)
            }
        }}
    }
    Profiler.time(.moeCombine) { combine(y: y, u: u, weights: weights, shape: s, rows: r, plan: plan, scratch: t) }
    m.balanceLoss = 0
    if s.balanceAlpha > 0 {
        // The config was validated (groups divide N), so the balance loss cannot throw here.
        m.balanceLoss = try! deviceBalanceLoss(dProbs: nil, probs: m.probs.ptr, plan: plan, groups: s.balanceGroups,
                                          targetFfnExperts: s.targetFfnExperts, alpha: s.balanceAlpha)
    }
    return m.balanceLoss
}

/// y[t] += sum_j g_tj * out_tj over the K slots of each token, in slot order (deterministic).
private func combine(y: UnsafeMutablePointer<Float>, u: UnsafePointer<Float>, weights: MoEWeights,
                     shape s: MoEShape, rows r: Int, plan: RoutingPlan, scratch t: MoEScratch) {
    let d = s.d, k = s.topK, routed = s.routed
    let yP = SendablePointer(y), uP = SendablePointer(UnsafeMutablePointer(mutating: u))
    let out = SendablePointer(t.y.ptr)
    let kind = s.zeroKind
    let w = SendablePointer(UnsafeMutablePointer(mutating: weights.w)), o = weights.o
    plan.expert.withUnsafeBufferPointer { expertB in
    plan.gate.withUnsafeBufferPointer { gateB in
    t.rowOfSlot.withUnsafeBufferPointer { rowB in
        let expert = SendablePointer(UnsafeMutablePointer(mutating: expertB.baseAddress!))
        let gate = SendablePointer(UnsafeMutablePointer(mutating: gateB.baseAddress!))
        let rowOf = SendablePointer(UnsafeMutablePointer(mutating: rowB.baseAddress!))
        parallelRanges(r, costPerItem: k * d) { tokens in
            var mix = [Float](repeating: 0, count: 2)
            for tok in tokens {
                let yRow = yP.base + tok * d, uRow = uP.base + tok * d
                for j in 0..<k {
                    let slot = tok * k + j, ex = Int(expert[slot]), g = gate[slot]
                    if ex < routed {
                        addInPlaceSerial(yRow, out.base + Int(rowOf[slot]) * d, d, scale: g)
                    } else if kind == .identity {
                        addInPlaceSerial(yRow, uRow, d, scale: g)
                    } else if kind == .constant {
                        let z = ex - routed
                        constantMix(&mix, u: uRow, mixWeights: w.base + o.constantMix + z * 2 * d, d: d)
                        addInPlaceSerial(yRow, uRow, d, scale: g * mix[0])
                        addInPlaceSerial(yRow, w.base + o.constantValue + z * d, d, scale: g * mix[1])
                    }
                }
            }
        }
    }}}
}

/// [a1, a2] = softmax(W_c u) for one MoE++ constant expert; W_c [2, D].
private func constantMix(_ a: inout [Float], u: UnsafePointer<Float>, mixWeights wc: UnsafePointer<Float>, d: Int) {
    let l0 = dot(wc, u, d), l1 = dot(wc + d, u, d)
    let mx = max(l0, l1)
    let e0 = expf(l0 - mx), e1 = expf(l1 - mx)
    a[0] = e0 / (e0 + e1); a[1] = e1 / (e0 + e1)
}

/// Backward of `moeForward`: du += dMoE/du^T dy, weight gradients += their shares.
/// The bias gets no gradient; the router learns only through the chosen experts' p (and the
/// balance loss).
func moeBackward(du: UnsafeMutablePointer<Float>, dWeights g: UnsafeMutablePointer<Float>,
                 dy: UnsafePointer<Float>, u: UnsafePointer<Float>, weights: MoEWeights,
                 shape s: MoEShape, rows r: Int, saved m: MoESaved, scratch t: MoEScratch) {
    let e = s.experts, d = s.d
    let plan = m.plan
    let o = weights.o
    Profiler.time(.experts, backward: true) {
        t.fillRowOfSlot(plan: plan)
        expertsBackward(dGrads: g, dy: dy, u: u, weights: weights, shape: s, plan: plan, saved: m, scratch: t)
    }
    // Per token: input gradient from its slots, gate gradients, then router probabilities.
    Profiler.time(.moeCombine, backward: true) {
        t.dprobs.zero()
        scatterSlots(du: du, dGrads: g, dy: dy, u: u, weights: weights, shape: s, rows: r, plan: plan, scratch: t)
    }
    Profiler.time(.router, backward: true) {
    m.captureRouterGradient(t.dprobs.ptr, rows: r, experts: e)  // telemetry (R_g): before the balance gradient
    if s.balanceAlpha > 0 {
        _ = try! deviceBalanceLoss(dProbs: t.dprobs.ptr, probs: m.probs.ptr, plan: plan, groups: s.balanceGroups,
                              targetFfnExperts: s.targetFfnExperts, alpha: s.balanceAlpha)
    }
    t.logits.zero()
    softmaxRowsBackward(dx: t.logits.ptr, dy: t.dprobs.ptr, y: m.probs.ptr, rows: r, cols: e)
    linearBackward(dx: du, dw: g + o.router, dy: t.logits.ptr, x: u, w: weights.w + o.router,
                   rows: r, inFeatures: d, outFeatures: e)
    }
}

/// du[t] += sum over FFN slots of their input gradient rows (+ zero-expert terms), and
/// dprobs[t, i] = s * dgate for every chosen expert i.
private func scatterSlots(du: UnsafeMutablePointer<Float>, dGrads: UnsafeMutablePointer<Float>,
                          dy: UnsafePointer<Float>, u: UnsafePointer<Float>, weights: MoEWeights,
                          shape s: MoEShape, rows r: Int, plan: RoutingPlan, scratch t: MoEScratch) {
    let d = s.d, k = s.topK, e = s.experts, routed = s.routed, scaleFactor = s.gateScale
    let duP = SendablePointer(du), dyP = SendablePointer(UnsafeMutablePointer(mutating: dy))
    let uP = SendablePointer(UnsafeMutablePointer(mutating: u))
    let dx = SendablePointer(t.y.ptr), dgateRow = SendablePointer(t.dgateRow.ptr)
    let dprobs = SendablePointer(t.dprobs.ptr)
    let kind = s.zeroKind
    plan.expert.withUnsafeBufferPointer { expertB in
    plan.gate.withUnsafeBufferPointer { gateB in
    t.rowOfSlot.withUnsafeBufferPointer { rowB in
        let expert = SendablePointer(UnsafeMutablePointer(mutating: expertB.baseAddress!))
        let gate = SendablePointer(UnsafeMutablePointer(mutating: gateB.baseAddress!))
        let rowOf = SendablePointer(UnsafeMutablePointer(mutating: rowB.baseAddress!))
        parallelRanges(r, costPerItem: k * d) { tokens in
            for tok in tokens {
                let duRow = duP.base + tok * d, dyRow = dyP.base + tok * d, uRow = uP.base + tok * d
                for j in 0..<k {
                    let slot = tok * k + j, ex = Int(expert[slot])
                    var dgate: Float = 0
                    if ex < routed {
                        let row = Int(rowOf[slot])
                        addInPlaceSerial(duRow, dx.base + row * d, d)
                        dgate = dgateRow[row]
                    } else if kind == .identity {
                        addInPlaceSerial(duRow, dyRow, d, scale: gate[slot])
                        dgate = dot(dyRow, uRow, d)
                    } else if kind == .constant {
                        continue  // handled serially below (shared weight gradients)
                    }
                    dprobs[tok * e + ex] = scaleFactor * dgate
                }
            }
        }
        if kind == .constant {
            constantExpertsBackward(du: du, dGrads: dGrads, dy: dy, u: u, weights: weights, shape: s,
                                    rows: r, expert: expert.base, gate: gate.base, dprobs: dprobs.base)
        }
    }}}
}

/// Backward of MoE++ constant experts, serial because their weight gradients are shared.
private func constantExpertsBackward(du: UnsafeMutablePointer<Float>, dGrads g: UnsafeMutablePointer<Float>,
                                     dy: UnsafePointer<Float>, u: UnsafePointer<Float>, weights: MoEWeights,
                                     shape s: MoEShape, rows r: Int, expert: UnsafeMutablePointer<Int32>,
                                     gate: UnsafeMutablePointer<Float>, dprobs: UnsafeMutablePointer<Float>) {
    let d = s.d, k = s.topK, o = weights.o
    var a = [Float](repeating: 0, count: 2)
    for tok in 0..<r {
        let dyRow = dy + tok * d, uRow = u + tok * d
        for j in 0..<k {
            let slot = tok * k + j, ex = Int(expert[slot])
            if ex < s.routed { continue }
            let z = ex - s.routed, gv = gate[slot]
            let wc = weights.w + o.constantMix + z * 2 * d, v = weights.w + o.constantValue + z * d
            constantMix(&a, u: uRow, mixWeights: wc, d: d)
            let du0 = dot(dyRow, uRow, d), dv0 = dot(dyRow, v, d)
            // out = a1 u + a2 v; dgate = <dy, out>; da_i = g <dy, (u | v)>; softmax backward.
            dprobs[tok * s.experts + ex] = s.gateScale * (a[0] * du0 + a[1] * dv0)
            let da0 = gv * du0, da1 = gv * dv0
            let mean = a[0] * da0 + a[1] * da1
            let dl0 = a[0] * (da0 - mean), dl1 = a[1] * (da1 - mean)
            addInPlaceSerial(du + tok * d, dyRow, d, scale: gv * a[0])
            addInPlaceSerial(du + tok * d, wc, d, scale: dl0)
            addInPlaceSerial(du + tok * d, wc + d, d, scale: dl1)
            addInPlaceSerial(g + o.constantMix + z * 2 * d, uRow, d, scale: dl0)
            addInPlaceSerial(g + o.constantMix + z * 2 * d + d, uRow, d, scale: dl1)
            addInPlaceSerial(g + o.constantValue + z * d, dyRow, d, scale: gv * a[1])
        }
    }
}

/// Backward of the routed experts. Per expert, over chunks of its rows, with G = gathered dOut
/// rows and dHu = G W_down (before the gate):
///   dgate = <dHu, h>,  dW_down += G^T (g*h),  dh = g*dHu,  dgu = swiglu'(dh) (into the saved gu),
///   dW_gateUp += dgu^T x,  dx = dgu W_gateUp (into the expert's rows of `t.y`).
/// Writes `t.dgateRow` (by sorted row) and `t.y` (input gradient rows); weight gradients +=.
private func expertsBackward(dGrads g: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, u: UnsafePointer<Float>,
                             weights: MoEWeights, shape s: MoEShape, plan: RoutingPlan, saved m: MoESaved,
                             scratch t: MoEScratch) {
    let d = s.d, f = s.hidden, k = s.topK, o = weights.o
    let input = SendablePointer(UnsafeMutablePointer(mutating: u)), dOut = SendablePointer(UnsafeMutablePointer(mutating: dy))
    let dx = SendablePointer(t.y.ptr), h = SendablePointer(t.h.ptr), dh = SendablePointer(t.dh.ptr)
    let gu = SendablePointer(m.gu.ptr), dgateRow = SendablePointer(t.dgateRow.ptr), grads = SendablePointer(g)
    plan.offsets.withUnsafeBufferPointer { offB in
    plan.gate.withUnsafeBufferPointer { gateB in
    plan.sortedSlots.withUnsafeBufferPointer { sortedB in
        let offsets = SendablePointer(UnsafeMutablePointer(mutating: offB.baseAddress!))
        let gate = SendablePointer(UnsafeMutablePointer(mutating: gateB.baseAddress!))
        let sorted = SendablePointer(UnsafeMutablePointer(mutating: sortedB.baseAddress!))
        parallelFor(s.routed) { ex in
            let lo = offsets[ex], hi = offsets[ex + 1], n = hi - lo
            if n == 0 { return }
            let hE = h.base + lo * f, guE = gu.base + lo * 2 * f, dhE = dh.base + lo * f
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: min(n, expertChunkRows) * d)
            defer { buffer.deallocate() }
            swigluForward(h: hE, gu: guE, rows: n, hidden: f)                  // recompute h
            for c in stride(from: lo, to: hi, by: expertChunkRows) {
                let rows = c..<min(c + expertChunkRows, hi), cn = rows.count
                let hC = h.base + c * f, dhC = dh.base + c * f
                gatherRows(into: buffer, from: dOut.base, rows: rows, sortedSlots: sorted.base, topK: k, d: d)
                gemmSerial(transA: false, transB: false, m: cn, n: f, k: d, a: buffer, lda: d,
                           b: weights.down(ex, s), ldb: f, beta: 0, c: dhC, ldc: f)
                for (i, p) in rows.enumerated() {
                    let gv = gate[Int(sorted[p])]
                    dgateRow[p] = dot(dhC + i * f, hC + i * f, f)
                    scaleSerial(dhC + i * f, f, by: gv)
                    scaleSerial(hC + i * f, f, by: gv)
                }
                gemmSerial(transA: true, transB: false, m: d, n: f, k: cn, a: buffer, lda: d, b: hC, ldb: f,
                           beta: 1, c: grads.base + o.down + ex * d * f, ldc: f)
            }
            swigluBackwardInPlace(gu: guE, dh: dhE, rows: n, hidden: f)       // guE now holds dgu
            for c in stride(from: lo, to: hi, by: expertChunkRows) {
                let rows = c..<min(c + expertChunkRows, hi)
                gatherRows(into: buffer, from: input.base, rows: rows, sortedSlots: sorted.base, topK: k, d: d)
                gemmSerial(transA: true, transB: false, m: 2 * f, n: d, k: rows.count, a: gu.base + c * 2 * f, lda: 2 * f,
                           b: buffer, ldb: d, beta: 1, c: grads.base + o.gateUp + ex * 2 * f * d, ldc: d)
            }
            gemmSerial(transA: false, transB: false, m: n, n: d, k: 2 * f, a: guE, lda: 2 * f,
                       b: weights.gateUp(ex, s), ldb: d, beta: 0, c: dx.base + lo * d, ldc: d)
        }
    }}}
}
