/// Parameter and FLOP arithmetic of a LongCat-style model, from its `ModelConfig` alone
/// (LONGCAT.md section 8). Pure integer arithmetic, so the calculator, the trainer's
/// `activated_params` column and the simulators can never disagree.
///
/// Dimension letters: D model width, L layers, H heads, dn/dr/dv head dims, rq/rkv latent
/// ranks, Fd dense FFN hidden, F expert hidden, N FFN experts, Z zero experts, K top-k slots,
/// V vocabulary.
///
/// What is counted (weights of the reference checkpoint, section 9):
/// - one MLA block: W_qa [rq, D], q norm [rq], W_qb [H*(dn+dr), rq], W_kva [rkv+dr, D],
///   kv norm [rkv], W_kvb [H*(dn+dv), rkv], W_o [D, H*dv];
/// - one dense FFN or expert: gate, up [hidden, D] and down [D, hidden];
/// - the router [N+Z, D]; its `e_score_correction_bias` is a controller buffer, not trained,
///   and is not counted;
/// - per layer 2 MLA blocks, 2 dense FFNs, the router, N experts and 4 RMSNorms [D];
/// - embedding [V, D], final norm [D], LM head [V, D] (untied);
/// - zero experts: nothing for "identity", "zero" and "drop"; MoE++'s "constant" kind has
///   W_c [2, D] and v [D] per zero expert;
/// - the MTP layer (when `mtp`): W_eh [D, 2D], the two input norms [D] each, one MLA block, two
///   layer norms, one dense FFN and its final norm [D]. Its embedding and LM head are the main
///   model's (shared, as in DeepSeek-V3), so no vocabulary matrix is added for it (our choice;
///   the paper does not say).
public struct ParameterCount: Sendable, Equatable {
    public let model: ModelConfig
    /// Whether the multi-token-prediction layer exists (counted in total and activated).
    public let mtp: Bool

    /// `mtp` defaults to whether the config trains an MTP head (`mtp_loss_coef > 0`).
    public init(model: ModelConfig, mtp: Bool? = nil) {
        self.model = model
        self.mtp = mtp ?? (model.mtpLossCoef > 0)
    }

    // MARK: components

    /// Token embedding, V*D.
    public var embedding: Int { model.vocabSize * model.hiddenSize }
    /// LM head, V*D (untied).
    public var lmHead: Int { model.vocabSize * model.hiddenSize }
    /// Matrix weights of one MLA block (no norms).
    public var mlaMatrices: Int {
        let m = model, D = m.hiddenSize, H = m.numAttentionHeads
        let qa = D * m.qLoraRank
        let qb = m.qLoraRank * H * (m.qkNopeHeadDim + m.qkRopeHeadDim)
        let kva = D * (m.kvLoraRank + m.qkRopeHeadDim)
        let kvb = m.kvLoraRank * H * (m.qkNopeHeadDim + m.vHeadDim)
        let o = H * m.vHeadDim * D
        return qa + qb + kva + kvb + o
    }
    /// One MLA block including its two latent norms [rq] and [rkv].
    public var mlaBlock: Int { mlaMatrices + model.qLoraRank + model.kvLoraRank }
    /// One dense SwiGLU FFN, 3*D*Fd.
    public var denseFfn: Int { 3 * model.hiddenSize * model.ffnHiddenSize }
    /// The router, D*(N+Z).
    public var router: Int { model.hiddenSize * (model.nRoutedExperts + model.zeroExpertNum) }
    /// One FFN expert, 3*D*F.
    public var expert: Int { 3 * model.hiddenSize * model.expertFfnHiddenSize }
    /// One zero expert: 3*D for the "constant" kind, else 0.
    public var zeroExpert: Int { model.zeroExpertType == .constant ? 3 * model.hiddenSize : 0 }
    /// The four RMSNorms of one layer, 4*D.
    public var layerNorms: Int { 4 * model.hiddenSize }
    /// Final RMSNorm, D.
    public var finalNorm: Int { model.hiddenSize }
    /// One layer without its experts: 2 MLA blocks, 2 dense FFNs, router, 4 norms.
    public var layerWithoutExperts: Int { 2 * mlaBlock + 2 * denseFfn + router + layerNorms }
    /// All experts of one layer, FFN and zero.
    public var layerExperts: Int { model.nRoutedExperts * expert + model.zeroExpertNum * zeroExpert }
    /// The MTP layer (0 when `mtp` is off): W_eh, 2 input norms, MLA, 2 norms, dense FFN, final norm.
    public var mtpLayer: Int {
        guard mtp else { return 0 }
        let D = model.hiddenSize
        return 2 * D * D + 2 * D + mlaBlock + 2 * D + denseFfn + D
    }

    /// Every parameter of the model.
    public var totalParameters: Int {
        model.numLayers * (layerWithoutExperts + layerExperts) + embedding + finalNorm + lmHead + mtpLayer
    }

    /// The largest `ffnExperts` a token can reach: L*min(K, N).
    public var maxFfnExpertsPerToken: Int { model.numLayers * min(model.moeTopk, model.nRoutedExperts) }
    /// The smallest: L*max(0, K - Z) (a token picks distinct experts).
    public var minFfnExpertsPerToken: Int { model.numLayers * max(0, model.moeTopk - model.zeroExpertNum) }

