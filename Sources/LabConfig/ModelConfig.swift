/// `[model]`: the architecture (LONGCAT.md sections 1-3, 6, 7). Each field's meaning and
/// allowed values are in its row of `LabConfig.modelFields` below.
public struct ModelConfig: Sendable, Equatable {
    public var vocabSize = 256
    public var hiddenSize = 128
    public var numLayers = 2
    public var numAttentionHeads = 4
    public var qLoraRank = 64
    public var kvLoraRank = 32
    public var qkNopeHeadDim = 16
    public var qkRopeHeadDim = 8
    public var vHeadDim = 16
    public var ffnHiddenSize = 256
    public var expertFfnHiddenSize = 32
    public var nRoutedExperts = 16
    public var zeroExpertNum = 8
    public var zeroExpertType = ZeroExpertType.identity
    public var moeTopk = 4
    public var routedScalingFactor = 1.0
    public var mlaScaleQLora = true
    public var mlaScaleKvLora = true
    public var rmsNormEps = 1e-5
    public var ropeTheta = 10_000.0
    public var layout = MoELayout.scmoe
    public var mtpLossCoef = 0.0
    public var hiddenZLossCoef = 0.0
    public init() {}
}

extension LabConfig {
    static let modelFields: [ConfigField] = [
        ConfigField("model.vocab_size", \.model.vocabSize, doc: "V: byte-level tokens by default.", .atLeast(1)),
        ConfigField("model.hidden_size", \.model.hiddenSize, doc: "D.", .atLeast(1)),
        ConfigField("model.num_layers", \.model.numLayers,
                    doc: "L: ScMoE layers, each with two MLA blocks, two dense FFNs and one MoE.", .atLeast(1)),
        ConfigField("model.num_attention_heads", \.model.numAttentionHeads, doc: "H.", .atLeast(1)),
        ConfigField("model.q_lora_rank", \.model.qLoraRank, doc: "rq: query latent rank.", .atLeast(1)),
        ConfigField("model.kv_lora_rank", \.model.kvLoraRank, doc: "rkv: key/value latent rank.", .atLeast(1)),
        ConfigField("model.qk_nope_head_dim", \.model.qkNopeHeadDim,
                    doc: "dn: per-head query/key dimension without rotary embedding.", .atLeast(1)),
        ConfigField("model.qk_rope_head_dim", \.model.qkRopeHeadDim,
                    doc: "dr: per-head rotary dimension (even); the rope key is shared by all heads.",
                    .atLeast(1), Constraint("even (RoPE rotates pairs of dimensions)") { $0 % 2 == 0 }),
        ConfigField("model.v_head_dim", \.model.vHeadDim, doc: "dv: per-head value dimension.", .atLeast(1)),
        ConfigField("model.ffn_hidden_size", \.model.ffnHiddenSize,
                    doc: "Hidden size of the two dense SwiGLU FFNs of each layer.", .atLeast(1)),
        ConfigField("model.expert_ffn_hidden_size", \.model.expertFfnHiddenSize,
                    doc: "F: hidden size of each routed expert.", .atLeast(1)),
        ConfigField("model.n_routed_experts", \.model.nRoutedExperts, doc: "N.", .atLeast(1)),
        ConfigField("model.zero_expert_num", \.model.zeroExpertNum,
                    doc: "Z: zero-computation experts (0 gives a plain top-k MoE).", .atLeast(0)),
        ConfigField("model.zero_expert_type", \.model.zeroExpertType,
                    doc: "What a zero expert computes: identity (LongCat), zero/drop (outputs 0) or constant "
                        + "(MoE++: a1*u + a2*v with [a1,a2] = softmax(W_c u), v trainable)."),
        ConfigField("model.moe_topk", \.model.moeTopk,
                    doc: "K: routing slots per token, FFN and zero experts together (1...N+Z)."),
        ConfigField("model.routed_scaling_factor", \.model.routedScalingFactor,
                    doc: "s: multiplies every gate (zero experts' too).", .positive),
        ConfigField("model.mla_scale_q_lora", \.model.mlaScaleQLora,
                    doc: "MLA scale calibration: alpha_q = sqrt(D/rq) on the normalised query latent."),
        ConfigField("model.mla_scale_kv_lora", \.model.mlaScaleKvLora,
                    doc: "MLA scale calibration: alpha_kv = sqrt(D/rkv) on the normalised key/value latent."),
        ConfigField("model.rms_norm_eps", \.model.rmsNormEps,
                    doc: "eps of the layer and final RMSNorms (the two MLA latent norms use 1e-6).", .positive),
        ConfigField("model.rope_theta", \.model.ropeTheta,
                    doc: "RoPE base; the release uses 1e7, short contexts train better with 1e4 (our choice).",
                    Constraint("> 1 (the RoPE base)") { $0 > 1 }),
        ConfigField("model.layout", \.model.layout,
                    doc: "scmoe (LongCat's shortcut layout) or sequential (MoE beside the second FFN)."),
        ConfigField("model.mtp_loss_coef", \.model.mtpLossCoef,
                    doc: "Multi-token prediction head (one dense MLA+FFN layer predicting token t+2); 0 = off.",
                    .nonNegative),
        ConfigField("model.hidden_z_loss_coef", \.model.hiddenZLossCoef,
                    doc: "Hidden z-loss coefficient lambda on the last layer's output; 0 = off.", .nonNegative),
    ]
}
