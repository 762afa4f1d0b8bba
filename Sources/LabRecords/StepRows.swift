/// Row structs of the per-step tables. Each row carries its `step` (not its run: the run id is
/// given once per `StepRecord` or query). A NaN stored in a REAL column reads back as NaN
/// (SQLite keeps it as NULL); optional fields are NULL when absent.

/// One training step: table `steps`, primary key (run_id, step).
public struct StepRow: Sendable, Equatable {
    public var step: Int
    public var tokensSeen: Int
    /// Total loss optimised: lm + balance + z + mtp terms.
    public var loss: Double
    public var lmLoss: Double
    public var balanceLoss: Double
    public var zLoss: Double
    /// Multi-token-prediction loss; nil when MTP is off.
    public var mtpLoss: Double?
    public var lr: Double
    public var gradNorm: Double
    public var stepMs: Double
    public var tokensPerS: Double
    /// Held-out loss; nil except on evaluation steps.
    public var evalLoss: Double?
    /// Milliseconds spent recording; nil lets `record` measure its own work and store that.
    public var recordMs: Double?

    public init(step: Int, tokensSeen: Int, loss: Double, lmLoss: Double, balanceLoss: Double,
                zLoss: Double, mtpLoss: Double?, lr: Double, gradNorm: Double, stepMs: Double,
                tokensPerS: Double, evalLoss: Double? = nil, recordMs: Double? = nil) {
        self.step = step; self.tokensSeen = tokensSeen; self.loss = loss; self.lmLoss = lmLoss
        self.balanceLoss = balanceLoss; self.zLoss = zLoss; self.mtpLoss = mtpLoss; self.lr = lr
        self.gradNorm = gradNorm; self.stepMs = stepMs; self.tokensPerS = tokensPerS
        self.evalLoss = evalLoss; self.recordMs = recordMs
    }
}

extension StepRow: StoredRow {
    static let sql = RowSQL(table: "steps", columns: [
        "step", "tokens_seen", "loss", "lm_loss", "balance_loss", "z_loss", "mtp_loss", "lr",
        "grad_norm", "step_ms", "tokens_per_s", "eval_loss", "record_ms",
    ])

    init(reading r: inout RowReader) {
        self.init(step: r.int(), tokensSeen: r.int(), loss: r.double(), lmLoss: r.double(),
                  balanceLoss: r.double(), zLoss: r.double(), mtpLoss: r.optionalDouble(), lr: r.double(),
                  gradNorm: r.double(), stepMs: r.double(), tokensPerS: r.double(),
                  evalLoss: r.optionalDouble(), recordMs: r.optionalDouble())
    }

    func write(to w: inout RowBinder) {
        w.add(step); w.add(tokensSeen); w.add(loss); w.add(lmLoss); w.add(balanceLoss); w.add(zLoss)
        w.add(mtpLoss); w.add(lr); w.add(gradNorm); w.add(stepMs); w.add(tokensPerS); w.add(evalLoss)
        w.add(recordMs)
    }
}

/// Routing statistics of one MoE layer at one step: table `layer_steps`, key (run_id, step, layer).
public struct LayerStepRow: Sendable, Equatable {
    public var step: Int
    public var layer: Int
    /// Fraction of the step's routing slots that went to zero experts.
    public var zeroExpertShare: Double
    /// Mean and standard deviation over tokens of the number of FFN (non-zero) experts used.
    public var ffnExpertsMean: Double
    public var ffnExpertsStd: Double
    /// MaxVio = (max_i load_i - mean load) / mean load.
    public var maxVio: Double
    public var routerEntropy: Double
    public var balanceLoss: Double
    /// R_g = ||alpha grad_P L_LB|| / ||grad_P L_LM|| (P: batch-mean router probabilities); nil when
    /// not measured this step.
    public var gradNormRatio: Double?
    /// Mean pairwise cosine of the experts' router rows; nil when not measured this step.
    public var routerSimilarity: Double?

