import Foundation
import Testing
import LabData

/// The ordinal difficulties `longcat-lab allocation` correlates with compute.
@Suite struct DifficultyTests {
    /// Guards against a difficulty list that does not line up with the labels (the analysis
    /// would then index past it or rank the wrong label).
    @Test(arguments: SyntheticCorpora.names) func oneDifficultyPerLabelStartingAtZero(name: String) throws {
        let generator = try SyntheticCorpora.generator(named: name)
        #expect(generator.difficulty.count == generator.labelNames.count)
        #expect(generator.difficulty.min() == 0)
        #expect(generator.difficulty.allSatisfy { $0 >= 0 })
    }

    /// Guards against a mixture order that disagrees with its own analytic entropies: filler
    /// and separator (0 nats) < kind (log 3) < markov < random (log 16).
    @Test func mixtureDifficultyIsTheOrderOfItsAnalyticEntropies() throws {
        typealias Label = MixtureGenerator.Label
        let generator = MixtureGenerator()
        let d = generator.difficulty
        let entropy = { (l: Label) in generator.analyticEntropy(label: Int(l.rawValue))! }
        for a in Label.allCases {
            for b in Label.allCases where entropy(a) < entropy(b) {
                #expect(d[Int(a.rawValue)] < d[Int(b.rawValue)], "\(a) below \(b)")
            }
        }
        #expect(d[Int(Label.filler.rawValue)] == 0 && d[Int(Label.separator.rawValue)] == 0)
        #expect(entropy(.kind) < entropy(.markov) && entropy(.markov) < entropy(.random))
        #expect(d[Int(Label.random.rawValue)] == 3)
    }

    /// Guards against labels with zero entropy that are ranked above others, except where a
    /// generator documents why (arithmetic results need computation to reach their zero).
    @Test func zeroEntropyLabelsRankLowestOutsideArithmeticResults() throws {
        for name in ["copy", "mixture", "structured"] {
            let generator = try SyntheticCorpora.generator(named: name)
            for label in generator.labelNames.indices where generator.analyticEntropy(label: label) == 0 {
                #expect(generator.difficulty[label] == 0, "\(name)/\(generator.labelNames[label])")
            }
        }
        let arithmetic = ArithmeticGenerator()
        #expect(arithmetic.difficulty[Int(ArithmeticGenerator.Label.result.rawValue)] == arithmetic.difficulty.max())
    }

    /// Guards against a suite whose labels lose their part's difficulty.
    @Test func suiteKeepsEachPartsDifficulty() {
        let suite = SuiteGenerator()
        #expect(suite.difficulty == suite.parts.flatMap(\.difficulty))
        #expect(suite.difficulty.count == suite.labelNames.count)
    }

    /// Guards against token-class difficulties out of step with the class names.
    @Test func tokenClassDifficultyRanksWordStartsAboveContinuationsAboveTheRest() throws {
        #expect(TokenClass.difficulty.count == TokenClass.labelNames.count)
        let rank = { (name: String) in TokenClass.difficulty[TokenClass.labelNames.firstIndex(of: name)!] }
        #expect(rank("letter-word-start") > rank("letter-word-continuation"))
        for name in ["digit-word-start", "digit-word-continuation", "whitespace", "punctuation", "other"] {
            #expect(rank(name) < rank("letter-word-continuation"), "\(name)")
        }
        let corpus = try Corpus(name: "t", tokens: Array("ab cd".utf8), validationFraction: 0.5)
        #expect(corpus.difficulty == TokenClass.difficulty)
    }
}
