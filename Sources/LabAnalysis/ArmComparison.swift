/// Arms (runs that differ only by seed) compared with a baseline arm: per arm the mean and 95%
/// interval of each final-window metric, and against the baseline the paired difference of the
/// final validation loss over matched seeds, with the guards that mark the row.
public struct ArmComparison: Sendable {
    /// A mean over an arm's runs with its Student-t 95% interval (nil for one run).
    public struct Estimate: Sendable, Equatable, Codable {
        public var mean: Double
        public var interval: ClosedRange<Double>?
        public var n: Int

        /// Nil when no value is finite.
        public init?(_ values: [Double?]) {
            let xs = values.compactMap { $0 }.filter(\.isFinite)
            guard let m = LabAnalysis.mean(xs) else { return nil }
            mean = m
            n = xs.count
            if let sd = sampleStandardDeviation(xs) {
                let half = StudentT.quantile(0.975, df: Double(n - 1)) * sd / Double(n).squareRoot()
                interval = (m - half)...(m + half)
            }
        }
    }

    /// One arm's row.
    public struct Row: Sendable {
        public var label: String
        public var isBaseline: Bool
        public var runs: [RunAnalysis]
        public var validationLoss: Estimate?
        public var ffnExperts: Estimate?
        public var activatedParams: Estimate?
        /// This arm minus the baseline, final validation loss, over matched seeds (nil for the
        /// baseline and when no seed is shared).
        public var difference: PairedDifference?
        public var guards: [Guard]
        /// Largest budget error over the arm's runs and layers (|mean - K_e| / K_e).
        public var budgetError: Double?
        /// Mean over runs of the worst layer's per-step and windowed MaxVio (from expert loads).
        public var stepMaxVio: Double?
        public var windowMaxVio: Double?
        /// Runs with at least one `oscillating` layer.
        public var oscillatingRuns: Int

        /// "lower", "higher" (the arm's validation loss against the baseline's) or "not resolved".
        public var verdict: String? {
            guard let d = difference else { return nil }
            guard d.isResolved else { return "not resolved" }
            return d.mean < 0 ? "lower" : "higher"
        }

        /// The guard marks, e.g. "budget, n<5"; empty when none.
        public var marks: String { guards.map(\.rawValue).joined(separator: ", ") }
    }

    public var window: FinalWindow
    public var thresholds: LoadStability.Thresholds
    public var baseline: String
    public var rows: [Row]

    /// Compares `arms` (label and runs, in print order) with the arm labelled `baseline`.
    /// Throws an `AnalysisError` listing the arms when no arm has that label.
    public init(arms: [(label: String, runs: [RunAnalysis])], baseline: String, window: FinalWindow = .standard,
                thresholds: LoadStability.Thresholds = .standard) throws {
        guard let base = arms.first(where: { $0.label == baseline }) else {
            throw AnalysisError("no arm named '\(baseline)' to compare against; arms: " + arms.map(\.label).joined(separator: ", "))
        }
        self.window = window
        self.thresholds = thresholds
        self.baseline = baseline
        let baseActivated = Estimate(base.runs.map(\.activatedParams))?.mean
        let baseLoss = Self.bySeed(base.runs)
        rows = arms.map { arm in
            let isBase = arm.label == baseline
            var row = Row(label: arm.label, isBaseline: isBase, runs: arm.runs,
                          validationLoss: Estimate(arm.runs.map(\.evalLoss)), ffnExperts: Estimate(arm.runs.map(\.ffnExperts)),
                          activatedParams: Estimate(arm.runs.map(\.activatedParams)), guards: [],
                          budgetError: arm.runs.compactMap(\.budgetError).max(),
                          stepMaxVio: mean(arm.runs.compactMap { $0.layers.compactMap(\.stability?.stepMaxVio).max() }),
                          windowMaxVio: mean(arm.runs.compactMap { $0.layers.compactMap(\.stability?.windowMaxVio).max() }),
                          oscillatingRuns: arm.runs.filter { $0.layers.contains { $0.stability?.oscillating == true } }.count)
            var marks: Set<Guard> = []
            if !isBase {
                row.difference = PairedDifference(Self.bySeed(arm.runs), minus: baseLoss)
                if (row.difference?.n ?? 0) < GuardLimits.minimumSeeds { marks.insert(.fewSeeds) }
                if exceedsComputeLimit(row.activatedParams?.mean, baseline: baseActivated) { marks.insert(.compute) }
            }
            if arm.runs.contains(where: { !holdsBudget($0) }) { marks.insert(.budget) }
            if arm.runs.contains(where: \.diverged) { marks.insert(.diverged) }
            row.guards = marks.sorted()
            return row
        }
    }

    /// Final validation loss by seed (runs without a seed or an evaluation are left out).
    static func bySeed(_ runs: [RunAnalysis]) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for r in runs { if let s = r.seed, let loss = r.evalLoss { out[s] = loss } }
        return out
    }

    /// The guards that mark some row, in order.
    public var guardsShown: [Guard] { Array(Set(rows.flatMap(\.guards))).sorted() }

    /// The arm's label with its guard marks, for figure keys: "pid [budget, n<5]".
    public func keyLabel(_ label: String) -> String {
        guard let row = rows.first(where: { $0.label == label }), !row.guards.isEmpty else { return label }
        return "\(label) [\(row.marks)]"
    }
}
