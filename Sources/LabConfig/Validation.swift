/// Rejects configurations that cannot be trained: every problem is collected and thrown
/// together, one per line, each naming the key path, its value and what is allowed.
///
/// This is the only validation of a config: the model, the controller and the trainer trust a
/// config that passed it. Rules on one key's own value sit in its `ConfigField` row (choices
/// are checked when the value is read); the rules below relate two or more keys. Checks that
/// need the corpus (a batch longer than the text, say) belong to LabData.
public func validate(_ c: LabConfig) throws {
    let problems = validationProblems(c)
    if !problems.isEmpty { throw ConfigError(problems) }
}

/// All rule violations of `c`, in key order, one per key; `keyPath` is set on each.
func validationProblems(_ c: LabConfig) -> [ConfigProblem] {
    var v = Validator(config: c)
    for field in LabConfig.fields {
        if let rule = field.broken(c) { v.require(false, field.path, rule) }
    }
    v.checkModel()
    v.checkTrain()
    v.checkData()
    v.checkController()
    v.checkBalance()
    v.checkRouting()
    let order = Dictionary(uniqueKeysWithValues: LabConfig.fields.enumerated().map { ($1.path, $0) })
    return v.problems.enumerated()
        .sorted { (order[$0.element.keyPath!]!, $0.offset) < (order[$1.element.keyPath!]!, $1.offset) }
        .map(\.element)
}

/// Holds the config and the problems so far; one problem per key at most (the first found).
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

    mutating func checkModel() {
        let m = config.model
        let total = m.nRoutedExperts + max(0, m.zeroExpertNum)
        require((1...max(1, total)).contains(m.moeTopk), "model.moe_topk",
                "in 1...\(total) (n_routed_experts + zero_expert_num = \(m.nRoutedExperts) + \(m.zeroExpertNum))")
    }

    mutating func checkTrain() {
        let t = config.train
        require(t.warmupSteps >= 0 && t.warmupSteps <= t.steps, "train.warmup_steps",
                "in 0...\(t.steps) (train.steps)")
        // Judged against eval_batches only once that is valid itself (one problem per cause).
        require(t.tokenSampleBatches >= 0 && (t.evalBatches < 1 || t.tokenSampleBatches <= t.evalBatches),
                "train.token_sample_batches",
                "in 0...\(t.evalBatches) (train.eval_batches; 0 records no token samples)")
    }

    mutating func checkData() {
        let d = config.data
        require(d.corpus != .text || !d.path.isEmpty, "data.path", "the text file to read when data.corpus = \"text\"")
        require(d.tokenizer != .bpe || (257...65_536).contains(config.model.vocabSize), "model.vocab_size",
                "in 257...65536 with data.tokenizer = \"bpe\" (256 bytes plus the merges)")
        require((d.corpus != .kjv && d.corpus != .mix) || !d.cacheDir.isEmpty, "data.cache_dir",
                "a folder for the extracted text when data.corpus = \"\(d.corpus.rawValue)\"")
    }

    /// K_e must be reachable: a token picks K distinct experts, so it uses at most N FFN
    /// experts and fills at most Z zero slots.
    mutating func checkController() {
        let target = config.controller.targetFfnExperts
        let n = config.model.nRoutedExperts, z = config.model.zeroExpertNum, k = config.model.moeTopk
        let path = "controller.target_ffn_experts"
        require(target == 0 || (target > 0 && target <= Double(k)), path,
                "0 (meaning model.moe_topk) or in (0, \(k)] (model.moe_topk)")
        require(target == 0 || target >= Double(k) || z > 0, path,
                "0 or \(k) (model.moe_topk) while model.zero_expert_num = 0: below K needs zero experts")
        // Judged only on a router shape that is valid itself (one problem per cause).
        guard n >= 1, z >= 0, (1...(n + z)).contains(k) else { return }
        let ke = target == 0 ? Double(k) : target
        require(ke <= Double(n), path,
                "at most model.n_routed_experts = \(n) (0 means model.moe_topk = \(k)): a token picks distinct "
                    + "experts, so it can use at most N FFN experts")
        require(Double(k) - ke <= Double(max(0, z)), path,
                "at least \(k - z) (model.moe_topk - model.zero_expert_num = \(k) - \(z)): a token picks distinct "
                    + "experts, so it can fill at most Z zero slots")
    }

    mutating func checkBalance() {
        let n = config.model.nRoutedExperts, groups = config.balance.groups
        if n >= 1 {
            let divisors = (1...n).filter { n % $0 == 0 }.map(String.init).joined(separator: ", ")
            require(groups >= 1 && n % groups == 0, "balance.groups",
                    "a divisor of model.n_routed_experts = \(n): one of \(divisors)")
        } else {
            require(groups >= 1, "balance.groups", ">= 1")
        }
    }

    /// The controls fix the split, so it must be one a token can take: fixed_split needs an
    /// integral K_e strictly between 0 and K, no_zero_selection needs K <= N; both need zero
    /// experts (without them every mode is the plain top-K).
    mutating func checkRouting() {
        let mode = config.routing.mode
        guard mode != .adaptive else { return }
        let n = config.model.nRoutedExperts, z = config.model.zeroExpertNum, k = config.model.moeTopk
        require(z >= 1, "routing.mode",
                "\"adaptive\" while model.zero_expert_num = \(z): \"\(mode.rawValue)\" needs zero experts")
        switch mode {
        case .adaptive:
            break
        case .fixedSplit:
            let target = config.controller.targetFfnExperts
            require(k >= 2 && target >= 1 && target <= Double(k - 1) && target == target.rounded(),
                    "controller.target_ffn_experts",
                    "an integer in 1...\(k - 1) (model.moe_topk - 1) with routing.mode = \"fixed_split\": "
                        + "every token takes exactly K_e FFN experts and K - K_e zero experts")
        case .noZeroSelection:
            require(k <= n, "model.moe_topk",
                    "at most model.n_routed_experts = \(n) with routing.mode = \"no_zero_selection\": every "
                        + "slot takes an FFN expert")
            let target = config.controller.targetFfnExperts
            require(target == 0 || target == Double(k), "controller.target_ffn_experts",
                    "0 or \(k) (model.moe_topk) with routing.mode = \"no_zero_selection\": every slot takes an "
                        + "FFN expert")
        }
    }
}
