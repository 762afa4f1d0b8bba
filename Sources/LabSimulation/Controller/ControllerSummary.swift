/// What a controller simulation says about the controller: how fast the mean number of FFN
/// experts per token reaches K_e and how much it wanders afterwards.
public struct ControllerSummary: Sendable {
    /// K_e.
    public var target: Double
    /// Mean FFN experts per token at the first step (before any update acted).
    public var initialMean: Double
    /// First step from which every later step of every layer stays within
    /// `settings.settleTolerance * K_e` of K_e; nil when the last step is still outside.
    public var settlingStep: Int?
    /// Over the last quarter of the steps (all layers): mean, standard deviation across steps of
    /// the per-step mean, as a fraction of K_e, and the largest deviation as a fraction of K_e.
    public var tailMean: Double
    public var tailFluctuation: Double
    public var tailMaxDeviation: Double
    /// Mean over the tail of the per-token standard deviation of FFN experts.
    public var tailTokenStd: Double
    /// Mean MaxVio over the tail.
    public var tailMaxVio: Double
    /// Largest |bias| of any zero expert at the end (the paper's rule never moves them: 0).
    public var zeroExpertBiasMax: Double
    public var routedTokensPerSecond: Double

    public init(_ sim: ControllerSimulation) {
        let s = sim.settings
        let target = sim.controllers.first?.targetFfnExperts ?? s.controller.targetFfnExperts
        self.target = target
        initialMean = sim.ffnMean.map { $0.first ?? .nan }.reduce(0, +) / Double(max(sim.ffnMean.count, 1))
        let steps = sim.ffnMean.first?.count ?? 0
        var lastOutside = -1
        for series in sim.ffnMean {
            for (t, x) in series.enumerated() where abs(x - target) > s.settleTolerance * target {
                lastOutside = max(lastOutside, t)
            }
        }
        settlingStep = lastOutside + 1 < steps ? lastOutside + 1 : nil
        let tailStart = steps - max(1, steps / 4)
        let tail = sim.ffnMean.flatMap { $0[tailStart...] }
        tailMean = Self.mean(tail)
        tailFluctuation = Self.std(tail) / target
        tailMaxDeviation = (tail.map { abs($0 - target) }.max() ?? 0) / target
        tailTokenStd = Self.mean(sim.ffnStd.flatMap { $0[tailStart...] })
        tailMaxVio = Self.mean(sim.maxVio.flatMap { $0[tailStart...] })
        zeroExpertBiasMax = sim.controllers.map { c in
            c.bias[c.routedExperts...].map { Double(abs($0)) }.max() ?? 0
        }.max() ?? 0
        routedTokensPerSecond = sim.routedTokensPerSecond
    }

    static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }

    static func std(_ x: [Double]) -> Double {
        let m = mean(x)
        return x.isEmpty ? .nan : (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count)).squareRoot()
    }

    /// Header and separator of `markdownRow`'s table.
    public static let markdownHeader = """
        | run | K_e | start | settled at step | tail mean | fluctuation (std / K_e) | max deviation / K_e | per-token std | MaxVio |
        |---|---:|---:|---:|---:|---:|---:|---:|---:|
        """

    /// One line of the summary table.
    public func markdownRow(_ name: String) -> String {
        "| \(name) | \(format(target, 2)) | \(format(initialMean, 2)) | \(settlingStep.map(String.init) ?? "not settled") | "
            + "\(format(tailMean, 3)) | \(format(tailFluctuation * 100, 2))% | \(format(tailMaxDeviation * 100, 2))% | "
            + "\(format(tailTokenStd, 2)) | \(format(tailMaxVio, 3)) |"
    }
}
