import Foundation
import LabAnalysis
import LabRecords
import Testing

@Suite struct SpecialisationMeasureTests {
    /// 3 classes, 6 experts: token i of class c chooses `route(c, i)`, 4 tokens per class.
    func plan(_ route: (Int, Int) -> [Int]) -> RoutedTokens {
        var tokens: [RoutedToken] = []
        for c in 0..<3 { for i in 0..<4 { tokens.append(RoutedToken(label: c, experts: route(c, i))) } }
        return RoutedTokens(labels: ["a", "b", "c"], experts: 6, tokens: tokens)
    }

    /// Guards against an information measure that is positive for a router that ignores the
    /// class (every class spreads its pairs over the experts in the same proportions).
    @Test func informationIsZeroWhenRoutingIgnoresTheClass() {
        let info = ExpertLabelInformation(plan { _, i in i % 2 == 0 ? [0, 1] : [2, 3, 4] })
        #expect(abs(info.nats) < 1e-12)
        #expect(abs(info.share) < 1e-12)
        #expect(info.pairs == 3 * (2 * 2 + 2 * 3) && info.labels == 3 && info.tokens == 12)
    }

    /// Guards against a wrong normalisation or base: each class sent to its own two experts
    /// gives log 3 nats, log2 3 bits, the whole of log #labels, and H(C) = log 3.
    @Test func informationIsLogClassesWhenEachClassHasItsOwnExperts() {
        let info = ExpertLabelInformation(plan { c, i in i % 2 == 0 ? [2 * c, 2 * c + 1] : [2 * c] })
        #expect(abs(info.nats - log(3.0)) < 1e-12)
        #expect(abs(info.bits - log2(3.0)) < 1e-12)
        #expect(abs(info.share - 1) < 1e-12)
        #expect(abs(info.labelEntropy - log(3.0)) < 1e-12)
    }

    /// Guards against an information measure that ignores partial specialisation: two classes
    /// sharing one expert and owning one each lie strictly between 0 and log 3.
    @Test func partialSpecialisationLiesBetween() {
        let info = ExpertLabelInformation(plan { c, _ in c == 2 ? [5] : [0, c + 1] })
        #expect(info.nats > 0.1 && info.nats < log(3.0) - 0.1)
    }

