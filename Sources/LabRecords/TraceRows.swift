/// Routing traces over training: at every evaluation, the routing and loss of a fixed sample of
/// validation tokens (`train.trace_tokens`, chosen once per run from the evaluation batches with
/// the run's seed), so that the same token can be followed from one evaluation to the next.

/// One traced token at one layer at one evaluation: table `routing_traces`,
/// key (run_id, step, sequence, position, layer).
public struct RoutingTraceRow: Sendable, Equatable {
    /// The evaluation's step (0-based, as in `steps`).
    public var step = 0
    /// Sequence within the evaluation batches (batch index * batch_size + row of the batch).
    public var sequence = 0
    /// Position of the token within its sequence.
    public var position = 0
    public var layer = 0
    /// The token's id.
    public var token = 0
    /// FFN (non-zero) experts the token used in this layer, 0...K.
    public var ffnExperts = 0
    /// The K chosen expert ids, ascending: ids below `model.n_routed_experts` are FFN experts,
    /// the others zero (identity) experts, numbered as in the checkpoint.
    public var experts: [Int] = []
    /// The gates of `experts`, in the same order.
    public var gates: [Float] = []
    /// The token's next-token loss (nats) at this evaluation; the same in every layer's row.
    public var loss = 0.0

    public init(step: Int, sequence: Int, position: Int, layer: Int, token: Int, ffnExperts: Int,
                experts: [Int], gates: [Float], loss: Double) {
        self.step = step; self.sequence = sequence; self.position = position; self.layer = layer
        self.token = token; self.ffnExperts = ffnExperts; self.experts = experts; self.gates = gates
        self.loss = loss
    }

    /// The FFN expert ids: the first `ffnExperts` of `experts` (FFN ids sort below zero-expert ids).
    public var ffnSet: Set<Int> { Set(experts.prefix(ffnExperts)) }

    /// `gates` as stored: space-separated shortest round-trip decimals.
    var gatesText: String {
        get { gates.map { "\($0)" }.joined(separator: " ") }
        set { gates = newValue.split(separator: " ").compactMap { Float($0) } }
    }
}

extension RoutingTraceRow: StoredRow {
    init() {}

    static let table = RowTable<RoutingTraceRow>("routing_traces", [
        Column("step", \.step, .key, doc: "the evaluation's step (0-based)"),
        Column("sequence", \.sequence, .key, doc: "sequence within the evaluation batches (batch * batch_size + row)"),
        Column("position", \.position, .key, doc: "position of the token within its sequence"),
        Column("layer", \.layer, .key, doc: "MoE layer"),
        Column("token", \.token, doc: "token id"),
        Column("ffn_experts", \.ffnExperts, doc: "FFN experts the token used in this layer"),
        Column("experts", \.experts,
               doc: "the K chosen expert ids ascending, space-separated; ids >= n_routed_experts are zero experts"),
        Column("gates", \.gatesText, doc: "their gates, space-separated, in the order of experts"),
        Column("loss", \.loss, doc: "the token's next-token loss at this evaluation (nats)"),
    ])
}

extension RecordStore {
    /// Routing trace rows of the run, by step, sequence, position, layer.
    public func routingTraces(runID: Int64) throws -> [RoutingTraceRow] {
        try select(RoutingTraceRow.self, " ORDER BY step, sequence, position, layer", [.integer(runID)],
                   "reading routing traces of run \(runID)")
    }
}
