import LabConfig
import LabKernels

// Multi-token prediction head (LONGCAT.md section 7): one dense layer predicting token t+2.
// Our reading of the paper: it shares the embedding and the LM head with the main model.
//   c   = [RMSNorm_e(embed(x_{t+1})) ; RMSNorm_h(h_t)] W_eh^T       [R, D]
//   h1  = c  + MLA(norm_in(c))
//   h2  = h1 + FFN(norm_post(h1))
//   logits = RMSNorm_final(h2) lm_head^T, cross-entropy against x_{t+2}

final class MTPHead {
    let o: MTPOffsets
    let d, v, ffnHidden, seqLen: Int
    let eps: Float
    let mlaShape: MLAShape
    let e, en, hn, cat, c, a, h1, f, h2, out, logits: FloatBuffer
    let rstdE, rstdH, rstdA, rstdF, rstdOut: FloatBuffer
    let mla: MLASaved
    let ffn: FFNSaved
    let dCat, dC, dA, dF, dOut, dE, dres, dEmb: FloatBuffer

    init(config: LabConfig, offsets: MTPOffsets, mla shape: MLAShape, batch: Int, seqLen: Int) {
        let m = config.model, r = batch * seqLen
        o = offsets; d = m.hiddenSize; v = m.vocabSize; ffnHidden = m.ffnHiddenSize; self.seqLen = seqLen
        eps = Float(m.rmsNormEps); mlaShape = shape
        let rd = { FloatBuffer(count: r * m.hiddenSize) }
        e = rd(); en = rd(); hn = rd(); cat = FloatBuffer(count: r * 2 * d); c = rd(); a = rd(); h1 = rd(); f = rd()
        h2 = rd(); out = rd(); logits = FloatBuffer(count: r * v)
        rstdE = FloatBuffer(count: r); rstdH = FloatBuffer(count: r); rstdA = FloatBuffer(count: r); rstdF = FloatBuffer(count: r); rstdOut = FloatBuffer(count: r)
        mla = MLASaved(shape, batch: batch, seqLen: seqLen)
        ffn = FFNSaved(rows: r, hidden: m.ffnHiddenSize)
        dCat = FloatBuffer(count: r * 2 * d); dC = rd(); dA = rd(); dF = rd(); dOut = rd(); dE = rd(); dres = rd(); dEmb = rd()
    }

    /// Forward (and, when dLast is given, backward) of the head; returns its mean loss.
    func pass(model: LongCatModel, last: UnsafePointer<Float>, dLast: UnsafeMutablePointer<Float>?,
              tokens: UnsafePointer<Int32>, targets: UnsafePointer<Int32>, mtpTargets: UnsafePointer<Int32>,
              batch: Int) -> Double {
        let loss = forward(model: model, last: last, targets: targets, mtpTargets: mtpTargets, batch: batch)
        if let dLast { backward(model: model, last: last, dLast: dLast, targets: targets, mtpTargets: mtpTargets, batch: batch) }
        return loss
    }

    /// The next token x_{t+1} of every row (the main target; an ignored target embeds token 0). [R]
    private func nextTokens(_ targets: UnsafePointer<Int32>, rows r: Int) -> [Int32] {
        (0..<r).map { max(targets[$0], 0) }
    }

    /// Forward of the head from the main model's last hidden state `last` [R, D]; returns the
    /// mean cross-entropy against `mtpTargets` and keeps what `backward` needs.
    func forward(model: LongCatModel, last: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
                 mtpTargets: UnsafePointer<Int32>, batch: Int) -> Double {
        let r = batch * seqLen, w = UnsafePointer(model.params.ptr), L = model.layout
        let next = nextTokens(targets, rows: r)
        next.withUnsafeBufferPointer { nb in
            embeddingForward(out: e.ptr, tokens: nb.baseAddress!, table: w + L.embedding, rows: r, dim: d)
        }
        rmsNormForward(out: en.ptr, rstd: rstdE.ptr, x: e.ptr, weight: w + o.embedNorm, rows: r, dim: d, eps: eps)
        rmsNormForward(out: hn.ptr, rstd: rstdH.ptr, x: last, weight: w + o.hiddenNorm, rows: r, dim: d, eps: eps)
        for i in 0..<r {
            (cat.ptr + i * 2 * d).update(from: en.ptr + i * d, count: d)
            (cat.ptr + i * 2 * d + d).update(from: hn.ptr + i * d, count: d)
        }
        linearForward(y: c.ptr, x: cat.ptr, w: w + o.ehProj, rows: r, inFeatures: 2 * d, outFeatures: d)
        rmsNormForward(out: a.ptr, rstd: rstdA.ptr, x: c.ptr, weight: w + o.inputNorm, rows: r, dim: d, eps: eps)
        h1.ptr.update(from: c.ptr, count: r * d)
        mlaForward(y: h1.ptr, x: a.ptr, weights: w, at: o.attention, shape: mlaShape, saved: mla, scratch: model.mlaScratch, rope: model.rope,
                   batch: batch, seqLen: seqLen)
        rmsNormForward(out: f.ptr, rstd: rstdF.ptr, x: h1.ptr, weight: w + o.postAttnNorm, rows: r, dim: d, eps: eps)
        h2.ptr.update(from: h1.ptr, count: r * d)
        ffnForward(y: h2.ptr, u: f.ptr, weights: w, at: o.ffn, d: d, hidden: ffnHidden, rows: r, saved: ffn,
                   scratch: model.ffnScratch)
        rmsNormForward(out: out.ptr, rstd: rstdOut.ptr, x: h2.ptr, weight: w + o.finalNorm, rows: r, dim: d, eps: eps)
        linearForward(y: logits.ptr, x: out.ptr, w: w + L.lmHead, rows: r, inFeatures: d, outFeatures: v)
        let ce = crossEntropyLoss(logits: logits.ptr, targets: mtpTargets, rows: r, vocab: v)
        return ce.lossSum / Double(max(ce.counted, 1))
    }

