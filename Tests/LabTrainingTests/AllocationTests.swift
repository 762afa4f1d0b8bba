import Foundation
import LabConfig
import LabData
import LabKernels
import LabRecords
import Testing
@testable import LabTraining

/// Spearman's rho the plain way (`spearmanRho`: mid-ranks of each variable by sorting, then
/// Pearson), against which the contingency-table shortcut is checked.
func plainSpearman(_ x: [Double], _ y: [Double]) -> Double { spearmanRho(x, y) }

@Suite struct AllocationStatisticsTests {
    /// Guards against a tie correction or rank offset that is wrong in the table shortcut:
    /// rho from the contingency table equals the plain mid-rank Pearson of the expanded tokens.
    @Test func tableSpearmanEqualsThePlainMidRankComputation() {
        var random = LabRandom(seed: 7)
        for _ in 0..<20 {
            var table = ContingencyTable(levels: 4, columns: 5)
            var x: [Double] = [], y: [Double] = []
            for _ in 0..<300 {
                let level = random.nextInt(below: 4)
                let experts = min(4, level + random.nextInt(below: 3))
                table.add(level: level, experts: experts)
                x.append(Double(level)); y.append(Double(experts))
            }
            #expect(abs(table.spearman - plainSpearman(x, y)) < 1e-12)
        }
    }

    /// Guards against sign errors and against a number where rho is undefined.
    @Test func monotoneGivesOneReversedMinusOneConstantNaN() {
        var up = ContingencyTable(levels: 3, columns: 3), down = up, flat = up
        for i in 0..<3 {
            up.add(level: i, experts: i, times: 5)
            down.add(level: i, experts: 2 - i, times: 5)
            flat.add(level: i, experts: 1, times: 5)
        }
        #expect(abs(up.spearman - 1) < 1e-12 && abs(down.spearman + 1) < 1e-12)
        #expect(flat.spearman.isNaN)
    }

    /// Guards against an interval that excludes its own estimate, changes between calls, or
    /// has width where the clusters leave no uncertainty.
    @Test func bootstrapIntervalIsReproducibleAndBracketsTheEstimate() {
        var random = LabRandom(seed: 3)
        let clusters = (0..<12).map { _ -> ContingencyTable in
            var t = ContingencyTable(levels: 3, columns: 4)
            for _ in 0..<40 {
                let level = random.nextInt(below: 3)
                t.add(level: level, experts: min(3, level + random.nextInt(below: 2)))
            }
            return t
        }
        let a = bootstrapSpearman(clusters, resamples: 300)
        #expect(a == bootstrapSpearman(clusters, resamples: 300))
        #expect(a.low <= a.value && a.value <= a.high && a.low < a.high)
        let same = bootstrapSpearman([ContingencyTable](repeating: clusters[0], count: 6), resamples: 50)
        #expect(abs(same.low - same.value) < 1e-12 && abs(same.high - same.value) < 1e-12)
    }
}

@Suite("Allocation report", .serialized)
struct AllocationReportTests {
    static let mixtureLabels = ["filler", "markov", "random", "separator", "kind"]

    /// A database with one run on the mixture corpus (2 layers) whose step 5 holds 4 sequences
    /// of 10 tokens; token p of every sequence has label p % 5 and uses `layer0(label)` FFN
    /// experts in layer 0 and 1 in layer 1. Measured losses: 0.1 * (label id + 1).
    func handMadeStore(layer0: (Int) -> Int) throws -> RecordStore {
        var c = LabConfig()
        c.data.corpus = .synthetic
        c.data.synthetic = .mixture
        let path = NSTemporaryDirectory() + "allocation-\(UUID().uuidString).sqlite"
        let store = try RecordStore(path: path)
        let id = try store.beginRun(RunInfo(name: "hand", configTOML: c.resolvedTOML(), configHash: c.configHash,
                                            seed: 1, threads: 1))
        var record = StepRecord(runID: id, step: StepRow(step: 5, tokensSeen: 0, loss: 1, lmLoss: 1, balanceLoss: 0,
                                                         zLoss: 0, mtpLoss: nil, lr: 0, gradNorm: 0, stepMs: 1, tokensPerS: 1))
        for sample in 0..<4 {
            for position in 0..<10 {
                let label = position % 5
                for layer in 0..<2 {
                    let experts = layer == 0 ? layer0(label) : 1
                    record.tokenSamples.append(TokenSampleRow(step: 5, sample: sample, position: position, layer: layer,
                                                              token: 65, label: Self.mixtureLabels[label],
                                                              ffnExperts: experts, experts: Array(0..<experts)))
                }
            }
        }
        for (i, name) in Self.mixtureLabels.enumerated() {
            record.evalByLabel.append(EvalLabelRow(step: 5, label: name, loss: 0.1 * Double(i + 1), tokens: 20))
        }
        try store.record(record)
        return store
    }

