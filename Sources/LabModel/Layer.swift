import LabConfig
import LabKernels

// One ScMoE layer (LONGCAT.md section 1). R rows, D width.
//   h1  = x  + MLA_0(norm_in_0(x))
//   u   = norm_post_0(h1)
//   h2  = h1 + FFN_0(u)
//   h3  = h2 + MLA_1(norm_in_1(h2))
//   v   = norm_post_1(h3)
//   out = h3 + FFN_1(v) + MoE(u)          layout "scmoe": the MoE reads u (the shortcut)
//   out = h3 + FFN_1(v) + MoE(v)          layout "sequential": the MoE reads v
// Residual adds are written by accumulating each block's output into a copy of its input.
// The normalised block inputs are not saved: backward recomputes them from the residual stream
// and the saved 1/rms (one cheap pass each instead of four [R, D] buffers per layer).

/// Everything one layer's forward saves for its backward.
public final class LayerSaved {
    /// Residual stream after each sub-block. [R, D]
    public let h1, h2, h3: FloatBuffer
    /// 1/rms of each RMSNorm's input. [R]
    let rstdA0, rstdU, rstdA1, rstdV: FloatBuffer
    public let attention: [MLASaved]
    let ffn: [FFNSaved]
    public let moe: MoESaved

    init(_ c: LabConfig, mla: MLAShape, moe moeShape: MoEShape, batch: Int, seqLen: Int) {
        let r = batch * seqLen, d = c.model.hiddenSize
        h1 = FloatBuffer(count: r * d); h2 = FloatBuffer(count: r * d); h3 = FloatBuffer(count: r * d)
        rstdA0 = FloatBuffer(count: r); rstdU = FloatBuffer(count: r); rstdA1 = FloatBuffer(count: r); rstdV = FloatBuffer(count: r)
        attention = [MLASaved(mla, batch: batch, seqLen: seqLen), MLASaved(mla, batch: batch, seqLen: seqLen)]
        ffn = [FFNSaved(rows: r, hidden: c.model.ffnHiddenSize), FFNSaved(rows: r, hidden: c.model.ffnHiddenSize)]
        moe = MoESaved(moeShape, rows: r)
    }
}

/// Scratch of a layer's passes, shared by all layers: the normalised inputs (recomputed in
/// backward) and the gradients flowing through the layer.
final class LayerScratch {
    let normA, normU, normV: FloatBuffer   // [R, D]: norm_in_i output, u, v
    let dres, du, dv, da: FloatBuffer      // [R, D]
    init(rows r: Int, d: Int) {
        normA = FloatBuffer(count: r * d); normU = FloatBuffer(count: r * d); normV = FloatBuffer(count: r * d)
        dres = FloatBuffer(count: r * d); du = FloatBuffer(count: r * d); dv = FloatBuffer(count: r * d); da = FloatBuffer(count: r * d)
    }
}

/// The pieces a layer pass needs besides its own saved tensors.
struct LayerContext {
    let w: UnsafePointer<Float>
    let g: UnsafeMutablePointer<Float>
    let offsets: LayerOffsets
    let bias: UnsafePointer<Float>
    let mla: MLAShape
    let moe: MoEShape
    let d, ffnHidden, batch, seqLen: Int
    let eps: Float
    let sequential: Bool
    let rope: RopeTable
    var rows: Int { batch * seqLen }

    /// out = RMSNorm(x) with the weight at `offset`; 1/rms into `rstd`; x also copied into
    /// `copyTo` when given (in the same pass).
    func norm(_ out: FloatBuffer, _ rstd: FloatBuffer, _ x: UnsafePointer<Float>, _ offset: Int,
              copyTo: UnsafeMutablePointer<Float>? = nil) {
        rmsNormForward(out: out.ptr, rstd: rstd.ptr, x: x, weight: w + offset, rows: rows, dim: d, eps: eps,
                       copyTo: copyTo)
    }

    /// dx += RMSNorm'(x)^T dOut, and the weight's gradient.
    func normBackward(dx: UnsafeMutablePointer<Float>, dOut: FloatBuffer, x: UnsafePointer<Float>, rstd: FloatBuffer, _ offset: Int) {
        rmsNormBackward(dx: dx, dWeight: g + offset, dOut: dOut.ptr, x: x, rstd: rstd.ptr, weight: w + offset,
                        rows: rows, dim: d)
    }
}

