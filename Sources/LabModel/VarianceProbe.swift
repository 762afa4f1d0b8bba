import LabKernels

// The variance probe (LONGCAT.md sections 2, 6, 7): statistics of the last pass's activations
// and gradients, computed from what the pass saved, never changing it. Rows of `variance_stats`
// (layer -1 = model-wide); every "var" is the population variance over all elements.
//
// | module               | statistic            | what                                              |
// |----------------------|----------------------|---------------------------------------------------|
// | mla.0, mla.1         | var_q_latent         | cq = alpha_q * RMSNorm_q(x W_qa^T)  [R, rq]       |
// |                      | var_q_nope/var_q_rope| the query's head slices (q_rope after RoPE)      |
// |                      | var_kv_latent        | ckv = alpha_kv * RMSNorm_kv(...)    [R, rkv]      |
// |                      | var_k_nope, var_v    | the head slices of ckv W_kvb^T                    |
// |                      | var_k_rope           | the shared rope key (after RoPE; not normalised)  |
// |                      | var_logits           | causal scores before softmax (scale included)     |
// |                      | entropy              | mean softmax entropy per (batch, head, query), nats|
// |                      | var_output           | the block's output ctx W_o^T                      |
// | ffn.0, ffn.1         | var_output           | the dense SwiGLU FFN's output                     |
// | moe                  | var_input            | u (or v in the sequential layout)                 |
// |                      | var_output           | the aggregated MoE output = routed + zero         |
// |                      | var_routed, var_zero | its routed-expert and zero-expert parts           |
// |                      | var_expert_output    | E_i(u) of every FFN slot before its gate          |
// |                      | gate_mean, gate_var  | the gates s*gamma*p of all K slots                |
// |                      | gate_sum_routed/_zero| mean over tokens of the summed FFN / zero gates   |
// | residual.mla.0 ...   | var, rms, max_abs    | the residual stream after mla.0, ffn.0, mla.1,    |
// | residual.layer       |                      | and after ffn.1 + moe (the layer's output)        |
// | residual.embedding   | var, rms, max_abs    | layer -1: the token embeddings                    |
// | final_hidden         | l2_norm_mean/_max,   | layer -1: the last layer's output before the final|
// |                      | rms, max_abs         | norm (what hidden z-loss acts on)                 |
// | grad.<group>         | rms                  | gradient RMS per ParameterGroup; layer l or -1    |
// |                      |                      | (whole model); grad.all the global RMS            |

extension LongCatModel {
    /// Rows (B*T) of the last pass; 0 before any pass.
    var lastPassRows: Int { saved.first?.moe.plan.tokens ?? 0 }

    /// Activation statistics of the last forward pass for every layer (see the table above);
    /// empty before any pass. Reads saved activations and weights only.
    public func activationStatistics() -> [VarianceStatistic] {
        let r = lastPassRows
        guard r > 0 else { return [] }
        var out: [VarianceStatistic] = []
        func add(_ layer: Int, _ module: String, _ statistic: String, _ value: Double) {
            out.append(VarianceStatistic(layer: layer, module: module, statistic: statistic, value: value))
        }
        func addResidual(_ layer: Int, _ module: String, _ m: Moments) {
            add(layer, module, "var", m.variance); add(layer, module, "rms", m.rms); add(layer, module, "max_abs", m.maxAbs)
        }
        let d = config.model.hiddenSize
        addResidual(-1, "residual.embedding", rowMoments(hidden[0].ptr, rows: r, width: d))
        for l in 0..<config.model.numLayers {
            for i in 0..<2 {
                for (name, value) in mlaStatistics(layer: l, block: i, rows: r) { add(l, "mla.\(i)", name, value) }
            }
            for i in 0..<2 {
                add(l, "ffn.\(i)", "var_output", rowMoments(ffnOutput(layer: l, block: i, rows: r), rows: r, width: d).variance)
            }
            for (name, value) in moeStatistics(layer: l, rows: r) { add(l, "moe", name, value) }
            let s = saved[l]
            addResidual(l, "residual.mla.0", rowMoments(s.h1.ptr, rows: r, width: d))
            addResidual(l, "residual.ffn.0", rowMoments(s.h2.ptr, rows: r, width: d))
            addResidual(l, "residual.mla.1", rowMoments(s.h3.ptr, rows: r, width: d))
            addResidual(l, "residual.layer", rowMoments(hidden[l + 1].ptr, rows: r, width: d))
        }
        let last = hidden[config.model.numLayers].ptr
        var norms = Moments()
        for t in 0..<r { norms.add(Float(sumSquares(last + t * d, d).squareRoot())) }
        let m = rowMoments(last, rows: r, width: d)
        add(-1, "final_hidden", "l2_norm_mean", norms.mean)
        add(-1, "final_hidden", "l2_norm_max", norms.maxAbs)
        add(-1, "final_hidden", "rms", m.rms)
        add(-1, "final_hidden", "max_abs", m.maxAbs)
        return out
    }

