/// One configuration key: its TOML table and snake_case name, and the struct field behind it.
///
/// `ConfigKey.all` is the single source of truth for decoding files, `--set` overrides,
/// `set(_:_:)`, `value(forKey:)`, `resolvedTOML()` (in this order) and `differences(from:)`.
struct ConfigKey: Sendable {
    /// The field a key reads and writes, by type.
    enum Field: Sendable {
        case int(WritableKeyPath<LabConfig, Int> & Sendable)
        case double(WritableKeyPath<LabConfig, Double> & Sendable)
        case bool(WritableKeyPath<LabConfig, Bool> & Sendable)
        case string(WritableKeyPath<LabConfig, String> & Sendable)
    }

    /// TOML table name (`init` for `LabConfig.initialization`).
    let table: String
    /// snake_case of the Swift field name.
    let name: String
    let field: Field

    init(_ table: String, _ name: String, _ field: Field) {
        self.table = table
        self.name = name
        self.field = field
    }

    /// `table.name`, as in error messages and `--set`.
    var path: String { "\(table).\(name)" }

    /// What the TOML value must be, for error messages.
    var expected: String {
        switch field {
        case .int: return "an integer"
        case .double: return "a number"
        case .bool: return "a boolean (true or false)"
        case .string: return "a string"
        }
    }
}

