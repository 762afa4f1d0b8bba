/// Whether one layer's expert loads are balanced step by step or only on average: the
/// quantities that tell a held balance from a limit cycle of the bias controller.
///
/// Computed from the FFN experts' per-step loads over a window (tokens routed to each expert
/// each step, `loads[step][expert]`). A layer is `oscillating` when its per-step MaxVio is
/// large while the loads summed over the window are balanced: the controller then swings the
/// loads around a balanced mean instead of holding them.
public struct LoadStability: Sendable, Equatable, Codable {
    /// The thresholds of `oscillating` and of the dominant period.
    public struct Thresholds: Sendable, Equatable, Codable {
        /// Per-step MaxVio at or above which a layer counts as unbalanced step by step.
        public var stepMaxVio: Double
        /// Windowed MaxVio at or below which the layer counts as balanced on average.
        public var windowMaxVio: Double
        /// Smallest mean autocorrelation at a peak lag for that lag to be a period.
        public var periodCorrelation: Double
        /// Longest lag searched for a period.
        public var maxPeriod: Int

        public init(stepMaxVio: Double, windowMaxVio: Double, periodCorrelation: Double, maxPeriod: Int) {
            self.stepMaxVio = stepMaxVio
            self.windowMaxVio = windowMaxVio
            self.periodCorrelation = periodCorrelation
            self.maxPeriod = maxPeriod
        }

        /// Per-step MaxVio >= 0.5 with windowed MaxVio <= 0.1; a period needs autocorrelation >= 0.5.
        public static let standard = Thresholds(stepMaxVio: 0.5, windowMaxVio: 0.1, periodCorrelation: 0.5, maxPeriod: 20)

        /// "oscillating: per-step MaxVio >= 0.5 while windowed MaxVio <= 0.1; period: autocorrelation peak >= 0.5".
        public var description: String {
            "oscillating = per-step MaxVio >= \(short(stepMaxVio)) while windowed MaxVio <= \(short(windowMaxVio)); "
                + "period = first autocorrelation peak >= \(short(periodCorrelation)) at lags 2-\(maxPeriod)"
        }
    }

    /// Steps and experts behind the numbers.
    public var steps: Int
    public var experts: Int
    /// Mean over steps of that step's MaxVio = (max_i load_i - mean load) / mean load.
    public var stepMaxVio: Double
    /// MaxVio of the loads summed over the window.
    public var windowMaxVio: Double
    /// Mean over steps of the coefficient of variation (population sd / mean) of the loads.
    public var stepCV: Double
    /// Median over experts of the lag-1 autocorrelation of the expert's load; nil when every
    /// expert's load is constant over the window.
    public var lag1Autocorrelation: Double?
    /// The dominant period in steps (the first lag >= 2 where the autocorrelation, averaged over
    /// experts, peaks above the threshold); nil when there is none.
    public var period: Int?
    /// Per-step MaxVio large while windowed loads are balanced.
    public var oscillating: Bool

    /// Measures `loads[step][expert]` (every row the same length, at least one expert).
    public init(loads: [[Double]], thresholds t: Thresholds = .standard) {
        precondition(!loads.isEmpty && !loads[0].isEmpty, "LoadStability needs at least one step and one expert")
        steps = loads.count
        experts = loads[0].count
        stepMaxVio = mean(loads.map(maxVio)) ?? .nan
        let totals = (0..<experts).map { e in loads.reduce(0) { $0 + $1[e] } }
        windowMaxVio = maxVio(totals)
        stepCV = mean(loads.map { row in
            let m = row.reduce(0, +) / Double(row.count)
            return m > 0 ? populationStandardDeviation(row)! / m : .nan
        }) ?? .nan
        let series = (0..<experts).map { e in loads.map { $0[e] } }
        let correlations = series.compactMap { autocorrelations($0, maxLag: min(t.maxPeriod, loads.count - 1)) }
        lag1Autocorrelation = median(correlations.compactMap { $0.count > 1 ? $0[1] : nil })
        period = nil
        if let first = correlations.first, first.count > 3 {
            let meanACF = (0..<first.count).map { lag in correlations.map { $0[lag] }.reduce(0, +) / Double(correlations.count) }
            period = (2..<(meanACF.count - 1)).first { p in
                meanACF[p] >= t.periodCorrelation && meanACF[p] >= meanACF[p - 1] && meanACF[p] >= meanACF[p + 1]
            }
        }
        oscillating = stepMaxVio >= t.stepMaxVio && windowMaxVio <= t.windowMaxVio
    }
}

/// (max - mean) / mean of one set of loads; 0 when the mean is 0.
func maxVio(_ loads: [Double]) -> Double {
    let m = loads.reduce(0, +) / Double(loads.count)
    return m > 0 ? ((loads.max() ?? m) - m) / m : 0
}

/// The sample autocorrelation r_k = sum_t (x_t - m)(x_{t+k} - m) / sum_t (x_t - m)^2 for
/// k = 0...maxLag; nil when the series is constant (r is undefined).
func autocorrelations(_ x: [Double], maxLag: Int) -> [Double]? {
    let m = x.reduce(0, +) / Double(x.count)
    let centred = x.map { $0 - m }
    let denominator = centred.reduce(0) { $0 + $1 * $1 }
    guard denominator > 1e-12 * max(1, m * m) * Double(x.count) else { return nil }
    return (0...max(0, maxLag)).map { k in
        var s = 0.0
        for t in 0..<(x.count - k) { s += centred[t] * centred[t + k] }
        return s / denominator
    }
}

/// Shortest text of a threshold: 0.5 -> "0.5", 20 -> "20".
func short(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
}
