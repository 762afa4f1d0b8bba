import Foundation
import LabConfig
import LabData
import LabKernels
import LabModel
import LabRecords
import Testing
@testable import LabTraining

/// A small but complete LongCat (zero experts, paper controller) on Tiny Shakespeare.
func smallConfig(steps: Int = 30) -> LabConfig {
    var c = LabConfig()
    c.model.hiddenSize = 32
    c.model.numLayers = 1
    c.model.numAttentionHeads = 2
    c.model.qLoraRank = 16
    c.model.kvLoraRank = 8
    c.model.qkNopeHeadDim = 8
    c.model.qkRopeHeadDim = 4
    c.model.vHeadDim = 8
    c.model.ffnHiddenSize = 64
    c.model.expertFfnHiddenSize = 16
    c.model.nRoutedExperts = 8
    c.model.zeroExpertNum = 4
    c.model.moeTopk = 2
    c.train.steps = steps
    c.train.batchSize = 4
    c.train.seqLen = 32
    c.train.warmupSteps = 3
    c.train.evalInterval = 10
    c.train.evalBatches = 2
    c.train.checkpointInterval = 10
    c.controller.kind = .pid
    c.controller.targetFfnExperts = 1
    c.controller.ki = 0.05
    return c
}

/// A fresh results folder and database under the temporary directory.
func temporaryOptions(_ name: String) -> TrainOptions {
    let dir = NSTemporaryDirectory() + "longcat-tests-\(UUID().uuidString)"
    var o = TrainOptions(name: name)
    o.resultsDirectory = dir
    o.databasePath = dir + "/lab.sqlite"
    o.verbose = false
    return o
}

@Suite("Trainer", .serialized)
struct TrainerTests {
    /// Guards against a resume that does not restore some state (optimizer moments, controller
    /// integral, step counter, batches): stopping and resuming gives bit-identical losses.
    @Test func resumeGivesIdenticalLosses() throws {
        let c = smallConfig(steps: 30)
        let full = try Trainer(config: c, options: temporaryOptions("full")).run()
        var first = temporaryOptions("split")
        first.stopAfterStep = 13
        let a = try Trainer(config: c, options: first).run()
        #expect(a.interrupted && a.steps == 13)
        var second = first
        second.stopAfterStep = nil
        second.resume = true
        let b = try Trainer(config: c, options: second).run()
        #expect(b.steps == 30)
        #expect(a.losses + b.losses == full.losses)
        #expect(b.finalEvalLoss == full.finalEvalLoss)
        // The database holds each step exactly once, the run finished.
        let store = try RecordStore(path: first.databasePath)
        let id = try #require(try store.runID(named: "split"))
        #expect(try store.steps(runID: id).map(\.step) == Array(0..<30))
        #expect(try store.run(id: id)?.status == .finished)
    }

    /// Guards against telemetry that perturbs training: recording on or off, same losses.
    @Test func recordingNeverChangesTraining() throws {
        let c = smallConfig(steps: 12)
        var off = temporaryOptions("off")
        off.record = false
        let a = try Trainer(config: c, options: temporaryOptions("on")).run()
        let b = try Trainer(config: c, options: off).run()
        #expect(a.losses == b.losses)
    }