    /// A database with one run on Tiny Shakespeare (2 layers) whose step 3 holds `sequences`
    /// copies of `text`, each byte using `experts(byte)` FFN experts in both layers.
    func textStore(_ text: String, sequences: Int, experts: (UInt8) -> Int) throws -> RecordStore {
        let c = LabConfig()
        let store = try RecordStore(path: NSTemporaryDirectory() + "allocation-\(UUID().uuidString).sqlite")
        let id = try store.beginRun(RunInfo(name: "text", configTOML: c.resolvedTOML(), configHash: c.configHash,
                                            seed: 1, threads: 1))
        var record = StepRecord(runID: id, step: StepRow(step: 3, tokensSeen: 0, loss: 1, lmLoss: 1, balanceLoss: 0,
                                                         zLoss: 0, mtpLoss: nil, lr: 0, gradNorm: 0, stepMs: 1, tokensPerS: 1))
        let labels = tokenClassLabels(Array(text.utf8))
        for sample in 0..<sequences {
            for (position, byte) in text.utf8.enumerated() {
                for layer in 0..<2 {
                    record.tokenSamples.append(TokenSampleRow(step: 3, sample: sample, position: position, layer: layer,
                                                              token: Int(byte), label: TokenClass.labelNames[Int(labels[position])],
                                                              ffnExperts: experts(byte), experts: Array(0..<experts(byte))))
                }
            }
        }
        try store.record(record)
        return store
    }

    /// Guards against words cut by the window counted as words, function words missed in
    /// capitals, and a difference with the wrong sign: letters of "The" and "of" use 1
    /// expert, of "cat" and "kings" 3, and "xx" at the window edges is left out.
    @Test func functionWordLettersAgainstContentWordLetters() throws {
        let text = "xx The cat, of kings. xx"
        let function = Set("Theof".utf8), content = Set("catkings".utf8)
        let store = try textStore(text, sequences: 3) { function.contains($0) ? 1 : content.contains($0) ? 3 : 0 }
        let report = try allocationReport(store: store, run: "text", resamples: 20)
        #expect(report.view == .token)
        let words = try #require(report.words)
        #expect(words.functionLetters == 3 * 5 && words.contentLetters == 3 * 8)
        #expect(words.functionWords == [1, 1, 2] && words.contentWords == [3, 3, 6])
        #expect(words.difference.map(\.value) == [2, 2, 4])
        #expect(words.difference.allSatisfy { $0.low == $0.value && $0.high == $0.value })
        #expect(report.rendered().contains("function words"))
    }

    /// Guards against means counted under the wrong label or layer, and a correlation that
    /// misses a perfectly monotone allocation: layer 0 gives each label its difficulty in
    /// experts (rho = 1), layer 1 gives everyone one (rho undefined).
    @Test func meansAndCorrelationsOfKnownRecords() throws {
        let difficulty = MixtureGenerator().difficulty
        let store = try handMadeStore(layer0: { difficulty[$0] })
        let report = try allocationReport(store: store, run: "hand", view: .token, resamples: 100)
        #expect(report.step == 5 && report.sequences == 4 && report.tokens == 40)
        #expect(report.labels.map(\.name) == Self.mixtureLabels)
        for l in report.labels {
            let id = Self.mixtureLabels.firstIndex(of: l.name)!
            #expect(l.tokens == 8 && l.difficulty == difficulty[id])
            #expect(l.meanExperts == [Double(difficulty[id]), 1, Double(difficulty[id] + 1)])
            #expect(l.measuredLoss == 0.1 * Double(id + 1))
        }
        #expect(report.labels.first { $0.name == "random" }?.achievableLoss == log(16))
        #expect(abs(report.correlations[0].declared.value - 1) < 1e-12)
        #expect(report.correlations[1].declared.value.isNaN)
        #expect(abs(report.correlations[2].declared.value - 1) < 1e-12)
        // Measured losses rank the labels in id order, which is not the difficulty order.
        let byLoss = try #require(report.correlations[0].byMeasuredLoss)
        #expect(byLoss.value < 0.99)
        #expect(report.rendered().contains("layer 0"))
    }

    /// Guards against a target view that does not shift labels: each position then counts
    /// under the next position's label, so layer 0's experts (its own label's id) sit one
    /// label below, and the last position of each sequence is dropped.
    @Test func targetViewCountsEachPositionUnderTheNextLabel() throws {
        let store = try handMadeStore(layer0: { $0 })
        let report = try allocationReport(store: store, run: "hand", view: .target, resamples: 10)
        #expect(report.tokens == 36)
        for l in report.labels {
            let id = Self.mixtureLabels.firstIndex(of: l.name)!
            #expect(l.meanExperts[0] == Double((id + 4) % 5), "\(l.name)")
        }
    }

    /// Guards against vague failures: an unknown run lists the runs, a step without samples
    /// lists the steps that have them.
    @Test func errorsNameTheRunAndTheStepsWithSamples() throws {
        let store = try handMadeStore(layer0: { _ in 1 })
        let unknown = #expect(throws: AllocationError.self) { _ = try allocationReport(store: store, run: "nope") }
        #expect(unknown?.description.contains("hand") == true)
        let step = #expect(throws: AllocationError.self) { _ = try allocationReport(store: store, run: "hand", step: 4) }
        #expect(step?.description.contains("steps with samples: 5") == true)
    }

    /// The whole path on a real (tiny) training run: every sampled position but the last of
    /// each sequence is counted under its predicted token's label.
    @Test func reportOfATrainedRun() throws {
        let c = samplingConfig(sampleBatches: 1)
        let (store, _) = try trainRecorded(c, name: "trained")
        let report = try allocationReport(store: store, run: "trained", resamples: 50)
        #expect(report.step == 9 && report.view == .target)
        #expect(report.tokens == c.train.batchSize * (c.train.seqLen - 1))
        #expect(report.correlations.count == c.model.numLayers + 1)
        #expect(report.labels.allSatisfy { $0.measuredLoss != nil })
    }
}
