import Foundation
import Testing
import LabConfig
import LabData

@Suite struct CorpusTests {
    /// Guards against an off-by-one or rounded split point and against validation taken from
    /// the front: train must be exactly the first floor(0.9 n) bytes, validation the rest.
    @Test func splitIsFirstNinetyPercentTrainLastTenPercentValidation() throws {
        let bytes = (0..<1003).map { UInt8($0 % 251) }
        let corpus = try Corpus(name: "t", tokens: bytes, validationFraction: 0.1)
        #expect(corpus.train.count == 902)   // floor(1003 * 0.9) = floor(902.7)
        #expect(corpus.validation.count == 101)
        #expect(Array(corpus.train) == Array(bytes[0..<902]))
        #expect(Array(corpus.validation) == Array(bytes[902...]))
        #expect(corpus.range(.train) == 0..<902)
        #expect(corpus.range(.validation) == 902..<1003)
    }

    /// Guards against a resource that is not bundled, or a split that differs from the
    /// reference setup (nanoGPT: first int(n * 0.9) bytes train).
    @Test func tinyShakespeareLoadsFromTheBundleWithTheKnownSize() throws {
        let corpus = try Corpus.load(DataConfig(), seed: 1)
        #expect(corpus.name == "tinyshakespeare")
        #expect(corpus.tokens.count == 1_115_394)
        #expect(corpus.train.count == 1_003_854)
        #expect(corpus.validation.count == 111_540)
        #expect(String(decoding: corpus.train.prefix(14), as: UTF8.self) == "First Citizen:")
        #expect(corpus.labels == nil)
        #expect(corpus.labelNames == TokenClass.labelNames)
        #expect(corpus.train.baseAddress! + corpus.train.count == corpus.validation.baseAddress!)
    }

    /// Guards against a text corpus that is read wrongly (mapping offsets, split by count).
    @Test func textFileLoadsItsBytesAndSplitsThem() throws {
        let text = Array(String(repeating: "héllo wörld\n", count: 50).utf8)
        var data = DataConfig()
        data.corpus = .text
        data.path = try temporaryFile(text, name: "greeting.txt")
        data.validationFraction = 0.25
        let corpus = try Corpus.load(data, seed: 3)
        #expect(corpus.name == "text:greeting.txt")
        #expect(Array(corpus.tokens) == text)
        #expect(corpus.train.count == text.count * 3 / 4)
    }

