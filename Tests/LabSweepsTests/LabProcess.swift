import Foundation
import LabRecords
import Testing

/// The built `longcat-lab` executable, run as a process that a test can signal mid-way.
final class LabProcess {
    /// The executable beside the test bundle.
    static let executable: String = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("longcat-lab").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return "longcat-lab"
    }()

    /// The package root, found from this source file.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    let process = Process()
    let outputPath: String

    /// Starts the executable with `args` in `cwd`, its output going to `outputPath`.
    init(_ args: [String], cwd: String, outputPath: String) throws {
        self.outputPath = outputPath
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        process.standardOutput = out
        process.standardError = out
        try process.run()
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Waits for the exit (at most `timeout` seconds, then kills it and records an issue);
    /// returns the status and everything it printed.
    func wait(timeout: Double = 300, sourceLocation: SourceLocation = #_sourceLocation) -> (status: Int32, output: String) {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            Issue.record("longcat-lab did not exit within \(timeout) s; killed", sourceLocation: sourceLocation)
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, text)
    }

    /// Runs to the end.
    static func run(_ args: [String], cwd: String) throws -> (status: Int32, output: String) {
        try LabProcess(args, cwd: cwd, outputPath: cwd + "/out-\(UUID().uuidString).txt").wait()
    }
}

/// A fresh empty folder under the temporary directory.
func temporaryFolder(_ label: String) throws -> String {
    let dir = NSTemporaryDirectory() + "longcat-sweeps-\(label)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Removes folders made by `temporaryFolder` (checkpoints of the kill test add up to 100+ MB).
func removeFolders(_ dirs: String...) {
    for d in dirs { try? FileManager.default.removeItem(atPath: d) }
}

/// A sweep of 4 tiny runs (controller none/pid x seeds 1, 2) that trains in seconds.
func tinySweep(steps: Int, extra: String = "") -> String {
    """
    # A tiny sweep for the sweep tests.
    [model]
    hidden_size = 32
    num_layers = 1
    num_attention_heads = 2
    q_lora_rank = 16
    kv_lora_rank = 16
    qk_nope_head_dim = 8
    qk_rope_head_dim = 4
    v_head_dim = 8
    ffn_hidden_size = 32
    expert_ffn_hidden_size = 16
    n_routed_experts = 4
    zero_expert_num = 2
    moe_topk = 2

    [train]
    steps = \(steps)
    batch_size = 2
    seq_len = 16
    warmup_steps = 2
    eval_interval = 25
    eval_batches = 1
    checkpoint_interval = 5
    log_interval = 25

    [controller]
    kind = "pid"
    target_ffn_experts = 1.0
    ki = 1e-2

    [sweep]
    "controller.kind" = ["none", "pid"]
    seeds = [1, 2]
    \(extra)
    """
}

/// Per run name: the loss of every recorded step.
func lossesByRun(_ database: String) throws -> [String: [Double]] {
    let store = try RecordStore(path: database)
    defer { store.close() }
    var out: [String: [Double]] = [:]
    for row in try store.query("SELECT r.name, s.loss FROM steps s JOIN runs r USING (run_id) ORDER BY r.name, s.step") {
        out[row[0].string!, default: []].append(row[1].double ?? .nan)
    }
    return out
}

/// Checks that `database` holds each of `names` exactly once, finished, with every step
/// 0..<steps recorded once in `steps`, `layer_steps` and `activated_params`, and that SQLite
/// finds the file and its foreign keys consistent.
func expectComplete(_ database: String, names: [String], steps: Int, layers: Int,
                    sourceLocation: SourceLocation = #_sourceLocation) throws {
    let store = try RecordStore(path: database)
    defer { store.close() }
    let runs = try store.query("SELECT name, status FROM runs ORDER BY name")
    #expect(runs.map { $0[0].string! } == names.sorted(), sourceLocation: sourceLocation)
    #expect(runs.allSatisfy { $0[1].string == "finished" }, "\(runs)", sourceLocation: sourceLocation)
    for name in names {
        let id = try #require(try store.runID(named: name), sourceLocation: sourceLocation)
        let s = try store.query("SELECT COUNT(*), COUNT(DISTINCT step), MIN(step), MAX(step) FROM steps WHERE run_id = ?1", [.integer(id)])[0]
        #expect(s.map(\.int) == [steps, steps, 0, steps - 1], "\(name): \(s)", sourceLocation: sourceLocation)
        let l = try store.query("SELECT COUNT(*) FROM layer_steps WHERE run_id = ?1", [.integer(id)])[0][0].int
        #expect(l == steps * layers, "\(name): \(String(describing: l)) layer rows", sourceLocation: sourceLocation)
        let a = try store.query("SELECT COUNT(DISTINCT step) FROM activated_params WHERE run_id = ?1", [.integer(id)])[0][0].int
        #expect(a == steps, "\(name): activated_params covers \(String(describing: a)) steps", sourceLocation: sourceLocation)
    }
    #expect(try store.query("PRAGMA integrity_check").first?.first?.string == "ok", sourceLocation: sourceLocation)
    #expect(try store.query("PRAGMA foreign_key_check").isEmpty, sourceLocation: sourceLocation)
}
