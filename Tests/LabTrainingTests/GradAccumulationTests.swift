import Foundation
import LabConfig
import LabData
import Testing
@testable import LabTraining

@Suite struct GradAccumulationTests {
    /// One step's gradient, losses and controller loads for `batch` rows accumulated `accum` times.
    private func oneStep(batch: Int, accum: Int) throws -> (grads: [Float], lm: Double, loads: [[Int]]) {
        var c = smallConfig(steps: 4)
        c.train.batchSize = batch
        c.train.gradAccum = accum
        var options = temporaryOptions("accum-\(batch)x\(accum)")
        options.record = false
        let trainer = try Trainer(config: c, options: options)
        let sampler = BatchSampler(corpus: trainer.corpus, split: .train, batch: batch * accum, seqLen: c.train.seqLen,
                                   seed: c.train.seed)
        trainer.fillBatch(sampler, step: 2)
        let losses = trainer.accumulatedStep()
        let grads = Array(UnsafeBufferPointer(start: trainer.model.grads.ptr, count: trainer.model.layout.count))
        return (grads, losses.lm, trainer.controllers.map(\.state.pendingLoads))
    }

    /// Guards against accumulation that sums instead of averaging, drops a micro-batch, reuses
    /// one micro-batch's rows twice or feeds the controller only the last micro-batch: 4 x B
    /// accumulated must give the gradient, loss and expert loads of one pass over 4B rows.
    @Test func fourMicroBatchesEqualOneBigBatch() throws {
        let big = try oneStep(batch: 8, accum: 1)
        let accumulated = try oneStep(batch: 2, accum: 4)
        let scale = big.grads.map { abs($0) }.max() ?? 0
        #expect(scale > 0)
        let worst = zip(big.grads, accumulated.grads).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4 * scale, "largest gradient difference \(worst) against a scale of \(scale)")
        #expect(abs(big.lm - accumulated.lm) < 1e-5)
        #expect(big.loads == accumulated.loads)
        // And it is not trivially equal to one micro-batch alone.
        let single = try oneStep(batch: 2, accum: 1)
        let gap = zip(big.grads, single.grads).map { abs($0 - $1) }.max() ?? 0
        #expect(gap > 1e-3 * scale)
    }

    /// Guards against a run that counts micro-batches as steps: with grad_accum = 4 the run
    /// makes `train.steps` optimizer steps and records tokens of the whole effective batch.
    @Test func runStepsOncePerOptimizerStep() throws {
        var c = smallConfig(steps: 6)
        c.train.batchSize = 2
        c.train.gradAccum = 4
        c.train.evalInterval = 0
        let summary = try Trainer(config: c, options: temporaryOptions("accum-run")).run()
        #expect(summary.steps == 6)
        #expect(summary.losses.count == 6)
        #expect(summary.losses.allSatisfy { $0.isFinite })
    }
}

@Suite struct CheckpointRetentionTests {
    /// Guards against retention that deletes pinned checkpoints, keeps too many, or deletes a
    /// folder newer than `latest` (a checkpoint still being written).
    @Test func keepsNewestAndPinned() throws {
        let run = NSTemporaryDirectory() + "retention-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: run) }
        for step in [10, 20, 30, 40, 50, 60] {
            try FileManager.default.createDirectory(atPath: Checkpoint.directory(runDirectory: run, step: step),
                                                    withIntermediateDirectories: true)
        }
        try "step-000050\n".write(toFile: run + "/checkpoints/latest", atomically: true, encoding: .utf8)
        let deleted = try Checkpoint.prune(runDirectory: run, keep: 2, pinned: [10])
        #expect(deleted == [20, 30])
        let left = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints").filter { $0.hasPrefix("step-") }.sorted()
        #expect(left == ["step-000010", "step-000040", "step-000050", "step-000060"])
        #expect(try Checkpoint.prune(runDirectory: run, keep: 0, pinned: []) == [])
    }

    /// Guards against train.keep_checkpoints being ignored by the training loop: a 30-step run
    /// with a checkpoint every 10 steps, keeping 1 and pinning step 10, ends with steps 10 and 30.
    @Test func trainingLoopPrunes() throws {
        var c = smallConfig(steps: 30)
        c.train.keepCheckpoints = 1
        c.train.pinCheckpoints = "10"
        var options = temporaryOptions("retention-run")
        options.record = false
        let trainer = try Trainer(config: c, options: options)
        _ = try trainer.run()
        let left = try FileManager.default.contentsOfDirectory(atPath: trainer.runDirectory + "/checkpoints")
            .filter { $0.hasPrefix("step-") }.sorted()
        #expect(left == ["step-000010", "step-000030"])
    }
}