extension ConfigKey {
    /// Every key, one line per field, in the order of the structs in `Config.swift`.
    static let all: [ConfigKey] = [
        ConfigKey("model", "vocab_size", .int(\.model.vocabSize)),
        ConfigKey("model", "hidden_size", .int(\.model.hiddenSize)),
        ConfigKey("model", "num_layers", .int(\.model.numLayers)),
        ConfigKey("model", "num_attention_heads", .int(\.model.numAttentionHeads)),
        ConfigKey("model", "q_lora_rank", .int(\.model.qLoraRank)),
        ConfigKey("model", "kv_lora_rank", .int(\.model.kvLoraRank)),
        ConfigKey("model", "qk_nope_head_dim", .int(\.model.qkNopeHeadDim)),
        ConfigKey("model", "qk_rope_head_dim", .int(\.model.qkRopeHeadDim)),
        ConfigKey("model", "v_head_dim", .int(\.model.vHeadDim)),
        ConfigKey("model", "ffn_hidden_size", .int(\.model.ffnHiddenSize)),
        ConfigKey("model", "expert_ffn_hidden_size", .int(\.model.expertFfnHiddenSize)),
        ConfigKey("model", "n_routed_experts", .int(\.model.nRoutedExperts)),
        ConfigKey("model", "zero_expert_num", .int(\.model.zeroExpertNum)),
        ConfigKey("model", "zero_expert_type", .string(\.model.zeroExpertType)),
        ConfigKey("model", "moe_topk", .int(\.model.moeTopk)),
        ConfigKey("model", "routed_scaling_factor", .double(\.model.routedScalingFactor)),
        ConfigKey("model", "mla_scale_q_lora", .bool(\.model.mlaScaleQLora)),
        ConfigKey("model", "mla_scale_kv_lora", .bool(\.model.mlaScaleKvLora)),
        ConfigKey("model", "rms_norm_eps", .double(\.model.rmsNormEps)),
        ConfigKey("model", "rope_theta", .double(\.model.ropeTheta)),
        ConfigKey("model", "layout", .string(\.model.layout)),
        ConfigKey("model", "mtp_loss_coef", .double(\.model.mtpLossCoef)),
        ConfigKey("model", "hidden_z_loss_coef", .double(\.model.hiddenZLossCoef)),

        ConfigKey("train", "steps", .int(\.train.steps)),
        ConfigKey("train", "batch_size", .int(\.train.batchSize)),
        ConfigKey("train", "seq_len", .int(\.train.seqLen)),
        ConfigKey("train", "optimizer", .string(\.train.optimizer)),
        ConfigKey("train", "learning_rate", .double(\.train.learningRate)),
        ConfigKey("train", "min_lr_ratio", .double(\.train.minLrRatio)),
        ConfigKey("train", "schedule", .string(\.train.schedule)),
        ConfigKey("train", "warmup_steps", .int(\.train.warmupSteps)),
        ConfigKey("train", "beta1", .double(\.train.beta1)),
        ConfigKey("train", "beta2", .double(\.train.beta2)),
        ConfigKey("train", "adam_eps", .double(\.train.adamEps)),
        ConfigKey("train", "weight_decay", .double(\.train.weightDecay)),
        ConfigKey("train", "grad_clip", .double(\.train.gradClip)),
        ConfigKey("train", "seed", .int(\.train.seed)),
        ConfigKey("train", "eval_interval", .int(\.train.evalInterval)),
        ConfigKey("train", "eval_batches", .int(\.train.evalBatches)),
        ConfigKey("train", "token_sample_batches", .int(\.train.tokenSampleBatches)),
        ConfigKey("train", "checkpoint_interval", .int(\.train.checkpointInterval)),
        ConfigKey("train", "variance_interval", .int(\.train.varianceInterval)),
        ConfigKey("train", "log_interval", .int(\.train.logInterval)),
        ConfigKey("train", "telemetry_interval", .int(\.train.telemetryInterval)),
        ConfigKey("train", "threads", .int(\.train.threads)),
        ConfigKey("train", "grad_accum", .int(\.train.gradAccum)),
        ConfigKey("train", "keep_checkpoints", .int(\.train.keepCheckpoints)),
        ConfigKey("train", "pin_checkpoints", .string(\.train.pinCheckpoints)),

        ConfigKey("data", "corpus", .string(\.data.corpus)),
        ConfigKey("data", "path", .string(\.data.path)),
        ConfigKey("data", "validation_fraction", .double(\.data.validationFraction)),
        ConfigKey("data", "synthetic", .string(\.data.synthetic)),
        ConfigKey("data", "synthetic_bytes", .int(\.data.syntheticBytes)),
        ConfigKey("data", "markov_order", .int(\.data.markovOrder)),
        ConfigKey("data", "tokenizer", .string(\.data.tokenizer)),
        ConfigKey("data", "cache_dir", .string(\.data.cacheDir)),
        ConfigKey("data", "domain_weights", .string(\.data.domainWeights)),
        ConfigKey("data", "c_bytes", .int(\.data.cBytes)),
        ConfigKey("data", "bpe_sample_bytes", .int(\.data.bpeSampleBytes)),

        ConfigKey("init", "std", .double(\.initialization.std)),
        ConfigKey("init", "embedding_std", .double(\.initialization.embeddingStd)),
        ConfigKey("init", "variance_compensation", .bool(\.initialization.varianceCompensation)),
        ConfigKey("init", "fine_grain_factor", .int(\.initialization.fineGrainFactor)),

        ConfigKey("controller", "kind", .string(\.controller.kind)),
        ConfigKey("controller", "target_ffn_experts", .double(\.controller.targetFfnExperts)),
        ConfigKey("controller", "kp", .double(\.controller.kp)),
        ConfigKey("controller", "ki", .double(\.controller.ki)),
        ConfigKey("controller", "kd", .double(\.controller.kd)),
        ConfigKey("controller", "gamma", .double(\.controller.gamma)),
        ConfigKey("controller", "gain_schedule", .string(\.controller.gainSchedule)),
        ConfigKey("controller", "gain_final_ratio", .double(\.controller.gainFinalRatio)),
        ConfigKey("controller", "update_interval", .int(\.controller.updateInterval)),
        ConfigKey("controller", "integral_clamp", .double(\.controller.integralClamp)),
        ConfigKey("controller", "budget_gain_ratio", .double(\.controller.budgetGainRatio)),

        ConfigKey("balance", "alpha", .double(\.balance.alpha)),
        ConfigKey("balance", "groups", .int(\.balance.groups)),
    ]

    /// The TOML tables in file order.
    static let tables = ["model", "train", "data", "init", "controller", "balance"]

    /// The one top-level key that is not a table: a file to load first.
    static let baseKey = "base"

    static let byPath: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })

    /// Key names of one table, in order.
    static func names(in table: String) -> [String] {
        all.filter { $0.table == table }.map(\.name)
    }
}
