import Foundation
import LabRecords
import Testing

/// A short quickstart run's command line (2 layers, 16 + 8 experts) into `dir`.
private func quickRun(_ name: String, dir: String, steps: Int, extra: [String] = []) -> [String] {
    ["train", Lab.root + "/experiments/quickstart.toml", "--results", dir, "--db", dir + "/lab.sqlite",
     "--name", name, "--quiet", "--set", "train.steps=\(steps)", "--set", "train.warmup_steps=1",
     "--set", "train.batch_size=2", "--set", "train.seq_len=32", "--set", "train.eval_interval=0",
     "--set", "train.eval_batches=1", "--set", "train.checkpoint_interval=0", "--set", "train.threads=1"] + extra
}

/// Starts the executable without waiting; output goes to `log`.
private func launch(_ args: [String], log: String) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Lab.executable)
    p.arguments = args
    FileManager.default.createFile(atPath: log, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    p.standardOutput = handle
    p.standardError = handle
    try p.run()
    return p
}

/// One integer from a single-value query.
private func count(_ store: RecordStore, _ sql: String, _ args: [SQLValue] = []) throws -> Int {
    try #require(try store.query(sql, args).first?.first?.int)
}

/// Steps of the run whose layer or expert rows are not all there (a partial step).
private func partialSteps(_ store: RecordStore, run: Int64, layers: Int, experts: Int) throws -> [Int] {
    try store.query("""
        SELECT s.step FROM steps s
        WHERE s.run_id = ?1 AND (
            (SELECT COUNT(*) FROM layer_steps l WHERE l.run_id = s.run_id AND l.step = s.step) != ?2
         OR (SELECT COUNT(*) FROM expert_steps e WHERE e.run_id = s.run_id AND e.step = s.step) != ?3
         OR (SELECT COALESCE(SUM(tokens), 0) FROM activated_params a WHERE a.run_id = s.run_id AND a.step = s.step) != 64)
        UNION
        SELECT DISTINCT l.step FROM layer_steps l WHERE l.run_id = ?1
            AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.run_id = l.run_id AND s.step = l.step)
        """, [.integer(run), .integer(Int64(layers)), .integer(Int64(layers * experts))]).compactMap { $0[0].int }
}

@Suite("Records from the command line", .serialized)
struct RecordsTests {
    /// Guards against lost rows or a "database is locked" failure when two runs share one
    /// database: two processes training at once both finish with every row of every step.
    @Test func twoRunsWritingOneDatabaseAtOnceBothComplete() throws {
        let dir = temporaryDirectory()
        let steps = 12
        let a = try launch(quickRun("left", dir: dir, steps: steps), log: dir + "/left.log")
        let b = try launch(quickRun("right", dir: dir, steps: steps), log: dir + "/right.log")
        a.waitUntilExit()
        b.waitUntilExit()
        let logs = ["left", "right"].map { (try? String(contentsOfFile: dir + "/\($0).log", encoding: .utf8)) ?? "" }
            .joined(separator: "\n")
        #expect(a.terminationStatus == 0 && b.terminationStatus == 0, "\(logs)")
        let store = try RecordStore(path: dir + "/lab.sqlite")
        for name in ["left", "right"] {
            let run = try #require(try store.run(named: name))
            #expect(run.status == .finished)
            #expect(try store.steps(runID: run.id).map(\.step) == Array(0..<steps))
            #expect(try count(store, "SELECT COUNT(*) FROM layer_steps WHERE run_id = ?1", [.integer(run.id)]) == steps * 2)
            #expect(try count(store, "SELECT COUNT(*) FROM expert_steps WHERE run_id = ?1", [.integer(run.id)]) == steps * 2 * 24)
            #expect(try partialSteps(store, run: run.id, layers: 2, experts: 24).isEmpty)
        }
    }

