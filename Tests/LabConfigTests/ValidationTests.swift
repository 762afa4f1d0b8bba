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
        InvalidSetting("data.tokenizer", .string("wordpiece"), #"one of "byte", "bpe""#),
        InvalidSetting("data.markov_order", .integer(5), "in 1...4"),
        InvalidSetting([("data.tokenizer", .string("bpe"))], "model.vocab_size", #"in 257...65536 with data.tokenizer = "bpe""#),
        InvalidSetting([("data.corpus", .string("kjv")), ("data.cache_dir", .string(""))], "data.cache_dir",
                       #"a folder for the extracted text when data.corpus = "kjv""#),
        InvalidSetting("data.corpus", .string("wiki"), #"one of "tinyshakespeare", "text", "synthetic", "kjv""#),
        InvalidSetting([("data.corpus", .string("text"))], "data.path", #"the text file to read when data.corpus = "text""#),
        InvalidSetting("data.validation_fraction", .float(0), "in (0, 0.5]"),
        InvalidSetting("data.validation_fraction", .float(0.6), "in (0, 0.5]"),
        InvalidSetting([("data.corpus", .string("synthetic")), ("data.synthetic", .string(""))], "data.synthetic", "a generator name"),
        InvalidSetting("init.std", .float(0), "> 0"),
        InvalidSetting("init.embedding_std", .float(-1), "> 0"),
        InvalidSetting("controller.kind", .string("bang"), #"one of "pid", "sign", "none""#),
        InvalidSetting("controller.target_ffn_experts", .float(4.5), "0 (meaning model.moe_topk) or in (0, 4] (model.moe_topk)"),
        InvalidSetting("controller.target_ffn_experts", .float(-1), "in (0, 4]"),
        InvalidSetting([("model.zero_expert_num", .integer(0)), ("controller.target_ffn_experts", .float(3))],
                       "controller.target_ffn_experts", "while model.zero_expert_num = 0: below K needs zero experts"),
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
    ]

    @Test func defaultsAreValid() throws {
        try validate(LabConfig())
    }

    @Test(arguments: cases)
    func ruleNamesKeyAndRange(_ c: InvalidSetting) throws {
        var config = LabConfig()
        for (key, value) in c.sets { try config.set(key, value) }
        guard let e = configError({ try validate(config) }) else { return }
        #expect(e.problems.count == 1, "\(e)")
        #expect(e.problems.first?.keyPath == c.key)
        let shown = config.tomlValue(forKey: c.key)!
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
        try c.set("controller.target_ffn_experts", .float(24))
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
        try c.set("train.optimizer", .string("sgd"))
        try c.set("balance.alpha", .float(-1))
        guard let e = configError({ try validate(c) }) else { return }
        #expect(e.problems.compactMap(\.keyPath) == ["model.hidden_size", "train.optimizer", "balance.alpha"])
        #expect(e.description.split(separator: "\n").count == 3)
    }
}
