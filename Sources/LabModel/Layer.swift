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

/// Everything one layer's forward saves for its backward.
public final class LayerSaved {
    let a0, h1, u, h2, a1, h3, v: FloatBuffer          // [R, D]
    let rstdA0, rstdU, rstdA1, rstdV: FloatBuffer      // [R]
    public let attention: [MLASaved]
    let ffn: [FFNSaved]
    public let moe: MoESaved

    init(_ c: LabConfig, mla: MLAShape, moe moeShape: MoEShape, batch: Int, seqLen: Int) {
        let r = batch * seqLen, d = c.model.hiddenSize
        a0 = FloatBuffer(count: r * d); h1 = FloatBuffer(count: r * d); u = FloatBuffer(count: r * d); h2 = FloatBuffer(count: r * d)
        a1 = FloatBuffer(count: r * d); h3 = FloatBuffer(count: r * d); v = FloatBuffer(count: r * d)
        rstdA0 = FloatBuffer(count: r); rstdU = FloatBuffer(count: r); rstdA1 = FloatBuffer(count: r); rstdV = FloatBuffer(count: r)
        attention = [MLASaved(mla, batch: batch, seqLen: seqLen), MLASaved(mla, batch: batch, seqLen: seqLen)]
        ffn = [FFNSaved(rows: r, hidden: c.model.ffnHiddenSize), FFNSaved(rows: r, hidden: c.model.ffnHiddenSize)]
        moe = MoESaved(moeShape, rows: r)
    }
}

/// Gradient scratch of a layer's backward, shared by all layers.
final class LayerScratch {
    let dres, du, dv, da: FloatBuffer  // [R, D]
    init(rows r: Int, d: Int) {
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
}

/// out = layer(x). Returns the MoE's balance loss.
func layerForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, context c: LayerContext,
                  saved s: LayerSaved, mlaScratch: MLAScratch, ffnScratch: FFNScratch, moeScratch: MoEScratch) -> Double {
    let r = c.rows, d = c.d, o = c.offsets, w = c.w
    rmsNormForward(out: s.a0.ptr, rstd: s.rstdA0.ptr, x: x, weight: w + o.inputNorm[0], rows: r, dim: d, eps: c.eps)
    s.h1.ptr.update(from: x, count: r * d)
    Profiler.time(.mlaProjections) { mlaForward(y: s.h1.ptr, x: s.a0.ptr, weights: w, at: o.attention[0], shape: c.mla, saved: s.attention[0],
               rope: c.rope, batch: c.batch, seqLen: c.seqLen) }
    rmsNormForward(out: s.u.ptr, rstd: s.rstdU.ptr, x: s.h1.ptr, weight: w + o.postAttnNorm[0], rows: r, dim: d, eps: c.eps)
    s.h2.ptr.update(from: s.h1.ptr, count: r * d)
    Profiler.time(.denseFFN) {
        ffnForward(y: s.h2.ptr, u: s.u.ptr, weights: w, at: o.ffn[0], d: d, hidden: c.ffnHidden, rows: r,
                   saved: s.ffn[0], scratch: ffnScratch)
    }
    rmsNormForward(out: s.a1.ptr, rstd: s.rstdA1.ptr, x: s.h2.ptr, weight: w + o.inputNorm[1], rows: r, dim: d, eps: c.eps)
    s.h3.ptr.update(from: s.h2.ptr, count: r * d)
    Profiler.time(.mlaProjections) { mlaForward(y: s.h3.ptr, x: s.a1.ptr, weights: w, at: o.attention[1], shape: c.mla, saved: s.attention[1],
               rope: c.rope, batch: c.batch, seqLen: c.seqLen) }
    rmsNormForward(out: s.v.ptr, rstd: s.rstdV.ptr, x: s.h3.ptr, weight: w + o.postAttnNorm[1], rows: r, dim: d, eps: c.eps)
    out.update(from: s.h3.ptr, count: r * d)
    Profiler.time(.denseFFN) {
        ffnForward(y: out, u: s.v.ptr, weights: w, at: o.ffn[1], d: d, hidden: c.ffnHidden, rows: r,
                   saved: s.ffn[1], scratch: ffnScratch)
    }
    let moeInput = c.sequential ? s.v.ptr : s.u.ptr
    return moeForward(y: out, u: moeInput, weights: MoEWeights(w: w, o: o.moe), bias: c.bias, shape: c.moe,
                      rows: r, saved: s.moe, scratch: moeScratch)
}

