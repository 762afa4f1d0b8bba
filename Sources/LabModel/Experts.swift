import LabKernels
import LabRouting

// The routed experts of the MoE: one SwiGLU FFN per expert, run as GEMMs over the expert's
// contiguous rows of the expert-sorted slots (the one expert path: training, recompute and the
// variance probe all call `expertsForward`). Letters as in MoEBuffers.swift; S = FFN slots.
//
//   x[p]   = u[token of sortedSlots[p]]              gathered a chunk at a time   [S, D]
//   gu[p]  = x[p] W_gateUp_i^T                       i = expert of row p           [S, 2F]
//   h[p]   = swiglu(gu[p])                                                         [S, F]
//   out[p] = h[p] W_down_i^T = E_i(u_t)              ungated                       [S, D]

/// The MoE's weights seen by one pass: the base pointer and this layer's offsets.
struct MoEWeights: @unchecked Sendable {
    let w: UnsafePointer<Float>
    let o: MoEOffsets
    /// W_gateUp of expert e. [2F, D]
    func gateUp(_ e: Int, _ s: MoEShape) -> UnsafePointer<Float> { w + o.gateUp + e * 2 * s.hidden * s.d }
    /// W_down of expert e. [D, F]
    func down(_ e: Int, _ s: MoEShape) -> UnsafePointer<Float> { w + o.down + e * s.d * s.hidden }
    /// W_c of MoE++ constant zero expert z. [2, D]
    func constantMix(_ z: Int, _ s: MoEShape) -> UnsafePointer<Float> { w + o.constantMix + z * 2 * s.d }
    /// v of MoE++ constant zero expert z. [D]
    func constantValue(_ z: Int, _ s: MoEShape) -> UnsafePointer<Float> { w + o.constantValue + z * s.d }
}

/// Ungated outputs of every FFN slot: out[p] = E_i(u_t) for the sorted rows p of each expert i.
/// Saves the gate/up pre-activations `gu` and the hidden activations `h`. out [S, D], gu [S, 2F],
/// h [S, F], u [R, D].
func expertsForward(out: UnsafeMutablePointer<Float>, gu: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>,
                    u: UnsafePointer<Float>, weights: MoEWeights, shape s: MoEShape, plan: RoutingPlan) {
    let d = s.d, f = s.hidden, k = s.topK
    let offsets = plan.offsets, sorted = plan.sortedSlots
    let input = ReadPointer(u), outP = SendablePointer(out), guP = SendablePointer(gu), hP = SendablePointer(h)
    let order = largestFirst(plan, experts: s.routed)
    parallelFor(s.routed) { claim in
        let ex = order[claim]
        let lo = offsets[ex], hi = offsets[ex + 1], n = hi - lo
        if n == 0 { return }
        let x = UnsafeMutablePointer<Float>.allocate(capacity: min(n, expertChunkRows) * d)
        defer { x.deallocate() }
        for c in stride(from: lo, to: hi, by: expertChunkRows) {
            let rows = c..<min(c + expertChunkRows, hi)
            gatherRows(into: x, from: input.base, rows: rows, sortedSlots: sorted.base, topK: k, d: d)
            linearForward(y: guP.base + c * 2 * f, x: x, w: weights.gateUp(ex, s),
                          rows: rows.count, inFeatures: d, outFeatures: 2 * f, serial: true)
        }
        swigluForward(h: hP.base + lo * f, gu: guP.base + lo * 2 * f, rows: n, hidden: f)
        linearForward(y: outP.base + lo * d, x: hP.base + lo * f, w: weights.down(ex, s),
                      rows: n, inFeatures: f, outFeatures: d, serial: true)
    }
}

/// Backward of the routed experts. Per expert, over chunks of its rows, with G = gathered dOut
/// rows and dHu = G W_down (before the gate):
///   dgate = <dHu, h>,  dW_down += G^T (g*h),  dh = g*dHu,  dgu = swiglu'(dh) (into the saved gu),
///   dW_gateUp += dgu^T x,  dx = dgu W_gateUp.
/// Writes `dgateRow` [S] and the input gradient rows `dx` [S, D] (by sorted row), recomputes `h`
/// [S, F] from `gu` [S, 2F] (which it overwrites with dgu), uses `dh` [S, F] as scratch; weight
/// gradients +=.
func expertsBackward(dx: UnsafeMutablePointer<Float>, dgateRow: UnsafeMutablePointer<Float>,
                     dWeights g: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, u: UnsafePointer<Float>,
                     gu: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, dh: UnsafeMutablePointer<Float>,
                     weights: MoEWeights, shape s: MoEShape, plan: RoutingPlan) {
    let d = s.d, f = s.hidden, k = s.topK, o = weights.o
    let offsets = plan.offsets, sorted = plan.sortedSlots, gate = plan.gate
    let input = ReadPointer(u), dOut = ReadPointer(dy)
    let dxP = SendablePointer(dx), hP = SendablePointer(h), dhP = SendablePointer(dh), guP = SendablePointer(gu)
    let dgateP = SendablePointer(dgateRow), grads = SendablePointer(g)
    let order = largestFirst(plan, experts: s.routed)
    parallelFor(s.routed) { claim in
        let ex = order[claim]
        let lo = offsets[ex], hi = offsets[ex + 1], n = hi - lo
        if n == 0 { return }
        let hE = hP.base + lo * f, guE = guP.base + lo * 2 * f, dhE = dhP.base + lo * f
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: min(n, expertChunkRows) * d)
        defer { buffer.deallocate() }
        swigluForward(h: hE, gu: guE, rows: n, hidden: f)                  // recompute h
        for c in stride(from: lo, to: hi, by: expertChunkRows) {
            let rows = c..<min(c + expertChunkRows, hi), cn = rows.count
            let hC = hP.base + c * f, dhC = dhP.base + c * f
            gatherRows(into: buffer, from: dOut.base, rows: rows, sortedSlots: sorted.base, topK: k, d: d)
            gemmSerial(transA: false, transB: false, m: cn, n: f, k: d, a: buffer, lda: d,
                       b: weights.down(ex, s), ldb: f, beta: 0, c: dhC, ldc: f)
            for (i, p) in rows.enumerated() {
                let gv = gate[Int(sorted[p])]
                dgateP[p] = dot(dhC + i * f, hC + i * f, f)
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
            gemmSerial(transA: true, transB: false, m: 2 * f, n: d, k: rows.count, a: guP.base + c * 2 * f, lda: 2 * f,
                       b: buffer, ldb: d, beta: 1, c: grads.base + o.gateUp + ex * 2 * f * d, ldc: d)
        }
        gemmSerial(transA: false, transB: false, m: n, n: d, k: 2 * f, a: guE, lda: 2 * f,
                   b: weights.gateUp(ex, s), ldb: d, beta: 0, c: dxP.base + lo * d, ldc: d)
    }
}

/// The routed experts in the order a parallel loop claims them: most rows first (ties by
/// index). Each expert's work is independent, so the order changes no result; claiming the
/// smallest experts last lets the threads finish together (with index order, the caller
/// waited about 120 ms of a 4.4 s bench-medium step for the other thread at loops' ends).
func largestFirst(_ plan: RoutingPlan, experts: Int) -> [Int] {
    (0..<experts).sorted { a, b in
        let la = plan.load(expert: a), lb = plan.load(expert: b)
        return la != lb ? la > lb : a < b
    }
}
