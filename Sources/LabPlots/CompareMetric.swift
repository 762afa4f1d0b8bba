import LabRecords

/// A per-step quantity that `compare` overlays across runs. Each metric is one entry of the
/// table in `spec` (column, label, unit); the switch there has no default, so a new case does
/// not compile until it names its own column.
public enum CompareMetric: String, CaseIterable, Sendable {
    case loss
    case evalLoss = "eval-loss"
    case lmLoss = "lm-loss"
    case balanceLoss = "balance-loss"
    case gradNorm = "grad-norm"
    case lr
    case tokensPerS = "tokens-per-s"
    /// Mean FFN experts per token, averaged over layers (or `--layer`).
    case ffnExperts = "ffn-experts"
    case zeroShare = "zero-share"
    case maxVio = "max-vio"
    case routerEntropy = "router-entropy"
    /// Coefficient of variation of the FFN experts' loads, averaged over layers (or `--layer`).
    case loadCV = "load-cv"

    /// Where a metric comes from and how it is labelled.
    public struct Spec: Sendable, Equatable {
        /// `steps`, or `layer_steps` (averaged over layers, or the chosen one).
        public var table: String
        /// The SQL column read, by name.
        public var column: String
        /// Figure title.
        public var title: String
        /// What the axis shows, without the unit.
        public var label: String
        /// The unit, when the quantity has one.
        public var unit: String?
        /// Recorded on some steps only (NULL elsewhere): drawn as points, never smoothed.
        public var sparse = false
    }

    /// The metric table: one entry per metric.
    public var spec: Spec {
        switch self {
        case .loss: return Spec(table: "steps", column: "loss", title: "training loss", label: "training loss", unit: "nats per token")
        case .evalLoss: return Spec(table: "steps", column: "eval_loss", title: "evaluation loss", label: "evaluation loss",
                                    unit: "nats per token", sparse: true)
        case .lmLoss: return Spec(table: "steps", column: "lm_loss", title: "language-model loss", label: "language-model loss",
                                  unit: "nats per token")
        case .balanceLoss: return Spec(table: "steps", column: "balance_loss", title: "balance loss", label: "balance loss")
        case .gradNorm: return Spec(table: "steps", column: "grad_norm", title: "gradient norm",
                                    label: "gradient norm (before clipping)")
        case .lr: return Spec(table: "steps", column: "lr", title: "learning rate", label: "learning rate")
        case .tokensPerS: return Spec(table: "steps", column: "tokens_per_s", title: "throughput", label: "throughput",
                                      unit: "tokens per second")
        case .ffnExperts: return Spec(table: "layer_steps", column: "ffn_experts_mean", title: "FFN experts per token",
                                      label: "FFN experts per token and layer")
        case .zeroShare: return Spec(table: "layer_steps", column: "zero_expert_share", title: "zero-expert share of slots",
                                     label: "zero-expert share of slots")
        case .maxVio: return Spec(table: "layer_steps", column: "max_vio", title: "load imbalance MaxVio",
                                  label: "MaxVio (max load / mean load - 1)")
        case .routerEntropy: return Spec(table: "layer_steps", column: "router_entropy", title: "router entropy",
                                         label: "router entropy", unit: "nats")
        case .loadCV: return Spec(table: "layer_steps", column: "load_cv", title: "expert load variation",
                                  label: "coefficient of variation of FFN expert loads")
        }
    }

    /// The metrics drawn when none is named.
    public static let defaults: [CompareMetric] = [.loss, .ffnExperts, .maxVio]

    /// Parses a command-line name; the error lists every metric.
    public init(parsing name: String) throws {
        guard let m = CompareMetric(rawValue: name) else {
            throw PlotError("unknown metric '\(name)'; metrics: " + CompareMetric.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = m
    }

    /// Axis label, with the unit.
    var axisLabel: String { spec.unit.map { "\(spec.label) (\($0))" } ?? spec.label }

    /// Figure title.
    var displayName: String { spec.title }

    /// Sparse metrics are drawn as points and never smoothed.
    var isSparse: Bool { spec.sparse }

    /// Whether the metric comes from `layer_steps` (averaged over layers).
    var isPerLayer: Bool { spec.table == "layer_steps" }

    /// The metric of one run by step: its column of `steps`, or the mean over `layer` (all when
    /// nil) of its column of `layer_steps`. NULL reads as NaN, except that a sparse metric keeps
    /// only the steps that recorded it.
    func values(_ records: RunRecords, layer: Int?) throws -> [(step: Int, value: Double)] {
        let s = spec
        var sql = "SELECT step, \(isPerLayer ? "AVG(\(s.column))" : s.column) FROM \(s.table) WHERE run_id = ?1"
        var args: [SQLValue] = [.integer(records.run.id)]
        if isPerLayer, let layer {
            sql += " AND layer = ?2"
            args.append(.integer(Int64(layer)))
        }
        if s.sparse { sql += " AND \(s.column) IS NOT NULL" }
        sql += isPerLayer ? " GROUP BY step ORDER BY step" : " ORDER BY step"
        let rows = try records.store.query(sql, args).map { (step: $0[0].int ?? 0, value: $0[1].double ?? .nan) }
        guard rows.isEmpty else { return rows }
        // Nothing: say why (no steps, no such layer), as the row readers do.
        if isPerLayer { _ = try records.layers(layer) } else { _ = try records.steps() }
        throw PlotError("""
            run '\(records.run.name)' has no \(s.label) (\(s.table).\(s.column) is empty); nothing to draw for \(rawValue)
            """)
    }
}
