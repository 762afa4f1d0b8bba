/// Rejects configurations that cannot be trained: every problem is collected and thrown
/// together, one per line, each naming the key path, its value and what is allowed.
///
/// Checks that need the corpus (a batch longer than the text, say) belong to LabData.
public func validate(_ c: LabConfig) throws {
    let problems = validationProblems(c)
    if !problems.isEmpty { throw ConfigError(problems) }
}

/// All rule violations of `c`, in key order; `keyPath` is set on each.
func validationProblems(_ c: LabConfig) -> [ConfigProblem] {
    var v = Validator(config: c)
    v.checkFinite()
    v.checkModel()
    v.checkTrain()
    v.checkData()
    v.checkInit()
    v.checkController()
    v.checkBalance()
    return v.problems
}

/// Holds the config and the problems so far; one problem per key at most.
private struct Validator {
    let config: LabConfig
    var problems: [ConfigProblem] = []
    private var reported: Set<String> = []

    init(config: LabConfig) { self.config = config }

    /// Records `path = value: must be <rule>` unless `ok` or the key is already reported.
    mutating func require(_ ok: Bool, _ path: String, _ rule: String) {
        guard !ok, !reported.contains(path) else { return }
        reported.insert(path)
        let shown = config.tomlValue(forKey: path)?.description ?? "?"
        problems.append(ConfigProblem(keyPath: path, "\(path) = \(shown): must be \(rule)"))
    }

    func int(_ path: String) -> Int {
        guard case .integer(let i) = config.tomlValue(forKey: path) else { preconditionFailure("\(path) is not an integer key") }
        return i
    }

    func double(_ path: String) -> Double {
        guard case .float(let x) = config.tomlValue(forKey: path) else { preconditionFailure("\(path) is not a float key") }
        return x
    }

    mutating func atLeast(_ minimum: Int, _ paths: String...) {
        for p in paths { require(int(p) >= minimum, p, ">= \(minimum)") }
    }

    mutating func positive(_ paths: String...) {
        for p in paths { require(double(p) > 0, p, "> 0") }
    }

    mutating func nonNegative(_ paths: String...) {
        for p in paths { require(double(p) >= 0, p, ">= 0") }
    }

    mutating func oneOf(_ path: String, _ allowed: [String]) {
        guard case .string(let s) = config.tomlValue(forKey: path) else { preconditionFailure("\(path) is not a string key") }
        require(allowed.contains(s), path, "one of " + allowed.map(tomlQuoted).joined(separator: ", "))
    }

    /// Values set through `LabConfig`'s fields directly may be inf or nan; files cannot be.
    mutating func checkFinite() {
        for key in ConfigKey.all {
            if case .float(let x) = config[key] { require(x.isFinite, key.path, "a finite number") }
        }
    }

    mutating func checkModel() {
        let m = config.model
        atLeast(1, "model.vocab_size", "model.hidden_size", "model.num_layers", "model.num_attention_heads",
                "model.q_lora_rank", "model.kv_lora_rank", "model.qk_nope_head_dim", "model.qk_rope_head_dim",
                "model.v_head_dim", "model.ffn_hidden_size", "model.expert_ffn_hidden_size", "model.n_routed_experts")
        atLeast(0, "model.zero_expert_num")
        require(m.qkRopeHeadDim % 2 == 0, "model.qk_rope_head_dim", "even (RoPE rotates pairs of dimensions)")
        let total = m.nRoutedExperts + max(0, m.zeroExpertNum)
        require((1...max(1, total)).contains(m.moeTopk), "model.moe_topk",
                "in 1...\(total) (n_routed_experts + zero_expert_num = \(m.nRoutedExperts) + \(m.zeroExpertNum))")
        oneOf("model.zero_expert_type", ["identity", "zero", "drop", "constant"])
        positive("model.routed_scaling_factor", "model.rms_norm_eps")
        require(m.ropeTheta > 1, "model.rope_theta", "> 1 (the RoPE base)")
        oneOf("model.layout", ["scmoe", "sequential"])
        nonNegative("model.mtp_loss_coef", "model.hidden_z_loss_coef")
    }