    /// Parameters one token activates when it used `ffnExperts` FFN experts summed over all L
    /// layers (0...L*K): every dense weight of every layer, one vocabulary matrix (the LM head;
    /// the embedding row it reads is not counted), the final norm, the chosen experts, the
    /// chosen zero experts' weights (constant kind only) and the MTP layer when `mtp`.
    /// A token reaches only `minFfnExpertsPerToken...maxFfnExpertsPerToken`; the arithmetic
    /// is defined on all of 0...L*K.
    /// - Precondition: `0 <= ffnExperts <= L*K`.
    public func activatedParameters(ffnExperts: Int) -> Int {
        precondition(ffnExperts >= 0 && ffnExperts <= model.numLayers * model.moeTopk,
                     "activatedParameters: ffnExperts = \(ffnExperts) outside 0...L*K = \(model.numLayers * model.moeTopk)")
        let zeroSlots = model.numLayers * model.moeTopk - ffnExperts
        return model.numLayers * layerWithoutExperts + lmHead + finalNorm + mtpLayer
            + ffnExperts * expert + zeroSlots * zeroExpert
    }

    /// `activatedParameters` for a mean of `meanFfnExperts` FFN experts per token in every
    /// layer (e.g. K_e), which need not be a whole number.
    public func activatedParameters(meanFfnExperts: Double) -> Double {
        let L = Double(model.numLayers), K = Double(model.moeTopk)
        let dense = Double(model.numLayers * layerWithoutExperts + lmHead + finalNorm + mtpLayer)
        return dense + L * meanFfnExperts * Double(expert) + L * (K - meanFfnExperts) * Double(zeroExpert)
    }

    // MARK: FLOPs

    /// Weights one token multiplies in a forward pass with `meanFfnExperts` FFN experts per
    /// layer (norm weights and the embedding lookup excluded; the MTP layer's second use of the
    /// shared LM head included). 2 FLOPs per weight per token.
    public func matmulParameters(meanFfnExperts: Double) -> Double {
        let m = model, D = m.hiddenSize, L = Double(m.numLayers), K = Double(m.moeTopk)
        let zeroMatmul = m.zeroExpertType == .constant ? Double(2 * D) : 0   // W_c; v is added, not multiplied
        let perLayer = Double(2 * mlaMatrices + 2 * denseFfn + router)
            + meanFfnExperts * Double(expert) + (K - meanFfnExperts) * zeroMatmul
        var total = L * perLayer + Double(lmHead)
        if mtp { total += Double(2 * D * D + mlaMatrices + denseFfn + lmHead) }
        return total
    }

    /// Forward attention FLOPs of one token over `context` keys in all MLA blocks (two per
    /// layer, plus one in the MTP layer): scores H*(dn+dr) and values H*dv multiply-adds per key,
    /// in the plain (non-absorbed) form.
    public func attentionFlopsPerToken(context: Double) -> Double {
        let m = model
        let blocks = Double(2 * m.numLayers + (mtp ? 1 : 0))
        let perKey = Double(m.numAttentionHeads * (m.qkNopeHeadDim + m.qkRopeHeadDim + m.vHeadDim))
        return blocks * 2 * perKey * context
    }

    /// Training FLOPs per token (forward + backward = 3x forward): 6 * matmul weights +
    /// 3 * forward attention, the attention over the mean causal context (seqLen + 1) / 2.
    public func trainingFlopsPerToken(meanFfnExperts: Double, seqLen: Int) -> Double {
        6 * matmulParameters(meanFfnExperts: meanFfnExperts)
            + 3 * attentionFlopsPerToken(context: Double(seqLen + 1) / 2)
    }

    /// Inference FLOPs to produce one token with `contextLength` keys in the cache (the token
    /// itself included): 2 * matmul weights + forward attention.
    public func inferenceFlopsPerToken(meanFfnExperts: Double, contextLength: Int) -> Double {
        2 * matmulParameters(meanFfnExperts: meanFfnExperts) + attentionFlopsPerToken(context: Double(contextLength))
    }

    /// The components as printed by `longcat-lab params`: name, count in the model, size of one.
    public var components: [(name: String, count: Int, each: Int)] {
        let L = model.numLayers
        var rows: [(name: String, count: Int, each: Int)] = [
            ("embedding", 1, embedding),
            ("MLA block (with latent norms)", 2 * L, mlaBlock),
            ("dense FFN", 2 * L, denseFfn),
            ("router", L, router),
            ("FFN expert", L * model.nRoutedExperts, expert),
        ]
        if zeroExpert > 0 { rows.append(("zero expert (constant)", L * model.zeroExpertNum, zeroExpert)) }
        rows += [("layer norms (4 per layer)", L, layerNorms), ("final norm", 1, finalNorm), ("LM head", 1, lmHead)]
        if mtp { rows.append(("MTP layer (shares embedding and LM head)", 1, mtpLayer)) }
        return rows
    }
}

public extension ModelConfig {
    /// The released LongCat-Flash architecture (LONGCAT.md sections 3 and 8): D 6144, 28 layers,
    /// 64 heads, rq 1536, rkv 512, dn 128, dr 64, dv 128, dense FFN 12288, expert FFN 2048,
    /// V 131072, N 512, Z 256 (identity), K 12, s 6, RoPE theta 1e7. No MTP head is counted
    /// (`mtp_loss_coef` 0): the published 560.66B and 18.69B-31.38B exclude it.
    static var longcatFlash: ModelConfig {
        var m = ModelConfig()
        m.vocabSize = 131_072
        m.hiddenSize = 6144
        m.numLayers = 28
        m.numAttentionHeads = 64
        m.qLoraRank = 1536
        m.kvLoraRank = 512
        m.qkNopeHeadDim = 128
        m.qkRopeHeadDim = 64
        m.vHeadDim = 128
        m.ffnHiddenSize = 12_288
        m.expertFfnHiddenSize = 2048
        m.nRoutedExperts = 512
        m.zeroExpertNum = 256
        m.zeroExpertType = .identity
        m.moeTopk = 12
        m.routedScalingFactor = 6
        m.ropeTheta = 10_000_000
        m.layout = .scmoe
        m.mtpLossCoef = 0
        return m
    }
}