    /// Guards against a crash or a vague message on a missing file.
    @Test func missingFileErrorNamesThePath() throws {
        var data = DataConfig()
        data.corpus = .text
        data.path = "/nonexistent/folder/corpus.txt"
        #expect(throws: DataError.fileNotFound(path: "/nonexistent/folder/corpus.txt")) {
            try Corpus.load(data, seed: 1)
        }
        #expect(DataError.fileNotFound(path: data.path).description.contains(data.path))
    }

    /// Guards against mapping an empty file (mmap of 0 bytes fails obscurely).
    @Test func emptyFileIsRejectedByName() throws {
        var data = DataConfig()
        data.corpus = .text
        data.path = try temporaryFile([])
        #expect(throws: DataError.emptyFile(path: data.path)) { try Corpus.load(data, seed: 1) }
    }

    /// Guards against silently training on binary data, and against an error that does not
    /// say where the bad byte is.
    @Test func invalidUTF8IsRejectedWithItsByteOffset() throws {
        var data = DataConfig()
        data.corpus = .text
        data.path = try temporaryFile(Array("ab\ncd".utf8) + [0xFF] + Array("ef".utf8))
        #expect(throws: DataError.notUTF8(path: data.path, offset: 5, line: 2)) { try Corpus.load(data, seed: 1) }
        let message = DataError.notUTF8(path: data.path, offset: 5, line: 2).description
        #expect(message.contains("byte offset 5") && message.contains(data.path))
    }

    /// Guards against passing a directory or an unset path to mmap.
    @Test func directoryAndMissingPathAreRejected() throws {
        var data = DataConfig()
        data.corpus = .text
        #expect(throws: DataError.missingPath) { try Corpus.load(data, seed: 1) }
        data.path = FileManager.default.temporaryDirectory.path
        #expect(throws: DataError.notARegularFile(path: data.path)) { try Corpus.load(data, seed: 1) }
    }

    /// Guards against typos in `data.corpus`, `data.synthetic` and out-of-range fractions being
    /// accepted, and against messages that do not list the choices (the names are read by the
    /// config, which lists every corpus kind and generator this module loads).
    @Test func unknownNamesAndBadFractionsAreRejected() throws {
        var config = LabConfig()
        let corpus = #expect(throws: ConfigError.self) { try config.set("data.corpus", .string("shakespeare")) }
        #expect(corpus?.description.contains(Corpus.kinds.map { "\"\($0)\"" }.joined(separator: ", ")) == true)
        let synthetic = #expect(throws: ConfigError.self) { try config.set("data.synthetic", .string("mixtures")) }
        #expect(synthetic?.description.contains(#""copy", "mixture", "arithmetic", "structured", "suite""#) == true)
        var data = DataConfig()
        for fraction in [0.0, 1.0, -0.5, 2.0] {
            data = DataConfig()
            data.validationFraction = fraction
            #expect(throws: DataError.self) { try Corpus.load(data, seed: 1) }
        }
    }

    /// Guards against training on a corpus smaller than one batch (windows would run off the
    /// end) and against an error that does not name the settings to change.
    @Test func corpusSmallerThanOneBatchIsRejectedNamingTheSettings() throws {
        let corpus = try Corpus(name: "tiny", tokens: Array(repeating: 65, count: 1000), validationFraction: 0.1)
        try corpus.check(batch: 8, seqLen: 99)      // 8 * 100 = 800 <= 900 train, 100 <= 100 validation
        let error = try #require(throws: DataError.self) { try corpus.check(batch: 10, seqLen: 99) }
        #expect(error == .corpusTooSmall(corpus: "tiny", split: "train", bytes: 900, needed: 1000,
                                         batchSize: 10, seqLen: 99))
        for word in ["train.batch_size", "train.seq_len", "900"] { #expect(error.description.contains(word)) }
        #expect(throws: DataError.corpusTooSmall(corpus: "tiny", split: "validation", bytes: 100, needed: 101,
                                                 batchSize: 1, seqLen: 100)) {
            try corpus.check(batch: 1, seqLen: 100)
        }
        #expect(throws: DataError.self) { try corpus.check(batch: 0, seqLen: 8) }
    }

    /// Guards against a synthetic corpus that ignores its size, seed or generator.
    @Test func syntheticCorpusFollowsTheConfigAndSeed() throws {
        var data = DataConfig()
        data.corpus = .synthetic
        data.synthetic = .arithmetic
        data.syntheticBytes = 5000
        let a = try Corpus.load(data, seed: 7)
        let b = try Corpus.load(data, seed: 7)
        let c = try Corpus.load(data, seed: 8)
        #expect(a.name == "synthetic:arithmetic")
        #expect(a.tokens.count == 5000)
        #expect(a.labels?.count == 5000)
        #expect(a.labelNames == ArithmeticGenerator().labelNames)
        #expect(Array(a.tokens) == Array(b.tokens))
        #expect(Array(a.tokens) != Array(c.tokens))
        #expect(a.analyticEntropy(label: Int(ArithmeticGenerator.Label.result.rawValue)) == 0)
    }
}

@Suite struct UTF8ValidationTests {
    func offset(_ bytes: [UInt8]) -> Int? { bytes.withUnsafeBufferPointer(firstInvalidUTF8Offset) }

    /// Guards against rejecting valid text or accepting overlongs, surrogates, code points
    /// beyond U+10FFFF, stray continuation bytes and sequences cut off by the end.
    @Test func validatorAgreesWithTheStandardLibrary() {
        #expect(offset(Array("plain ASCII that is longer than eight bytes".utf8)) == nil)
        #expect(offset(Array("héllo → 🐈 ok".utf8)) == nil)
        #expect(offset([0x41, 0xC0, 0x80]) == 1)            // overlong NUL
        #expect(offset([0xED, 0xA0, 0x80]) == 0)            // surrogate U+D800
        #expect(offset([0xF4, 0x90, 0x80, 0x80]) == 0)      // above U+10FFFF
        #expect(offset(Array("abcdefghij".utf8) + [0x80]) == 10)  // stray continuation after the fast path
        #expect(offset([0x61, 0x62, 0xE2, 0x82]) == 2)      // cut off
        // Random byte strings: valid exactly when the standard library says so.
        var state: UInt64 = 12345
        for _ in 0..<2000 {
            let bytes = (0..<12).map { _ -> UInt8 in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let r = UInt8(truncatingIfNeeded: state >> 56)
                return r < 128 ? r : 0x80 | (r & 0x7F)
            }
            #expect((offset(bytes) == nil) == (String(validating: bytes, as: UTF8.self) != nil))
        }
    }
}