    /// Guards against a silent NaN: a diverging run stops with an error naming the step, and
    /// the run is marked failed with its earlier records intact.
    @Test func nonFiniteLossNamesTheStep() throws {
        var c = smallConfig(steps: 40)
        c.train.learningRate = 1e6
        c.train.gradClip = 0
        c.train.warmupSteps = 0
        let o = temporaryOptions("diverge")
        #expect {
            _ = try Trainer(config: c, options: o).run()
        } throws: { error in
            "\(error)".contains("at step")
        }
        let store = try RecordStore(path: o.databasePath)
        let run = try #require(try store.run(named: "diverge"))
        #expect(run.status == .failed)
        #expect(run.message?.contains("at step") == true)
    }

    /// Guards against an optimiser or gradient that cannot fit: one fixed batch is learnt
    /// almost exactly (loss near zero) by a tiny model.
    @Test func overfitsOneBatch() throws {
        var c = smallConfig()
        c.train.learningRate = 1e-2
        c.train.weightDecay = 0
        let model = LongCatModel(config: c, batch: 2, seqLen: 16)
        model.initializeWeights(seed: 3)
        let adam = AdamW(parameterCount: model.layout.count, config: c.train, decayMask: model.layout.decayRanges)
        var rng = LabRandom(seed: 5)
        let tokens = (0..<32).map { _ in Int32(rng.nextInt(below: 256)) }
        let targets = (0..<32).map { _ in Int32(rng.nextInt(below: 256)) }
        var loss = Double.infinity
        for _ in 0..<300 {
            loss = tokens.withUnsafeBufferPointer { tk in
                targets.withUnsafeBufferPointer { tg in
                    model.pass(tokens: tk.baseAddress!, targets: tg.baseAddress!, batch: 2, train: true).lm
                }
            }
            adam.update(params: model.params.ptr, grads: UnsafePointer(model.grads.ptr), learningRate: 1e-2)
        }
        #expect(loss < 0.05, "loss after 300 steps on one batch: \(loss)")
    }

    /// The quickstart promise at small scale: training on Tiny Shakespeare brings the validation
    /// loss well below the unigram entropy of the text.
    @Test func learnsTinyShakespeareBeyondUnigram() throws {
        var c = smallConfig(steps: 150)
        c.train.learningRate = 1e-2
        c.train.batchSize = 8
        c.train.seqLen = 64
        c.train.evalInterval = 0
        c.train.checkpointInterval = 0
        let corpus = try Corpus.load(c.data, seed: 1)
        var counts = [Double](repeating: 0, count: 256)
        for b in corpus.train { counts[Int(b)] += 1 }
        let n = counts.reduce(0, +)
        let unigram = counts.filter { $0 > 0 }.map { -($0 / n) * log($0 / n) }.reduce(0, +)
        let s = try Trainer(config: c, options: temporaryOptions("learn")).run()
        let val = try #require(s.finalEvalLoss)
        #expect(val < unigram - 0.4, "validation \(val) vs unigram entropy \(unigram)")
    }

    /// Guards the budget controller's direction and gain: on a model with zero experts (N 8,
    /// Z 4, K 2) the paper's controller must pull the mean number of FFN experts per token to
    /// K_e = 1 and hold it there. Measured start: 1.5625 at step 0 (the untrained router, before
    /// any bias moves, sends more of the K = 2 slots to FFN experts than the uniform 2 * 8/12);
    /// measured end: 0.989 averaged over steps 100-119, within the 2% asked of K_e.
    @Test func controllerPullsFfnExpertsTowardBudget() throws {
        var c = smallConfig(steps: 120)
        c.controller.ki = 0.2
        c.train.evalInterval = 0
        let o = temporaryOptions("budget")
        _ = try Trainer(config: c, options: o).run()
        let store = try RecordStore(path: o.databasePath)
        let id = try #require(try store.runID(named: "budget"))
        let steps = try store.layerSteps(runID: id)
        let first = try #require(steps.min { $0.step < $1.step })
        let start = first.ffnExpertsMean
        let late = steps.filter { $0.step >= 100 }
        let mean = late.map(\.ffnExpertsMean).reduce(0, +) / Double(late.count)
        print("budget: FFN experts per token \(start) at step \(first.step), \(mean) over steps 100-119 (K_e 1)")
        #expect(late.count >= 10, "\(late.count) recorded steps from 100")
        #expect(first.step == 0 && start > 1.4, "start \(start) at step \(first.step): too close to K_e to show a pull")
        #expect(abs(mean - 1.0) < 0.02, "mean FFN experts per token over steps 100-119: \(mean)")
    }
}
