/// Rows of `longcat-lab probe`: counterfactual losses of sampled validation tokens with one
/// FFN expert more or less in one layer, and the summaries computed from them. `step` is the
/// probed checkpoint's training step.

/// One sampled token in one layer: table `probe_tokens`, key (run_id, step, sequence, position, layer).
public struct ProbeTokenRow: Sendable, Equatable {
    /// Training step of the probed checkpoint.
    public var step = 0
    /// Sampled validation sequence (the bootstrap's resampling unit).
    public var sequence = 0
    /// Position of the token within its sequence.
    public var position = 0
    public var layer = 0
    /// The token's id, and its label (token class, or the generator's difficulty label).
    public var token = 0
    public var label: String?
    /// Label of the token it predicts.
    public var targetLabel: String?
    /// FFN experts the router gave the token in this layer.
    public var ffnExperts = 0
    /// The token's own next-token loss (nats) as routed, with +1 and with -1 in this layer;
    /// nil where the edit cannot apply (no zero slot for +1, no FFN slot for -1).
    public var loss = 0.0
    public var lossPlus: Double?
    public var lossMinus: Double?

    public init(step: Int, sequence: Int, position: Int, layer: Int, token: Int, label: String?, targetLabel: String?,
                ffnExperts: Int, loss: Double, lossPlus: Double?, lossMinus: Double?) {
        self.step = step; self.sequence = sequence; self.position = position; self.layer = layer
        self.token = token; self.label = label; self.targetLabel = targetLabel; self.ffnExperts = ffnExperts
        self.loss = loss; self.lossPlus = lossPlus; self.lossMinus = lossMinus
    }
}

extension ProbeTokenRow: StoredRow {
    init() {}

    static let table = RowTable<ProbeTokenRow>("probe_tokens", [
        Column("step", \.step, .key, doc: "training step of the probed checkpoint"),
        Column("sequence", \.sequence, .key, doc: "sampled validation sequence"),
        Column("position", \.position, .key, doc: "position of the token within its sequence"),
        Column("layer", \.layer, .key, doc: "MoE layer whose routing was edited"),
        Column("token", \.token, doc: "token id"),
        Column("label", \.label, doc: "the token's label (token class or generator label); NULL when unlabelled"),
        Column("target_label", \.targetLabel, doc: "label of the token it predicts; NULL when unlabelled"),
        Column("ffn_experts", \.ffnExperts, doc: "FFN experts the router gave the token in this layer"),
        Column("loss", \.loss, doc: "the token's next-token loss as routed (nats)"),
        Column("loss_plus", \.lossPlus, doc: "its loss with one FFN expert more in this layer (nats); NULL when impossible"),
        Column("loss_minus", \.lossMinus, doc: "its loss with one FFN expert fewer in this layer (nats); NULL when impossible"),
    ])
}

/// One summary statistic of a probe: table `probe_summaries`, key (run_id, step, statistic, layer, grouping).
public struct ProbeSummaryRow: Sendable, Equatable {
    /// Training step of the probed checkpoint.
    public var step = 0
    public var statistic = ""
    /// Layer, or -1 over all probed layers.
    public var layer = -1
    /// What the rows are grouped by (`ffn=2`, a label name), or `all`.
    public var grouping = "all"
    public var value = 0.0
    /// 95% bootstrap interval over sequences, where computed.
    public var low: Double?
    public var high: Double?
    /// Token-layer rows the value is computed from.
    public var count = 0

    public init(step: Int, statistic: String, layer: Int, grouping: String, value: Double, low: Double? = nil,
                high: Double? = nil, count: Int) {
        self.step = step; self.statistic = statistic; self.layer = layer; self.grouping = grouping
        self.value = value; self.low = low; self.high = high; self.count = count
    }
}

extension ProbeSummaryRow: StoredRow {
    init() {}

    static let table = RowTable<ProbeSummaryRow>("probe_summaries", [
        Column("step", \.step, .key, doc: "training step of the probed checkpoint"),
        Column("statistic", \.statistic, .key, doc: "statistic name (see the probe section)"),
        Column("layer", \.layer, .signedKey, doc: "layer, or -1 over all probed layers"),
        Column("grouping", \.grouping, .key, doc: "group of rows (ffn=c, a label name) or all"),
        Column("value", \.value, doc: "its value (nats for losses and benefits)"),
        Column("low", \.low, doc: "2.5% bootstrap quantile over sequences; NULL when not computed"),
        Column("high", \.high, doc: "97.5% bootstrap quantile over sequences; NULL when not computed"),
        Column("count", \.count, doc: "token-layer rows the value comes from"),
    ])
}

extension RecordStore {
    /// Stores a probe of the checkpoint at `step` of run `runID` in one transaction, replacing
    /// an earlier probe of that checkpoint (its rows are deleted first).
    public func recordProbe(runID: Int64, step: Int, tokens: [ProbeTokenRow], summaries: [ProbeSummaryRow]) throws {
        if let stray = tokens.first(where: { $0.step != step }) {
            throw RecordsError(.invalidInput, "\(path): probe of step \(step) holds a token row of step \(stray.step)")
        }
        if let stray = summaries.first(where: { $0.step != step }) {
            throw RecordsError(.invalidInput, "\(path): probe of step \(step) holds a summary row of step \(stray.step)")
        }
        try writing("writing the probe of step \(step) of run \(runID)") { c in
            for table in [ProbeTokenRow.table.name, ProbeSummaryRow.table.name] {
                let s = try c.cached("DELETE FROM \(table) WHERE run_id = ?1 AND step = ?2")
                s.bind(runID, at: 1)
                s.bind(Int64(step), at: 2)
                try s.run()
            }
            try Self.insert(tokens, runID: runID, c)
            try Self.insert(summaries, runID: runID, c)
        }
    }

    /// Probe token rows of the checkpoint at `step`, by sequence, position, layer.
    public func probeTokens(runID: Int64, step: Int) throws -> [ProbeTokenRow] {
        try select(ProbeTokenRow.self, " AND step = ?2 ORDER BY sequence, position, layer",
                   [.integer(runID), .integer(Int64(step))], "reading probe tokens of step \(step) of run \(runID)")
    }

    /// Probe summaries of the checkpoint at `step`.
    public func probeSummaries(runID: Int64, step: Int) throws -> [ProbeSummaryRow] {
        try select(ProbeSummaryRow.self, " AND step = ?2 ORDER BY statistic, layer, grouping",
                   [.integer(runID), .integer(Int64(step))], "reading probe summaries of step \(step) of run \(runID)")
    }
}
