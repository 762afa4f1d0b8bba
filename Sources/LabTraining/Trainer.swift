import Foundation
import LabConfig
import LabData
import LabKernels
import LabModel
import LabRecords
import LabRouting

/// Where a run writes and how it reports.
public struct TrainOptions: Sendable {
    /// Run name (unique in the database).
    public var name: String
    public var databasePath = "results/lab.sqlite"
    public var resultsDirectory = "results"
    /// Continue the named run from its newest checkpoint.
    public var resume = false
    /// Write the per-step records (turning it off never changes the training result).
    public var record = true
    /// Print progress lines.
    public var verbose = true
    /// Stop (as if interrupted: checkpoint, status interrupted) once this many steps are done.
    public var stopAfterStep: Int? = nil
    public init(name: String) { self.name = name }
}

/// What a finished run reports.
public struct TrainSummary: Sendable {
    public var runName = ""
    public var steps = 0
    public var finalLoss = Double.nan
    public var finalEvalLoss: Double? = nil
    public var tokensPerSecond = 0.0
    public var wallSeconds = 0.0
    public var databasePath = ""
    public var runDirectory = ""
    public var interrupted = false
    /// Training losses of every step run in this process (for tests).
    public var losses: [Double] = []
}

public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// The training loop: batches, forward/backward, clipping, AdamW, the bias controllers,
/// evaluation, checkpoints and the per-step records.
public final class Trainer {
    public let config: LabConfig
    public let options: TrainOptions
    let corpus: Corpus
    let model: LongCatModel
    let optimizer: AdamW
    let schedule: LearningRateSchedule
    var controllers: [BiasController]
    var tokens, targets, mtpTargets: [Int32]
    var labels: [UInt8]
    let runDirectory: String
    let interrupt = InterruptFlag()
    /// Token samples of the latest evaluation, until the recorder takes them.
    let pendingSamples = PendingTokenSamples()

    public init(config: LabConfig, options: TrainOptions) throws {
        self.config = config
        self.options = options
        LabThreads.set(config.train.threads)
        let t = config.train, m = config.model
        corpus = try Corpus.load(config.data, seed: t.seed, vocabSize: m.vocabSize)
        try corpus.check(batch: t.batchSize, seqLen: t.seqLen)
        model = LongCatModel(config: config, batch: t.batchSize, seqLen: t.seqLen)
        model.initializeWeights(seed: UInt64(t.seed))
        optimizer = AdamW(parameterCount: model.layout.count, config: t, decayMask: model.layout.decayRanges)
        schedule = try LearningRateSchedule(t)
        controllers = try (0..<m.numLayers).map { _ in
            try BiasController(config: config.controller, routedExperts: m.nRoutedExperts, zeroExperts: m.zeroExpertNum,
                               topK: m.moeTopk, totalSteps: t.steps)
        }
        // Token buffers hold every micro-batch of a step: [grad_accum * B, T].
        let r = t.batchSize * t.gradAccum * t.seqLen
        tokens = [Int32](repeating: 0, count: r); targets = tokens; mtpTargets = tokens
        labels = [UInt8](repeating: 0, count: r)
        runDirectory = options.resultsDirectory + "/runs/" + options.name
    }
}
