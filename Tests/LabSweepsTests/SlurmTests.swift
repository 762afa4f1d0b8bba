import Foundation
import LabRecords
import Testing

/// A real single-node Slurm cluster on localhost (munged, slurmctld, slurmd), started by
/// `scripts/slurm/start-local.sh`; nil when it cannot run here, with the reason printed.
enum LocalSlurm {
    static let available: Bool = {
        let script = LabProcess.root + "/scripts/slurm/start-local.sh"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch {
            print("Slurm test skipped: cannot run \(script): \(error)")
            return false
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard let status = exitStatus(of: p, timeout: 120) else {
            print("Slurm test skipped: \(script) did not exit within 120 s")
            return false
        }
        if status != 0 {
            print("Slurm test skipped: \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
            return false
        }
        return true
    }()

    /// The exit status of `p`, waited for with waitpid. Foundation's `waitUntilExit` was seen to
    /// wait forever here: the script's child exited (a zombie) while the daemons it started kept
    /// running, and the exit never reached Foundation's child monitor. nil after `timeout` s.
    static func exitStatus(of p: Process, timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var status: Int32 = 0
            let r = waitpid(p.processIdentifier, &status, WNOHANG)
            if r == p.processIdentifier {
                return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            }
            if r == -1 && errno == ECHILD && !p.isRunning { return p.terminationStatus } // Foundation reaped it
            usleep(10_000)
        }
        return nil
    }
}

@Suite("sweep on Slurm", .serialized)
struct SlurmTests {
    /// `sweep --slurm` submits one array task per run, each recording into its own database;
    /// with sbatch's `--wait` the sweep merges them. Every row of every task database must
    /// arrive exactly once, a second merge must copy nothing, and submitting again must find
    /// nothing left to run. Guards against tasks that share or overwrite a database, lost
    /// rows in the merge, and a re-submission that trains finished runs again.
    @Test(.enabled(if: LocalSlurm.available, "needs a local Slurm cluster (scripts/slurm/start-local.sh)"))
    func jobArrayTasksRecordSeparatelyAndMergeExactlyOnce() throws {
        let dir = try temporaryFolder("slurm")
        defer { removeFolders(dir) }
        try tinySweep(steps: 20).write(toFile: dir + "/tiny.toml", atomically: true, encoding: .utf8)
        let db = dir + "/lab.sqlite", results = dir + "/results"
        let args = ["sweep", "tiny.toml", "--db", db, "--results", results, "--threads", "1", "--slurm", "--wait"]
        let r = try LabProcess.run(args, cwd: dir)
        let taskFolder = results + "/sweeps/tiny/db"
        let slurmOut = (try? FileManager.default.contentsOfDirectory(atPath: results + "/sweeps/tiny/slurm")) ?? []
        #expect(r.status == 0, "\(r.output)\nslurm files: \(slurmOut)")
        #expect(r.output.contains("Slurm array") && r.output.contains("| run"), "\(r.output)")

        let taskDatabases = try FileManager.default.contentsOfDirectory(atPath: taskFolder)
            .filter { $0.hasSuffix(".sqlite") }.sorted()
        #expect(taskDatabases == SweepCommandTests.names.map { $0 + ".sqlite" }.sorted())
        for file in taskDatabases {
            try expectComplete(taskFolder + "/" + file, names: [String(file.dropLast(7))], steps: 20, layers: 1)
        }
        try expectComplete(db, names: SweepCommandTests.names, steps: 20, layers: 1)
        let tables = ["runs", "steps", "layer_steps", "expert_steps", "activated_params", "checkpoints"]
        let expected = try tables.map { t in try taskDatabases.map { try rowCount(taskFolder + "/" + $0, t) }.reduce(0, +) }
        #expect(try tables.map { try rowCount(db, $0) } == expected)

        let merge = try LabProcess.run(["merge", "--into", db, taskFolder], cwd: dir)
        #expect(merge.status == 0 && merge.output.contains("0 run(s), 0 rows copied"), "\(merge.output)")
        #expect(try tables.map { try rowCount(db, $0) } == expected)

        let again = try LabProcess.run(args, cwd: dir)
        #expect(again.status == 0 && again.output.contains("nothing to submit"), "\(again.output)")
        #expect(try tables.map { try rowCount(db, $0) } == expected)
    }
}