    /// Gradient RMS per parameter group, per layer and for the whole model (layer -1), plus
    /// `grad.all`. Call right after a training pass, before the gradients are clipped.
    public func gradientStatistics() -> [VarianceStatistic] {
        var perLayer: [ParameterGroup: [Int: Moments]] = [:]
        var total = Moments()
        for slice in layout.slices {
            let (group, layer) = slice.group
            var m = Moments()
            m.count = slice.count
            m.sumSquares = sumSquares(grads.ptr + slice.offset, slice.count)
            perLayer[group, default: [:]][layer, default: Moments()].merge(m)
            total.merge(m)
        }
        var out: [VarianceStatistic] = []
        for group in ParameterGroup.allCases {
            guard let layers = perLayer[group] else { continue }
            let whole = layers.values.reduce(into: Moments()) { $0.merge($1) }
            out.append(VarianceStatistic(layer: -1, module: "grad.\(group.rawValue)", statistic: "rms", value: whole.rms))
            for (layer, m) in layers.sorted(by: { $0.key < $1.key }) where layer >= 0 {
                out.append(VarianceStatistic(layer: layer, module: "grad.\(group.rawValue)", statistic: "rms", value: m.rms))
            }
        }
        out.append(VarianceStatistic(layer: -1, module: "grad.all", statistic: "rms", value: total.rms))
        return out
    }

    /// Statistics of MLA block `i` of layer `l`, in table order.
    func mlaStatistics(layer l: Int, block i: Int, rows r: Int) -> [(String, Double)] {
        let m = saved[l].attention[i], s = mlaShape
        let heads = s.heads
        let scores = attentionScoreStatistics(saved: m, shape: s, batch: r / seqLen, seqLen: seqLen)
        let output = FloatBuffer(count: r * s.d)
        let (cq, ckv) = latents(layer: l, block: i, rows: r)
        linearForward(y: output.ptr, x: m.context.ptr, w: params.ptr + layout.layers[l].attention[i].o,
                      rows: r, inFeatures: s.contextWidth, outFeatures: s.d)
        func head(_ p: FloatBuffer, _ stride: Int, _ offset: Int, _ width: Int) -> Double {
            stridedMoments(p.ptr, rows: r, rowStride: heads * stride, groups: heads, groupStride: stride,
                           offset: offset, width: width).variance
        }
        return [
            ("var_q_latent", rowMoments(cq, rows: r, width: s.qRank).variance),
            ("var_q_nope", head(m.q, s.nope + s.rope, 0, s.nope)),
            ("var_q_rope", head(m.q, s.nope + s.rope, s.nope, s.rope)),
            ("var_kv_latent", rowMoments(ckv, rows: r, width: s.kvRank).variance),
            ("var_k_nope", head(m.kv, s.nope + s.value, 0, s.nope)),
            ("var_v", head(m.kv, s.nope + s.value, s.nope, s.value)),
            ("var_k_rope", rowMoments(m.kr.ptr, rows: r, width: s.rope).variance),
            ("var_logits", scores.logits.variance),
            ("entropy", scores.meanEntropy),
            ("var_output", rowMoments(output, rows: r, width: s.d).variance),
        ]
    }

    /// Statistics of layer `l`'s MoE, in table order.
    func moeStatistics(layer l: Int, rows r: Int) -> [(String, Double)] {
        let d = moeShape.d, k = moeShape.topK
        let parts = moeParts(layer: l, rows: r)
        let total = FloatBuffer(count: r * d)
        withExtendedLifetime(parts) {
            total.ptr.update(from: parts.routed.ptr, count: r * d)
            addInPlace(total.ptr, parts.zero.ptr, r * d)
        }
        let plan = saved[l].moe.plan
        var gates = Moments(), routedSum = 0.0, zeroSum = 0.0
        for slot in 0..<(r * k) {
            let g = plan.gate[slot]
            gates.add(g)
            if Int(plan.expert[slot]) < moeShape.routed { routedSum += Double(g) } else { zeroSum += Double(g) }
        }
        return [
            ("var_input", rowMoments(parts.input, rows: r, width: d).variance),
            ("var_output", rowMoments(total, rows: r, width: d).variance),
            ("var_routed", rowMoments(parts.routed, rows: r, width: d).variance),
            ("var_zero", rowMoments(parts.zero, rows: r, width: d).variance),
            ("var_expert_output", rowMoments(parts.expertOutputs, rows: parts.ffnSlots, width: d).variance),
            ("gate_mean", gates.mean),
            ("gate_var", gates.variance),
            ("gate_sum_routed", routedSum / Double(r)),
            ("gate_sum_zero", zeroSum / Double(r)),
        ]
    }

    /// Output of dense FFN `i` of layer `l` in the last pass, recomputed from its saved gate/up
    /// pre-activations. [R, D]
    func ffnOutput(layer l: Int, block i: Int, rows r: Int) -> FloatBuffer {
        let d = config.model.hiddenSize, f = config.model.ffnHiddenSize
        let h = FloatBuffer(count: r * f), y = FloatBuffer(count: r * d)
        let gu = ffnGateUp(layer: l, block: i, input: ffnInput(layer: l, block: i, rows: r), rows: r)
        withExtendedLifetime((h, gu)) {
            swigluForward(h: h.ptr, gu: gu.ptr, rows: r, hidden: f)
            linearForward(y: y.ptr, x: h.ptr, w: params.ptr + layout.layers[l].ffn[i].down, rows: r, inFeatures: f, outFeatures: d)
        }
        return y
    }
}