    /// Guards against a kill -9 leaving a corrupt database, a half-written step or a run that
    /// claims to be running: after SIGKILL mid-run the database opens, every recorded step has
    /// all its rows, and `runs` lists the run as interrupted.
    @Test func killedRunLeavesReadableDatabaseWithNoPartialStep() throws {
        let dir = temporaryDirectory()
        let db = dir + "/lab.sqlite"
        let p = try launch(quickRun("victim", dir: dir, steps: 100_000, extra: ["--set", "train.telemetry_interval=1"]),
                           log: dir + "/victim.log")
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        // Wait until a few steps are committed (at most a minute), then kill without warning.
        let deadline = Date().addingTimeInterval(60)
        var recorded = 0
        while Date() < deadline, p.isRunning {
            if FileManager.default.fileExists(atPath: db), let store = try? RecordStore(path: db),
               let n = try? count(store, "SELECT COUNT(*) FROM steps") {
                recorded = n
                if n >= 3 { break }
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(recorded >= 3, "the run recorded \(recorded) steps before the deadline")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal)

        let listing = try Lab.run(["runs", "--db", db])
        #expect(listing.status == 0)
        let line = try #require(listing.output.split(separator: "\n").first { $0.hasPrefix("victim") })
        #expect(line.contains("interrupted"), "\(listing.output)")
        let store = try RecordStore(path: db)
        #expect(try store.query("PRAGMA integrity_check").first?.first?.string == "ok")
        let run = try #require(try store.run(named: "victim"))
        #expect(run.status == .interrupted)
        #expect(try partialSteps(store, run: run.id, layers: 2, experts: 24).isEmpty)
        let steps = try store.steps(runID: run.id).map(\.step)
        #expect(steps == Array(0..<steps.count) && steps.count >= 3)
    }

    /// Guards against Ctrl-C losing work or leaving the run "running": SIGINT mid-run finishes
    /// the step, writes a checkpoint, marks the run interrupted and exits 130; `--resume`
    /// continues from that checkpoint with no step missing or repeated.
    @Test func sigintCheckpointsAndResumeContinues() throws {
        let dir = temporaryDirectory()
        let db = dir + "/lab.sqlite"
        let args = quickRun("ctrl-c", dir: dir, steps: 100_000)
        let p = try launch(args, log: dir + "/ctrl-c.log")
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(60)
        var recorded = 0
        while Date() < deadline, p.isRunning, recorded < 3 {
            if FileManager.default.fileExists(atPath: db), let store = try? RecordStore(path: db) {
                recorded = (try? count(store, "SELECT COUNT(*) FROM steps")) ?? 0
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        kill(p.processIdentifier, SIGINT)
        let exitDeadline = Date().addingTimeInterval(30)  // a lost signal must fail, not hang
        while p.isRunning, Date() < exitDeadline { Thread.sleep(forTimeInterval: 0.1) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        let log = (try? String(contentsOfFile: dir + "/ctrl-c.log", encoding: .utf8)) ?? ""
        #expect(p.terminationReason == .exit && p.terminationStatus == 130, "\(log)")
        let store = try RecordStore(path: db)
        let run = try #require(try store.run(named: "ctrl-c"))
        #expect(run.status == .interrupted)
        let done = try store.steps(runID: run.id).count
        #expect(done >= 3 && FileManager.default.fileExists(atPath: dir + "/runs/ctrl-c/checkpoints/latest"), "\(log)")

        let resumed = try Lab.run(args + ["--resume", "--stop-after", "\(done + 3)"])
        #expect(resumed.status == 130 && resumed.output.contains("interrupted after \(done + 3) steps"), "\(resumed.output)")
        #expect(try store.steps(runID: run.id).map(\.step) == Array(0..<(done + 3)))
    }

    /// Guards against a second Ctrl-C crashing instead of exiting: the second signal lands while
    /// the training thread is inside a GEMM, which a plain exit() turned into a segfault (its exit
    /// handlers freed OpenBLAS's buffers under the running GEMM). Each of three tries must exit
    /// with status 130 and leave the records whole.
    @Test func secondSignalExitsAt130WithoutCrashing() throws {
        let dir = temporaryDirectory()
        let db = dir + "/lab.sqlite"
        for attempt in 0..<3 {
            let name = "twice-\(attempt)"
            // Wider batches than quickRun's, so most of each step is spent inside GEMMs.
            let args = quickRun(name, dir: dir, steps: 100_000, extra: ["--set", "train.batch_size=8", "--set", "train.seq_len=128"])
            let p = try launch(args, log: dir + "/\(name).log")
            defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
            let deadline = Date().addingTimeInterval(60)
            var recorded = 0
            while Date() < deadline, p.isRunning, recorded < 2 {
                if FileManager.default.fileExists(atPath: db), let store = try? RecordStore(path: db),
                   let run = try? store.run(named: name) {
                    recorded = (try? store.steps(runID: run.id).count) ?? 0
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            kill(p.processIdentifier, SIGINT)
            Thread.sleep(forTimeInterval: 0.002 * Double(attempt + 1))
            kill(p.processIdentifier, SIGINT)
            let exitDeadline = Date().addingTimeInterval(30)
            while p.isRunning, Date() < exitDeadline { Thread.sleep(forTimeInterval: 0.05) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
            let log = (try? String(contentsOfFile: dir + "/\(name).log", encoding: .utf8)) ?? ""
            #expect(p.terminationReason == .exit && p.terminationStatus == 130, "attempt \(attempt): \(log)")
            #expect(!log.contains("crashed"), "attempt \(attempt): \(log)")
        }
        let store = try RecordStore(path: db)
        #expect(try store.query("PRAGMA integrity_check").first?.first?.string == "ok")
    }

    /// Guards against `runs`/`show` that drift from the records: they list and summarise a
    /// finished run, and an unknown name fails with close suggestions.
    @Test func runsAndShowPrintTheRun() throws {
        let dir = temporaryDirectory()
        let db = dir + "/lab.sqlite"
        let r = try Lab.run(quickRun("shown-run", dir: dir, steps: 10, extra: ["--set", "train.telemetry_interval=4"]))
        #expect(r.status == 0, "\(r.output)")
        let listing = try Lab.run(["runs", "--db", db])
        #expect(listing.status == 0)
        #expect(listing.output.contains("name") && listing.output.contains("tokens/s"))
        let line = try #require(listing.output.split(separator: "\n").first { $0.hasPrefix("shown-run") })
        #expect(line.contains("finished") && line.contains(" 10 "), "\(listing.output)")

        let shown = try Lab.run(["show", "shown-run", "--db", db])
        #expect(shown.status == 0, "\(shown.output)")
        for part in ["run shown-run", "final losses (step 9)", "eval loss (step 9)", "target K_e = 2.00 of K = 4",
                     "steps 0-9 (final window)", "load stability", "telemetry (step 8)", "R_g", "checkpoints:", "step 10:",
                     "tokens/s", "[controller]", "kind = \"pid\""] {
            #expect(shown.output.contains(part), "missing '\(part)' in:\n\(shown.output)")
        }
        let typo = try Lab.run(["show", "shown-rnu", "--db", db])
        #expect(typo.status != 0)
        #expect(typo.output.contains("no run named 'shown-rnu'") && typo.output.contains("shown-run"), "\(typo.output)")
        let missing = try Lab.run(["runs", "--db", dir + "/nothing.sqlite"])
        #expect(missing.status != 0 && missing.output.contains("nothing.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/nothing.sqlite"))
    }

    /// Guards against an unmeasured recording cost: the bench prints the recording share of a
    /// step, and every recorded step carries record_ms.
    @Test func recordingCostIsReported() throws {
        let bench = try Lab.run(["bench", "--config", Lab.root + "/experiments/bench-tiny.toml", "--warmup", "1",
                                 "--steps", "2", "--threads", "1", "--set", "train.batch_size=2", "--set", "train.seq_len=32"])
        #expect(bench.status == 0, "\(bench.output)")
        let line = try #require(bench.output.split(separator: "\n").first { $0.contains("recording (SQLite)") })
        #expect(line.contains("ms") && line.contains("%"))
        let dir = temporaryDirectory()
        let r = try Lab.run(quickRun("costed", dir: dir, steps: 3))
        #expect(r.status == 0, "\(r.output)")
        let store = try RecordStore(path: dir + "/lab.sqlite")
        #expect(try count(store, "SELECT COUNT(*) FROM steps WHERE record_ms > 0") == 3)
    }
}