/// Backward of `layerForward`: dx += d(out)/dx^T dOut; weight gradients +=.
func layerBackward(dx: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>,
                   context c: LayerContext, saved s: LayerSaved, scratch t: LayerScratch,
                   mlaScratch: MLAScratch, ffnScratch: FFNScratch, moeScratch: MoEScratch) {
    let r = c.rows, d = c.d, o = c.offsets, w = c.w, g = c.g
    let dres = t.dres.ptr
    dres.update(from: dOut, count: r * d)          // d(out)/d(h3) = identity
    t.du.zero(); t.dv.zero()
    let dMoEInput = c.sequential ? t.dv.ptr : t.du.ptr
    let moeInput = c.sequential ? s.v.ptr : s.u.ptr
    moeBackward(du: dMoEInput, dWeights: g, dy: dOut, u: moeInput, weights: MoEWeights(w: w, o: o.moe),
                shape: c.moe, rows: r, saved: s.moe, scratch: moeScratch)
    Profiler.time(.denseFFN, backward: true) {
        ffnBackward(du: t.dv.ptr, dWeights: g, dy: dOut, u: s.v.ptr, weights: w, at: o.ffn[1], d: d,
                    hidden: c.ffnHidden, rows: r, saved: s.ffn[1], scratch: ffnScratch)
    }
    rmsNormBackward(dx: dres, dWeight: g + o.postAttnNorm[1], dOut: t.dv.ptr, x: s.h3.ptr, rstd: s.rstdV.ptr,
                    weight: w + o.postAttnNorm[1], rows: r, dim: d)
    // dres = d/dh3 -> d/dh2
    t.da.zero()
    Profiler.time(.mlaProjections, backward: true) {
        mlaBackward(dx: t.da.ptr, dWeights: g, dy: dres, x: s.a1.ptr, weights: w, at: o.attention[1], shape: c.mla,
                    saved: s.attention[1], scratch: mlaScratch, rope: c.rope, batch: c.batch, seqLen: c.seqLen)
    }
    rmsNormBackward(dx: dres, dWeight: g + o.inputNorm[1], dOut: t.da.ptr, x: s.h2.ptr, rstd: s.rstdA1.ptr,
                    weight: w + o.inputNorm[1], rows: r, dim: d)
    // dres = d/dh2 -> d/dh1
    Profiler.time(.denseFFN, backward: true) {
        ffnBackward(du: t.du.ptr, dWeights: g, dy: dres, u: s.u.ptr, weights: w, at: o.ffn[0], d: d,
                    hidden: c.ffnHidden, rows: r, saved: s.ffn[0], scratch: ffnScratch)
    }
    rmsNormBackward(dx: dres, dWeight: g + o.postAttnNorm[0], dOut: t.du.ptr, x: s.h1.ptr, rstd: s.rstdU.ptr,
                    weight: w + o.postAttnNorm[0], rows: r, dim: d)
    // dres = d/dh1 -> d/dx
    t.da.zero()
    Profiler.time(.mlaProjections, backward: true) {
        mlaBackward(dx: t.da.ptr, dWeights: g, dy: dres, x: s.a0.ptr, weights: w, at: o.attention[0], shape: c.mla,
                    saved: s.attention[0], scratch: mlaScratch, rope: c.rope, batch: c.batch, seqLen: c.seqLen)
    }
    rmsNormBackward(dx: dres, dWeight: g + o.inputNorm[0], dOut: t.da.ptr, x: x, rstd: s.rstdA0.ptr,
                    weight: w + o.inputNorm[0], rows: r, dim: d)
    addInPlace(dx, dres, r * d)
}
