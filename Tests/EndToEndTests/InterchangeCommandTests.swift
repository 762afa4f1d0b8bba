import Foundation
import Testing

/// `import-hf`, `logits` and `export-hf` run as a user runs them, on the committed reference
/// fixture (a transformers checkpoint with its token batch).
@Suite("Interchange commands", .serialized)
struct InterchangeCommandTests {
    static let fixture = Lab.root + "/Tests/LabInterchangeTests/Fixtures/reference"

    static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// Guards the whole path through the command line: a transformers checkpoint imported, run,
    /// exported from a run directory and run again gives the same logits and routing bytes.
    @Test func importRunExportGiveIdenticalLogits() throws {
        let tmp = temporaryDirectory()
        let tokens = Self.fixture + "/tokens.txt"
        var r = try Lab.run(["import-hf", Self.fixture, "--out", tmp + "/ck"])
        #expect(r.status == 0, "\(r.output)")
        r = try Lab.run(["logits", Self.fixture, "--tokens", tokens, "--out", tmp + "/a.npy", "--routing-out", tmp + "/ra.npy"])
        #expect(r.status == 0 && r.output.contains("loss 4.3653"), "\(r.output)")
        r = try Lab.run(["logits", tmp + "/ck", "--tokens", tokens, "--out", tmp + "/b.npy", "--routing-out", tmp + "/rb.npy"])
        #expect(r.status == 0, "\(r.output)")
        #expect(Self.bytes(tmp + "/a.npy") != nil && Self.bytes(tmp + "/a.npy") == Self.bytes(tmp + "/b.npy"))
        #expect(Self.bytes(tmp + "/ra.npy") != nil && Self.bytes(tmp + "/ra.npy") == Self.bytes(tmp + "/rb.npy"))
        #expect(Self.bytes(tmp + "/a.json") != nil)

        // The imported checkpoint as step 0 of a run, exported by run name.
        let run = tmp + "/results/runs/imported"
        let step = run + "/checkpoints/step-000000"
        try FileManager.default.createDirectory(atPath: step, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: tmp + "/ck/model.safetensors", toPath: step + "/model.safetensors")
        try FileManager.default.copyItem(atPath: tmp + "/ck/config.toml", toPath: run + "/config.toml")
        try "step-000000\n".write(toFile: run + "/checkpoints/latest", atomically: true, encoding: .utf8)
        r = try Lab.run(["export-hf", "imported", tmp + "/export", "--results", tmp + "/results", "--db", tmp + "/none.sqlite"])
        #expect(r.status == 0, "\(r.output)")
        r = try Lab.run(["logits", tmp + "/export", "--tokens", tokens, "--out", tmp + "/c.npy"])
        #expect(r.status == 0, "\(r.output)")
        #expect(Self.bytes(tmp + "/c.npy") == Self.bytes(tmp + "/a.npy"))
    }

    /// Bad input ends with a message naming the file and exit status 1, never a crash.
    @Test func badInputsGiveMessages() throws {
        let tmp = temporaryDirectory()
        try "1 2 3\n4 5\n".write(toFile: tmp + "/ragged.txt", atomically: true, encoding: .utf8)
        var r = try Lab.run(["logits", Self.fixture, "--tokens", tmp + "/ragged.txt"])
        #expect(r.status == 1 && r.output.contains("ragged.txt:2"), "\(r.output)")

        let broken = tmp + "/broken"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixture + "/config.json", toPath: broken + "/config.json")
        let good = try #require(Self.bytes(Self.fixture + "/model.safetensors"))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: broken + "/model.safetensors"))
        r = try Lab.run(["import-hf", broken, "--out", tmp + "/out"])
        #expect(r.status == 1 && r.output.contains(broken), "\(r.output)")

        r = try Lab.run(["export-hf", "no-such-run", tmp + "/export", "--results", tmp, "--db", tmp + "/none.sqlite"])
        #expect(r.status == 1 && r.output.contains("no-such-run"), "\(r.output)")
    }
}