    public init(step: Int, layer: Int, zeroExpertShare: Double, ffnExpertsMean: Double,
                ffnExpertsStd: Double, maxVio: Double, routerEntropy: Double, balanceLoss: Double,
                gradNormRatio: Double? = nil, routerSimilarity: Double? = nil) {
        self.step = step; self.layer = layer; self.zeroExpertShare = zeroExpertShare
        self.ffnExpertsMean = ffnExpertsMean; self.ffnExpertsStd = ffnExpertsStd; self.maxVio = maxVio
        self.routerEntropy = routerEntropy; self.balanceLoss = balanceLoss
        self.gradNormRatio = gradNormRatio; self.routerSimilarity = routerSimilarity
    }
}

extension LayerStepRow: StoredRow {
    static let sql = RowSQL(table: "layer_steps", columns: [
        "step", "layer", "zero_expert_share", "ffn_experts_mean", "ffn_experts_std", "max_vio",
        "router_entropy", "balance_loss", "grad_norm_ratio", "router_similarity",
    ])

    init(reading r: inout RowReader) {
        self.init(step: r.int(), layer: r.int(), zeroExpertShare: r.double(), ffnExpertsMean: r.double(),
                  ffnExpertsStd: r.double(), maxVio: r.double(), routerEntropy: r.double(),
                  balanceLoss: r.double(), gradNormRatio: r.optionalDouble(), routerSimilarity: r.optionalDouble())
    }

    func write(to w: inout RowBinder) {
        w.add(step); w.add(layer); w.add(zeroExpertShare); w.add(ffnExpertsMean); w.add(ffnExpertsStd)
        w.add(maxVio); w.add(routerEntropy); w.add(balanceLoss); w.add(gradNormRatio); w.add(routerSimilarity)
    }
}

/// One expert (routed or zero) of one layer at one step: table `expert_steps`,
/// key (run_id, step, layer, expert).
public struct ExpertStepRow: Sendable, Equatable {
    public var step: Int
    public var layer: Int
    public var expert: Int
    public var isZero: Bool
    /// Routing slots assigned to this expert this step.
    public var tokens: Int
    public var loadShare: Double
    /// The expert's routing bias after this step's controller update.
    public var bias: Double
    /// The controller's proportional, integral and derivative terms of this step's update.
    public var pTerm: Double
    public var iTerm: Double
    public var dTerm: Double
    /// Mean gate weight over the slots this expert received.
    public var meanGate: Double

    public init(step: Int, layer: Int, expert: Int, isZero: Bool, tokens: Int, loadShare: Double,
                bias: Double, pTerm: Double, iTerm: Double, dTerm: Double, meanGate: Double) {
        self.step = step; self.layer = layer; self.expert = expert; self.isZero = isZero
        self.tokens = tokens; self.loadShare = loadShare; self.bias = bias
        self.pTerm = pTerm; self.iTerm = iTerm; self.dTerm = dTerm; self.meanGate = meanGate
    }
}

extension ExpertStepRow: StoredRow {
    static let sql = RowSQL(table: "expert_steps", columns: [
        "step", "layer", "expert", "is_zero", "tokens", "load_share", "bias", "p_term", "i_term",
        "d_term", "mean_gate",
    ])

    init(reading r: inout RowReader) {
        self.init(step: r.int(), layer: r.int(), expert: r.int(), isZero: r.bool(), tokens: r.int(),
                  loadShare: r.double(), bias: r.double(), pTerm: r.double(), iTerm: r.double(),
                  dTerm: r.double(), meanGate: r.double())
    }

    func write(to w: inout RowBinder) {
        w.add(step); w.add(layer); w.add(expert); w.add(isZero); w.add(tokens); w.add(loadShare)
        w.add(bias); w.add(pTerm); w.add(iTerm); w.add(dTerm); w.add(meanGate)
    }
}

/// How many tokens used a given number of FFN experts, and the parameters that activated:
/// table `activated_params`, key (run_id, step, ffn_experts).
public struct ActivatedParamsRow: Sendable, Equatable {
    public var step: Int
    public var ffnExperts: Int
    public var tokens: Int
    /// Parameters activated per token that uses `ffnExperts` FFN experts.
    public var activatedParams: Int

    public init(step: Int, ffnExperts: Int, tokens: Int, activatedParams: Int) {
        self.step = step; self.ffnExperts = ffnExperts; self.tokens = tokens
        self.activatedParams = activatedParams
    }
}

