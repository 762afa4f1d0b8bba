import Foundation
import Testing
import LabData

/// The optional subword tokenizer: deterministic training, lossless encoding, merges that
/// stay inside words.
@Suite struct BytePairTokenizerTests {
    static let text = Array("the cat sat on the mat; the cat ate 123 rats.\nThe end, the end!\n".utf8)

    func chunks(_ s: String) -> [String] {
        Array(s.utf8).withUnsafeBufferPointer { BytePairTokenizer.chunks($0).map { String(decoding: $0, as: UTF8.self) } }
    }

    /// Guards against chunks that lose or reorder bytes, or glue a space to the wrong side.
    @Test func chunksKeepEveryByteAndPutSpacesBeforeWords() {
        #expect(chunks("the cat,  sat 12\n\nok") == ["the", " cat", ",", " ", " sat", " 12", "\n\n", "ok"])
        #expect(chunks("a\u{7F}b") == ["a", "\u{7F}", "b"])
        #expect(chunks(" ") == [" "] && chunks("") == [])
    }

    /// Guards against an encoding that cannot be inverted or that exceeds the vocabulary.
    @Test func encodeThenDecodeGivesTheTextBack() {
        let tokenizer = Self.text.withUnsafeBufferPointer { BytePairTokenizer.train(on: $0, vocabSize: 280) }
        #expect(tokenizer.vocabSize > 256 && tokenizer.vocabSize <= 280)
        let ids = Self.text.withUnsafeBufferPointer { tokenizer.encode($0) }
        #expect(tokenizer.decode(ids) == Self.text)
        #expect(ids.count < Self.text.count, "merges compress")
        #expect(ids.allSatisfy { Int($0) < tokenizer.vocabSize })
        let unseen = Array("a rat, the hat 99".utf8)
        #expect(tokenizer.decode(unseen.withUnsafeBufferPointer { tokenizer.encode($0) }) == unseen)
    }

    /// Guards against nondeterministic training (a run's tokens would change between runs)
    /// and against merges that cross word boundaries.
    @Test func trainingIsDeterministicAndTokensStayInsideChunks() {
        let a = Self.text.withUnsafeBufferPointer { BytePairTokenizer.train(on: $0, vocabSize: 300) }
        let b = Self.text.withUnsafeBufferPointer { BytePairTokenizer.train(on: $0, vocabSize: 300) }
        #expect(a == b)
        // The most frequent pair of the text, "at" (6 times: cat twice, sat, mat, ate, rats),
        // is the first merge.
        #expect(a.merges.first == BytePairTokenizer.Pair(Int32(UInt8(ascii: "a")), Int32(UInt8(ascii: "t"))))
        for token in a.tokenBytes.dropFirst(256) {
            let inner = token.withUnsafeBufferPointer { BytePairTokenizer.chunks($0) }
            #expect(inner.count == 1, "token \(String(decoding: token, as: UTF8.self)) spans chunks")
        }
    }

    /// Guards against a vocabulary larger than the text supports: training stops when no pair
    /// occurs twice.
    @Test func trainingStopsWhenNoPairRepeats() {
        let tokenizer = Array("abcdef".utf8).withUnsafeBufferPointer { BytePairTokenizer.train(on: $0, vocabSize: 1000) }
        #expect(tokenizer.merges.isEmpty)
    }
}