    /// Backward of `forward` (same rows): dLast += the head's gradient of mtp_loss_coef * loss
    /// with respect to `last`; weight gradients +=. Overwrites the head's logits with their gradient.
    func backward(model: LongCatModel, last: UnsafePointer<Float>, dLast: UnsafeMutablePointer<Float>,
                  targets: UnsafePointer<Int32>, mtpTargets: UnsafePointer<Int32>, batch: Int) {
        let r = batch * seqLen, w = UnsafePointer(model.params.ptr), g = model.grads.ptr, L = model.layout
        let counted = countTargets(mtpTargets, r)
        let coef = Float(model.config.model.mtpLossCoef)
        _ = crossEntropyForwardBackward(dLogits: logits.ptr, logits: logits.ptr, targets: mtpTargets, rows: r,
                                        vocab: v, gradScale: coef / Float(max(counted, 1)))
        for b in [dOut, dF, dA, dC, dE] { b.zero() }
        dCat.zero()
        linearBackward(dx: dOut.ptr, dw: g + L.lmHead, dy: logits.ptr, x: out.ptr, w: w + L.lmHead,
                       rows: r, inFeatures: d, outFeatures: v)
        // dres: d/dh2, accumulated in dC's partner buffers step by step.
        dres.zero(); dEmb.zero()
        rmsNormBackward(dx: dres.ptr, dWeight: g + o.finalNorm, dOut: dOut.ptr, x: h2.ptr, rstd: rstdOut.ptr,
                        weight: w + o.finalNorm, rows: r, dim: d)
        ffnBackward(du: dF.ptr, dWeights: g, dy: dres.ptr, u: f.ptr, weights: w, at: o.ffn, d: d, hidden: ffnHidden,
                    rows: r, saved: ffn, scratch: model.ffnScratch)
        rmsNormBackward(dx: dres.ptr, dWeight: g + o.postAttnNorm, dOut: dF.ptr, x: h1.ptr, rstd: rstdF.ptr,
                        weight: w + o.postAttnNorm, rows: r, dim: d)
        mlaBackward(dx: dA.ptr, dWeights: g, dy: dres.ptr, x: a.ptr, weights: w, at: o.attention, shape: mlaShape,
                    saved: mla, scratch: model.mlaScratch, rope: model.rope, batch: batch, seqLen: seqLen)
        rmsNormBackward(dx: dres.ptr, dWeight: g + o.inputNorm, dOut: dA.ptr, x: c.ptr, rstd: rstdA.ptr,
                        weight: w + o.inputNorm, rows: r, dim: d)
        linearBackward(dx: dCat.ptr, dw: g + o.ehProj, dy: dres.ptr, x: cat.ptr, w: w + o.ehProj,
                       rows: r, inFeatures: 2 * d, outFeatures: d)
        for i in 0..<r {   // split dCat into the embedding and hidden halves
            (dE.ptr + i * d).update(from: dCat.ptr + i * 2 * d, count: d)
            (dC.ptr + i * d).update(from: dCat.ptr + i * 2 * d + d, count: d)
        }
        rmsNormBackward(dx: dLast, dWeight: g + o.hiddenNorm, dOut: dC.ptr, x: last, rstd: rstdH.ptr,
                        weight: w + o.hiddenNorm, rows: r, dim: d)
        rmsNormBackward(dx: dEmb.ptr, dWeight: g + o.embedNorm, dOut: dE.ptr, x: e.ptr, rstd: rstdE.ptr,
                        weight: w + o.embedNorm, rows: r, dim: d)
        let next = nextTokens(targets, rows: r)
        next.withUnsafeBufferPointer { nb in
            embeddingBackward(dTable: g + L.embedding, dOut: dEmb.ptr, tokens: nb.baseAddress!, rows: r, dim: d)
        }
    }
}
