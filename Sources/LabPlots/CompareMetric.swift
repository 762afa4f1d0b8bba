import LabRecords

/// A per-step quantity that `compare` overlays across runs.
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

    /// The metrics drawn when none is named.
    public static let defaults: [CompareMetric] = [.loss, .ffnExperts, .maxVio]

    /// Parses a command-line name; the error lists every metric.
    public init(parsing name: String) throws {
        guard let m = CompareMetric(rawValue: name) else {
            throw PlotError("unknown metric '\(name)'; metrics: " + CompareMetric.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = m
    }

    /// Axis label, with units.
    var axisLabel: String {
        switch self {
        case .loss: return "training loss (nats per token)"
        case .evalLoss: return "evaluation loss (nats per token)"
        case .lmLoss: return "language-model loss (nats per token)"
        case .balanceLoss: return "balance loss"
        case .gradNorm: return "gradient norm (before clipping)"
        case .lr: return "learning rate"
        case .tokensPerS: return "tokens per second"
        case .ffnExperts: return "FFN experts per token and layer"
        case .zeroShare: return "zero-expert share of slots"
        case .maxVio: return "MaxVio (max load / mean load - 1)"
        case .routerEntropy: return "router entropy (nats)"
        }
    }

    /// Figure title.
    var displayName: String {
        switch self {
        case .loss: return "training loss"
        case .evalLoss: return "evaluation loss"
        case .lmLoss: return "language-model loss"
        case .balanceLoss: return "balance loss"
        case .gradNorm: return "gradient norm"
        case .lr: return "learning rate"
        case .tokensPerS: return "throughput"
        case .ffnExperts: return "FFN experts per token"
        case .zeroShare: return "zero-expert share of slots"
        case .maxVio: return "load imbalance MaxVio"
        case .routerEntropy: return "router entropy"
        }
    }

    /// Sparse metrics are drawn as points and never smoothed.
    var isSparse: Bool { self == .evalLoss }

    /// Whether the metric comes from `layer_steps` (averaged over layers).
    var isPerLayer: Bool { [.ffnExperts, .zeroShare, .maxVio, .routerEntropy].contains(self) }

    /// The metric of one run by step: from `steps`, or the mean over `layer` (all when nil) of
    /// `layer_steps`.
    func values(_ records: RunRecords, layer: Int?) throws -> [(step: Int, value: Double)] {
        if isPerLayer {
            var sum: [Int: (Double, Int)] = [:]
            for r in try records.layers(layer) {
                let v: Double
                switch self {
                case .ffnExperts: v = r.ffnExpertsMean
                case .zeroShare: v = r.zeroExpertShare
                case .maxVio: v = r.maxVio
                default: v = r.routerEntropy
                }
                let (s, n) = sum[r.step] ?? (0, 0)
                sum[r.step] = (s + v, n + 1)
            }
            return sum.keys.sorted().map { ($0, sum[$0]!.0 / Double(sum[$0]!.1)) }
        }
        let steps = try records.steps()
        switch self {
        case .evalLoss:
            let rows = steps.compactMap { s in s.evalLoss.map { (s.step, $0) } }
            guard !rows.isEmpty else {
                throw PlotError("run '\(records.run.name)' has no evaluation losses (steps.eval_loss is empty); nothing to draw for eval-loss")
            }
            return rows
        case .loss: return steps.map { ($0.step, $0.loss) }
        case .lmLoss: return steps.map { ($0.step, $0.lmLoss) }
        case .balanceLoss: return steps.map { ($0.step, $0.balanceLoss) }
        case .gradNorm: return steps.map { ($0.step, $0.gradNorm) }
        case .lr: return steps.map { ($0.step, $0.lr) }
        default: return steps.map { ($0.step, $0.tokensPerS) }
        }
    }
}
