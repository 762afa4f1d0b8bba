import LabKernels

// Tensors of the last pass that the training step does not keep (normalised block inputs, MLA
// latents, gate/up pre-activations, which the backward overwrites with their gradients),
// recomputed on demand from what it does keep. For analyses (the variance probe), never for
// the training step itself. R rows, D width.

extension LongCatModel {
    /// Rows of the last pass.
    var lastRows: Int { (saved.first?.moe.plan.tokens) ?? maxBatch * seqLen }

    /// RMSNorm(x) with the weight at `offset`, into a new buffer. [R, D]
    private func normalized(_ x: UnsafePointer<Float>, weightAt offset: Int, rows r: Int) -> FloatBuffer {
        let d = config.model.hiddenSize
        let out = FloatBuffer(count: r * d), rstd = FloatBuffer(count: r)
        withExtendedLifetime(rstd) {
            rmsNormForward(out: out.ptr, rstd: rstd.ptr, x: x, weight: params.ptr + offset, rows: r, dim: d,
                           eps: Float(config.model.rmsNormEps))
        }
        return out
    }

    /// The input of dense FFN `block` of layer `l`: u (block 0) or v (block 1). [R, D]
    func ffnInput(layer l: Int, block: Int, rows r: Int) -> FloatBuffer {
        let o = layout.layers[l]
        return block == 0 ? normalized(saved[l].h1.ptr, weightAt: o.postAttnNorm[0], rows: r)
                          : normalized(saved[l].h3.ptr, weightAt: o.postAttnNorm[1], rows: r)
    }

    /// The MoE input of layer `l`: u (ScMoE shortcut) or v (sequential layout). [R, D]
    func moeInputBuffer(layer l: Int, rows r: Int) -> FloatBuffer {
        ffnInput(layer: l, block: config.model.layout == .sequential ? 1 : 0, rows: r)
    }

    /// The normalised, scaled query and key/value latents of MLA `block` of layer `l`. [R, rq], [R, rkv]
    func latents(layer l: Int, block: Int, rows r: Int) -> (cq: FloatBuffer, ckv: FloatBuffer) {
        let m = saved[l].attention[block], s = mlaShape, o = layout.layers[l].attention[block]
        let cq = FloatBuffer(count: r * s.qRank), ckv = FloatBuffer(count: r * s.kvRank), rstd = FloatBuffer(count: r)
        withExtendedLifetime(rstd) {
            rmsNormForward(out: cq.ptr, rstd: rstd.ptr, x: m.cqRaw.ptr, weight: params.ptr + o.qANorm, rows: r,
                           dim: s.qRank, eps: s.latentEps, scale: s.alphaQ)
            rmsNormForward(out: ckv.ptr, rstd: rstd.ptr, x: m.ckvRaw.ptr, weight: params.ptr + o.kvANorm, rows: r,
                           dim: s.kvRank, eps: s.latentEps, scale: s.alphaKV)
        }
        return (cq, ckv)
    }

    /// Gate/up pre-activations of dense FFN `block` of layer `l` for input `u`. [R, 2F]
    func ffnGateUp(layer l: Int, block: Int, input u: FloatBuffer, rows r: Int) -> FloatBuffer {
        let d = config.model.hiddenSize, f = config.model.ffnHiddenSize
        let gu = FloatBuffer(count: r * 2 * f)
        withExtendedLifetime(u) {
            linearForward(y: gu.ptr, x: u.ptr, w: params.ptr + layout.layers[l].ffn[block].gateUp, rows: r,
                          inFeatures: d, outFeatures: 2 * f)
        }
        return gu
    }
}
