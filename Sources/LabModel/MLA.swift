import LabConfig
import LabKernels

// Multi-head latent attention with decoupled RoPE and scale calibration (LONGCAT.md section 2).
// Letters: R = B*T rows (tokens), D model width, H heads, dn/dr/dv head dims, rq/rkv latent ranks.
//
//   cqRaw = x W_qa^T                      [R, rq]
//   cq    = alpha_q * RMSNorm_q(cqRaw)     [R, rq]
//   q     = cq W_qb^T, RoPE on q_rope      [R, H*(dn+dr)]
//   ckvRaw= x W_kva[:rkv]^T                [R, rkv]     kr = x W_kva[rkv:]^T, RoPE   [R, dr]
//   ckv   = alpha_kv * RMSNorm_kv(ckvRaw)  [R, rkv]
//   kv    = ckv W_kvb^T                    [R, H*(dn+dv)]
//   ctx   = causal softmax attention       [R, H*dv]
//   y    += ctx W_o^T                      [R, D]

/// Shapes of one MLA block, derived from the config.
public struct MLAShape: Sendable {
    public let d, heads, nope, rope, value, qRank, kvRank: Int
    public let alphaQ, alphaKV: Float
    public let scoreScale: Float
    /// Latent norms use 1e-6 as in the reference implementation.
    public let latentEps: Float = 1e-6
    public var qWidth: Int { heads * (nope + rope) }
    public var kvWidth: Int { heads * (nope + value) }
    public var contextWidth: Int { heads * value }

    public init(_ c: ModelConfig) {
        d = c.hiddenSize; heads = c.numAttentionHeads
        nope = c.qkNopeHeadDim; rope = c.qkRopeHeadDim; value = c.vHeadDim
        qRank = c.qLoraRank; kvRank = c.kvLoraRank
        alphaQ = c.mlaScaleQLora ? Float((Double(d) / Double(qRank)).squareRoot()) : 1
        alphaKV = c.mlaScaleKvLora ? Float((Double(d) / Double(kvRank)).squareRoot()) : 1
        scoreScale = 1 / Float(Double(nope + rope).squareRoot())
    }
}

/// What one MLA block's forward saves for its backward, for R = B*T rows. The normalised
/// latents (cq, ckv) are not kept: backward recomputes them from the raw latents and 1/rms.
public final class MLASaved {
    let cqRaw, cqRstd, q, ckvRaw, ckvRstd, kr, kv, context, lse: FloatBuffer
    init(_ s: MLAShape, batch: Int, seqLen: Int) {
        let r = batch * seqLen
        cqRaw = FloatBuffer(count: r * s.qRank); cqRstd = FloatBuffer(count: r)
        q = FloatBuffer(count: r * s.qWidth)
        ckvRaw = FloatBuffer(count: r * s.kvRank); ckvRstd = FloatBuffer(count: r)
        kr = FloatBuffer(count: r * s.rope)
        kv = FloatBuffer(count: r * s.kvWidth)
        context = FloatBuffer(count: r * s.contextWidth)
        lse = FloatBuffer(count: batch * s.heads * seqLen)
    }
}

