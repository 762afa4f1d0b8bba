import Foundation
import LabConfig
import LabRecords
import LabTraining

/// Where one run of a sweep stands, from its row in the records database and its checkpoints.
public enum RunState: Sendable, Equatable {
    /// No row in the database and no checkpoint: start it.
    case notStarted
    /// Finished: skip it.
    case finished
    /// Ended with an error (e.g. a non-finite loss); reported, retried only when asked.
    case failed(message: String)
    /// Interrupted (or killed) after writing the checkpoint of `step`: resume from it.
    case resumable(step: Int)
    /// Started but without a usable checkpoint: its row and files are removed and it starts over.
    case restart(reason: String)
    /// Being trained right now by another live process of this host: wait for it.
    case busy(pid: Int)
}

/// Why a sweep cannot use its database or results folder as they are.
public struct SweepConflict: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ d: String) { description = d }
    public var errorDescription: String? { description }
}

/// Reading run states.
public enum RunInspector {
    /// The folder of a run's config and checkpoints (as the trainer lays it out).
    public static func runDirectory(results: String, name: String) -> String {
        results + "/runs/" + name
    }

    /// The state of `run` in `store` and under `results`. Throws `SweepConflict` when a run
    /// of that name exists with another config (the sweep file or `--set` changed since it
    /// ran), or is marked running on another host.
    public static func state(of run: SweepRun, store: RecordStore, results: String) throws -> RunState {
        let directory = runDirectory(results: results, name: run.name)
        let checkpoint = Checkpoint.latestStep(runDirectory: directory)
        guard let row = try store.run(named: run.name) else {
            if FileManager.default.fileExists(atPath: directory) {
                try checkSameConfig(run, fileAt: directory + "/config.toml")
                return .restart(reason: "no record in \(store.path); its folder \(directory) is left from an earlier attempt")
            }
            return .notStarted
        }
        try checkSameConfig(run, recorded: row.configTOML, where: "\(store.path) (run_id \(row.id))")
        switch row.status {
        case .finished:
            return .finished
        case .failed:
            return .failed(message: row.message ?? "no message")
        case .running:
            if row.host != RecordStore.currentHost {
                throw SweepConflict("run \(run.name) is marked running on host \(row.host ?? "?") (pid \(row.pid ?? 0)) in \(store.path); wait for it, or mark it interrupted there")
            }
            if let pid = row.pid, pid != Int(getpid()), isAlive(pid) { return .busy(pid: pid) }
            fallthrough
        case .interrupted:
            // The step rows always reach the newest checkpoint (a step is recorded before its
            // checkpoint is written); rows past it are dropped when the run resumes.
            guard let step = checkpoint else { return .restart(reason: "interrupted before its first checkpoint") }
            return .resumable(step: step)
        }
    }

    /// Throws when a run of this name was recorded with another config. `train.threads` is
    /// ignored: the sweep sets it from `--jobs`, and it does not change what is trained.
    static func checkSameConfig(_ run: SweepRun, recorded toml: String?, where place: String) throws {
        guard let toml else { return }
        let theirs: LabConfig
        do {
            theirs = try LabConfig.parse(text: toml, file: place, overrides: [])
        } catch {
            throw SweepConflict("run \(run.name) in \(place) has a config this build cannot read (\(error)); use another --db")
        }
        var mine = run.config, other = theirs
        mine.train.threads = 0
        other.train.threads = 0
        guard mine != other else { return }
        let diff = mine.differences(from: other).map { "\($0.key) = \($0.mine) now, \($0.theirs) recorded" }
        throw SweepConflict("""
            run \(run.name) already exists in \(place) with another config: \(diff.joined(separator: "; ")). \
            The sweep file or --set changed since it ran; use another --db and --results (or set [sweep] prefix) to keep both
            """)
    }

    static func checkSameConfig(_ run: SweepRun, fileAt path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        try checkSameConfig(run, recorded: text, where: path)
    }

    /// Whether `pid` is a live process of this lab (where /proc tells the command line), so a
    /// recycled pid of some other program does not keep a dead run "running" forever.
    static func isAlive(_ pid: Int) -> Bool {
        guard pid > 0, pid <= Int(Int32.max), kill(pid_t(pid), 0) == 0 || errno == EPERM else { return false }
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return true }
        return String(decoding: cmdline, as: UTF8.self).contains("longcat-lab")
    }

    /// Removes a run's row (with every per-step row, by cascade) and its checkpoints, so it can
    /// start over under the same name.
    static func clear(_ name: String, store: RecordStore, results: String) throws {
        if let id = try store.runID(named: name) {
            _ = try store.query("DELETE FROM runs WHERE run_id = ?1", [.integer(id)])
        }
        let checkpoints = runDirectory(results: results, name: name) + "/checkpoints"
        if FileManager.default.fileExists(atPath: checkpoints) {
            try FileManager.default.removeItem(atPath: checkpoints)
        }
    }
}
