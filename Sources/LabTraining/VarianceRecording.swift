import Foundation
import LabConfig
import LabData
import LabKernels
import LabModel
import LabRecords

// Variance statistics (LONGCAT.md sections 2, 6, 7) in training runs and at initialisation.
// In a run, the training loop calls `Recorder.captureVariance(step:)` right after the
// backward pass of a probe step (step 0, before the first update, and every
// `train.variance_interval` steps), before clipping; the rows wait in `VarianceRecording`
// and join that step's `StepRecord`, one transaction. `measureInitialVariance` serves
// `longcat-lab variance`: step-0 statistics over several seeds, without training.

/// Variance rows measured on a probe step, held until that step is recorded.
struct VarianceRecording {
    private var pendingStep = -1
    private var pending: [VarianceRow] = []

    /// Whether `step` is a probe step of a run measuring every `interval` steps (0 = never).
    static func isProbeStep(_ step: Int, interval: Int) -> Bool { interval > 0 && step % interval == 0 }

    /// Measures the model's last pass (activations and unclipped gradients) when `step` is a
    /// probe step; reads the model only.
    mutating func capture(step: Int, model: LongCatModel, interval: Int) {
        guard Self.isProbeStep(step, interval: interval) else { return }
        pendingStep = step
        pending = varianceRows(step: step, statistics: model.activationStatistics() + model.gradientStatistics())
    }

    /// The rows captured for `step` (empty when it was no probe step); forgets them.
    mutating func take(step: Int) -> [VarianceRow] {
        defer { pending = []; pendingStep = -1 }
        return pendingStep == step ? pending : []
    }
}

/// `statistics` as rows of `variance_stats` at `step`.
func varianceRows(step: Int, statistics: [VarianceStatistic]) -> [VarianceRow] {
    statistics.map { VarianceRow(step: step, layer: $0.layer, module: $0.module, statistic: $0.statistic, value: $0.value) }
}

extension Recorder {
    /// The training loop's hook: on a probe step, measures this step's pass before the update.
    func captureVariance(step: Int) {
        variance.capture(step: step, model: model, interval: config.train.varianceInterval)
    }
}

// MARK: - Step-0 measurement over seeds

/// Step-0 statistics of one config over several seeds (weights and batch both follow the seed).
public struct VarianceMeasurement: Sendable {
    public let config: LabConfig
    public let seeds: [Int]
    /// `perSeed[i]`: every statistic of seed `seeds[i]`, in probe order.
    public let perSeed: [[VarianceStatistic]]
}

/// Mean and spread over seeds of one statistic. `layer` nil: the mean over the layers (per seed,
/// before the spread is taken); -1: a model-wide statistic.
public struct VarianceSummaryRow: Sendable, Equatable {
    public var layer: Int?
    public var module: String
    public var statistic: String
    public var mean: Double
    /// Sample standard deviation over seeds (0 with one seed).
    public var sd: Double
    public var key: String { "\(layer.map(String.init) ?? "*")/\(module)/\(statistic)" }
}

/// Builds a fresh model of `config` for each seed (train.seed = seed), runs one training pass
/// (forward and backward, no update) on the step-0 batch of `batch` sequences of
/// train.seq_len tokens, and measures it. Throws on a corpus too small for the batch.
public func measureInitialVariance(config: LabConfig, seeds: [Int], batch: Int) throws -> VarianceMeasurement {
    LabThreads.set(config.train.threads)
    let t = config.train.seqLen, r = batch * t
    var perSeed: [[VarianceStatistic]] = []
    for seed in seeds {
        var c = config
        c.train.seed = seed
        let corpus = try Corpus.load(c.data, seed: seed)
        try corpus.check(batch: batch, seqLen: t)
        let model = LongCatModel(config: c, batch: batch, seqLen: t)
        model.initializeWeights(seed: UInt64(seed))
        var tokens = [Int32](repeating: 0, count: r), targets = tokens, mtp = tokens
        let sampler = BatchSampler(corpus: corpus, split: .train, batch: batch, seqLen: t, seed: seed)
        tokens.withUnsafeMutableBufferPointer { tk in
            targets.withUnsafeMutableBufferPointer { tg in
                sampler.batch(atStep: 0, into: tk.baseAddress!, targets: tg.baseAddress!, labels: nil)
                mtp.withUnsafeMutableBufferPointer { BatchSampler.mtpTargets(from: tg.baseAddress!, into: $0.baseAddress!, batch: batch, seqLen: t) }
                _ = model.pass(tokens: tk.baseAddress!, targets: tg.baseAddress!, mtpTargets: mtp, batch: batch, train: true)
            }
        }
        perSeed.append(model.activationStatistics() + model.gradientStatistics())
    }
    return VarianceMeasurement(config: config, seeds: seeds, perSeed: perSeed)
}

extension VarianceMeasurement {
    /// Mean and spread over seeds of every statistic, in probe order. With `perLayer` false,
    /// statistics of the layers are first averaged over the layers (per seed).
    public func summary(perLayer: Bool) -> [VarianceSummaryRow] {
        var order: [String] = []
        var values: [String: (row: VarianceSummaryRow, perSeed: [Double])] = [:]
        for (s, stats) in perSeed.enumerated() {
            var layerSums: [String: (Double, Int)] = [:]
            for x in stats {
                let layer: Int? = perLayer || x.layer < 0 ? x.layer : nil
                let row = VarianceSummaryRow(layer: layer, module: x.module, statistic: x.statistic, mean: 0, sd: 0)
                if values[row.key] == nil { order.append(row.key); values[row.key] = (row, []) }
                let (sum, n) = layerSums[row.key] ?? (0, 0)
                layerSums[row.key] = (sum + x.value, n + 1)
            }
            for (key, (sum, n)) in layerSums where values[key]!.perSeed.count == s {
                values[key]!.perSeed.append(sum / Double(n))
            }
        }
        return order.map { key in
            var (row, xs) = values[key]!
            let mean = xs.reduce(0, +) / Double(xs.count)
            row.mean = mean
            row.sd = xs.count > 1 ? (xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)).squareRoot() : 0
            return row
        }
    }
}