    /// Guards against a load matrix normalised over experts or over all labels instead of per
    /// label: every row of a label with tokens sums to 1, and a label's FFN experts per token
    /// are its pairs over its tokens.
    @Test func loadRowsSumToOne() {
        var state: UInt64 = 12345
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        let tokens = (0..<500).map { _ -> RoutedToken in
            let label = next(4)
            let experts = Array(Set((0..<next(4)).map { _ in next(8) })).sorted()
            return RoutedToken(label: label, experts: experts)
        }
        let layer = RoutedTokens(labels: ["w", "x", "y", "z"], experts: 8, tokens: tokens)
        let load = ExpertLabelLoad(layer)
        #expect(load.share.count == 4 && load.share.allSatisfy { $0.count == 8 })
        for row in load.share { #expect(abs(row.reduce(0, +) - 1) < 1e-12) }
        let pairs = tokens.filter { $0.label == 2 }.reduce(0) { $0 + $1.experts.count }
        #expect(abs(load.meanFFNExperts[2] - Double(pairs) / Double(load.tokens[2])) < 1e-12)

        let owned = ExpertLabelLoad(plan { c, _ in [2 * c, 2 * c + 1] })
        #expect(owned.share[1] == [0, 0, 0.5, 0.5, 0, 0])
    }

    /// Guards against an asymmetric count, a diagonal that is not the expert's own tokens, or
    /// a lift computed against the wrong denominator, on four hand-made tokens.
    @Test func coActivationCountsAndSymmetry() {
        let layer = RoutedTokens(labels: ["a"], experts: 4, tokens: [
            RoutedToken(label: 0, experts: [0, 1]), RoutedToken(label: 0, experts: [1, 0, 2]),
            RoutedToken(label: 0, experts: [2]), RoutedToken(label: 0, experts: []),
        ])
        let a = ExpertCoActivation(layer)
        #expect(a.counts == [[2, 2, 1, 0], [2, 2, 1, 0], [1, 1, 2, 0], [0, 0, 0, 0]])
        for i in 0..<4 { for j in 0..<4 { #expect(a.counts[i][j] == a.counts[j][i]) } }
        #expect(a.tokens == 4 && a.share(0, 2) == 0.25)
        #expect(a.lift(0, 1) == 2 && a.lift(0, 2) == 1 && a.lift(0, 3).isNaN)
    }
}

@Suite struct DomainAllocationTests {
    /// A store with one run whose config says `corpus` and one evaluation step 7: domain "c"
    /// tokens choose experts 0 and 1 in layer 0, "bible" tokens expert 3; every token expert 2
    /// in layer 1. Validation losses: c 1.5, bible 2.5.
    func store(corpus: String) throws -> RecordStore {
        let toml = "[model]\nnum_layers = 2\nn_routed_experts = 4\nmoe_topk = 2\n\n[data]\ncorpus = \"\(corpus)\"\ntokenizer = \"bpe\"\n"
        let store = try RecordStore(path: NSTemporaryDirectory() + "domain-\(UUID().uuidString).sqlite")
        let id = try store.beginRun(RunInfo(name: "mixed", configTOML: toml, configHash: corpus, seed: 1, threads: 1))
        var record = StepRecord(runID: id, step: StepRow(step: 7, tokensSeen: 0, loss: 1, lmLoss: 1, balanceLoss: 0, zLoss: 0,
                                                         mtpLoss: nil, lr: 0, gradNorm: 0, stepMs: 1, tokensPerS: 1))
        for sample in 0..<2 {
            for position in 0..<6 {
                let domain = position < 4 ? "c" : "bible"
                for layer in 0..<2 {
                    let experts = layer == 1 ? [2] : domain == "c" ? [0, 1] : [3]
                    record.tokenSamples.append(TokenSampleRow(step: 7, sample: sample, position: position, layer: layer,
                                                              token: position, label: domain, ffnExperts: experts.count,
                                                              experts: experts))
                }
            }
        }
        record.evalByLabel = [EvalLabelRow(step: 7, label: "c", loss: 1.5, tokens: 800),
                              EvalLabelRow(step: 7, label: "bible", loss: 2.5, tokens: 200)]
        try store.record(record)
        return store
    }

    /// Guards against domains mixed up with each other, a load table normalised over domains
    /// instead of within each, FFN experts per token counted per pair of layers, and the
    /// validation loss of the wrong domain.
    @Test func domainTableOnAHandBuiltDatabase() throws {
        let report = try DomainAllocation(store: store(corpus: "mix"), run: "mixed",
                                          order: ["c", "python", "docs", "bible", "shakespeare"])
        #expect(report.domains == ["c", "bible"])
        #expect(report.specialisation.tokens == 12)
        #expect(report.meanFFNExperts == [[2, 1, 3], [1, 1, 2]])
        #expect(report.validationLoss == ["c": 1.5, "bible": 2.5])
        let layer0 = report.specialisation.layers[0]
        #expect(layer0.load.share == [[0.5, 0.5, 0, 0], [0, 0, 0, 1]])
        // c and bible use disjoint experts: I = H(C) over the pairs (16 of c, 4 of bible), below
        // log 2 because the labels hold unequal pair counts.
        let h = -(0.8 * log(0.8) + 0.2 * log(0.2))
        #expect(abs(layer0.information.nats - h) < 1e-12 && abs(layer0.information.labelEntropy - h) < 1e-12)
        #expect(abs(report.specialisation.layers[1].information.nats) < 1e-12)
        let text = report.rendered()
        #expect(text.contains("| c | 8 | 1.500 | 800 | 2.00 | 1.00 | 3.00 |"))
        #expect(text.contains("| bible | 0.0 | 0.0 | 0.0 | 100.0 |"))
    }

    /// Guards against a domain table drawn for a corpus without domains (its labels would be
    /// token classes read as domains): the error names the corpus key and the other views.
    @Test func byDomainRefusesARunNotOnTheMixCorpus() throws {
        let store = try store(corpus: "tinyshakespeare")
        #expect {
            _ = try DomainAllocation(store: store, run: "mixed")
        } throws: { error in
            let text = "\(error)"
            return text.contains("not on the mix corpus") && text.contains("data.corpus = \"mix\"")
        }
        #expect {
            _ = try SpecialisationReport(store: store, run: "mixed", by: .domain)
        } throws: { "\($0)".contains("use --by class") }
    }

    /// Guards against records that do not match the run's config (an expert id past
    /// model.n_routed_experts, a layer past model.num_layers) stopping the program at a
    /// precondition: the error names the row, the value and the allowed range.
    @Test func rowsOutOfRangeAreRefusedWithTheirPlace() throws {
        func row(layer: Int, experts: [Int]) -> TokenSampleRow {
            TokenSampleRow(step: 7, sample: 1, position: 3, layer: layer, token: 0, label: "c", ffnExperts: experts.count,
                           experts: experts)
        }
        #expect {
            _ = try RoutedTokens.byLayer([row(layer: 0, experts: [1]), row(layer: 1, experts: [2, 9])], layers: 2, experts: 4)
        } throws: { error in
            let text = "\(error)"
            return text.contains("FFN expert id 9 is outside 0..<4") && text.contains("step 7, sequence 1, position 3, layer 1")
        }
        #expect {
            _ = try RoutedTokens.byLayer([row(layer: 2, experts: [1])], layers: 2, experts: 4)
        } throws: { "\($0)".contains("layer 2 is outside 0..<2") }
        // In range: no error, and the rows land in their layers.
        let layers = try RoutedTokens.byLayer([row(layer: 0, experts: [1]), row(layer: 1, experts: [2, 3])], layers: 2, experts: 4)
        #expect(layers.map { $0.tokens.map(\.experts) } == [[[1]], [[2, 3]]])
    }
}
