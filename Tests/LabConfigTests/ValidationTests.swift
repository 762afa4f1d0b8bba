import Testing
import LabConfig

/// One invalid setting (applied to the defaults), the key it must name and the rule text.
struct InvalidSetting: Sendable, CustomTestStringConvertible {
    let sets: [(String, TOMLValue)]
    let key: String
    let rule: String
    init(_ sets: [(String, TOMLValue)], _ key: String, _ rule: String) {
        self.sets = sets
        self.key = key
        self.rule = rule
    }
    init(_ key: String, _ value: TOMLValue, _ rule: String) {
        self.init([(key, value)], key, rule)
    }
    var testDescription: String { "\(key): \(rule)" }
}

/// Every validation rule rejects a bad value with a message naming the key and what is allowed.
@Suite struct ValidationTests {
    static let positiveInts = [
        "model.vocab_size", "model.hidden_size", "model.num_layers", "model.num_attention_heads", "model.q_lora_rank",
        "model.kv_lora_rank", "model.qk_nope_head_dim", "model.v_head_dim", "model.ffn_hidden_size",
        "model.expert_ffn_hidden_size", "model.n_routed_experts", "train.batch_size", "train.seq_len",
        "train.eval_batches", "train.log_interval", "data.synthetic_bytes", "init.fine_grain_factor",
        "controller.update_interval",
    ]

