import LabConfig

/// Maps the lab's `[model]` config to the reference `config.json` and back (LONGCAT.md
/// section 9). Export refuses a lab setting that the reference cannot express rather than write
/// a model that computes something else; import refuses a reference config that the lab's model
/// cannot compute exactly.
///
/// Correspondences:
/// - `routed_scaling_factor` = the lab's whole gate scale `s * gamma` (`LabConfig.moeOutputScale`):
///   the reference multiplies the chosen probabilities by one factor, the lab by s and, with
///   variance compensation, by gamma = m; both scale every gate, zero experts' included.
///   Import puts the factor in `model.routed_scaling_factor` with compensation off.
/// - `head_dim` = `qk_rope_head_dim`: transformers sizes its RoPE table with `head_dim`.
/// - `rope_parameters` = {rope_type "default", rope_theta}; the latent norms' eps is 1e-6 on
///   both sides, every other norm uses `rms_norm_eps`.
/// - `mla_scale_q_lora`, `mla_scale_kv_lora` are true: transformers 5.x applies both scales
///   unconditionally (`LongcatFlashMLA`), so a lab model without one has no equivalent.
public enum ConfigMapping {
    /// transformers' `LongcatFlashConfig.model_type`.
    public static let modelType = "longcat_flash"
    /// The class `from_pretrained` instantiates.
    public static let architecture = "LongcatFlashForCausalLM"
    /// Largest model import accepts: the lab trains on a CPU in Float32 (4 GiB of parameters).
    public static let maxParameters = 1 << 30

    // MARK: export

    /// Lab settings without a reference equivalent, one message per setting (empty: exportable).
    public static func exportProblems(_ c: LabConfig) -> [String] {
        let m = c.model
        var out: [String] = []
        if m.layout != .scmoe {
            out.append("model.layout = \"\(m.layout.rawValue)\": the reference layer always feeds the MoE from the first "
                       + "attention block (the ScMoE shortcut, layout = \"scmoe\")")
        }
        if m.zeroExpertNum > 0 && m.zeroExpertType != .identity {
            out.append("model.zero_expert_type = \"\(m.zeroExpertType.rawValue)\": the reference's zero experts return their "
                       + "input (\"identity\") and nothing else")
        }
        if c.routing.mode != .adaptive {
            out.append("routing.mode = \"\(c.routing.mode.rawValue)\": the reference always takes the top-k over all "
                       + "n_routed_experts + zero_expert_num experts (\"adaptive\"); it has no fixed split")
        }
        if c.moeOutputScale != c.zeroExpertOutputScale {
            out.append("init.variance_compensation_scope = \"routed\": the reference's routed_scaling_factor scales "
                       + "every gate, zero experts' included, so it cannot apply gamma = "
                       + "\(c.initialization.fineGrainFactor) to the FFN experts only")
        }
        if !m.mlaScaleQLora {
            out.append("model.mla_scale_q_lora = false: transformers applies alpha_q = sqrt(hidden_size / q_lora_rank) "
                       + "unconditionally, so the exported model would compute different queries")
        }
        if !m.mlaScaleKvLora {
            out.append("model.mla_scale_kv_lora = false: transformers applies alpha_kv = sqrt(hidden_size / kv_lora_rank) "
                       + "unconditionally, so the exported model would compute different keys and values")
        }
        return out
    }

    /// What export leaves out or folds together, for the user to read (the logits are unaffected).
    public static func exportNotes(_ c: LabConfig) -> [String] {
        var out: [String] = []
        if c.model.mtpLossCoef > 0 {
            out.append("the MTP head (model.mtp_loss_coef = \(c.model.mtpLossCoef)) is not part of \(architecture) "
                       + "and is not exported; the main model's logits do not depend on it")
        }
        if c.initialization.varianceCompensation && c.initialization.fineGrainFactor != 1 {
            out.append("routed_scaling_factor = \(c.moeOutputScale): model.routed_scaling_factor "
                       + "\(c.model.routedScalingFactor) times the variance-compensation gamma "
                       + "\(c.initialization.fineGrainFactor)")
        }
        return out
    }

