import Foundation
import LabConfig
import Testing
@testable import LabData

/// Small stand-ins for the mix corpus's five sources, made in a temporary folder: a tar of
/// kernel C files, a Python library, reStructuredText docs, a Bible and a Shakespeare text.
final class MixFixture {
    let root = NSTemporaryDirectory() + "mix-fixture-\(UUID().uuidString)"
    var sources = MixSources()
    var data = DataConfig()

    init() throws {
        let fm = FileManager.default
        let tree = root + "/tree/linux-source-6.1"
        for (folder, count) in [("kernel", 6), ("mm", 3), ("fs", 4), ("net", 3), ("drivers", 5), ("tools", 2)] {
            try fm.createDirectory(atPath: tree + "/" + folder, withIntermediateDirectories: true)
            for i in 0..<count {
                try "/* \(folder) \(i) */\nstatic int \(folder)_f\(i)(int x)\n{\n\treturn x * \(i + 3) + \(folder.count);\n}\n"
                    .write(toFile: tree + "/\(folder)/f\(i).c", atomically: true, encoding: .utf8)
            }
            try "#define \(folder.uppercased())_H 1\n".write(toFile: tree + "/\(folder)/defs.h", atomically: true, encoding: .utf8)
        }
        try "not C\n".write(toFile: tree + "/kernel/README", atomically: true, encoding: .utf8)
        try run("/usr/bin/env", ["tar", "-cf", root + "/linux.tar", "-C", root + "/tree", "linux-source-6.1"])
        try fm.createDirectory(atPath: root + "/python/json", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/python/site-packages", withIntermediateDirectories: true)
        for i in 0..<8 {
            try "def f\(i)(x):\n    \"\"\"Return x plus \(i).\"\"\"\n    return x + \(i)\n".write(
                toFile: root + "/python/" + (i % 2 == 0 ? "json/" : "") + "mod\(i).py", atomically: true, encoding: .utf8)
        }
        try "import nothing\n".write(toFile: root + "/python/site-packages/skip.py", atomically: true, encoding: .utf8)
        try fm.createDirectory(atPath: root + "/docs/library", withIntermediateDirectories: true)
        for i in 0..<6 {
            try "Section \(i)\n=========\n\nThe :mod:`json` module, part \(i).\n".write(
                toFile: root + "/docs/library/page\(i).rst.txt", atomically: true, encoding: .utf8)
        }
        let verses = (0..<400).map { "And the word \($0) was spoken unto them, saying, Be still.\n" }.joined()
        try verses.write(toFile: root + "/kjv.txt", atomically: true, encoding: .utf8)
        let lines = (0..<300).map { "ROMEO:\nWhat light through yonder window breaks \($0)?\n\n" }.joined()
        try lines.write(toFile: root + "/shakespeare.txt", atomically: true, encoding: .utf8)
        sources.linuxTarball = root + "/linux.tar"
        sources.pythonLibrary = root + "/python"
        sources.pythonDocs = root + "/docs"
        sources.bibleText = root + "/kjv.txt"
        sources.shakespeareText = root + "/shakespeare.txt"
        sources.documentBytes = 2_048
        data.corpus = .mix
        data.cacheDir = root + "/cache"
        data.cBytes = 1_200
        data.validationFraction = 0.25
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func load(tokenizer: TokenizerKind = .byte, vocab: Int = 256) throws -> (corpus: Corpus, report: MixLoadReport) {
        var d = data
        d.tokenizer = tokenizer
        return try MixCorpus.load(d, vocabSize: vocab, sources: sources, log: { _ in })
    }

    func run(_ program: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(arguments.joined(separator: " ")) failed")
    }
}

@Suite struct MixCorpusTests {
    /// Guards against a split that cuts a document or lists one in both splits, and against a
    /// text layout that disagrees with the index (train documents first, domain by domain).
    @Test func splitIsByDocument() throws {
        let fixture = try MixFixture()
        let (corpus, report) = try fixture.load()
        let docs = try MixCorpus.readIndex(report.textFolder + "/docs.tsv")
        let keys = docs.map { "\($0.domain)/\($0.name)" }
        #expect(Set(keys).count == keys.count, "a document appears twice")
        #expect(Set(docs.map(\.domain)).count == 5, "every domain contributes documents")
        for domain in 0..<5 {
            let splits = Set(docs.filter { $0.domain == domain }.map(\.split))
            #expect(splits == [.train, .validation], "domain \(domain) has documents on both sides")
        }
        var offset = 0
        for d in docs {
            #expect(d.offset == offset)
            offset += d.length
        }
        let trainBytes = docs.filter { $0.split == .train }.reduce(0) { $0 + $1.length }
        #expect(corpus.train.count == trainBytes && corpus.tokens.count == offset)
        #expect(docs.prefix { $0.split == .train }.count == docs.filter { $0.split == .train }.count)
        // C: kernel files first (by path), only .c/.h, within c_bytes; site-packages skipped.
        let c = docs.filter { $0.domain == 0 }.map(\.name)
        #expect(c.allSatisfy { ($0.hasSuffix(".c") || $0.hasSuffix(".h")) && !$0.contains("tools/") })
        #expect(report.bytes["c"]!.total <= 1_200 && c.contains("linux-source-6.1/kernel/defs.h"))
        #expect(!docs.contains { $0.name.contains("site-packages") })
        // The split is a fixed function of the documents (no seed, no order).
        let some = [MixDocument(domain: 1, name: "a.py", offset: 0, length: 1),
                    MixDocument(domain: 1, name: "b.py", offset: 0, length: 1),
                    MixDocument(domain: 1, name: "c.py", offset: 0, length: 1)]
        #expect(MixCorpus.assignSplits(some, fraction: 0.3) == MixCorpus.assignSplits(some, fraction: 0.3))
        // Names that differ only at the end (pieces of one long text) still split near the fraction.
        let pieces = (0..<400).map { MixDocument(domain: 2, name: "kjv#\($0)", offset: 0, length: 1) }
        let held = MixCorpus.assignSplits(pieces, fraction: 0.1).filter { $0 == .validation }.count
        #expect((20...60).contains(held), "\(held) of 400 pieces held out at fraction 0.1")
        // Labels are the domain of each token.
        for d in docs.prefix(40) {
            #expect(corpus.label(at: d.offset) == UInt8(d.domain))
        }
    }

    /// Guards against a cache that is rebuilt every run (a second load must neither extract,
    /// nor train the tokenizer, nor encode) or kept when an input changed.
    @Test func cacheIsReusedAndInvalidated() throws {
        let fixture = try MixFixture()
        let first = try fixture.load(tokenizer: .bpe, vocab: 300)
        #expect(first.report.extracted && first.report.tokenizerTrained && first.report.encoded)
        let second = try fixture.load(tokenizer: .bpe, vocab: 300)
        #expect(!second.report.extracted && !second.report.tokenizerTrained && !second.report.encoded)
        #expect(second.report.textFolder == first.report.textFolder)
        #expect(Array(second.corpus.subwords!) == Array(first.corpus.subwords!))
        #expect(second.corpus.tokenizer == first.corpus.tokenizer)
        #expect(FileManager.default.fileExists(atPath: first.report.tokenFolder + "/tokenizer.json"))
        // Changing one input file changes the hash: everything is rebuilt.
        try "def changed():\n    return 42\n".write(toFile: fixture.root + "/python/mod1.py", atomically: true, encoding: .utf8)
        let third = try fixture.load(tokenizer: .bpe, vocab: 300)
        #expect(third.report.extracted && third.report.tokenizerTrained && third.report.encoded)
        #expect(third.report.textFolder != first.report.textFolder)
    }

    /// Guards against domain weights that are ignored or windows that straddle two domains:
    /// with weight only on python, every training window lies inside the python span.
    @Test func domainWeightsSteerWindows() throws {
        let fixture = try MixFixture()
        fixture.data.domainWeights = "python:1"
        let (corpus, _) = try fixture.load()
        let python = corpus.segments.first { $0.domain == "python" && $0.split == .train }!.range
        let sampler = BatchSampler(corpus: corpus, split: .train, batch: 16, seqLen: 8, seed: 3)
        for step in 0..<20 {
            for s in sampler.windowStarts(step: step) { #expect(python.contains(s) && python.contains(s + 8)) }
        }
    }

    /// Guards against an unhelpful failure when a package is missing: the error names the
    /// Debian package and the setup flag.
    @Test func missingPackageIsNamed() throws {
        let fixture = try MixFixture()
        fixture.sources.linuxTarball = fixture.root + "/absent.tar.xz"
        #expect(throws: DataError.missingPackage(package: "linux-source-6.1", path: fixture.root + "/absent.tar.xz")) {
            try fixture.load()
        }
        let message = DataError.missingPackage(package: "python3.11-doc", path: "/x").description
        #expect(message.contains("python3.11-doc") && message.contains("LONGCAT_OPTIONAL=1"))
    }
}
