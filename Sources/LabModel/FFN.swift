import LabKernels

// Dense SwiGLU FFN: y += W_down (silu(W_gate u) * W_up u). R rows, D width, F hidden.
//   gu = u W_gateUp^T   [R, 2F]   (gate | up, one GEMM)
//   h  = silu(g) * up   [R, F]    (not saved: recomputed in backward from gu)
//   y += h W_down^T     [R, D]

/// What a dense FFN's forward saves: the gate/up pre-activations. The backward overwrites them
/// with their gradient (they are not needed after it), which spares a [R, 2F] buffer.
final class FFNSaved {
    let gu: FloatBuffer  // [R, 2F]
    init(rows: Int, hidden: Int) { gu = FloatBuffer(count: rows * 2 * hidden) }
}

/// Scratch shared by every dense FFN (forward and backward).
final class FFNScratch {
    let h, dh: FloatBuffer  // [R, F] each
    init(rows: Int, hidden: Int) {
        h = FloatBuffer(count: rows * hidden); dh = FloatBuffer(count: rows * hidden)
    }
}

/// y += FFN(u).
func ffnForward(y: UnsafeMutablePointer<Float>, u: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
                at o: FFNOffsets, d: Int, hidden f: Int, rows r: Int, saved m: FFNSaved, scratch t: FFNScratch) {
    linearForward(y: m.gu.ptr, x: u, w: w + o.gateUp, rows: r, inFeatures: d, outFeatures: 2 * f)
    swigluForward(h: t.h.ptr, gu: m.gu.ptr, rows: r, hidden: f)
    linearForward(y: y, x: t.h.ptr, w: w + o.down, rows: r, inFeatures: f, outFeatures: d, accumulate: true)
}

/// Backward of `ffnForward`: du += ..., weight gradients += ... (consumes `m.gu`).
func ffnBackward(du: UnsafeMutablePointer<Float>, dWeights g: UnsafeMutablePointer<Float>,
                 dy: UnsafePointer<Float>, u: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
                 at o: FFNOffsets, d: Int, hidden f: Int, rows r: Int, saved m: FFNSaved, scratch t: FFNScratch) {
    swigluForward(h: t.h.ptr, gu: m.gu.ptr, rows: r, hidden: f)   // recompute h
    linearBackward(dx: t.dh.ptr, dw: g + o.down, dy: dy, x: t.h.ptr, w: w + o.down,
                   rows: r, inFeatures: f, outFeatures: d, accumulateDx: false)
    swigluBackwardInPlace(gu: m.gu.ptr, dh: t.dh.ptr, rows: r, hidden: f)   // gu now holds dgu
    linearBackward(dx: du, dw: g + o.gateUp, dy: m.gu.ptr, x: u, w: w + o.gateUp,
                   rows: r, inFeatures: d, outFeatures: 2 * f)
}
