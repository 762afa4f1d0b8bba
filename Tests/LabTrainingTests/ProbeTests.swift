import Foundation
import LabConfig
import LabData
import LabKernels
import LabModel
import LabRecords
import LabRouting
import Testing
@testable import LabTraining

/// The probe (Probe.swift, ProbeSummary.swift): counterfactual losses with one FFN expert more
/// or fewer, and the statistics drawn from them.
@Suite("Probe")
struct ProbeTests {
    /// A one-layer model on a small byte corpus where every token takes zero expert N (it
    /// carries a large bias), so +1 applies to every token.
    func constructed() throws -> (model: LongCatModel, corpus: Corpus, settings: ProbeSettings) {
        var c = smallConfig()
        c.train.seqLen = 16
        let text = Array("the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ".utf8)
        let corpus = try Corpus(name: "probe", tokens: Array((0..<8).flatMap { _ in text }), validationFraction: 0.5)
        let model = LongCatModel(config: c, batch: 2, seqLen: c.train.seqLen)
        model.initializeWeights(seed: 3)
        model.bias[0].ptr[c.model.nRoutedExperts] = 0.5
        return (model, corpus, ProbeSettings(tokens: 4, perSequence: 2, layers: [0], batch: 2, seed: 1))
    }

    /// Guards against a probe that measures the wrong token, the wrong edit, or a stale pass:
    /// the +1 expert of one sampled token is rebuilt so that its output pushes the token's
    /// target logit (gate rows = up rows, so every hidden activation is >= 0, and every column
    /// of W_down is the target's LM-head row); the probe must find that +1 lowers that token's
    /// loss by a clear margin, and the greedy reallocation must give it the expert.
    @Test func findsTheBenefitOfAConstructedExpert() throws {
        let (model, corpus, settings) = try constructed()
        let m = model.config.model, t = model.seqLen, d = m.hiddenSize, f = m.expertFfnHiddenSize
        let sequences = sampleProbeSequences(corpus: corpus, seqLen: t, settings: settings)
        #expect(sequences.map(\.positions.count) == [2, 2])
        let s = sequences[0], position = s.positions[0], row = position   // sequence 0 is batch row 0
        var tokens = [Int32](repeating: 0, count: 2 * t)
        for (i, q) in sequences.enumerated() { for p in 0..<t { tokens[i * t + p] = corpus.token(at: q.start + p) } }
        let target = Int(corpus.token(at: s.start + position + 1))
        // Which FFN expert +1 brings to that token.
        model.clearRoutingEdits()
        tokens.withUnsafeBufferPointer { _ = model.forwardLogits(tokens: $0.baseAddress!, batch: 2) }
        let old = Array(model.saved[0].moe.plan.expert[(row * m.moeTopk)..<((row + 1) * m.moeTopk)])
        #expect(model.saved[0].moe.plan.canApply(.addFFN, token: row))
        try model.setRoutingEdits([TokenRoutingEdit(token: row, edit: .addFFN)], layer: 0)
        tokens.withUnsafeBufferPointer { _ = model.forwardLogits(tokens: $0.baseAddress!, batch: 2) }
        let new = Array(model.saved[0].moe.plan.expert[(row * m.moeTopk)..<((row + 1) * m.moeTopk)])
        let expert = Int(try #require(new.first { !old.contains($0) }))
        model.clearRoutingEdits()
        // Rebuild that expert: gate rows x50, up rows = gate rows, so h = silu(a) * a >= 0 and
        // large; every column of W_down = w_target (the target's LM-head row, x20).
        let p = model.params.ptr, o = model.layout.layers[0].moe
        let head = p + model.layout.lmHead + target * d
        for i in 0..<d { head[i] *= 20 }
        let gateUp = p + o.gateUp + expert * 2 * f * d, down = p + o.down + expert * d * f
        for i in 0..<(f * d) { gateUp[i] *= 50 }
        (gateUp + f * d).update(from: gateUp, count: f * d)
        for i in 0..<d { for j in 0..<f { down[i * f + j] = head[i] } }

        let (rows, passes) = try runProbe(model: model, corpus: corpus, sequences: sequences, settings: settings, step: 7)
        #expect(passes == 1 + 2 * 2)
        #expect(rows.count == 4 && rows.allSatisfy { $0.step == 7 && $0.layer == 0 })
        #expect(rows.allSatisfy { ($0.lossPlus != nil) == ($0.ffnExperts < 2) && ($0.lossMinus != nil) == ($0.ffnExperts > 0) })
        let probed = try #require(rows.first { $0.sequence == 0 && $0.position == position })
        #expect(probed.token == Int(tokens[row]))
        let plus = try #require(probed.lossPlus)
        #expect(probed.loss - plus > 0.5, "loss \(probed.loss), with +1 \(plus)")
        #expect(probed.lossMinus != nil)
        let greedy = greedyReallocation(rows.map { MeasuredLosses(loss: $0.loss, plus: $0.lossPlus, minus: $0.lossMinus) })
        let index = try #require(rows.firstIndex(of: probed))
        #expect(greedy.delta[index] == 1)
        #expect(greedy.budgetChange <= 0)
    }

    /// Guards against a reallocation that buys its gain with more compute than the router
    /// spent, moves a token twice, or loses against doing nothing: on random measured losses
    /// (some edits unavailable), the greedy never adds FFN experts in all, changes each token by
    /// at most one, and reaches a mean loss no higher than the router's.
    @Test func greedyNeverUsesMoreExpertsThanTheRouter() {
        var random = LabRandom(seed: 11)
        for _ in 0..<200 {
            let n = 1 + random.nextInt(below: 40)
            let tokens = (0..<n).map { _ -> MeasuredLosses in
                let loss = 2 + random.nextDouble()
                let plus: Double? = random.nextInt(below: 5) == 0 ? nil : loss + random.nextDouble() - 0.6
                let minus: Double? = random.nextInt(below: 5) == 0 ? nil : loss + random.nextDouble() - 0.3
                return MeasuredLosses(loss: loss, plus: plus, minus: minus)
            }
            let g = greedyReallocation(tokens)
            let router = tokens.reduce(0) { $0 + $1.loss } / Double(n)
            #expect(g.budgetChange <= 0)
            #expect(g.delta.allSatisfy { abs($0) <= 1 })
            #expect(zip(tokens, g.delta).allSatisfy { $1 == 0 || ($1 > 0 ? $0.plus != nil : $0.minus != nil) })
            #expect(g.meanLoss <= router + 1e-12)
            #expect(randomReallocationLoss(tokens, moves: g.delta.filter { $0 > 0 }.count, draws: 5, seed: 1).isFinite)
        }
    }

    /// Guards against a greedy that misses an obvious trade: one token gains 1 nat from an
    /// expert that another loses 0.1 nats by giving up.
    @Test func greedyMakesTheObviousTrade() {
        let tokens = [MeasuredLosses(loss: 3, plus: 2, minus: 4), MeasuredLosses(loss: 1, plus: 0.99, minus: 1.1)]
        let g = greedyReallocation(tokens)
        #expect(g.delta == [1, -1])
        #expect(abs(g.meanLoss - (2 + 1.1) / 2) < 1e-12)
    }

    /// Guards against a rank correlation that mishandles ties or direction.
    @Test func spearmanOfKnownSamples() {
        #expect(spearmanRho([1, 2, 3, 4], [10, 20, 30, 40]) == 1)
        #expect(spearmanRho([1, 2, 3, 4], [4, 3, 2, 1]) == -1)
        #expect(spearmanRho([1, 1, 1], [1, 2, 3]).isNaN)
        #expect(midRanks([5, 1, 5, 3]) == [3.5, 1, 3.5, 2])
        let e = bootstrapSpearman(pairs: [[(1, 1), (2, 2)], [(3, 3), (4, 4)], [(5, 6), (6, 5)]], resamples: 200)
        #expect(e.value > 0.8 && e.low <= e.value && e.value <= e.high)
    }

    /// Guards against summaries that lose rows or mislabel groups: counts add up, and the
    /// benefit of a group is the mean over its rows.
    @Test func summariesGroupAndCount() {
        let rows = [
            ProbeTokenRow(step: 3, sequence: 0, position: 1, layer: 0, token: 1, label: "a", targetLabel: "x",
                          ffnExperts: 1, loss: 2, lossPlus: 1.5, lossMinus: 2.5),
            ProbeTokenRow(step: 3, sequence: 1, position: 2, layer: 0, token: 2, label: "b", targetLabel: "x",
                          ffnExperts: 2, loss: 1, lossPlus: 0.9, lossMinus: nil),
        ]
        let s = probeSummaries(rows, step: 3, targetLabels: false, resamples: 10)
        let plus = s.filter { $0.statistic == "benefit_plus" && $0.layer == 0 }
        #expect(plus.first { $0.grouping == "all" }.map { abs($0.value - 0.3) < 1e-12 && $0.count == 2 } == true)
        #expect(plus.first { $0.grouping == "ffn=2" }.map { abs($0.value - 0.1) < 1e-12 && $0.count == 1 } == true)
        #expect(plus.first { $0.grouping == "a" }?.count == 1)
        #expect(s.allSatisfy { $0.step == 3 })
        #expect(s.contains { $0.statistic == "gap_greedy" && $0.layer == -1 })
    }
}