/// Scratch of MLA passes, shared by every block of the model: the normalised latents (forward,
/// and recomputed in backward) and the gradients. Buffers whose lives do not overlap share
/// memory: the latent gradients reuse the context gradient's and the kv gradient's storage.
public final class MLAScratch {
    let cq, ckv: FloatBuffer                 // [R, rq], [R, rkv]
    let contextPool, kvPool: FloatBuffer
    let dq, dkr: FloatBuffer
    let rows: Int, shape: MLAShape
    init(_ s: MLAShape, rows r: Int) {
        rows = r; shape = s
        cq = FloatBuffer(count: r * s.qRank); ckv = FloatBuffer(count: r * s.kvRank)
        contextPool = FloatBuffer(count: r * max(s.contextWidth, 2 * s.kvRank))
        kvPool = FloatBuffer(count: r * max(s.kvWidth, 2 * s.qRank))
        dq = FloatBuffer(count: r * s.qWidth); dkr = FloatBuffer(count: r * s.rope)
    }
    /// [R, H*dv], live until the attention backward has run.
    var dContext: UnsafeMutablePointer<Float> { contextPool.ptr }
    /// [R, rkv] each, live after the attention backward (in the context gradient's storage).
    var dckv: UnsafeMutablePointer<Float> { contextPool.ptr }
    var dckvRaw: UnsafeMutablePointer<Float> { contextPool.ptr + rows * shape.kvRank }
    /// [R, H*(dn+dv)], live until the W_kvb backward has run.
    var dkv: UnsafeMutablePointer<Float> { kvPool.ptr }
    /// [R, rq] each, live after the W_kvb backward (in the kv gradient's storage).
    var dcq: UnsafeMutablePointer<Float> { kvPool.ptr }
    var dcqRaw: UnsafeMutablePointer<Float> { kvPool.ptr + rows * shape.qRank }
}

/// y += MLA(x). `x` [R, D] is the block's normalised input; `y` [R, D] the residual stream.
func mlaForward(y: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
                at o: MLAOffsets, shape s: MLAShape, saved m: MLASaved, scratch t: MLAScratch, rope: RopeTable,
                batch: Int, seqLen: Int) {
    let r = batch * seqLen
    // Query path.
    linearForward(y: m.cqRaw.ptr, x: x, w: w + o.qA, rows: r, inFeatures: s.d, outFeatures: s.qRank)
    rmsNormForward(out: t.cq.ptr, rstd: m.cqRstd.ptr, x: m.cqRaw.ptr, weight: w + o.qANorm,
                   rows: r, dim: s.qRank, eps: s.latentEps, scale: s.alphaQ)
    linearForward(y: m.q.ptr, x: t.cq.ptr, w: w + o.qB, rows: r, inFeatures: s.qRank, outFeatures: s.qWidth)
    ropeForward(x: m.q.ptr, rows: r, seqLen: seqLen, heads: s.heads, rowStride: s.qWidth,
                headStride: s.nope + s.rope, offset: s.nope, table: rope)
    // Key/value path: the latent rows and the shared rope-key rows of W_kva are two GEMMs.
    linearForward(y: m.ckvRaw.ptr, x: x, w: w + o.kvA, rows: r, inFeatures: s.d, outFeatures: s.kvRank)
    linearForward(y: m.kr.ptr, x: x, w: w + o.kvA + s.kvRank * s.d, rows: r, inFeatures: s.d, outFeatures: s.rope)
    ropeForward(x: m.kr.ptr, rows: r, seqLen: seqLen, heads: 1, rowStride: s.rope, headStride: s.rope,
                offset: 0, table: rope)
    rmsNormForward(out: t.ckv.ptr, rstd: m.ckvRstd.ptr, x: m.ckvRaw.ptr, weight: w + o.kvANorm,
                   rows: r, dim: s.kvRank, eps: s.latentEps, scale: s.alphaKV)
    linearForward(y: m.kv.ptr, x: t.ckv.ptr, w: w + o.kvB, rows: r, inFeatures: s.kvRank, outFeatures: s.kvWidth)
    // Attention and output projection.
    Profiler.time(.attention) {
        attentionForward(out: m.context.ptr, lse: m.lse.ptr, q: m.q.ptr, kv: m.kv.ptr, kRope: m.kr.ptr,
                         batch: batch, seqLen: seqLen, heads: s.heads, nopeDim: s.nope, ropeDim: s.rope,
                         valueDim: s.value, scale: s.scoreScale)
    }
    linearForward(y: y, x: m.context.ptr, w: w + o.o, rows: r, inFeatures: s.contextWidth, outFeatures: s.d,
                  accumulate: true)
}

