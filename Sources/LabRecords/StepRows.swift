/// Row structs of the per-step tables, each with its table: the column list from which the
/// table's CREATE TABLE, INSERT, SELECT and row reader/writer are derived (see `Column`).
///
/// Each row carries its `step` (not its run: the run id is given once per `StepRecord` or
/// query). A NaN stored in a REAL column reads back as NaN (SQLite keeps it as NULL); optional
/// fields are NULL when absent.
///
/// A new column: a field with a default value, its `init` parameter, and one `Column` line in
/// the table below (a nullable value column needs no migration: opening a database adds it).

/// One training step: table `steps`, primary key (run_id, step).
public struct StepRow: Sendable, Equatable {
    public var step = 0
    public var tokensSeen = 0
    /// Total loss optimised: lm + balance + z + mtp terms.
    public var loss = 0.0
    public var lmLoss = 0.0
    public var balanceLoss = 0.0
    public var zLoss = 0.0
    /// Multi-token-prediction loss; nil when MTP is off.
    public var mtpLoss: Double?
    public var lr = 0.0
    public var gradNorm = 0.0
    public var stepMs = 0.0
    public var tokensPerS = 0.0
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
    init() {}

    static let table = RowTable<StepRow>("steps", [
        Column("step", \.step, .key, doc: "0-based step"),
        Column("tokens_seen", \.tokensSeen, doc: "tokens trained on after this step"),
        Column("loss", \.loss, doc: "total loss optimised (nats/token)"),
        Column("lm_loss", \.lmLoss, doc: "next-token cross-entropy (nats/token)"),
        Column("balance_loss", \.balanceLoss, doc: "balance loss summed over layers, alpha included"),
        Column("z_loss", \.zLoss, doc: "hidden z-loss, coefficient included"),
        Column("mtp_loss", \.mtpLoss, doc: "multi-token-prediction loss before its coefficient; NULL when off"),
        Column("lr", \.lr, doc: "learning rate of this step's update"),
        Column("grad_norm", \.gradNorm, doc: "global gradient L2 norm before clipping"),
        Column("step_ms", \.stepMs, doc: "wall time of the step (ms)"),
        Column("tokens_per_s", \.tokensPerS, doc: "throughput (tokens/s)"),
        Column("eval_loss", \.evalLoss, doc: "held-out loss (nats/token); NULL except on evaluation steps"),
        Column("record_ms", \.recordMs, doc: "time spent building the step's rows (ms)"),
    ])
}

/// Routing statistics of one MoE layer at one step: table `layer_steps`, key (run_id, step, layer).
public struct LayerStepRow: Sendable, Equatable {
    public var step = 0
    public var layer = 0
    /// Fraction of the step's routing slots that went to zero experts.
    public var zeroExpertShare = 0.0
    /// Mean and standard deviation over tokens of the number of FFN (non-zero) experts used.
    public var ffnExpertsMean = 0.0
    public var ffnExpertsStd = 0.0
    /// MaxVio = (max_i load_i - mean load) / mean load.
    public var maxVio = 0.0
    public var routerEntropy = 0.0
    public var balanceLoss = 0.0
    /// R_g = ||alpha grad_P L_LB|| / ||grad_P L_LM|| (P: batch-mean router probabilities); nil when
    /// not measured this step.
    public var gradNormRatio: Double?
    /// Mean pairwise cosine of the experts' router rows; nil when not measured this step.
    public var routerSimilarity: Double?
    /// Coefficient of variation (population std / mean) of the FFN experts' loads this step;
    /// nil where not recorded (rows written before schema version 2).
    public var loadCV: Double?
    /// Device-group imbalance (max over groups of a group's load / mean group load, averaged
    /// over sequences); nil until the trainer measures device groups.
    public var groupImbalance: Double?