    static let cases: [InvalidSetting] = positiveInts.map { InvalidSetting($0, .integer(0), ">= 1") } + [
        InvalidSetting([("train.warmup_steps", .integer(0)), ("train.steps", .integer(0))], "train.steps", ">= 1"),
        InvalidSetting("model.qk_rope_head_dim", .integer(0), ">= 1"),
        InvalidSetting("model.qk_rope_head_dim", .integer(7), "even (RoPE rotates pairs of dimensions)"),
        InvalidSetting("model.zero_expert_num", .integer(-1), ">= 0"),
        InvalidSetting("model.moe_topk", .integer(25), "in 1...24 (n_routed_experts + zero_expert_num = 16 + 8)"),
        InvalidSetting("model.moe_topk", .integer(0), "in 1...24"),
        InvalidSetting("model.zero_expert_type", .string("half"), #"one of "identity", "zero", "drop", "constant""#),
        InvalidSetting("model.layout", .string("parallel"), #"one of "scmoe", "sequential""#),
        InvalidSetting("model.routed_scaling_factor", .float(0), "> 0"),
        InvalidSetting("model.rms_norm_eps", .float(-1e-5), "> 0"),
        InvalidSetting("model.rope_theta", .float(1), "> 1 (the RoPE base)"),
        InvalidSetting("model.mtp_loss_coef", .float(-0.1), ">= 0"),
        InvalidSetting("model.hidden_z_loss_coef", .float(-1e-6), ">= 0"),
        InvalidSetting("train.optimizer", .string("sgd"), #"one of "adamw""#),
        InvalidSetting("train.schedule", .string("step"), #"one of "cosine", "constant""#),
        InvalidSetting("train.warmup_steps", .integer(301), "in 0...300 (train.steps)"),
        InvalidSetting("train.warmup_steps", .integer(-1), "in 0...300"),
        InvalidSetting("train.learning_rate", .float(0), "> 0"),
        InvalidSetting("train.min_lr_ratio", .float(1.5), "in [0, 1]"),
        InvalidSetting("train.beta1", .float(1), "in [0, 1)"),
        InvalidSetting("train.beta2", .float(-0.1), "in [0, 1)"),
        InvalidSetting("train.adam_eps", .float(0), "> 0"),
        InvalidSetting("train.weight_decay", .float(-0.1), ">= 0"),
        InvalidSetting("train.grad_clip", .float(-1), ">= 0"),
        InvalidSetting("train.seed", .integer(-1), ">= 0"),
        InvalidSetting("train.eval_interval", .integer(-1), ">= 0"),
        InvalidSetting("train.checkpoint_interval", .integer(-5), ">= 0"),
        InvalidSetting("train.threads", .integer(-1), ">= 0"),
        InvalidSetting("train.token_sample_batches", .integer(5), "in 0...4 (train.eval_batches"),
        InvalidSetting("train.token_sample_batches", .integer(-1), "in 0...4"),
        InvalidSetting("train.trace_tokens", .integer(-1), ">= 0"),
        InvalidSetting("data.tokenizer", .string("wordpiece"), #"one of "byte", "bpe""#),
        InvalidSetting("data.markov_order", .integer(5), "in 1...4"),
        InvalidSetting([("data.tokenizer", .string("bpe"))], "model.vocab_size", #"in 257...65536 with data.tokenizer = "bpe""#),
        InvalidSetting([("data.corpus", .string("kjv")), ("data.cache_dir", .string(""))], "data.cache_dir",
                       #"a folder for the extracted text when data.corpus = "kjv""#),
        InvalidSetting("data.corpus", .string("wiki"), #"one of "tinyshakespeare", "text", "synthetic", "kjv""#),
        InvalidSetting([("data.corpus", .string("text"))], "data.path", #"the text file to read when data.corpus = "text""#),
        InvalidSetting("data.validation_fraction", .float(0), "in (0, 0.5]"),
        InvalidSetting("data.validation_fraction", .float(0.6), "in (0, 0.5]"),
        InvalidSetting([("data.corpus", .string("synthetic")), ("data.synthetic", .string(""))], "data.synthetic",
                       #"one of "copy", "mixture", "arithmetic", "structured", "suite""#),
        InvalidSetting("init.std", .float(0), "> 0"),
        InvalidSetting("init.embedding_std", .float(-1), "> 0"),
        InvalidSetting("controller.kind", .string("bang"), #"one of "pid", "sign", "none""#),
        InvalidSetting("controller.target_ffn_experts", .float(4.5), "0 (meaning model.moe_topk) or in (0, 4] (model.moe_topk)"),
        InvalidSetting("controller.target_ffn_experts", .float(-1), "in (0, 4]"),
        InvalidSetting([("model.zero_expert_num", .integer(0)), ("controller.target_ffn_experts", .float(3))],
                       "controller.target_ffn_experts", "while model.zero_expert_num = 0: below K needs zero experts"),
        InvalidSetting([("model.moe_topk", .integer(20)), ("controller.target_ffn_experts", .float(18))],
                       "controller.target_ffn_experts", "at most model.n_routed_experts = 16"),
        InvalidSetting([("model.moe_topk", .integer(20))], "controller.target_ffn_experts",
                       "at most model.n_routed_experts = 16 (0 means model.moe_topk = 20)"),
        InvalidSetting([("model.zero_expert_num", .integer(2)), ("controller.target_ffn_experts", .float(1))],
                       "controller.target_ffn_experts", "at least 2 (model.moe_topk - model.zero_expert_num = 4 - 2)"),
        InvalidSetting("controller.kp", .float(-1), ">= 0"),
        InvalidSetting("controller.ki", .float(-1e-3), ">= 0"),
        InvalidSetting("controller.kd", .float(-1), ">= 0"),
        InvalidSetting("controller.gamma", .float(-1), ">= 0"),
        InvalidSetting("controller.integral_clamp", .float(-1), ">= 0"),
        InvalidSetting("controller.budget_gain_ratio", .float(-0.5), ">= 0"),
        InvalidSetting("controller.gain_schedule", .string("exp"), #"one of "constant", "linear", "cosine""#),
        InvalidSetting("controller.gain_final_ratio", .float(2), "in [0, 1]"),
        InvalidSetting("balance.groups", .integer(3), "a divisor of model.n_routed_experts = 16: one of 1, 2, 4, 8, 16"),
        InvalidSetting("balance.groups", .integer(0), "a divisor of model.n_routed_experts = 16"),
        InvalidSetting("balance.alpha", .float(-0.1), ">= 0"),
        InvalidSetting("routing.mode", .string("random"), #"one of "adaptive", "fixed_split", "no_zero_selection""#),
        InvalidSetting("init.variance_compensation_scope", .string("ffn"), #"one of "all", "routed""#),
        InvalidSetting([("routing.mode", .string("fixed_split"))], "controller.target_ffn_experts",
                       #"an integer in 1...3 (model.moe_topk - 1) with routing.mode = "fixed_split""#),
        InvalidSetting([("routing.mode", .string("fixed_split")), ("controller.target_ffn_experts", .float(2.5))],
                       "controller.target_ffn_experts", #"an integer in 1...3 (model.moe_topk - 1)"#),
        InvalidSetting([("routing.mode", .string("no_zero_selection")), ("controller.target_ffn_experts", .float(2))],
                       "controller.target_ffn_experts", #"0 or 4 (model.moe_topk) with routing.mode = "no_zero_selection""#),
        InvalidSetting([("routing.mode", .string("no_zero_selection")), ("model.zero_expert_num", .integer(0))],
                       "routing.mode", #""adaptive" while model.zero_expert_num = 0: "no_zero_selection" needs zero experts"#),
    ]

    @Test func defaultsAreValid() throws {
        try validate(LabConfig())
    }

    /// A choice's value is checked as it is read (`set`, a file, `--set`), every other rule by
    /// `validate`; both give the same "key = value: must be ..." message.
    @Test(arguments: cases)
    func ruleNamesKeyAndRange(_ c: InvalidSetting) throws {
        var config = LabConfig()
        var rejected: TOMLValue? = nil
        guard let e = configError({
            for (key, value) in c.sets {
                rejected = value
                try config.set(key, value)
            }
            rejected = nil
            try validate(config)
        }) else { return }
        #expect(e.problems.count == 1, "\(e)")
        #expect(e.problems.first?.keyPath == c.key)
        let shown = rejected ?? config.tomlValue(forKey: c.key)!
        #expect(e.description.hasPrefix("\(c.key) = \(shown): must be "), "\(e)")
        #expect(e.description.contains(c.rule), "\(e)")
    }

    /// Guards against a config that is valid in every key but one breaking a boundary rule:
    /// the edges of each range are accepted.
    @Test func rangeEdgesAreAccepted() throws {
        var c = LabConfig()
        try c.set("model.moe_topk", .integer(24))
        try c.set("train.warmup_steps", .integer(300))
        try c.set("train.beta1", .float(0))
        try c.set("data.validation_fraction", .float(0.5))
        try c.set("controller.target_ffn_experts", .float(16))   // K_e = N and K - K_e = Z
        try c.set("balance.groups", .integer(16))
        try c.set("train.grad_clip", .float(0))
        try validate(c)
    }

    @Test func nonFiniteFieldIsRejected() {
        var c = LabConfig()
        c.train.learningRate = .nan
        c.model.ropeTheta = .infinity
        let e = configError { try validate(c) }
        #expect(e?.description == "model.rope_theta = inf: must be a finite number\ntrain.learning_rate = nan: must be a finite number")
    }

    /// All problems are reported together, one per line, not just the first.
    @Test func allProblemsReportedTogether() throws {
        var c = LabConfig()
        try c.set("model.hidden_size", .integer(0))
        try c.set("balance.alpha", .float(-1))
        try c.set("train.beta1", .float(1))
        guard let e = configError({ try validate(c) }) else { return }
        #expect(e.problems.compactMap(\.keyPath) == ["model.hidden_size", "train.beta1", "balance.alpha"])
        #expect(e.description.split(separator: "\n").count == 3)
    }
}

/// The choices are declared once, as enums, and every string key with a closed set of values is one.
@Suite struct ChoiceTests {
    /// Guards against a choice key whose allowed values drift from the enum the code switches
    /// over (a value validation accepts that the model cannot handle, or the reverse).
    @Test func choiceKeysListTheirEnumsCases() {
        let choices = Dictionary(uniqueKeysWithValues: LabConfig.fields.compactMap { f in f.choices.map { (f.path, $0) } })
        func names<C: ConfigChoice>(_: C.Type) -> [String] { C.allCases.map(\.rawValue) }
        #expect(choices == [
            "model.zero_expert_type": names(ZeroExpertType.self), "model.layout": names(MoELayout.self),
            "routing.mode": names(RoutingMode.self),
            "init.variance_compensation_scope": names(CompensationScope.self),
            "train.optimizer": names(OptimizerKind.self), "train.schedule": names(TrainSchedule.self),
            "data.corpus": names(CorpusKind.self), "data.synthetic": names(SyntheticKind.self),
            "data.tokenizer": names(TokenizerKind.self), "controller.kind": names(ControllerKind.self),
            "controller.gain_schedule": names(GainSchedule.self),
        ])
        // The only text keys left are paths and two small lists whose rows check their syntax.
        let freeText = LabConfig.fields.filter { $0.choices == nil && LabConfig().tomlValue(forKey: $0.path)?.kindName == "a string" }
        #expect(freeText.map(\.path) == ["train.pin_checkpoints", "data.path", "data.cache_dir", "data.domain_weights"])
        var bad = LabConfig()
        bad.train.pinCheckpoints = "100, x"
        bad.data.domainWeights = "c:1, latin:2"
        do {
            try validate(bad)
            Issue.record("a malformed pin list and an unknown domain were accepted")
        } catch {
            #expect("\(error)".contains("train.pin_checkpoints") && "\(error)".contains("data.domain_weights"))
        }
    }

    /// Guards against a bad choice losing its place: from a file it names the file and line,
    /// from --set the override, and every field keeps a documentation line.
    @Test func badChoiceNamesItsSource() throws {
        let file = configError { _ = try LabConfig.parse(text: "[controller]\n\nkind = \"pi\"", file: "exp.toml", overrides: []) }
        #expect(file?.description == #"exp.toml:3: controller.kind = "pi": must be one of "pid", "sign", "none""#)
        let set = configError { _ = try LabConfig.parse(text: "", file: "exp.toml", overrides: ["controller.gain_schedule=exp"]) }
        #expect(set?.description == #"controller.gain_schedule = "exp": must be one of "constant", "linear", "cosine" (from --set)"#)
        #expect(LabConfig.fields.allSatisfy { !$0.doc.isEmpty })
    }

    /// Guards against the routing controls rejecting the splits they exist for: fixed_split at
    /// every integral K_e in 1...K-1 and no_zero_selection at K_e = K are valid.
    @Test func routingControlsAcceptTheirSplits() throws {
        for ke in 1...3 {
            var c = LabConfig()
            c.routing.mode = .fixedSplit
            c.controller.targetFfnExperts = Double(ke)
            try validate(c)
            #expect(c.fixedFfnSlots == ke)
        }
        var c = LabConfig()
        c.routing.mode = .noZeroSelection
        try validate(c)
        #expect(c.fixedFfnSlots == 4)
        #expect(LabConfig().fixedFfnSlots == nil)
    }
}
