import Foundation
import LabRecords
import Testing

/// The `sweep` and `merge` commands end to end, through the built executable.
@Suite("sweep command", .serialized)
struct SweepCommandTests {
    static let names = ["tiny-none-s1", "tiny-none-s2", "tiny-pid-s1", "tiny-pid-s2"]

    /// Writes the tiny sweep into a fresh folder; returns the folder.
    func setUp(_ label: String, steps: Int) throws -> String {
        let dir = try temporaryFolder(label)
        try tinySweep(steps: steps).write(toFile: dir + "/tiny.toml", atomically: true, encoding: .utf8)
        return dir
    }

    func sweepArgs(_ dir: String, _ more: [String] = []) -> [String] {
        ["sweep", "tiny.toml", "--db", dir + "/lab.sqlite", "--results", dir + "/results", "--quiet"] + more
    }

    @Test func dryRunListsTheRunsAndTrainsNothing() throws {
        let dir = try setUp("dry", steps: 10)
        defer { removeFolders(dir) }
        let r = try LabProcess.run(sweepArgs(dir, ["--dry-run"]), cwd: dir)
        #expect(r.status == 0, "\(r.output)")
        for name in Self.names { #expect(r.output.contains("\(name): would run"), "\(r.output)") }
        #expect(r.output.contains("controller.kind = \"pid\", seed 2"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/lab.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/results"))
    }

    /// A bad sweep file must be refused before any run starts, naming the entry.
    @Test func badSweepFileIsRejectedBeforeAnythingRuns() throws {
        let dir = try temporaryFolder("bad")
        defer { removeFolders(dir) }
        let cases: [(String, String)] = [
            (tinySweep(steps: 10, extra: "\"model.zero_expert_nums\" = [2, 4]"), "model.zero_expert_nums"),
            (tinySweep(steps: 10).replacingOccurrences(of: "[\"none\", \"pid\"]", with: "[]"), "controller.kind"),
            (tinySweep(steps: 10, extra: "\n[variants.a]\n\"controller.kind\" = \"sign\""), "variants.a sets controller.kind"),
        ]
        for (text, named) in cases {
            try text.write(toFile: dir + "/tiny.toml", atomically: true, encoding: .utf8)
            let r = try LabProcess.run(sweepArgs(dir), cwd: dir)
            #expect(r.status != 0)
            #expect(r.output.contains(named), "\(r.output)")
            #expect(r.output.contains("tiny.toml"), "\(r.output)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/lab.sqlite"))
        }
        try tinySweep(steps: 10).write(toFile: dir + "/tiny.toml", atomically: true, encoding: .utf8)
        let set = try LabProcess.run(sweepArgs(dir, ["--set", "controller.kind=pid"]), cwd: dir)
        #expect(set.status != 0 && set.output.contains("--set controller.kind=pid"), "\(set.output)")
    }

    /// Stopping a sweep at arbitrary moments (SIGKILL of the sweep, whose children then stop
    /// themselves; SIGTERM and SIGINT, which it forwards) and running it again must finish
    /// every run exactly once, with the same losses as a sweep that was never stopped. Guards
    /// against runs restarted instead of resumed, duplicated or half-written steps, orphaned
    /// children racing the next sweep, and rows left from an abandoned trajectory.
    @Test(arguments: [2, 1])
    func killedSweepFinishesEveryRunExactlyOnce(jobs: Int) throws {
        let steps = 400
        let size = ["--set", "train.batch_size=8", "--set", "train.seq_len=32", "--jobs", String(jobs), "--threads", String(jobs)]
        let reference = try setUp("reference-\(jobs)", steps: steps)
        defer { removeFolders(reference) }
        let began = Date()
        let clean = try LabProcess.run(sweepArgs(reference, size), cwd: reference)
        let duration = Date().timeIntervalSince(began)
        #expect(clean.status == 0, "\(clean.output)")
        try expectComplete(reference + "/lab.sqlite", names: Self.names, steps: steps, layers: 1)
        // ... and ends with the comparison overlays of `compare`, seeds grouped.
        for figure in ["compare-loss", "compare-ffn-experts"] {
            let image = reference + "/results/sweeps/tiny/\(figure).png"
            #expect(FileManager.default.fileExists(atPath: image), "\(clean.output)")
        }

        let dir = try setUp("killed-\(jobs)", steps: steps)
        defer { removeFolders(dir) }
        let args = sweepArgs(dir, size)
        // Each stop comes once the sweep has recorded this fraction of the steps still to do,
        // so it lands mid-sweep on a fast or a loaded machine. SIGTERM first, while runs still
        // wait to start: the sweep must not wait for them.
        let schedule: [(Int32, Double)] = [(SIGTERM, 0.15), (SIGKILL, 0.25), (SIGINT, 0.25), (SIGKILL, 0.3), (SIGTERM, 0.3)]
        let total = Self.names.count * steps
        var log = "uninterrupted sweep: \(duration) s\n", stopped = 0
        for (i, (sig, fraction)) in schedule.enumerated() {
            let before = try recordedSteps(dir + "/lab.sqlite")
            let target = before + Int(fraction * Double(total - before))
            let p = try LabProcess(args, cwd: dir, outputPath: dir + "/attempt-\(i).txt")
            let deadline = Date().addingTimeInterval(60)
            while try recordedSteps(dir + "/lab.sqlite") < target && p.process.isRunning && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
            p.signal(sig)
            let r = p.wait(timeout: 120)
            if r.status != 0 { stopped += 1 }
            // Asked to stop, a sweep that had not finished says so with 130.
            if sig != SIGKILL && r.status != 0 { #expect(r.status == 130, "attempt \(i): \(r.output)") }
            log += "--- attempt \(i) (signal \(sig) at \(target) of \(total) steps): status \(r.status)\n\(r.output)\n"
        }
        let last = try LabProcess.run(args, cwd: dir)
        log += "--- last\n\(last.output)"
        #expect(last.status == 0, "\(log)")
        // The test means something only if sweeps were really cut short and runs resumed.
        #expect(stopped >= 1, "\(log)")
        #expect(log.contains("resum"), "\(log)")
        try expectComplete(dir + "/lab.sqlite", names: Self.names, steps: steps, layers: 1)
        #expect(try lossesByRun(dir + "/lab.sqlite") == lossesByRun(reference + "/lab.sqlite"), "\(log)")
        #expect(last.output.contains("| run") && last.output.contains("final router similarity"), "the sweep ends with its comparison table")

        // Once finished, running the same command again trains nothing.
        let again = try LabProcess.run(args, cwd: dir)
        #expect(again.status == 0 && again.output.contains("4 already finished, 0 to run"), "\(again.output)")
        try expectComplete(dir + "/lab.sqlite", names: Self.names, steps: steps, layers: 1)
    }

    /// A changed sweep file must not reuse runs recorded under the same names with other settings.
    @Test func changedConfigUnderAnExistingNameIsRefused() throws {
        let dir = try setUp("changed", steps: 10)
        defer { removeFolders(dir) }
        #expect(try LabProcess.run(sweepArgs(dir), cwd: dir).status == 0)
        let r = try LabProcess.run(sweepArgs(dir, ["--set", "train.learning_rate=0.01"]), cwd: dir)
        #expect(r.status != 0)
        #expect(r.output.contains("train.learning_rate") && r.output.contains("another config"), "\(r.output)")
    }

    /// `merge` copies every run of several databases once; merging again copies nothing.
    @Test func mergeCombinesDatabasesWithoutLosingOrDuplicatingRows() throws {
        let a = try setUp("merge-a", steps: 12), b = try temporaryFolder("merge-b")
        let into = try temporaryFolder("merge-into")
        defer { removeFolders(a, b, into) }
        try tinySweep(steps: 12).replacingOccurrences(of: "seeds = [1, 2]", with: "seeds = [3]")
            .write(toFile: b + "/tiny.toml", atomically: true, encoding: .utf8)
        #expect(try LabProcess.run(sweepArgs(a), cwd: a).status == 0)
        #expect(try LabProcess.run(sweepArgs(b), cwd: b).status == 0)
        let target = into + "/all.sqlite"
        let m = try LabProcess.run(["merge", "--into", target, a + "/lab.sqlite", b + "/lab.sqlite"], cwd: a)
        #expect(m.status == 0, "\(m.output)")
        let tables = ["runs", "steps", "layer_steps", "expert_steps", "activated_params", "checkpoints"]
        let expected = try tables.map { t in try rowCount(a + "/lab.sqlite", t) + rowCount(b + "/lab.sqlite", t) }
        #expect(try tables.map { try rowCount(target, $0) } == expected)
        let again = try LabProcess.run(["merge", "--into", target, a + "/lab.sqlite", b + "/lab.sqlite"], cwd: a)
        #expect(again.status == 0 && again.output.contains("0 run(s), 0 rows copied"), "\(again.output)")
        #expect(try tables.map { try rowCount(target, $0) } == expected)
        try expectComplete(target, names: Self.names + ["tiny-none", "tiny-pid"], steps: 12, layers: 1)
    }
}

/// Step rows recorded so far over all runs; 0 before the database exists.
func recordedSteps(_ database: String) throws -> Int {
    guard FileManager.default.fileExists(atPath: database) else { return 0 }
    return try rowCount(database, "steps")
}

func rowCount(_ database: String, _ table: String) throws -> Int {
    let store = try RecordStore(path: database)
    defer { store.close() }
    return try store.query("SELECT COUNT(*) FROM \(table)")[0][0].int ?? -1
}