extension ActivatedParamsRow: StoredRow {
    static let sql = RowSQL(table: "activated_params", columns: ["step", "ffn_experts", "tokens", "activated_params"])

    init(reading r: inout RowReader) {
        self.init(step: r.int(), ffnExperts: r.int(), tokens: r.int(), activatedParams: r.int())
    }

    func write(to w: inout RowBinder) {
        w.add(step); w.add(ffnExperts); w.add(tokens); w.add(activatedParams)
    }
}

/// The routing of one token of the evaluation batch at one layer: table `token_samples`,
/// key (run_id, step, sample, position, layer).
public struct TokenSampleRow: Sendable, Equatable {
    public var step: Int
    /// Index of the sequence within the evaluation batch.
    public var sample: Int
    public var position: Int
    public var layer: Int
    public var token: Int
    /// Difficulty label of synthetic corpora; nil otherwise.
    public var label: String?
    /// Number of FFN (non-zero) experts the token used.
    public var ffnExperts: Int
    /// The FFN expert ids, stored as space-separated text (`"3 17"`).
    public var experts: [Int]

    public init(step: Int, sample: Int, position: Int, layer: Int, token: Int, label: String?,
                ffnExperts: Int, experts: [Int]) {
        self.step = step; self.sample = sample; self.position = position; self.layer = layer
        self.token = token; self.label = label; self.ffnExperts = ffnExperts; self.experts = experts
    }
}

extension TokenSampleRow: StoredRow {
    static let sql = RowSQL(table: "token_samples", columns: [
        "step", "sample", "position", "layer", "token", "label", "ffn_experts", "experts",
    ])

    init(reading r: inout RowReader) {
        self.init(step: r.int(), sample: r.int(), position: r.int(), layer: r.int(), token: r.int(),
                  label: r.optionalString(), ffnExperts: r.int(),
                  experts: r.string().split(separator: " ").compactMap { Int($0) })
    }

    func write(to w: inout RowBinder) {
        w.add(step); w.add(sample); w.add(position); w.add(layer); w.add(token); w.add(label)
        w.add(ffnExperts); w.add(experts.map(String.init).joined(separator: " "))
    }
}

/// One statistic of one module's activations or gradients: table `variance_stats`,
/// key (run_id, step, layer, module, statistic). Use layer -1 for model-wide modules.
public struct VarianceRow: Sendable, Equatable {
    public var step: Int
    public var layer: Int
    public var module: String
    public var statistic: String
    public var value: Double

    public init(step: Int, layer: Int, module: String, statistic: String, value: Double) {
        self.step = step; self.layer = layer; self.module = module; self.statistic = statistic
        self.value = value
    }

    /// Modules of the per-label evaluation rows that share the table (layer -1, statistic =
    /// label name): mean loss and token count per label. They are not variance statistics.
    public static let evaluationLossModule = "eval_loss_by_label"
    public static let evaluationTokensModule = "eval_tokens_by_label"

    /// True for a per-label evaluation row rather than a variance statistic.
    public var isEvaluationByLabel: Bool {
        module == Self.evaluationLossModule || module == Self.evaluationTokensModule
    }
}

extension VarianceRow: StoredRow {
    static let sql = RowSQL(table: "variance_stats", columns: ["step", "layer", "module", "statistic", "value"])

    init(reading r: inout RowReader) {
        self.init(step: r.int(), layer: r.int(), module: r.string(), statistic: r.string(), value: r.double())
    }

    func write(to w: inout RowBinder) {
        w.add(step); w.add(layer); w.add(module); w.add(statistic); w.add(value)
    }
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

    public init(runID: Int64, step: StepRow, layers: [LayerStepRow] = [], experts: [ExpertStepRow] = [],
                activatedParams: [ActivatedParamsRow] = [], tokenSamples: [TokenSampleRow] = [],
                variance: [VarianceRow] = []) {
        self.runID = runID; self.step = step; self.layers = layers; self.experts = experts
        self.activatedParams = activatedParams; self.tokenSamples = tokenSamples; self.variance = variance
    }
}
