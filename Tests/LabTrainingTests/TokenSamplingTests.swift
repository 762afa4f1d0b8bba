import Foundation
import LabConfig
import LabData
import LabRecords
import Testing
@testable import LabTraining

/// A two-layer small model on the synthetic mixture, evaluating at steps 4 and 9.
func samplingConfig(sampleBatches: Int) -> LabConfig {
    var c = smallConfig(steps: 10)
    c.model.numLayers = 2
    c.data.corpus = .synthetic
    c.data.synthetic = .mixture
    c.data.syntheticBytes = 20_000
    c.train.evalInterval = 5
    c.train.evalBatches = 2
    c.train.tokenSampleBatches = sampleBatches
    return c
}

/// Trains `c` as run `name` in a fresh results folder; returns its database and run id.
func trainRecorded(_ c: LabConfig, name: String) throws -> (store: RecordStore, id: Int64) {
    let o = temporaryOptions(name)
    _ = try Trainer(config: c, options: o).run()
    let store = try RecordStore(path: o.databasePath)
    return (store, try #require(try store.runID(named: name)))
}

@Suite("Token sampling", .serialized)
struct TokenSamplingTests {
    /// Guards against telemetry that perturbs training: sampling the routing of every
    /// evaluation token must leave losses and validation loss bit-identical.
    @Test func samplingNeverChangesTraining() throws {
        let off = try Trainer(config: samplingConfig(sampleBatches: 0), options: temporaryOptions("off")).run()
        let on = try Trainer(config: samplingConfig(sampleBatches: 2), options: temporaryOptions("on")).run()
        #expect(off.losses == on.losses)
        #expect(off.finalEvalLoss == on.finalEvalLoss)
    }

    /// Guards against rows for the wrong tokens, labels or experts: each evaluation step holds
    /// exactly B*T*L rows per sampled batch, each naming the token at its window position, that
    /// token's own label, and the FFN experts (ids below N) it used; other steps hold none.
    @Test func rowsDescribeEverySampledTokenAndLayer() throws {
        let c = samplingConfig(sampleBatches: 1)
        let (store, id) = try trainRecorded(c, name: "rows")
        let corpus = try Corpus.load(c.data, seed: c.train.seed)
        let sampler = BatchSampler(corpus: corpus, split: .validation, batch: c.train.batchSize,
                                   seqLen: c.train.seqLen, seed: c.train.seed)
        let starts = sampler.evaluationWindowStarts(index: 0, of: c.train.evalBatches)
        let (t, n) = (c.train.seqLen, c.model.nRoutedExperts)
        #expect(try store.tokenSamples(runID: id, step: 3).isEmpty)
        for step in [4, 9] {
            let rows = try store.tokenSamples(runID: id, step: step)
            #expect(rows.count == c.train.batchSize * t * c.model.numLayers)
            #expect(Set(rows.map(\.layer)) == [0, 1])
            for row in rows {
                let index = starts[row.sample] + row.position
                #expect(row.token == Int(corpus.token(at: index)))
                #expect(row.label == corpus.labelNames[Int(corpus.label(at: index))])
                #expect(row.ffnExperts == row.experts.count && row.ffnExperts <= c.model.moeTopk)
                #expect(row.experts.allSatisfy { (0..<n).contains($0) } && row.experts == row.experts.sorted())
            }
            // Zero experts are in use, so counts vary between tokens.
            #expect(Set(rows.map(\.ffnExperts)).count > 1)
        }
    }

    /// Guards against per-label losses computed from the wrong logits or tokens: weighted by
    /// their token counts they must average to the step's validation loss, over every
    /// evaluation batch (not only the sampled one).
    @Test func lossesByLabelAverageToTheValidationLoss() throws {
        let c = samplingConfig(sampleBatches: 1)
        let (store, id) = try trainRecorded(c, name: "losses")
        let byLabel = try store.evalByLabel(runID: id)
        for step in try store.steps(runID: id) {
            let here = byLabel.filter { $0.step == step.step }
            guard let evalLoss = step.evalLoss else {
                #expect(here.isEmpty)
                continue
            }
            let loss = Dictionary(uniqueKeysWithValues: here.map { ($0.label, $0.loss) })
            let count = Dictionary(uniqueKeysWithValues: here.map { ($0.label, Double($0.tokens)) })
            #expect(loss.count >= 3)
            let total = count.values.reduce(0, +)
            #expect(total == Double(c.train.evalBatches * c.train.batchSize * c.train.seqLen))
            let mean = loss.keys.reduce(0.0) { $0 + loss[$1]! * count[$1]! } / total
            #expect(abs(mean - evalLoss) < 1e-4 * evalLoss, "per-label mean \(mean) vs eval loss \(evalLoss)")
        }
    }
}