    public init(step: Int, layer: Int, zeroExpertShare: Double, ffnExpertsMean: Double,
                ffnExpertsStd: Double, maxVio: Double, routerEntropy: Double, balanceLoss: Double,
                gradNormRatio: Double? = nil, routerSimilarity: Double? = nil, loadCV: Double? = nil,
                groupImbalance: Double? = nil) {
        self.step = step; self.layer = layer; self.zeroExpertShare = zeroExpertShare
        self.ffnExpertsMean = ffnExpertsMean; self.ffnExpertsStd = ffnExpertsStd; self.maxVio = maxVio
        self.routerEntropy = routerEntropy; self.balanceLoss = balanceLoss
        self.gradNormRatio = gradNormRatio; self.routerSimilarity = routerSimilarity
        self.loadCV = loadCV; self.groupImbalance = groupImbalance
    }
}

extension LayerStepRow: StoredRow {
    init() {}

    static let table = RowTable<LayerStepRow>("layer_steps", [
        Column("step", \.step, .key, doc: "0-based step"),
        Column("layer", \.layer, .key, doc: "0-based MoE layer"),
        Column("zero_expert_share", \.zeroExpertShare, doc: "share of routing slots taken by zero experts"),
        Column("ffn_experts_mean", \.ffnExpertsMean, doc: "mean FFN experts per token"),
        Column("ffn_experts_std", \.ffnExpertsStd, doc: "standard deviation of FFN experts per token"),
        Column("max_vio", \.maxVio, doc: "MaxVio over the FFN experts"),
        Column("router_entropy", \.routerEntropy, doc: "mean router entropy (nats)"),
        Column("balance_loss", \.balanceLoss, doc: "this layer's balance loss, alpha included"),
        Column("grad_norm_ratio", \.gradNormRatio, doc: "R_g; NULL except on telemetry steps"),
        Column("router_similarity", \.routerSimilarity, doc: "mean pairwise router-row cosine; NULL except on telemetry steps"),
        Column("load_cv", \.loadCV, doc: "coefficient of variation of the FFN experts' loads"),
        Column("group_imbalance", \.groupImbalance, doc: "device-group imbalance over balance.groups (FFN experts only); NULL in older runs"),
    ])
}

/// One expert (routed or zero) of one layer at one step: table `expert_steps`,
/// key (run_id, step, layer, expert).
public struct ExpertStepRow: Sendable, Equatable {
    public var step = 0
    public var layer = 0
    public var expert = 0
    public var isZero = false
    /// Routing slots assigned to this expert this step.
    public var tokens = 0
    public var loadShare = 0.0
    /// The expert's routing bias after this step's controller update.
    public var bias = 0.0
    /// The controller's proportional, integral and derivative terms of this step's update.
    public var pTerm = 0.0
    public var iTerm = 0.0
    public var dTerm = 0.0
    /// Mean gate weight over the slots this expert received.
    public var meanGate = 0.0

    public init(step: Int, layer: Int, expert: Int, isZero: Bool, tokens: Int, loadShare: Double,
                bias: Double, pTerm: Double, iTerm: Double, dTerm: Double, meanGate: Double) {
        self.step = step; self.layer = layer; self.expert = expert; self.isZero = isZero
        self.tokens = tokens; self.loadShare = loadShare; self.bias = bias
        self.pTerm = pTerm; self.iTerm = iTerm; self.dTerm = dTerm; self.meanGate = meanGate
    }
}

extension ExpertStepRow: StoredRow {
    init() {}

    static let table = RowTable<ExpertStepRow>("expert_steps", [
        Column("step", \.step, .key, doc: "0-based step"),
        Column("layer", \.layer, .key, doc: "0-based MoE layer"),
        Column("expert", \.expert, .key, doc: "0..N-1 FFN experts, N..N+Z-1 zero experts"),
        Column("is_zero", \.isZero, .required(check: "is_zero IN (0, 1)"), doc: "1 for a zero expert"),
        Column("tokens", \.tokens, doc: "routing slots assigned this step"),
        Column("load_share", \.loadShare, doc: "tokens / (T * K)"),
        Column("bias", \.bias, doc: "routing bias after this step's update"),
        Column("p_term", \.pTerm, doc: "controller's proportional term"),
        Column("i_term", \.iTerm, doc: "controller's integral term"),
        Column("d_term", \.dTerm, doc: "controller's derivative term"),
        Column("mean_gate", \.meanGate, doc: "mean gate weight over the expert's slots"),
    ])
}
