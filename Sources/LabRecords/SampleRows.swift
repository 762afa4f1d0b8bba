/// Row structs of the per-step tables written on some steps only (distributions, samples,
/// statistics, per-label evaluations), and the record of one step. See StepRows.swift.

/// How many tokens used a given number of FFN experts, and the parameters that activated:
/// table `activated_params`, key (run_id, step, ffn_experts).
public struct ActivatedParamsRow: Sendable, Equatable {
    public var step = 0
    public var ffnExperts = 0
    public var tokens = 0
    /// Parameters activated per token that uses `ffnExperts` FFN experts.
    public var activatedParams = 0

    public init(step: Int, ffnExperts: Int, tokens: Int, activatedParams: Int) {
        self.step = step; self.ffnExperts = ffnExperts; self.tokens = tokens
        self.activatedParams = activatedParams
    }
}

extension ActivatedParamsRow: StoredRow {
    init() {}

    static let table = RowTable<ActivatedParamsRow>("activated_params", [
        Column("step", \.step, .key, doc: "0-based step"),
        Column("ffn_experts", \.ffnExperts, .key, doc: "FFN experts a token used over all layers"),
        Column("tokens", \.tokens, doc: "tokens of the step that used that many"),
        Column("activated_params", \.activatedParams, doc: "parameters such a token activates"),
    ])
}

/// The routing of one token of the evaluation batch at one layer: table `token_samples`,
/// key (run_id, step, sample, position, layer).
public struct TokenSampleRow: Sendable, Equatable {
    public var step = 0
    /// Index of the sequence within the evaluation batch.
    public var sample = 0
    public var position = 0
    public var layer = 0
    public var token = 0
    /// Difficulty label of synthetic corpora; nil otherwise.
    public var label: String?
    /// Number of FFN (non-zero) experts the token used.
    public var ffnExperts = 0
    /// The FFN expert ids, stored as space-separated text (`"3 17"`).
    public var experts: [Int] = []

    public init(step: Int, sample: Int, position: Int, layer: Int, token: Int, label: String?,
                ffnExperts: Int, experts: [Int]) {
        self.step = step; self.sample = sample; self.position = position; self.layer = layer
        self.token = token; self.label = label; self.ffnExperts = ffnExperts; self.experts = experts
    }
}

extension TokenSampleRow: StoredRow {
    init() {}

    static let table = RowTable<TokenSampleRow>("token_samples", [
        Column("step", \.step, .key, doc: "0-based step"),
        Column("sample", \.sample, .key, doc: "sequence within the sampled batch"),
        Column("position", \.position, .key, doc: "position within the sequence"),
        Column("layer", \.layer, .key, doc: "MoE layer"),
        Column("token", \.token, doc: "token id"),
        Column("label", \.label, doc: "difficulty label; NULL for unlabelled corpora"),
        Column("ffn_experts", \.ffnExperts, doc: "FFN experts the token used in this layer"),
        Column("experts", \.experts, doc: "FFN expert ids, space-separated"),
    ])
}

/// One statistic of one module's activations or gradients: table `variance_stats`,
/// key (run_id, step, layer, module, statistic). Use layer -1 for model-wide modules.
public struct VarianceRow: Sendable, Equatable {
    public var step = 0
    public var layer = 0
    public var module = ""
    public var statistic = ""
    public var value = 0.0

    public init(step: Int, layer: Int, module: String, statistic: String, value: Double) {
        self.step = step; self.layer = layer; self.module = module; self.statistic = statistic
        self.value = value
    }
}

extension VarianceRow: StoredRow {
    init() {}

    static let table = RowTable<VarianceRow>("variance_stats", [
        Column("step", \.step, .key, doc: "0-based step"),
        Column("layer", \.layer, .signedKey, doc: "layer, or -1 for model-wide modules"),
        Column("module", \.module, .key, doc: "module name"),
        Column("statistic", \.statistic, .key, doc: "statistic name"),
        Column("value", \.value, doc: "its value"),
    ])
}

/// The held-out loss of one difficulty label (or token class) at one evaluation: table
/// `eval_by_label`, key (run_id, step, label). Written at each evaluation of a labelled corpus.
public struct EvalLabelRow: Sendable, Equatable {
    public var step = 0
    /// The label's name.
    public var label = ""
    /// Mean loss (nats/token) of the evaluation tokens whose predicted token carries the label.
    public var loss = 0.0
    /// How many evaluation tokens carry it.
    public var tokens = 0

    public init(step: Int, label: String, loss: Double, tokens: Int) {
        self.step = step; self.label = label; self.loss = loss; self.tokens = tokens
    }
}

extension EvalLabelRow: StoredRow {
    init() {}

    static let table = RowTable<EvalLabelRow>("eval_by_label", [
        Column("step", \.step, .key, doc: "the evaluation's step"),
        Column("label", \.label, .key, doc: "label name"),
        Column("loss", \.loss, doc: "mean held-out loss of the label's tokens (nats/token)"),
        Column("tokens", \.tokens, doc: "evaluation tokens with the label"),
    ])
}

/// Everything recorded for one step of one run; `RecordStore.record` writes it in one transaction.
public struct StepRecord: Sendable, Equatable {
    public var runID: Int64
    public var step: StepRow
    public var layers: [LayerStepRow]
    public var experts: [ExpertStepRow]
    public var activatedParams: [ActivatedParamsRow]
    public var tokenSamples: [TokenSampleRow]
    public var variance: [VarianceRow]
    public var evalByLabel: [EvalLabelRow]
    public var routingTraces: [RoutingTraceRow]

    public init(runID: Int64, step: StepRow, layers: [LayerStepRow] = [], experts: [ExpertStepRow] = [],
                activatedParams: [ActivatedParamsRow] = [], tokenSamples: [TokenSampleRow] = [],
                variance: [VarianceRow] = [], evalByLabel: [EvalLabelRow] = [], routingTraces: [RoutingTraceRow] = []) {
        self.runID = runID; self.step = step; self.layers = layers; self.experts = experts
        self.activatedParams = activatedParams; self.tokenSamples = tokenSamples; self.variance = variance
        self.evalByLabel = evalByLabel; self.routingTraces = routingTraces
    }
}
