import Foundation
import LabConfig

/// How long one shape of run took per optimizer step on this machine: a finished run read
/// back from the records, or a few steps timed just now.
public struct StepTiming: Sendable, Equatable {
    /// The run it came from (or the run whose config was timed).
    public var name: String
    /// Training FLOPs of one optimizer step (`SweepEstimate.flopsPerStep`).
    public var flopsPerStep: Double
    /// Worker threads the run had.
    public var threads: Int
    /// Median wall seconds of one optimizer step (evaluation excluded).
    public var secondsPerStep: Double
    /// True for a measurement taken now rather than a finished run.
    public var timedNow = false

    public init(name: String, flopsPerStep: Double, threads: Int, secondsPerStep: Double, timedNow: Bool = false) {
        self.name = name; self.flopsPerStep = flopsPerStep; self.threads = threads
        self.secondsPerStep = secondsPerStep; self.timedNow = timedNow
    }
}

/// The estimated time of one run of a sweep.
public struct RunEstimate: Sendable, Equatable {
    public var name: String
    /// Optimizer steps still to train (0 for a finished run).
    public var stepsLeft: Int
    /// Wall seconds for those steps with evaluations; nil when no timing applies.
    public var seconds: Double?
    /// Where the time comes from, e.g. "median of 5 finished runs of this shape".
    public var basis: String
}

/// The time a sweep will take, from the FLOPs per step the lab counts (`ParameterCount`) and
/// the step times this machine measured.
///
/// A run's seconds per step come, in this order of preference, from (1) finished runs of the
/// same shape (FLOPs per step within `sameShapeTolerance`, same threads): their median step time;
/// (2) the timed run nearest in FLOPs per step (same threads when there is one), scaled by the
/// FLOPs ratio, i.e. at that run's achieved FLOP/s. Evaluation adds `evalBatches` forward passes
/// (a third of a training step each) every `evalInterval` steps and at the end. The sweep's wall
/// time is the greedy schedule of the runs, in order, on `jobs` slots (each run starts when a
/// slot frees), which is what `SweepRunner` does.
public enum SweepEstimate {
    /// Relative FLOPs difference under which two configs count as the same shape.
    public static let sameShapeTolerance = 0.02

    /// Training FLOPs of one optimizer step: `trainingFlopsPerToken` at the config's K_e (K for
    /// a model without a budget) times batch x sequence x gradient-accumulation micro-batches.
    public static func flopsPerStep(_ config: LabConfig) -> Double {
        let count = ParameterCount(model: config.model)
        let t = config.train
        let perToken = count.trainingFlopsPerToken(meanFfnExperts: config.effectiveTargetFfnExperts, seqLen: t.seqLen)
        return perToken * Double(t.batchSize * t.seqLen * max(1, t.gradAccum))
    }

    /// Wall time of `stepsLeft` steps relative to the training alone: 1 + evaluation forward
    /// passes (each a third of a step of the same batch) per step still to run.
    public static func evaluationFactor(_ config: LabConfig, stepsLeft: Int) -> Double {
        guard stepsLeft > 0 else { return 1 }
        let t = config.train
        let evals = (t.evalInterval > 0 ? stepsLeft / t.evalInterval : 0) + 1
        let perEval = Double(t.evalBatches) / Double(max(1, t.gradAccum)) / 3
        return 1 + Double(evals) * perEval / Double(stepsLeft)
    }

    /// The estimate of one run of `config` with `stepsLeft` steps to go, run with `threads`
    /// worker threads, from `timings`.
    public static func estimate(name: String, config: LabConfig, stepsLeft: Int, threads: Int,
                                timings: [StepTiming]) -> RunEstimate {
        guard stepsLeft > 0 else { return RunEstimate(name: name, stepsLeft: 0, seconds: 0, basis: "finished") }
        let flops = flopsPerStep(config)
        let factor = evaluationFactor(config, stepsLeft: stepsLeft)
        let usable = timings.filter { $0.secondsPerStep > 0 && $0.flopsPerStep > 0 }
        let sameThreads = usable.filter { $0.threads == threads }
        let same = sameThreads.filter { abs($0.flopsPerStep / flops - 1) <= sameShapeTolerance }
        if !same.isEmpty {
            let perStep = median(same.map(\.secondsPerStep))
            let what = same.allSatisfy(\.timedNow) ? "timed now" : "median of \(same.count) finished run(s) of this shape"
            return RunEstimate(name: name, stepsLeft: stepsLeft, seconds: perStep * Double(stepsLeft) * factor,
                               basis: what + String(format: ", %.3f s/step", perStep))
        }
        let pool = sameThreads.isEmpty ? usable : sameThreads
        guard let nearest = pool.min(by: { abs(log($0.flopsPerStep / flops)) < abs(log($1.flopsPerStep / flops)) }) else {
            return RunEstimate(name: name, stepsLeft: stepsLeft, seconds: nil, basis: "no timing")
        }
        let perStep = nearest.secondsPerStep * flops / nearest.flopsPerStep
        var basis = String(format: "scaled from %@ (%.2fx its FLOPs/step at %.2f GFLOP/s)", nearest.name,
                           flops / nearest.flopsPerStep, nearest.flopsPerStep / nearest.secondsPerStep / 1e9)
        if nearest.threads != threads { basis += ", measured with \(nearest.threads) thread(s), not \(threads)" }
        return RunEstimate(name: name, stepsLeft: stepsLeft, seconds: perStep * Double(stepsLeft) * factor, basis: basis)
    }

    /// Wall time of running `seconds` (in order) on `jobs` slots, each run taking the slot that
    /// frees first. Unknown (nil) runs count as 0 here; callers say that some are unknown.
    public static func makespan(_ seconds: [Double?], jobs: Int) -> Double {
        var slots = [Double](repeating: 0, count: max(1, jobs))
        for s in seconds {
            let i = slots.indices.min { slots[$0] < slots[$1] }!
            slots[i] += s ?? 0
        }
        return slots.max() ?? 0
    }

    /// 3725 s -> "1h 02m" (minutes cut, not rounded); 95 s -> "1m 35s"; 7 s -> "7s".
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh %02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm %02ds", s / 60, s % 60) }
        return "\(s)s"
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
