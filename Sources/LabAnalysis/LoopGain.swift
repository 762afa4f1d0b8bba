import LabRecords
import LabRouting

/// The bias controller as a feedback loop, measured from its own records: the sensitivity S of
/// an expert's load share to its own bias (`SensitivityFit`, +d(share)/d(bias), on the balance
/// mode), the integral gain k the controller applied to that mode (`SensitivityFit.effectiveGain`,
/// read off its bias changes, so schedules, the adaptive gain and other rules need no config),
/// and the loop gain g = k * S. A discrete integrator on a static plant with slope S shrinks its
/// error by (1 - g) per update: monotonely for g < 1, with alternating sign for 1 < g < 2 (ringing), and
/// it grows for g > 2.
public struct LoopGain: Sendable, Equatable {
    /// The regime of a discrete integrator on a static plant at loop gain g.
    public enum Regime: String, Sendable, Equatable {
        /// 0 < g < 1: the error decays without changing sign.
        case monotone
        /// 1 <= g < 2: the error decays while alternating in sign.
        case ringing
        /// g >= 2: the error grows.
        case unstable
        /// g <= 0 or unknown: no restoring feedback measured.
        case none

        public init(gain g: Double) {
            if !(g > 0) { self = .none } else if g < 1 { self = .monotone } else if g < 2 { self = .ringing } else { self = .unstable }
        }
    }

    /// First and last step of the window.
    public var firstStep: Int
    public var lastStep: Int
    /// (expert, step) pairs behind the fit.
    public var samples: Int
    /// S = +d(load share)/d(own bias), share per unit bias; nil when it cannot be fitted.
    public var sensitivity: Double?
    /// Standard error of S (nil when unknown).
    public var standardError: Double?
    /// The integral gain the balance mode saw over the window; nil when no share varied.
    public var effectiveGain: Double?

    /// g = effectiveGain * sensitivity; nil when either is unknown.
    public var loopGain: Double? {
        guard let s = sensitivity, let k = effectiveGain else { return nil }
        return k * s
    }

    /// The regime `loopGain` falls in.
    public var regime: Regime { Regime(gain: loopGain ?? .nan) }

    /// Measures the loop over `bias[t][i]` (after step t's update) and `share[t][i]` (load share
    /// at step t) of the FFN experts on consecutive steps `firstStep...`, every row the same length.
    public init(bias: [[Double]], share: [[Double]], firstStep: Int) {
        self.firstStep = firstStep
        lastStep = firstStep + max(bias.count - 1, 0)
        let fit = SensitivityFit(bias: bias, share: share)
        samples = fit?.samples ?? 0
        sensitivity = fit?.sensitivity
        standardError = fit?.standardError
        effectiveGain = SensitivityFit.effectiveGain(bias: bias, share: share)
    }

    /// Per layer, the loop in consecutive windows of `windowSteps` steps of run `runID`, from its
    /// FFN experts' `expert_steps` rows (steps that recorded every FFN expert of the layer; a gap
    /// in the steps starts a new window, and a last part shorter than half a window is dropped).
    /// `lastOnly`: only the window that ends at the last recorded step.
    public static func windows(_ store: RecordStore, runID: Int64, windowSteps: Int,
                               lastOnly: Bool = false) throws -> [Int: [LoopGain]] {
        precondition(windowSteps >= 4, "LoopGain.windows: a window needs at least 4 steps")
        var steps = try store.steps(runID: runID).map(\.step)
        if lastOnly { steps = Array(steps.suffix(windowSteps)) }
        var rows: [Int: [(step: Int, bias: [Double], share: [Double])]] = [:]
        for step in steps {
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
                if chunk.count >= max(4, windowSteps / 2) {
                    out[layer, default: []].append(LoopGain(bias: chunk.map(\.bias), share: chunk.map(\.share),
                                                            firstStep: chunk[0].step))
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