/// out = layer(x). Returns the MoE's balance loss.
func layerForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, context c: LayerContext,
                  saved s: LayerSaved, scratch t: LayerScratch, mlaScratch: MLAScratch, ffnScratch: FFNScratch,
                  moeScratch: MoEScratch) -> Double {
    let r = c.rows, d = c.d, o = c.offsets, w = c.w
    var laps = ProfileLaps()
    c.norm(t.normA, s.rstdA0, x, o.inputNorm[0], copyTo: s.h1.ptr)   // h1 = x (+ MLA below)
    laps.lap(.norms)
    mlaForward(y: s.h1.ptr, x: t.normA.ptr, weights: w, at: o.attention[0], shape: c.mla, saved: s.attention[0],
               scratch: mlaScratch, rope: c.rope, batch: c.batch, seqLen: c.seqLen)
    laps.lap(.mlaProjections)
    c.norm(t.normU, s.rstdU, s.h1.ptr, o.postAttnNorm[0], copyTo: s.h2.ptr)
    laps.lap(.norms)
    ffnForward(y: s.h2.ptr, u: t.normU.ptr, weights: w, at: o.ffn[0], d: d, hidden: c.ffnHidden, rows: r,
               saved: s.ffn[0], scratch: ffnScratch)
    laps.lap(.denseFFN)
    c.norm(t.normA, s.rstdA1, s.h2.ptr, o.inputNorm[1], copyTo: s.h3.ptr)
    laps.lap(.norms)
    mlaForward(y: s.h3.ptr, x: t.normA.ptr, weights: w, at: o.attention[1], shape: c.mla, saved: s.attention[1],
               scratch: mlaScratch, rope: c.rope, batch: c.batch, seqLen: c.seqLen)
    laps.lap(.mlaProjections)
    c.norm(t.normV, s.rstdV, s.h3.ptr, o.postAttnNorm[1], copyTo: out)
    laps.lap(.norms)
    ffnForward(y: out, u: t.normV.ptr, weights: w, at: o.ffn[1], d: d, hidden: c.ffnHidden, rows: r,
               saved: s.ffn[1], scratch: ffnScratch)
    laps.lap(.denseFFN)
    let moeInput = c.sequential ? t.normV.ptr : t.normU.ptr
    return moeForward(y: out, u: moeInput, weights: MoEWeights(w: w, o: o.moe), bias: c.bias, shape: c.moe,
                      rows: r, saved: s.moe, scratch: moeScratch)
}

/// Backward of `layerForward`: dx += d(out)/dx^T dOut; weight gradients +=.
func layerBackward(dx: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>,
                   context c: LayerContext, saved s: LayerSaved, scratch t: LayerScratch,
                   mlaScratch: MLAScratch, ffnScratch: FFNScratch, moeScratch: MoEScratch) {
    let r = c.rows, d = c.d, o = c.offsets, w = c.w, g = c.g
    let dres = t.dres.ptr
    var laps = ProfileLaps(backward: true)
    // Recompute the normalised inputs u and v (bit-identical to the forward's).
    c.norm(t.normU, s.rstdU, s.h1.ptr, o.postAttnNorm[0])
    c.norm(t.normV, s.rstdV, s.h3.ptr, o.postAttnNorm[1])
    parallelCopy(dres, dOut, r * d)                // d(out)/d(h3) = identity
    t.du.zero(); t.dv.zero()
    laps.lap(.norms)
    let dMoEInput = c.sequential ? t.dv.ptr : t.du.ptr
    let moeInput = c.sequential ? t.normV.ptr : t.normU.ptr
    moeBackward(du: dMoEInput, dWeights: g, dy: dOut, u: moeInput, weights: MoEWeights(w: w, o: o.moe),
                shape: c.moe, rows: r, saved: s.moe, scratch: moeScratch)
    ffnBackward(du: t.dv.ptr, dWeights: g, dy: dOut, u: t.normV.ptr, weights: w, at: o.ffn[1], d: d,
                hidden: c.ffnHidden, rows: r, saved: s.ffn[1], scratch: ffnScratch)
    laps.lap(.denseFFN)
    c.normBackward(dx: dres, dOut: t.dv, x: s.h3.ptr, rstd: s.rstdV, o.postAttnNorm[1])
    // dres = d/dh3 -> d/dh2
    t.da.zero()
    c.norm(t.normA, s.rstdA1, s.h2.ptr, o.inputNorm[1])
    laps.lap(.norms)
    mlaBackward(dx: t.da.ptr, dWeights: g, dy: dres, x: t.normA.ptr, weights: w, at: o.attention[1], shape: c.mla,
                saved: s.attention[1], scratch: mlaScratch, rope: c.rope, batch: c.batch, seqLen: c.seqLen)
    laps.lap(.mlaProjections)
    c.normBackward(dx: dres, dOut: t.da, x: s.h2.ptr, rstd: s.rstdA1, o.inputNorm[1])
    laps.lap(.norms)
    // dres = d/dh2 -> d/dh1
    ffnBackward(du: t.du.ptr, dWeights: g, dy: dres, u: t.normU.ptr, weights: w, at: o.ffn[0], d: d,
                hidden: c.ffnHidden, rows: r, saved: s.ffn[0], scratch: ffnScratch)
    laps.lap(.denseFFN)
    c.normBackward(dx: dres, dOut: t.du, x: s.h1.ptr, rstd: s.rstdU, o.postAttnNorm[0])
    // dres = d/dh1 -> d/dx
    t.da.zero()
    c.norm(t.normA, s.rstdA0, x, o.inputNorm[0])
    laps.lap(.norms)
    mlaBackward(dx: t.da.ptr, dWeights: g, dy: dres, x: t.normA.ptr, weights: w, at: o.attention[0], shape: c.mla,
                saved: s.attention[0], scratch: mlaScratch, rope: c.rope, batch: c.batch, seqLen: c.seqLen)
    laps.lap(.mlaProjections)
    c.normBackward(dx: dres, dOut: t.da, x: x, rstd: s.rstdA0, o.inputNorm[0])
    addInPlace(dx, dres, r * d)
    laps.lap(.norms)
}
