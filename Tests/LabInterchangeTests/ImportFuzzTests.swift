import Foundation
import LabInterchange
import LabKernels
import LabModel
import Testing

/// Damaged safetensors files given to `import-hf`'s reader: each must be refused with a message
/// naming the file, or (for a harmless change) read; never a crash, a hang or a huge allocation.
@Suite("Import of damaged files")
struct ImportFuzzTests {
    /// An exported tiny model: the folder, the good file's bytes, and a model to load into.
    struct Subject {
        let directory: String
        let bytes: [UInt8]
        let headerEnd: Int
        let model: LongCatModel

        init() throws {
            let source = randomModel(tinyExportConfig())
            directory = temporaryDirectory("fuzz")
            try HFExport.write(source, to: directory)
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/model.safetensors")))
            headerEnd = 8 + Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
            model = LongCatModel(config: source.config, batch: 1, seqLen: 1)
        }

        /// Loads `bytes` as the folder's model.safetensors; the error, or nil when it loaded.
        func load(_ bytes: [UInt8]) -> (any Error)? {
            _ = FileManager.default.createFile(atPath: directory + "/model.safetensors", contents: Data(bytes))
            do {
                try HFImport.loadWeights(into: model, directory: directory)
                return nil
            } catch {
                return error
            }
        }

        /// Whether `error` exists and its message names the folder or file.
        func named(_ error: (any Error)?) -> Bool {
            error.map { String(describing: $0).contains(directory) } ?? false
        }
    }

    /// Guards against reading past the end: every truncation of the file is refused.
    @Test func truncatedFilesAreRefused() throws {
        let s = try Subject()
        var rng = LabRandom(seed: 3)
        var cuts = [0, 1, 7, 8, 9, s.headerEnd - 1, s.headerEnd, s.headerEnd + 1, s.bytes.count - 1]
        for _ in 0..<40 { cuts.append(Int(rng.nextUInt64() % UInt64(s.bytes.count))) }
        for cut in cuts {
            let error = s.load(Array(s.bytes.prefix(cut)))
            #expect(error != nil, "a file cut to \(cut) of \(s.bytes.count) bytes was accepted")
            #expect(s.named(error), "\(String(describing: error))")
        }
        #expect(s.load(s.bytes) == nil, "the intact file must load")
    }

    /// Guards against trusting the 8-byte header length: lengths past the file or absurdly large
    /// are refused before anything is allocated from them.
    @Test func oversizeHeaderLengthsAreRefused() throws {
        let s = try Subject()
        for length: UInt64 in [UInt64(s.bytes.count - 7), UInt64(s.bytes.count), 100_000_001, 1 << 32, 1 << 63, .max] {
            var bytes = s.bytes
            for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(i))) }
            let error = s.load(bytes)
            #expect(error != nil, "header length \(length) was accepted")
            #expect(s.named(error), "\(String(describing: error))")
        }
    }

    /// Guards the JSON header parser and every check after it: random byte changes in the header
    /// are refused with a message, or read when they are harmless (a changed metadata value);
    /// the process survives all of them.
    @Test func corruptHeadersNeverCrash() throws {
        let s = try Subject()
        var rng = LabRandom(seed: 5)
        var refused = 0
        let trials = 300
        for _ in 0..<trials {
            var bytes = s.bytes
            for _ in 0..<(1 + Int(rng.nextUInt64() % 3)) {
                let at = 8 + Int(rng.nextUInt64() % UInt64(s.headerEnd - 8))
                bytes[at] = UInt8(truncatingIfNeeded: rng.nextUInt64())
            }
            if let error = s.load(bytes) {
                refused += 1
                #expect(s.named(error), "\(error)")
            }
        }
        #expect(refused > trials / 2, "only \(refused) of \(trials) corrupted headers were refused")
    }

    /// Random bytes of random length are refused.
    @Test func garbageFilesAreRefused() throws {
        let s = try Subject()
        var rng = LabRandom(seed: 9)
        for _ in 0..<50 {
            let bytes = (0..<Int(rng.nextUInt64() % 4096)).map { _ in UInt8(truncatingIfNeeded: rng.nextUInt64()) }
            #expect(s.load(bytes) != nil)
        }
    }
}
