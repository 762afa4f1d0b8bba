import LabRecords

/// The bias controller as a feedback loop, measured from its own records: how much an expert's
/// load share moves per unit of its own bias (the plant's sensitivity), and the loop gain that
/// sensitivity gives the integral gain.
///
/// The controller's bias change at step t, Δb_i(t) = b_i(t) - b_i(t-1) (`expert_steps.bias` is
/// the bias after step t's update, so it routes step t+1), is followed by the load response
/// Δs_i(t+1) = s_i(t+1) - s_i(t), with s the load share tokens / (K * T) the controller's error
/// uses. Over the experts and steps of a window, the least-squares slope of Δs(t+1) on Δb(t)
/// (with an intercept) is -sensitivity. A discrete integrator b += k * (target - s) on a static
/// plant s = f(b) with slope -sens has loop gain g = k * sens: the error shrinks by (1 - g) per
/// update, monotonely for g < 1, with alternating sign for 1 < g < 2, and grows for g > 2.
public struct LoopGain: Sendable, Equatable {
    /// The regime of a discrete integrator on a static plant at loop gain g.
    public enum Regime: String, Sendable, Equatable {
        /// 0 < g < 1: the error decays without changing sign.
        case monotone
        /// 1 <= g < 2: the error decays while alternating in sign.
        case oscillating
        /// g >= 2: the error grows.
        case unstable
        /// g <= 0 or unknown: no restoring feedback measured.
        case none

        public init(gain g: Double) {
            if !(g > 0) { self = .none } else if g < 1 { self = .monotone } else if g < 2 { self = .oscillating } else { self = .unstable }
        }
    }

    /// First and last step of the window.
    public var firstStep: Int
    public var lastStep: Int
    /// (expert, step) pairs with a bias change behind the fit.
    public var samples: Int
    /// s = -d(load share)/d(bias), share per unit bias; nil when the bias never changed.
    public var sensitivity: Double?
    /// Standard error of the slope (nil with fewer than 3 samples).
    public var standardError: Double?
    /// The effective integral gain over the window (ki times the mean schedule factor).
    public var effectiveGain: Double?

    /// g = effectiveGain * sensitivity; nil when either is unknown.
    public var loopGain: Double? {
        guard let s = sensitivity, let k = effectiveGain else { return nil }
        return k * s
    }

    /// The regime `loopGain` falls in.
    public var regime: Regime { Regime(gain: loopGain ?? .nan) }

    /// Fits the sensitivity over `bias[t][i]` (after step t's update) and `share[t][i]` (load
    /// share at step t), consecutive steps `firstStep...`, every row the same length.
    public init(bias: [[Double]], share: [[Double]], firstStep: Int, effectiveGain: Double?) {
        precondition(bias.count == share.count, "LoopGain: bias and share need the same steps")
        self.firstStep = firstStep
        lastStep = firstStep + max(bias.count - 1, 0)
        self.effectiveGain = effectiveGain
        var x: [Double] = [], y: [Double] = []
        if bias.count >= 3 {
            for t in 1..<(bias.count - 1) {
                for i in bias[t].indices {
                    x.append(bias[t][i] - bias[t - 1][i])
                    y.append(share[t + 1][i] - share[t][i])
                }
            }
        }
        samples = x.count
        let fit = leastSquaresSlope(x: x, y: y)
        sensitivity = fit.map { -$0.slope }
        standardError = fit?.standardError
    }

    /// Per layer, the sensitivity in consecutive windows of `windowSteps` steps of run `runID`,
    /// from its FFN experts' `expert_steps` rows (steps that recorded every FFN expert of the
    /// layer; a gap in the steps starts a new window). `gain(step)` is the integral gain with its
    /// schedule factor at that step (nil when unknown).
    public static func windows(_ store: RecordStore, runID: Int64, windowSteps: Int,
                               gain: (Int) -> Double?) throws -> [Int: [LoopGain]] {
        precondition(windowSteps >= 3, "LoopGain.windows: a window needs at least 3 steps")
        var rows: [Int: [(step: Int, bias: [Double], share: [Double])]] = [:]
        for step in try store.steps(runID: runID).map(\.step) {
            let experts = try store.expertSteps(runID: runID, step: step).filter { !$0.isZero }
            for (layer, list) in Dictionary(grouping: experts, by: \.layer) {
                let ordered = list.sorted { $0.expert < $1.expert }
                rows[layer, default: []].append((step, ordered.map(\.bias), ordered.map(\.loadShare)))
            }
        }
        var out: [Int: [LoopGain]] = [:]
        for (layer, series) in rows {
            var chunk: [(step: Int, bias: [Double], share: [Double])] = []
            func flush() {
                if chunk.count >= 3 {
                    let gains = chunk.compactMap { gain($0.step) }
                    let k = gains.count == chunk.count ? gains.reduce(0, +) / Double(gains.count) : nil
                    out[layer, default: []].append(LoopGain(bias: chunk.map(\.bias), share: chunk.map(\.share),
                                                            firstStep: chunk[0].step, effectiveGain: k))
                }
                chunk = []
            }
            for row in series {
                if let last = chunk.last, row.step != last.step + 1 || row.bias.count != last.bias.count { flush() }
                chunk.append(row)
                if chunk.count == windowSteps { flush() }
            }
            flush()
        }
        return out
    }
}

/// Ordinary least squares y = a + b x: the slope b and its standard error; nil with fewer than
/// 2 points or no spread in x. The standard error is nil with fewer than 3 points.
func leastSquaresSlope(x: [Double], y: [Double]) -> (slope: Double, standardError: Double?)? {
    let n = x.count
    guard n >= 2 else { return nil }
    let mx = x.reduce(0, +) / Double(n), my = y.reduce(0, +) / Double(n)
    var sxx = 0.0, sxy = 0.0
    for k in 0..<n { sxx += (x[k] - mx) * (x[k] - mx); sxy += (x[k] - mx) * (y[k] - my) }
    guard sxx > 0 else { return nil }
    let slope = sxy / sxx
    guard n >= 3 else { return (slope, nil) }
    var rss = 0.0
    for k in 0..<n { let r = y[k] - my - slope * (x[k] - mx); rss += r * r }
    return (slope, (rss / Double(n - 2) / sxx).squareRoot())
}
