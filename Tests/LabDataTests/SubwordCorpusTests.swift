import Foundation
import Testing
import LabConfig
import LabData

/// Corpora re-tokenised with a byte-pair tokenizer (`data.tokenizer = "bpe"`).
@Suite struct SubwordCorpusTests {
    /// The first 60 kB of Tiny Shakespeare in a text file, loaded with a 320-token tokenizer.
    func shakespeare(vocabSize: Int = 320) throws -> (Corpus, bytes: Corpus) {
        var data = DataConfig()
        let full = try Corpus.load(data, seed: 1)
        data.corpus = .text
        data.path = try temporaryFile(withExtendedLifetime(full) { Array(full.tokens.prefix(60_000)) })
        let bytes = try Corpus.load(data, seed: 1)
        data.tokenizer = .bpe
        return (try Corpus.load(data, seed: 1, vocabSize: vocabSize), bytes)
    }

    /// Guards against a tokenizer that sees validation text (leaking it into training) and
    /// against splits that lose or gain text: each split decodes to its bytes exactly.
    @Test func tokenizerLearnsFromTheTrainSplitAndEachSplitDecodesToItsBytes() throws {
        let (corpus, bytes) = try shakespeare()
        let tokenizer = try #require(corpus.tokenizer)
        #expect(tokenizer == BytePairTokenizer.train(on: bytes.train, vocabSize: 320))
        #expect(tokenizer.vocabSize == 320)
        let ids = { (split: Split) in corpus.range(split).map { UInt16(corpus.token(at: $0)) } }
        #expect(tokenizer.decode(ids(.train)) == Array(bytes.train))
        #expect(tokenizer.decode(ids(.validation)) == Array(bytes.validation))
        #expect(corpus.count < bytes.count * 3 / 4, "320 tokens compress English by over a quarter")
        #expect(corpus.labels?.count == corpus.count)
    }

    /// Guards against subword labels that ignore the leading space: " king" starts a word,
    /// "ing" after a letter continues one.
    @Test func subwordLabelsAreTokenClassesOfTheirFirstByte() throws {
        let (corpus, _) = try shakespeare()
        let tokenizer = try #require(corpus.tokenizer)
        let text = tokenizer.tokenBytes
        let start = TokenClass.labelNames.firstIndex(of: "letter-word-start")!
        let continuation = TokenClass.labelNames.firstIndex(of: "letter-word-continuation")!
        var checked = 0
        for i in 1..<corpus.count {
            let token = text[Int(corpus.token(at: i))], before = text[Int(corpus.token(at: i - 1))]
            guard let first = token.first, ByteCategory(first) == .letter || first == 0x20 else { continue }
            if token.count > 1 && first == 0x20 && ByteCategory(token[1]) == .letter {
                #expect(Int(corpus.label(at: i)) == start); checked += 1
            } else if ByteCategory(first) == .letter, let last = before.last, ByteCategory(last) == .letter {
                #expect(Int(corpus.label(at: i)) == continuation); checked += 1
            }
        }
        #expect(checked > 1000)
    }

    /// Guards against batches of bytes from a subword corpus: windows hold subword ids below
    /// the vocabulary, and targets are the next ids.
    @Test func batchesHoldSubwordIds() throws {
        let (corpus, _) = try shakespeare()
        try corpus.check(batch: 4, seqLen: 32)
        let sampler = BatchSampler(corpus: corpus, split: .train, batch: 4, seqLen: 32, seed: 3)
        let batch = sampler.batch(atStep: 7)
        #expect(batch.tokens.allSatisfy { (0..<320).contains($0) } && batch.tokens.contains { $0 >= 256 })
        let start = sampler.windowStarts(step: 7)[0]
        #expect(batch.targets[0] == corpus.token(at: start + 1) && batch.tokens[1] == batch.targets[0])
    }

    /// Guards against a silent byte corpus, or a crash, when the vocabulary cannot hold bytes
    /// plus merges (an unknown tokenizer name is a config error, see LabConfigTests).
    @Test func badVocabularyIsRejected() throws {
        var data = DataConfig()
        data.tokenizer = .bpe
        let small = #expect(throws: DataError.self) { _ = try Corpus.load(data, seed: 1, vocabSize: 256) }
        #expect(small?.description.contains("model.vocab_size = 256") == true)
    }

    /// Guards against a saved tokenizer that reads back differently (a run could not be
    /// reproduced from its folder) or a corrupt file that is accepted.
    @Test func savedTokenizerReadsBackEqual() throws {
        let (corpus, _) = try shakespeare(vocabSize: 270)
        let tokenizer = try #require(corpus.tokenizer)
        #expect(try BytePairTokenizer(json: tokenizer.json, source: "t.json") == tokenizer)
        #expect(throws: DataError.self) { _ = try BytePairTokenizer(json: #"{"type":"byte-level-bpe","merges":[[300,1]]}"#, source: "bad.json") }
    }
}