    mutating func checkTrain() {
        let t = config.train
        atLeast(1, "train.steps", "train.batch_size", "train.seq_len", "train.eval_batches", "train.log_interval")
        atLeast(0, "train.seed", "train.eval_interval", "train.checkpoint_interval", "train.variance_interval",
                "train.threads", "train.telemetry_interval")
        oneOf("train.optimizer", ["adamw"])
        positive("train.learning_rate", "train.adam_eps")
        require((0...1).contains(t.minLrRatio), "train.min_lr_ratio", "in [0, 1]")
        oneOf("train.schedule", ["cosine", "constant"])
        require(t.warmupSteps >= 0 && t.warmupSteps <= t.steps, "train.warmup_steps",
                "in 0...\(t.steps) (train.steps)")
        require(t.beta1 >= 0 && t.beta1 < 1, "train.beta1", "in [0, 1)")
        require(t.beta2 >= 0 && t.beta2 < 1, "train.beta2", "in [0, 1)")
        nonNegative("train.weight_decay", "train.grad_clip")
        // Judged against eval_batches only once that is valid itself (one problem per cause).
        atLeast(1, "train.grad_accum")
        atLeast(0, "train.keep_checkpoints")
        require(DataConfig.parseList(t.pinCheckpoints, { Int($0).flatMap { $0 >= 1 ? $0 : nil } }) != nil,
                "train.pin_checkpoints", "a comma-separated list of steps >= 1, e.g. \"100, 400\" (\"\" pins none)")
        require(t.tokenSampleBatches >= 0 && (t.evalBatches < 1 || t.tokenSampleBatches <= t.evalBatches),
                "train.token_sample_batches",
                "in 0...\(t.evalBatches) (train.eval_batches; 0 records no token samples)")
    }

    mutating func checkData() {
        let d = config.data
        oneOf("data.corpus", ["tinyshakespeare", "text", "synthetic", "kjv", "mix"])
        require(d.corpus != "text" || !d.path.isEmpty, "data.path", "the text file to read when data.corpus = \"text\"")
        require(d.validationFraction > 0 && d.validationFraction <= 0.5, "data.validation_fraction", "in (0, 0.5]")
        require(d.corpus != "synthetic" || !d.synthetic.isEmpty, "data.synthetic",
                "a generator name when data.corpus = \"synthetic\"")
        atLeast(1, "data.synthetic_bytes")
        require((1...4).contains(d.markovOrder), "data.markov_order", "in 1...4")
        oneOf("data.tokenizer", ["byte", "bpe"])
        require(d.tokenizer != "bpe" || (257...65_536).contains(config.model.vocabSize), "model.vocab_size",
                "in 257...65536 with data.tokenizer = \"bpe\" (256 bytes plus the merges)")
        require((d.corpus != "kjv" && d.corpus != "mix") || !d.cacheDir.isEmpty, "data.cache_dir",
                "a folder for the extracted text when data.corpus = \"\(d.corpus)\"")
        require(d.parsedDomainWeights != nil, "data.domain_weights",
                "\"\" or a list like \"c:0.4, python:0.2\" over the domains "
                + DataConfig.mixDomains.joined(separator: ", ") + " (each once, weights >= 0, not all 0)")
        atLeast(0, "data.c_bytes")
        atLeast(1, "data.bpe_sample_bytes")
    }

    mutating func checkInit() {
        positive("init.std", "init.embedding_std")
        atLeast(1, "init.fine_grain_factor")
    }

    mutating func checkController() {
        let c = config.controller, k = config.model.moeTopk
        oneOf("controller.kind", ["pid", "sign", "none"])
        let target = c.targetFfnExperts
        require(target == 0 || (target > 0 && target <= Double(k)), "controller.target_ffn_experts",
                "0 (meaning model.moe_topk) or in (0, \(k)] (model.moe_topk)")
        require(target == 0 || target >= Double(k) || config.model.zeroExpertNum > 0, "controller.target_ffn_experts",
                "0 or \(k) (model.moe_topk) while model.zero_expert_num = 0: below K needs zero experts")
        nonNegative("controller.kp", "controller.ki", "controller.kd", "controller.gamma", "controller.integral_clamp",
                    "controller.budget_gain_ratio")
        oneOf("controller.gain_schedule", ["constant", "linear", "cosine"])
        require((0...1).contains(c.gainFinalRatio), "controller.gain_final_ratio", "in [0, 1]")
        atLeast(1, "controller.update_interval")
    }

    mutating func checkBalance() {
        let n = config.model.nRoutedExperts, groups = config.balance.groups
        nonNegative("balance.alpha")
        if n >= 1 {
            let divisors = (1...n).filter { n % $0 == 0 }.map(String.init).joined(separator: ", ")
            require(groups >= 1 && n % groups == 0, "balance.groups",
                    "a divisor of model.n_routed_experts = \(n): one of \(divisors)")
        } else {
            atLeast(1, "balance.groups")
        }
    }
}