/// Backward of `mlaForward`: dx += dMLA/dx^T dy, and every weight gradient += its share.
func mlaBackward(dx: UnsafeMutablePointer<Float>, dWeights g: UnsafeMutablePointer<Float>,
                 dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weights w: UnsafePointer<Float>,
                 at o: MLAOffsets, shape s: MLAShape, saved m: MLASaved, scratch t: MLAScratch,
                 rope: RopeTable, batch: Int, seqLen: Int) {
    let r = batch * seqLen
    t.dq.zero(); t.dkr.zero()
    t.kvPool.zero()                    // dkv (the attention backward adds into it)
    linearBackward(dx: t.dContext, dw: g + o.o, dy: dy, x: m.context.ptr, w: w + o.o,
                   rows: r, inFeatures: s.contextWidth, outFeatures: s.d, accumulateDx: false)
    Profiler.time(.attention, backward: true) {
        attentionBackward(dq: t.dq.ptr, dkv: t.dkv, dkRope: t.dkr.ptr, dOut: t.dContext,
                          out: m.context.ptr, lse: m.lse.ptr, q: m.q.ptr, kv: m.kv.ptr, kRope: m.kr.ptr,
                          batch: batch, seqLen: seqLen, heads: s.heads, nopeDim: s.nope, ropeDim: s.rope,
                          valueDim: s.value, scale: s.scoreScale)
    }
    // Key/value path (the normalised latent is recomputed for W_kvb's gradient).
    rmsNormForward(out: t.ckv.ptr, rstd: m.ckvRstd.ptr, x: m.ckvRaw.ptr, weight: w + o.kvANorm,
                   rows: r, dim: s.kvRank, eps: s.latentEps, scale: s.alphaKV)
    linearBackward(dx: t.dckv, dw: g + o.kvB, dy: t.dkv, x: t.ckv.ptr, w: w + o.kvB,
                   rows: r, inFeatures: s.kvRank, outFeatures: s.kvWidth, accumulateDx: false)
    t.dckvRaw.update(repeating: 0, count: r * s.kvRank)
    rmsNormBackward(dx: t.dckvRaw, dWeight: g + o.kvANorm, dOut: t.dckv, x: m.ckvRaw.ptr,
                    rstd: m.ckvRstd.ptr, weight: w + o.kvANorm, rows: r, dim: s.kvRank, scale: s.alphaKV)
    ropeBackward(dx: t.dkr.ptr, rows: r, seqLen: seqLen, heads: 1, rowStride: s.rope, headStride: s.rope,
                 offset: 0, table: rope)
    linearBackward(dx: dx, dw: g + o.kvA, dy: t.dckvRaw, x: x, w: w + o.kvA,
                   rows: r, inFeatures: s.d, outFeatures: s.kvRank)
    linearBackward(dx: dx, dw: g + o.kvA + s.kvRank * s.d, dy: t.dkr.ptr, x: x, w: w + o.kvA + s.kvRank * s.d,
                   rows: r, inFeatures: s.d, outFeatures: s.rope)
    // Query path.
    ropeBackward(dx: t.dq.ptr, rows: r, seqLen: seqLen, heads: s.heads, rowStride: s.qWidth,
                 headStride: s.nope + s.rope, offset: s.nope, table: rope)
    rmsNormForward(out: t.cq.ptr, rstd: m.cqRstd.ptr, x: m.cqRaw.ptr, weight: w + o.qANorm,
                   rows: r, dim: s.qRank, eps: s.latentEps, scale: s.alphaQ)
    linearBackward(dx: t.dcq, dw: g + o.qB, dy: t.dq.ptr, x: t.cq.ptr, w: w + o.qB,
                   rows: r, inFeatures: s.qRank, outFeatures: s.qWidth, accumulateDx: false)
    t.dcqRaw.update(repeating: 0, count: r * s.qRank)
    rmsNormBackward(dx: t.dcqRaw, dWeight: g + o.qANorm, dOut: t.dcq, x: m.cqRaw.ptr,
                    rstd: m.cqRstd.ptr, weight: w + o.qANorm, rows: r, dim: s.qRank, scale: s.alphaQ)
    linearBackward(dx: dx, dw: g + o.qA, dy: t.dcqRaw, x: x, w: w + o.qA,
                   rows: r, inFeatures: s.d, outFeatures: s.qRank)
}
