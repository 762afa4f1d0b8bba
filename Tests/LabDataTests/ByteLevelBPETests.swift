import Foundation
import Testing
@testable import LabData

@Suite struct ByteLevelBPETests {
    /// A tokenizer trained on mixed text and code with every token distinct.
    static func tokenizer(vocab: Int = 400) -> BytePairTokenizer {
        let lines = (0..<400).map { i in
            "int main_\(i % 29)(void) { return \(i * 7 % 101); }  // The quick brown fox \(i % 13)\n\tdef f(x): return x\n"
        }
        let text = Array(lines.joined().utf8) + Array("naïve café – ünïcödé\u{7F}\t\t  \n".utf8)
        return text.withUnsafeBufferPointer { BytePairTokenizer.train(on: $0, vocabSize: vocab, distinctTokens: true) }
    }

    /// Guards against an encoder that loses or alters bytes: random byte strings (invalid
    /// UTF-8, control bytes, runs of spaces) decode back to themselves.
    @Test func roundTripsEveryByteSequence() {
        let bpe = Self.tokenizer()
        #expect(bpe.merges.count > 50)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for length in [0, 1, 2, 3, 17, 256, 4_000] {
            for _ in 0..<5 {
                let bytes: [UInt8] = (0..<length).map { _ in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    let r = UInt8(truncatingIfNeeded: state >> 56)
                    return r < 80 ? Array(" e\n\t{".utf8)[Int(r) % 5] : r
                }
                let ids = bytes.withUnsafeBufferPointer { bpe.encode($0) }
                #expect(bpe.decode(ids) == bytes)
            }
        }
        let all = (0...255).map { UInt8($0) }
        #expect(bpe.decode(all.withUnsafeBufferPointer { bpe.encode($0) }) == all)
    }

    /// Guards against a tokenizer.json the `tokenizers` library reads differently: it must
    /// give the lab's ids for the same text and decode them back. Skips, saying so, when
    /// Python's `tokenizers` is not installed.
    @Test func tokenizerJSONMatchesTheLibrary() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import tokenizers"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { print("skipped: python3 cannot be started"); return }
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            print("skipped tokenizerJSONMatchesTheLibrary: Python's tokenizers package is not installed (pip install tokenizers)")
            return
        }
        let bpe = Self.tokenizer()
        let folder = NSTemporaryDirectory() + "hf-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let json = try #require(bpe.huggingFaceJSON)
        try json.write(toFile: folder + "/tokenizer.json", atomically: true, encoding: .utf8)
        let sample = "int main(void) {\n\treturn fox;  }\n\n  The café – naïve\u{7F}x  ok\n \n  end"
        try sample.write(toFile: folder + "/sample.txt", atomically: true, encoding: .utf8)
        let script = """
            import sys, tokenizers
            t = tokenizers.Tokenizer.from_file(sys.argv[1] + '/tokenizer.json')
            text = open(sys.argv[1] + '/sample.txt', encoding='utf-8').read()
            ids = t.encode(text).ids
            assert t.decode(ids) == text, 'decode differs'
            print(' '.join(map(str, ids)))
            """
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, folder]
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let theirs = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        let ours = Array(sample.utf8).withUnsafeBufferPointer { bpe.encode($0) }.map { Int($0) }
        #expect(theirs == ours)
    }

    /// Guards against the incremental trainer drifting from plain BPE: on a small text it must
    /// learn the merges a direct count-and-merge loop learns.
    @Test func matchesDirectTraining() {
        let text = Array("low lower lowest newer newest wider widest low low new".utf8)
        let fast = text.withUnsafeBufferPointer { BytePairTokenizer.train(on: $0, vocabSize: 280) }
        var words = text.withUnsafeBufferPointer { BytePairTokenizer.chunks($0) }.map { $0.map { Int32($0) } }
        var merges: [BytePairTokenizer.Pair] = []
        while merges.count < 24 {
            var counts: [BytePairTokenizer.Pair: Int] = [:]
            for w in words { BytePairTokenizer.forEachPair(w) { counts[$0, default: 0] += 1 } }
            guard let best = counts.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }), best.value >= 2 else { break }
            merges.append(best.key)
            words = words.map { BytePairTokenizer.merge($0, best.key, into: Int32(255 + merges.count)) }
        }
        #expect(fast.merges == merges)
    }
}

@Suite struct TokenizerFileTests {
    /// Guards against a run's tokenizer.json (the library's format) that the lab cannot read
    /// back: both formats must give the same merges.
    @Test func readsBothFormats() throws {
        let bpe = ByteLevelBPETests.tokenizer(vocab: 320)
        #expect(try BytePairTokenizer(json: try #require(bpe.huggingFaceJSON), source: "hf.json") == bpe)
        #expect(try BytePairTokenizer(json: bpe.json, source: "lab.json") == bpe)
        #expect(bpe.hash.count == 16 && bpe.hash != ByteLevelBPETests.tokenizer(vocab: 330).hash)
    }
}
