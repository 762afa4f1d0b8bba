import Foundation
import LabConfig
import LabKernels
import LabRecords
import LabSweeps
import LabTraining

/// The time plan a sweep prints before it starts (and `--dry-run` prints per run).
struct SweepPlan {
    var estimates: [RunEstimate]
    var jobs: Int
    var threadsPerRun: Int

    /// Wall seconds of what is left with `jobs` runs at once.
    var wallSeconds: Double { SweepEstimate.makespan(estimates.filter { $0.stepsLeft > 0 }.map(\.seconds), jobs: jobs) }
    var unknown: [RunEstimate] { estimates.filter { $0.stepsLeft > 0 && $0.seconds == nil } }

    /// The plan of `runs` in `states`, timed from the finished runs in `store` and, with
    /// `timeSteps` > 0, from that many steps of each shape that has no recorded timing, trained
    /// here and now (without records) with the threads each run will get.
    static func make(runs: [SweepRun], states: [RunState], store: RecordStore?, jobs: Int, threads: Int,
                     timeSteps: Int, log: (String) -> Void) throws -> SweepPlan {
        let total = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        let perRun = max(1, total / max(1, jobs))
        var timings = try store.map { try RecordedTimings.read(from: $0) } ?? []
        func stepsLeft(_ run: SweepRun, _ state: RunState) -> Int {
            switch state {
            case .finished: 0
            case .resumable(let step): max(0, run.config.train.steps - step)
            default: run.config.train.steps
            }
        }
        if timeSteps > 0 {
            for (run, state) in zip(runs, states) where stepsLeft(run, state) > 0 {
                let flops = SweepEstimate.flopsPerStep(run.config)
                let known = timings.contains {
                    $0.threads == perRun && abs($0.flopsPerStep / flops - 1) <= SweepEstimate.sameShapeTolerance
                }
                if known { continue }
                log("timing \(timeSteps) step(s) of \(run.name) with \(perRun) thread(s)...")
                LabThreads.set(perRun)
                var config = run.config
                config.train.threads = perRun
                let r = try runBenchmark(config: config, warmup: 1, steps: timeSteps, recordTo: nil)
                timings.append(StepTiming(name: run.name, flopsPerStep: flops, threads: perRun,
                                          secondsPerStep: r.medianStepMs / 1000, timedNow: true))
            }
        }
        let estimates = zip(runs, states).map { run, state in
            SweepEstimate.estimate(name: run.name, config: run.config, stepsLeft: stepsLeft(run, state),
                                   threads: perRun, timings: timings)
        }
        return SweepPlan(estimates: estimates, jobs: jobs, threadsPerRun: perRun)
    }

    /// "~12m 30s (median of 5 finished runs ...)" for one run, or why there is none.
    func line(for name: String) -> String? {
        guard let e = estimates.first(where: { $0.name == name }), e.stepsLeft > 0 else { return nil }
        guard let s = e.seconds else { return "time unknown (no finished run or timing on this machine)" }
        return "~" + SweepEstimate.duration(s) + " for \(e.stepsLeft) steps (" + e.basis + ")"
    }

    /// The summary lines: run time in all, wall time with the jobs, and what is unknown.
    var summary: [String] {
        let left = estimates.filter { $0.stepsLeft > 0 }
        guard !left.isEmpty else { return ["estimate: nothing left to run"] }
        let known = left.compactMap(\.seconds)
        var lines = ["estimate: \(left.count) run(s) to train, " + SweepEstimate.duration(known.reduce(0, +))
            + " of run time in all; about " + SweepEstimate.duration(wallSeconds) + " of wall time with \(jobs) at once ("
            + "\(threadsPerRun) thread(s) each)"]
        if !unknown.isEmpty {
            lines.append("estimate: \(unknown.count) run(s) have no timing (no finished run of any shape in the database); "
                + "--time-steps N times N steps of each shape first")
        }
        return lines
    }
}