    /// The reference `config.json` of `c`; throws when `exportProblems` is not empty.
    public static func configJSON(_ c: LabConfig) throws -> String {
        let problems = exportProblems(c)
        guard problems.isEmpty else {
            throw InterchangeError("cannot export to \(architecture) without changing the model:\n  "
                                   + problems.joined(separator: "\n  "))
        }
        let m = c.model
        let fields: [(String, JSONText)] = [
            ("architectures", .array([.string(architecture)])),
            ("attention_bias", .bool(false)),
            ("attention_dropout", .double(0)),
            ("bos_token_id", .null),
            ("dtype", .string("float32")),
            ("eos_token_id", .null),
            ("expert_ffn_hidden_size", .int(m.expertFfnHiddenSize)),
            ("ffn_hidden_size", .int(m.ffnHiddenSize)),
            ("head_dim", .int(m.qkRopeHeadDim)),
            ("hidden_act", .string("silu")),
            ("hidden_size", .int(m.hiddenSize)),
            ("initializer_range", .double(c.initialization.std)),
            ("kv_lora_rank", .int(m.kvLoraRank)),
            ("max_position_embeddings", .int(c.train.seqLen)),
            ("mla_scale_kv_lora", .bool(true)),
            ("mla_scale_q_lora", .bool(true)),
            ("model_type", .string(modelType)),
            ("moe_topk", .int(m.moeTopk)),
            ("n_routed_experts", .int(m.nRoutedExperts)),
            ("num_attention_heads", .int(m.numAttentionHeads)),
            ("num_key_value_heads", .int(m.numAttentionHeads)),
            ("num_layers", .int(m.numLayers)),
            ("pad_token_id", .null),
            ("q_lora_rank", .int(m.qLoraRank)),
            ("qk_head_dim", .int(m.qkNopeHeadDim + m.qkRopeHeadDim)),
            ("qk_nope_head_dim", .int(m.qkNopeHeadDim)),
            ("qk_rope_head_dim", .int(m.qkRopeHeadDim)),
            ("rms_norm_eps", .double(m.rmsNormEps)),
            ("rope_parameters", .object([("rope_theta", .double(m.ropeTheta)), ("rope_type", .string("default"))])),
            ("routed_scaling_factor", .double(c.moeOutputScale)),
            ("tie_word_embeddings", .bool(false)),
            ("use_cache", .bool(true)),
            ("v_head_dim", .int(m.vHeadDim)),
            ("vocab_size", .int(m.vocabSize)),
            ("zero_expert_num", .int(m.zeroExpertNum)),
            ("zero_expert_type", .string("identity")),
        ]
        return JSONText.object(fields).text
    }

    // MARK: import

