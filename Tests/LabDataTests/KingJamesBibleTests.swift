import Foundation
import Testing
import LabConfig
import LabData

/// The optional King James Bible corpus: extraction with the `bible` program, the cache, and
/// the error when the package is missing.
@Suite struct KingJamesBibleTests {
    /// A fresh empty folder.
    func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "kjv-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A fake `bible` in a fresh folder that prints `lines` whatever its arguments.
    func fakeProgram(printing lines: [String]) throws -> String {
        let folder = try temporaryFolder()
        let script = "#!/bin/sh\ncat <<'END'\n" + lines.joined(separator: "\n") + "\nEND\n"
        try script.write(toFile: folder + "/bible", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder + "/bible")
        return folder
    }

    /// Guards against references left in the training text, or verses glued together.
    @Test func verseTextDropsReferencesAndKeepsOneVersePerLine() {
        let output = Array("Ge1:1 In the beginning.\n1Jo2:3 And hereby: we know.\n\nRev22:21 Amen.\n".utf8)
        #expect(String(decoding: KingJamesBible.verseText(output), as: UTF8.self)
                == "In the beginning.\nAnd hereby: we know.\nAmen.\n")
    }

    /// Guards against a crash or a vague message when the optional package is missing: the
    /// error says how to install it and where the text will go.
    @Test func missingProgramAndCacheSayHowToInstall() throws {
        let cache = try temporaryFolder()
        var data = DataConfig()
        data.corpus = .kjv
        data.cacheDir = cache
        let error = #expect(throws: DataError.self) {
            _ = try KingJamesBible.cachedText(cacheDirectory: cache, searchPath: "/nonexistent")
        }
        #expect(error == .bibleNotInstalled(cachePath: cache + "/kjv.txt"))
        #expect(error?.description.contains("LONGCAT_OPTIONAL=1 scripts/setup.sh") == true)
        #expect(error?.description.contains("apt-get install bible-kjv") == true)
    }

    /// Guards against re-running the program every time, or a corpus that differs from the
    /// extracted text: the first call writes the cache, later ones read it without the program.
    @Test func extractionIsCachedAndLoadsAsATextCorpus() throws {
        let program = try fakeProgram(printing: ["Ge1:1 In the beginning.", "Ge1:2 And the earth.", "Re22:21 Amen."])
        let cache = try temporaryFolder()
        let path = try KingJamesBible.cachedText(cacheDirectory: cache, searchPath: program, expectedVerses: 3)
        #expect(path == cache + "/kjv.txt")
        let text = "In the beginning.\nAnd the earth.\nAmen.\n"
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
        // The cache is used without the program.
        #expect(try KingJamesBible.cachedText(cacheDirectory: cache, searchPath: "/nonexistent") == path)
        var data = DataConfig()
        data.corpus = .kjv
        data.cacheDir = cache
        data.validationFraction = 0.25
        let corpus = try Corpus.load(data, seed: 1)
        #expect(corpus.name == "kjv")
        #expect(Array(corpus.tokens) == Array(text.utf8))
        #expect(corpus.labelNames == TokenClass.labelNames)
    }

    /// Guards against caching a truncated dump, which every later run would then train on.
    @Test func truncatedExtractionIsRejectedAndNotCached() throws {
        let program = try fakeProgram(printing: ["Ge1:1 In the beginning."])
        let cache = try temporaryFolder()
        #expect(throws: DataError.self) {
            _ = try KingJamesBible.cachedText(cacheDirectory: cache, searchPath: program, expectedVerses: 2)
        }
        #expect(!FileManager.default.fileExists(atPath: cache + "/kjv.txt"))
    }

    /// Checks the real package where it is installed: the whole book, Genesis to Revelation.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/bible")))
    func realProgramGivesTheWholeBook() throws {
        let cache = try temporaryFolder()
        let path = try KingJamesBible.cachedText(cacheDirectory: cache, searchPath: "/usr/bin")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("In the beginning God created the heaven and the earth.\n"))
        #expect(text.hasSuffix("The grace of our Lord Jesus Christ be with you all. Amen.\n"))
        #expect(text.utf8.count > 4_000_000)
    }
}
