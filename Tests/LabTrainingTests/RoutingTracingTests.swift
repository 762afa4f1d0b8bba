import Foundation
import LabConfig
import LabData
import LabRecords
import Testing
@testable import LabTraining

@Suite("Routing traces", .serialized)
struct RoutingTracingTests {
    /// Guards against a selection that repeats tokens, draws a different count, falls outside
    /// the evaluation batches, or changes between calls (the same tokens must be traced at
    /// every evaluation).
    @Test func selectionIsDistinctAndFixed() {
        let a = TraceSelection.rows(count: 100, evalBatches: 3, rowsPerBatch: 64, seed: 7)
        #expect(a == TraceSelection.rows(count: 100, evalBatches: 3, rowsPerBatch: 64, seed: 7))
        #expect(a != TraceSelection.rows(count: 100, evalBatches: 3, rowsPerBatch: 64, seed: 8))
        #expect(a.count == 3 && a.reduce(0) { $0 + $1.count } == 100)
        for rows in a { #expect(rows == rows.sorted() && Set(rows).count == rows.count && rows.allSatisfy { (0..<64).contains($0) }) }
        #expect(TraceSelection.rows(count: 192, evalBatches: 3, rowsPerBatch: 64, seed: 1) == Array(repeating: Array(0..<64), count: 3))
        #expect(TraceSelection.rows(count: 0, evalBatches: 3, rowsPerBatch: 64, seed: 1) == [[], [], []])
    }

    /// Guards against traces with the wrong row count, tokens that differ between evaluations,
    /// rows naming the wrong token, an FFN count that disagrees with the expert ids, gates that
    /// do not match the slots, or losses that do not match the evaluation: a short run with two
    /// evaluations records trace_tokens * L rows at each, for the same tokens.
    @Test func aShortRunTracesTheSameTokensAtEveryEvaluation() throws {
        var c = samplingConfig(sampleBatches: 0)
        c.train.traceTokens = 40
        let (store, id) = try trainRecorded(c, name: "traces")
        let rows = try store.routingTraces(runID: id)
        let corpus = try Corpus.load(c.data, seed: c.train.seed)
        let sampler = BatchSampler(corpus: corpus, split: .validation, batch: c.train.batchSize,
                                   seqLen: c.train.seqLen, seed: c.train.seed)
        let (b, t, n, k) = (c.train.batchSize, c.train.seqLen, c.model.nRoutedExperts, c.model.moeTopk)
        #expect(Set(rows.map(\.step)) == [4, 9])
        var tokensAt: [Int: Set<[Int]>] = [:]
        for step in [4, 9] {
            let at = rows.filter { $0.step == step }
            #expect(at.count == 40 * c.model.numLayers)
            tokensAt[step] = Set(at.map { [$0.sequence, $0.position] })
            #expect(tokensAt[step]!.count == 40)
            for row in at {
                let start = sampler.evaluationWindowStarts(index: row.sequence / b, of: c.train.evalBatches)[row.sequence % b]
                #expect(row.token == Int(corpus.token(at: start + row.position)))
                #expect(row.experts.count == k && row.gates.count == k && row.experts == row.experts.sorted())
                #expect(row.ffnExperts == row.experts.filter { $0 < n }.count)
                #expect(row.gates.allSatisfy { $0 > 0 } && row.loss > 0 && row.loss.isFinite)
            }
            // The loss is the token's, the same in every layer's row.
            let byToken = Dictionary(grouping: at) { [$0.sequence, $0.position] }
            #expect(byToken.values.allSatisfy { Set($0.map(\.loss)).count == 1 })
        }
        #expect(tokensAt[4] == tokensAt[9])
        // Zero experts are in use, so some slots hold ids >= N.
        #expect(rows.contains { $0.experts.contains { $0 >= n } })
        // Every traced position lies within the evaluation batches.
        #expect(rows.allSatisfy { $0.sequence < c.train.evalBatches * b && $0.position < t })

        // `show` reports the churn of each layer between the two traced evaluations, the same
        // numbers `longcat-lab churn` computes, each token's Jaccard distance from its own traces.
        let report = try RunReport.load(from: store, run: "traces")
        #expect(report.churn.map(\.layer) == Array(0..<c.model.numLayers))
        for point in report.churn {
            #expect(point.from == 4 && point.to == 9 && point.tokens == 40)
            let set = { (step: Int, seq: Int, pos: Int) -> Set<Int> in
                Set(rows.first { $0.step == step && $0.layer == point.layer && $0.sequence == seq && $0.position == pos }!
                    .experts.filter { $0 < n })
            }
            let distances = rows.filter { $0.step == 4 && $0.layer == point.layer }.map { r -> Double in
                let a = set(4, r.sequence, r.position), b = set(9, r.sequence, r.position)
                let union = a.union(b).count
                return union == 0 ? 0 : 1 - Double(a.intersection(b).count) / Double(union)
            }
            #expect(abs(point.churn - distances.reduce(0, +) / Double(distances.count)) < 1e-12)
        }
        #expect(report.freezes.count == c.model.numLayers)
        #expect(report.text(includeConfig: false).contains("routing churn between traced evaluations"))
    }

    /// Guards against tracing that perturbs training: traces on and off give bit-identical
    /// training losses and validation loss.
    @Test func tracingNeverChangesTraining() throws {
        var off = samplingConfig(sampleBatches: 0), on = off
        off.train.traceTokens = 0
        on.train.traceTokens = 64
        let a = try Trainer(config: off, options: temporaryOptions("off")).run()
        let b = try Trainer(config: on, options: temporaryOptions("on")).run()
        #expect(a.losses == b.losses)
        #expect(a.finalEvalLoss == b.finalEvalLoss)
    }
}