    /// The lab config computing what `LongcatFlashForCausalLM` computes for `h`: `[model]` and
    /// `init.std` from `h`, every other table from `base`. Throws one error listing every field
    /// the lab cannot honour; `path` names the file in it.
    public static func labConfig(_ h: HFConfig, path: String, base: LabConfig = LabConfig()) throws -> LabConfig {
        var problems: [String] = []
        if h.modelType != modelType {
            problems.append("model_type = \(h.modelType.map { "\"\($0)\"" } ?? "(absent)"): must be \"\(modelType)\"")
        }
        var layers = h.numLayers
        if layers == nil, let hidden = h.numHiddenLayers, hidden % 2 == 0 { layers = hidden / 2 }
        let sizes: [(String, Int?)] = [
            ("vocab_size", h.vocabSize), ("hidden_size", h.hiddenSize), ("num_layers", layers),
            ("num_attention_heads", h.numAttentionHeads), ("q_lora_rank", h.qLoraRank),
            ("kv_lora_rank", h.kvLoraRank), ("qk_nope_head_dim", h.qkNopeHeadDim),
            ("qk_rope_head_dim", h.qkRopeHeadDim), ("v_head_dim", h.vHeadDim),
            ("ffn_hidden_size", h.ffnHiddenSize), ("expert_ffn_hidden_size", h.expertFfnHiddenSize),
            ("n_routed_experts", h.nRoutedExperts), ("zero_expert_num", h.zeroExpertNum), ("moe_topk", h.moeTopk),
        ]
        let missing = sizes.filter { $0.1 == nil }.map(\.0)
        if !missing.isEmpty {
            problems.append("missing (or null) size fields: " + missing.joined(separator: ", "))
        }
        for (key, value) in sizes {
            if let v = value, !(0...(1 << 24)).contains(v) { problems.append("\(key) = \(v): must be in 0...\(1 << 24)") }
        }
        problems += unsupportedSettings(h)
        guard problems.isEmpty else { throw refusal(path, problems) }

        var c = base
        var m = ModelConfig()
        m.vocabSize = h.vocabSize!; m.hiddenSize = h.hiddenSize!; m.numLayers = layers!
        m.numAttentionHeads = h.numAttentionHeads!
        m.qLoraRank = h.qLoraRank!; m.kvLoraRank = h.kvLoraRank!
        m.qkNopeHeadDim = h.qkNopeHeadDim!; m.qkRopeHeadDim = h.qkRopeHeadDim!; m.vHeadDim = h.vHeadDim!
        m.ffnHiddenSize = h.ffnHiddenSize!; m.expertFfnHiddenSize = h.expertFfnHiddenSize!
        m.nRoutedExperts = h.nRoutedExperts!; m.zeroExpertNum = h.zeroExpertNum!; m.moeTopk = h.moeTopk!
        m.zeroExpertType = .identity
        // transformers' defaults where the file is silent.
        m.routedScalingFactor = h.routedScalingFactor ?? 6.0
        m.rmsNormEps = h.rmsNormEps ?? 1e-5
        m.ropeTheta = h.ropeParameters?.ropeTheta ?? h.ropeTheta ?? 1e7
        m.mlaScaleQLora = true; m.mlaScaleKvLora = true
        m.layout = .scmoe
        m.mtpLossCoef = 0
        m.hiddenZLossCoef = base.model.hiddenZLossCoef
        c.model = m
        c.initialization.varianceCompensation = false
        c.initialization.varianceCompensationScope = .all
        c.routing = RoutingConfig()
        if let std = h.initializerRange, std > 0 { c.initialization.std = std }

        let count = estimatedParameters(m)
        if count > Double(maxParameters) {
            throw refusal(path, ["\(Int(count)) parameters (\(Int(count * 4 / 1_073_741_824)) GiB in float32): the lab "
                                 + "loads at most \(maxParameters) (4 GiB)"])
        }
        do {
            try validate(c)
        } catch {
            throw InterchangeError("\(path): the lab cannot run this config:\n\(error)")
        }
        return c
    }

    /// Settings the lab's model does not implement, one message each.
    static func unsupportedSettings(_ h: HFConfig) -> [String] {
        var out: [String] = []
        if let kv = h.numKeyValueHeads, let heads = h.numAttentionHeads, kv != heads {
            out.append("num_key_value_heads = \(kv): the lab's MLA has one key/value head per query head (\(heads))")
        }
        let headDim = h.headDim ?? 64
        if let rope = h.qkRopeHeadDim, headDim != rope {
            out.append("head_dim = \(headDim)\(h.headDim == nil ? " (transformers' default)" : ""): transformers sizes "
                       + "its RoPE table with head_dim, so it must equal qk_rope_head_dim = \(rope)")
        }
        if let qk = h.qkHeadDim, let n = h.qkNopeHeadDim, let r = h.qkRopeHeadDim, qk != n + r {
            out.append("qk_head_dim = \(qk): must be qk_nope_head_dim + qk_rope_head_dim = \(n + r)")
        }
        if h.tieWordEmbeddings == true {
            out.append("tie_word_embeddings = true: the lab's LM head is a separate matrix (untied)")
        }
        for (key, value) in [("mla_scale_q_lora", h.mlaScaleQLora), ("mla_scale_kv_lora", h.mlaScaleKvLora)] where value == false {
            out.append("\(key) = false: transformers applies this scale anyway, so what the checkpoint computes "
                       + "is ambiguous; the lab refuses rather than guess")
        }
        for (key, value) in [("attention_bias", h.attentionBias), ("router_bias", h.routerBias)] where value == true {
            out.append("\(key) = true: the lab's projections have no bias terms")
        }
        if let act = h.hiddenAct, act != "silu" {
            out.append("hidden_act = \"\(act)\": the lab's FFNs and experts are SwiGLU (silu)")
        }
        if let kind = h.zeroExpertType, kind != "identity" {
            out.append("zero_expert_type = \"\(kind)\": the reference's zero experts are identity experts")
        }
        for (key, rope) in [("rope_parameters", h.ropeParameters), ("rope_scaling", h.ropeScaling)] {
            let kind = rope?.ropeType ?? rope?.type ?? "default"
            if kind != "default" {
                out.append("\(key).rope_type = \"\(kind)\": the lab implements plain RoPE (\"default\") only")
            }
        }
        return out
    }

    /// Parameter count in Double, so absurd sizes cannot overflow before they are refused.
    static func estimatedParameters(_ m: ModelConfig) -> Double {
        let d = Double(m.hiddenSize), h = Double(m.numAttentionHeads)
        let rq = Double(m.qLoraRank), rkv = Double(m.kvLoraRank)
        let dn = Double(m.qkNopeHeadDim), dr = Double(m.qkRopeHeadDim), dv = Double(m.vHeadDim)
        let mla = d * rq + rq + rq * h * (dn + dr) + d * (rkv + dr) + rkv + rkv * h * (dn + dv) + h * dv * d
        let experts = Double(m.nRoutedExperts), zero = Double(m.zeroExpertNum)
        let layer = 2 * mla + 6 * d * Double(m.ffnHiddenSize) + d * (experts + zero) + 4 * d
            + experts * 3 * d * Double(m.expertFfnHiddenSize)
        return Double(m.numLayers) * layer + 2 * Double(m.vocabSize) * d + d
    }

    private static func refusal(_ path: String, _ problems: [String]) -> InterchangeError {
        InterchangeError("\(path): the lab cannot load this \(architecture) config as it stands:\n  "
                         + problems.joined(separator: "\n  "))
    }
}
