import Foundation
import Testing

/// Runs the real `longcat-lab` executable built beside the test bundle.
struct Lab {
    static let executable: String = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("longcat-lab").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return "longcat-lab"
    }()

    struct Result { var status: Int32; var output: String }

    /// Runs the executable from the package root with `args`.
    static func run(_ args: [String], cwd: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// The package root (where experiments/ lives), found from this source file.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}

func temporaryDirectory() -> String {
    let dir = NSTemporaryDirectory() + "longcat-e2e-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite("Command line", .serialized)
struct CommandLineTests {
    @Test func helpListsTheCommands() throws {
        let r = try Lab.run(["--help"])
        #expect(r.status == 0)
        for command in ["train", "bench", "doctor"] { #expect(r.output.contains(command)) }
        let train = try Lab.run(["train", "--help"])
        #expect(train.output.contains("--resume") && train.output.contains("--set"))
    }

    @Test func doctorChecksSgemmAndNamesTheKernel() throws {
        let r = try Lab.run(["doctor", "--size", "256"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("BLAS kernel") && r.output.contains("ok"))
    }

    /// Bad input gets a clear message naming the key and exits non-zero before any work.
    @Test func badConfigIsRejectedNamingTheKey() throws {
        let dir = temporaryDirectory()
        let r = try Lab.run(["train", Lab.root + "/experiments/quickstart.toml", "--set", "model.moe_topk=99",
                             "--results", dir, "--db", dir + "/lab.sqlite"])
        #expect(r.status != 0)
        #expect(r.output.contains("model.moe_topk"), "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/lab.sqlite"))
        let missing = try Lab.run(["train", dir + "/nope.toml"])
        #expect(missing.status != 0 && missing.output.contains("nope.toml"))
    }

    /// The whole main job at a tiny size: train, record, checkpoint, resume.
    @Test func trainsRecordsAndResumes() throws {
        let dir = temporaryDirectory()
        let common = ["train", Lab.root + "/experiments/quickstart.toml", "--results", dir, "--db", dir + "/lab.sqlite",
                      "--name", "e2e", "--set", "train.steps=12", "--set", "train.warmup_steps=2",
                      "--set", "train.eval_interval=6", "--set", "train.batch_size=4", "--set", "train.seq_len=32"]
        let first = try Lab.run(common + ["--stop-after", "6"])
        #expect(first.status == 130, "\(first.output)")
        #expect(first.output.contains("interrupted after 6 steps"))
        let again = try Lab.run(common)
        #expect(again.status != 0 && again.output.contains("e2e"), "a second run of the same name must be refused")
        let resumed = try Lab.run(common + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.output.contains("validation loss"))
        #expect(FileManager.default.fileExists(atPath: dir + "/runs/e2e/checkpoints/step-000012/model.safetensors"))
    }
}
