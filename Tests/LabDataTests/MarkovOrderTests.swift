import Foundation
import Testing
import LabConfig
import LabData

/// The mixture with a higher-order Markov source (`data.markov_order`).
@Suite struct MarkovOrderTests {
    /// Guards against a source of order n that is not one: markov tokens must have the
    /// analytic entropy rate given the 3 before them, and clearly more given only 1 (a bigram
    /// table would not capture them).
    @Test func orderThreeTokensDependOnThreeSymbols() throws {
        var generator = MixtureGenerator()
        generator.markovOrder = 3
        let (tokens, labels) = generator.generate(bytes: 1_000_000, seed: 5)
        let markov = MixtureGenerator.Label.markov.rawValue
        let inside = tokens.indices.dropFirst(3).filter { i in (i - 3...i).allSatisfy { labels[$0] == markov } }
        let three = inside.map { i in ([tokens[i - 3], tokens[i - 2], tokens[i - 1]], tokens[i]) }
        let one = inside.map { i in (tokens[i - 1], tokens[i]) }
        let rate = generator.markov.entropyRate
        let measured = empiricalConditionalEntropy(three)
        #expect(abs(measured - rate) < 0.03, "given 3: \(measured), entropy rate \(rate)")
        #expect(empiricalConditionalEntropy(one) > rate + 0.1, "given 1 only")
        #expect(generator.markov.transition.count == 512)
    }

    /// Guards against an analytic entropy that ignores the order (its first n symbols cost
    /// H(pi) together) and a config key that does not reach the generator.
    @Test func configSelectsTheOrderAndTheAnalyticEntropyFollows() throws {
        var data = DataConfig()
        data.corpus = .synthetic
        data.synthetic = .mixture
        data.markovOrder = 2
        let generator = try #require(try SyntheticCorpora.generator(for: data) as? MixtureGenerator)
        #expect(generator.markovOrder == 2)
        let source = generator.markov
        let l = Double(generator.segmentLength - 2)
        #expect(generator.analyticEntropy(label: Int(MixtureGenerator.Label.markov.rawValue))
                == (source.stationaryEntropy + (l - 2) * source.entropyRate) / l)
        #expect(abs(source.stationary.reduce(0, +) - 1) < 1e-12)
        data.syntheticBytes = 10_000
        let first = try Corpus.load(data, seed: 1)
        data.markovOrder = 1
        let second = try Corpus.load(data, seed: 1)
        // The token views point into each corpus: keep both alive while copying.
        withExtendedLifetime((first, second)) {
            #expect(Array(second.tokens) != Array(first.tokens))
        }
    }
}
