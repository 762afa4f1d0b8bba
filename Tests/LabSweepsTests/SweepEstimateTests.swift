import Foundation
import LabConfig
import LabRecords
import Testing
@testable import LabSweeps

@Suite("Sweep time estimate")
struct SweepEstimateTests {
    func config(width: Int = 64, steps: Int = 100, evalInterval: Int = 0, evalBatches: Int = 3) -> LabConfig {
        var c = LabConfig()
        c.model.hiddenSize = width
        c.train.steps = steps
        c.train.evalInterval = evalInterval
        c.train.evalBatches = evalBatches
        return c
    }

    /// FLOPs per step are the lab's count per token times the tokens of one optimizer step, so
    /// gradient accumulation multiplies them (guards an estimate that ignores micro-batches).
    @Test func flopsPerStepCountsEveryMicroBatch() {
        var c = config()
        let perToken = ParameterCount(model: c.model).trainingFlopsPerToken(
            meanFfnExperts: c.effectiveTargetFfnExperts, seqLen: c.train.seqLen)
        #expect(SweepEstimate.flopsPerStep(c) == perToken * Double(c.train.batchSize * c.train.seqLen))
        c.train.gradAccum = 4
        #expect(SweepEstimate.flopsPerStep(c) == 4 * perToken * Double(c.train.batchSize * c.train.seqLen))
    }

    /// A run of a shape already timed takes the median step time of those runs times its steps
    /// (guards a mean dragged by one slow run, or steps already done counted again).
    @Test func sameShapeUsesTheMedianStepTime() {
        let c = config(steps: 100)
        let f = SweepEstimate.flopsPerStep(c)
        let timings = [0.1, 0.2, 9.0].enumerated().map { StepTiming(name: "r\($0)", flopsPerStep: f, threads: 1, secondsPerStep: $1) }
        let e = SweepEstimate.estimate(name: "x", config: c, stepsLeft: 40, threads: 1, timings: timings)
        // 40 steps x 0.2 s, plus the final evaluation: 3 batches of a third of a step.
        #expect(abs(e.seconds! - (40 * 0.2 + 3 * 0.2 / 3)) < 1e-9)
        #expect(e.basis.contains("3 finished run(s)"))
    }

    /// Without a run of the same shape the nearest timed shape is scaled by the FLOPs ratio,
    /// and a run timed with other threads is used only when no run with the same threads is
    /// there (guards scaling from the wrong neighbour).
    @Test func otherShapesScaleByFlopsFromTheNearestSameThreadsRun() {
        let small = config(width: 64), big = config(width: 128)
        let fs = SweepEstimate.flopsPerStep(small), fb = SweepEstimate.flopsPerStep(big)
        let timings = [
            StepTiming(name: "small-1t", flopsPerStep: fs, threads: 1, secondsPerStep: 0.5),
            StepTiming(name: "big-2t", flopsPerStep: fb, threads: 2, secondsPerStep: 0.01),
        ]
        let e = SweepEstimate.estimate(name: "b", config: big, stepsLeft: 10, threads: 1, timings: timings)
        let perStep = 0.5 * fb / fs
        #expect(abs(e.seconds! - perStep * (10 + 1.0)) < 1e-9)   // 10 steps + one final eval of 3 thirds
        #expect(e.basis.hasPrefix("scaled from small-1t"))
        let other = SweepEstimate.estimate(name: "b", config: big, stepsLeft: 10, threads: 4, timings: timings)
        #expect(other.basis.contains("big-2t") && other.basis.contains("not 4"))
    }

    /// No timing at all gives no number (guards a made-up default rate); a finished run costs 0.
    @Test func unknownAndFinishedRuns() {
        let c = config()
        #expect(SweepEstimate.estimate(name: "x", config: c, stepsLeft: 10, threads: 1, timings: []).seconds == nil)
        #expect(SweepEstimate.estimate(name: "x", config: c, stepsLeft: 0, threads: 1, timings: []).seconds == 0)
    }

    /// Evaluations every `eval_interval` steps (and at the end) add `eval_batches` thirds of a
    /// step each (guards estimates that forget evaluation or count it as full training steps).
    @Test func evaluationFactor() {
        let c = config(steps: 1000, evalInterval: 250, evalBatches: 6)
        // 1000 steps: evals at 250, 500, 750, 1000 and the final one counted as 4 + 1 = 5.
        #expect(abs(SweepEstimate.evaluationFactor(c, stepsLeft: 1000) - (1 + 5 * 2.0 / 1000)) < 1e-12)
        #expect(SweepEstimate.evaluationFactor(c, stepsLeft: 0) == 1)
    }

    /// The wall time of jobs at once is the greedy schedule in run order, not the sum divided by
    /// the jobs (guards a plan that promises 2x on two long runs and one short).
    @Test func makespanIsTheGreedySchedule() {
        #expect(SweepEstimate.makespan([10, 10, 10], jobs: 2) == 20)
        #expect(SweepEstimate.makespan([30, 10, 10, 10], jobs: 2) == 30)
        #expect(SweepEstimate.makespan([5, nil, 5], jobs: 1) == 10)
        #expect(SweepEstimate.makespan([], jobs: 3) == 0)
    }

    /// Durations print as hours and minutes, minutes and seconds, or seconds.
    @Test func durationText() {
        #expect(SweepEstimate.duration(3725) == "1h 02m")
        #expect(SweepEstimate.duration(95) == "1m 35s")
        #expect(SweepEstimate.duration(7) == "7s")
    }

    /// Step times read back from a database: only finished training runs, their median step_ms
    /// and threads, with the FLOPs of the recorded config (guards timing from failed or
    /// half-written runs).
    @Test func recordedTimingsReadFinishedRunsOnly() throws {
        let path = NSTemporaryDirectory() + "estimate-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sqlite"
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let store = try RecordStore(path: path)
        defer { store.close() }
        let c = config()
        for (name, finish) in [("done", true), ("running", false)] {
            let id = try store.beginRun(RunInfo(name: name, configTOML: c.resolvedTOML(), configHash: "h", seed: 1, threads: 1))
            for (step, ms) in [100.0, 300.0, 200.0].enumerated() {
                _ = try store.query("INSERT INTO steps (run_id, step, step_ms) VALUES (?1, ?2, ?3)",
                                [.integer(id), .integer(Int64(step)), .real(ms)])
            }
            if finish { try store.finishRun(id, status: .finished) }
        }
        let t = try RecordedTimings.read(from: store)
        #expect(t.count == 1)
        #expect(t.first?.name == "done")
        #expect(t.first?.threads == 1)
        #expect(t.first?.secondsPerStep == 0.2)
        #expect(t.first?.flopsPerStep == SweepEstimate.flopsPerStep(c))
    }
}
