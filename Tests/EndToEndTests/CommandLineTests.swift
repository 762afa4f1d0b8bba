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

    /// Guards against a summary that points at a database --no-record never wrote.
    @Test func noRecordTrainsWithoutADatabaseAndSaysSo() throws {
        let dir = temporaryDirectory()
        let r = try Lab.run(["train", Lab.root + "/experiments/quickstart.toml", "--no-record", "--quiet", "--results", dir,
                             "--db", dir + "/lab.sqlite", "--set", "train.steps=2", "--set", "train.warmup_steps=0",
                             "--set", "train.batch_size=2", "--set", "train.seq_len=16", "--set", "train.threads=1",
                             "--set", "train.eval_batches=1", "--set", "train.checkpoint_interval=0"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("records             none (--no-record)"), "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/lab.sqlite"))
    }

    /// bench prints throughput, the sgemm share, the step split and the memory split, with the
    /// micro-batches of gradient accumulation named and the roles adding up to the peak.
    @Test func benchPrintsTheSplitsAndTheMicroBatches() throws {
        let r = try Lab.run(["bench", "--config", "experiments/bench-tiny.toml", "--warmup", "1", "--steps", "1",
                             "--threads", "1", "--no-record", "--set", "model.num_layers=1", "--set", "train.batch_size=2",
                             "--set", "train.seq_len=32", "--set", "train.grad_accum=2"], cwd: Lab.root)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("batch 2x32 x 2 micro-batches per step"))
        #expect(r.output.contains("before,") && r.output.contains("% of the higher"))
        let lines = r.output.split(separator: "\n").map(String.init)
        // One worker thread: no pool helpers, no loops.
        #expect(r.output.contains("threads    1 (0 pool helpers): 0 parallel loops per step"), "\(r.output)")
        // The sgemm calls execute at least the model's FLOPs (attention's blocks add some), and a
        // step with no time outside them would reach at least the share the step reached.
        func number(after marker: String, in line: String?) -> Double? {
            guard let line, let range = line.range(of: marker) else { return nil }
            return Double(line[range.upperBound...].prefix { $0.isNumber || $0 == "." })
        }
        func percent(before marker: String, in line: String?) -> Double? {
            guard let line, let range = line.range(of: marker) else { return nil }
            return Double(String(line[..<range.lowerBound].reversed().prefix { $0.isNumber || $0 == "." }.reversed()))
        }
        let blasLine = lines.first { $0.hasPrefix("BLAS ") }
        let ratio = number(after: "per step executing ", in: blasLine)
        let inBLAS = number(after: "the threads spent ", in: blasLine)
        let share = percent(before: "% of the higher)", in: lines.first { $0.hasPrefix("compute ") })
        let ceiling = number(after: "this step would reach ", in: lines.first { $0.hasPrefix("ceiling ") })
        #expect(ratio.map { $0 >= 1 && $0 < 1.5 } == true, "\(blasLine ?? r.output)")
        #expect(inBLAS.map { $0 > 10 && $0 <= 100 } == true, "\(blasLine ?? r.output)")
        if let share, let ceiling { #expect(ceiling >= share, "ceiling \(ceiling)% below the step's \(share)%") }
        else { Issue.record("no share or ceiling in \(r.output)") }
        #expect(lines.contains { $0.contains("dense SwiGLU FFNs") && $0.contains("sgemm") && $0.contains("outside") })
        guard let peakLine = lines.first(where: { $0.hasPrefix("memory     peak resident") }),
              let peak = Double(peakLine.split(separator: " ").dropLast().last ?? ""),
              let start = lines.firstIndex(where: { $0.hasPrefix("memory split") }) else {
            Issue.record("no memory lines in \(r.output)"); return
        }
        let rows = lines[(start + 1)...].filter { $0.hasSuffix("%") }
        #expect(rows.contains { $0.contains("parameters") } && rows.contains { $0.contains("AdamW moments") })
        let sum = rows.compactMap { row in row.split(separator: " ").reversed().dropFirst(2).first.flatMap { Double($0) } }
            .reduce(0, +)
        #expect(rows.count >= 8 && abs(sum - peak) < 1, "roles add up to \(sum) MiB against a peak of \(peak)")
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
