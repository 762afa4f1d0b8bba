import Foundation
import LabRecords

/// Set by SIGINT or SIGTERM: the sweep stops starting runs and asks running ones to checkpoint.
///
/// A plain C signal handler rather than a dispatch source: the trainer's own interrupt handling
/// (LabTraining's `InterruptFlag`) resets both signals to SIG_IGN before it registers its
/// dispatch source, which would silence a dispatch source registered here earlier. A worker
/// installs this first; the trainer's handler then replaces it for the rest of the run.
public final class StopFlag: Sendable {
    public init() {}

    public var isRaised: Bool { stopSignalCount != 0 }

    public func raise() { stopSignalCount = 1 }

    /// Catches SIGINT and SIGTERM from now on (their default action, ending the process, is off),
    /// and unblocks them in this thread: a process started from a thread that blocks signals
    /// (a dispatch or Swift-concurrency worker, say) inherits that mask and would never see them.
    public func install() {
        var set = sigset_t()
        sigemptyset(&set)
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { _ in stopSignalCount = 1 }
            sigaddset(&set, sig)
        }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

/// Written only by the signal handler and `raise()`; a lone aligned word, read with a plain load.
nonisolated(unsafe) private var stopSignalCount: Int32 = 0

/// Runs every run of a sweep that is not finished yet, `jobs` at a time, each in a child
/// process of the same executable (`sweep FILE --run NAME`) with the threads split between
/// them. Checks every run's state first, so a database holding a different run of the same
/// name stops the sweep before anything trains.
///
/// Children rather than trainers in this process: each run then has its own thread pool
/// (`LabThreads` is process-wide) and its own signal handling (a second `Trainer` in one
/// process no longer receives SIGINT/SIGTERM, see `StopFlag`), and killing the sweep cannot
/// leave a half-written run behind: each child notices, checkpoints and exits.
public struct SweepRunner {
    public let file: SweepFile
    public let runs: [SweepRun]
    public var database: String
    public var results: String
    /// Runs at once. With 1 the child's progress goes to this process's output; with more,
    /// to `<folder>/logs/<run>.log`.
    public var jobs = 1
    /// Threads in all (0 = all cores), split evenly between the `jobs` runs.
    public var threads = 0
    /// The executable for child processes.
    public var executable = currentExecutablePath()
    public var retryFailed = false
    /// Children print the trainer's progress lines.
    public var verbose = true
    public var log: @Sendable (String) -> Void = { print($0) }

    public init(file: SweepFile, runs: [SweepRun], database: String, results: String) {
        self.file = file
        self.runs = runs
        self.database = database
        self.results = results
    }

    /// `<results>/sweeps/<stem>`: logs, plots, the summary table and Slurm files.
    public var folder: String { results + "/sweeps/" + file.stem }

    /// Threads each run gets.
    public var threadsPerRun: Int {
        let total = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        return max(1, total / max(1, jobs))
    }

    /// Every run's state now. Throws `SweepConflict` for a run recorded with another config.
    public func states() throws -> [RunState] {
        let store = try RecordStore(path: database)
        defer { store.close() }
        return try runs.map { try RunInspector.state(of: $0, store: store, results: results) }
    }

    /// Runs what is left; returns one outcome per run (in run order) that was reached.
    public func run(stop: StopFlag) throws -> [RunOutcome] {
        let states = try states()
        var outcomes: [RunOutcome] = []
        var todo: [(SweepRun, RunState)] = []
        for (run, state) in zip(runs, states) {
            switch state {
            case .finished:
                outcomes.append(RunOutcome(name: run.name, status: .skipped, detail: "already finished"))
            case .failed(let message) where !retryFailed:
                outcomes.append(RunOutcome(name: run.name, status: .failed, detail: "failed earlier: \(message) (--retry-failed starts it again)"))
            default:
                todo.append((run, state))
            }
        }
        let skipped = outcomes.filter { $0.status == .skipped }.count
        log("sweep \(file.stem): \(runs.count) runs, \(skipped) already finished, \(todo.count) to run, \(min(jobs, max(todo.count, 1))) at a time with \(threadsPerRun) thread(s) each")
        outcomes += try runChildren(todo, stop: stop)
        let order = Dictionary(uniqueKeysWithValues: runs.map { ($0.name, $0.index) })
        return outcomes.sorted { order[$0.name]! < order[$1.name]! }
    }

    private func runChildren(_ todo: [(SweepRun, RunState)], stop: StopFlag) throws -> [RunOutcome] {
        let logs = folder + "/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        var pending = todo[...]
        var running: [(run: SweepRun, child: ChildProcess, number: Int)] = []
        var outcomes: [RunOutcome] = []
        var started = 0, stopping = false
        while !pending.isEmpty || !running.isEmpty {
            if stop.isRaised && !stopping {
                stopping = true
                log("sweep: stopping; each running run finishes its step and writes a checkpoint")
                for r in running { r.child.send(SIGTERM) }
                pending = []
            }
            while !stopping, running.count < jobs, let (run, state) = pending.first {
                pending = pending.dropFirst()
                started += 1
                var worker = SweepWorkerArguments(file: file, run: run.name, database: database, results: results,
                                                  threads: threadsPerRun, retryFailed: retryFailed, parentPID: getpid())
                worker.quiet = !verbose
                let logPath = jobs > 1 ? logs + "/\(run.name).log" : nil
                let child = try ChildProcess(executable: executable, arguments: worker.arguments, logPath: logPath)
                let how: String
                switch state {
                case .resumable(let step): how = "resuming from step \(step)"
                case .restart: how = "starting over"
                default: how = "starting"
                }
                log("[\(started)/\(todo.count)] \(run.name): \(how) (pid \(child.pid)" + (logPath.map { ", log \($0))" } ?? ")"))
                running.append((run, child, started))
            }
            usleep(100_000)
            for (i, r) in running.enumerated().reversed() where r.child.poll() {
                running.remove(at: i)
                let outcome = try outcomeOfChild(r.run, status: r.child.exitStatus ?? 1,
                                                 logPath: jobs > 1 ? logs + "/\(r.run.name).log" : "its output above")
                log("[\(r.number)/\(todo.count)] \(r.run.name): \(describe(outcome))")
                outcomes.append(outcome)
            }
        }
        return outcomes
    }

    /// What a child's run came to, read back from the database.
    private func outcomeOfChild(_ run: SweepRun, status: Int32, logPath: String) throws -> RunOutcome {
        let store = try RecordStore(path: database)
        defer { store.close() }
        switch try RunInspector.state(of: run, store: store, results: results) {
        case .finished:
            let id = try store.runID(named: run.name) ?? 0
            let eval = try store.query("""
                SELECT eval_loss FROM steps WHERE run_id = ?1 AND eval_loss IS NOT NULL ORDER BY step DESC LIMIT 1
                """, [.integer(id)]).first?.first?.double
            return RunOutcome(name: run.name, status: .finished,
                              detail: eval.map { String(format: "validation loss %.4f", $0) } ?? "no evaluation")
        case .resumable(let step):
            return RunOutcome(name: run.name, status: .interrupted, detail: "stopped at checkpoint step \(step)")
        case .failed(let message):
            return RunOutcome(name: run.name, status: .failed, detail: message)
        default:
            return RunOutcome(name: run.name, status: status == 0 ? .failed : .interrupted,
                              detail: "process exited with status \(status); see \(logPath)")
        }
    }

    private func describe(_ o: RunOutcome) -> String {
        var s = o.status.rawValue
        if let summary = o.summary {
            s += " after \(summary.steps) steps (\(o.detail))"
            if let e = summary.finalEvalLoss { s += String(format: ", validation loss %.4f", e) }
        } else {
            s += " (\(o.detail))"
        }
        return s
    }
}

/// The command line of one run's worker: `sweep FILE [--set ...] --run NAME --db DB --results
/// DIR --threads T [--quiet] [--parent-pid P] [--retry-failed]`, as local child processes and
/// Slurm array tasks run it. The worker expands the same file with the same overrides, so it
/// trains exactly the config the sweep named.
public struct SweepWorkerArguments: Sendable {
    public var file: SweepFile
    public var run: String
    public var database: String
    public var results: String
    public var threads: Int
    public var retryFailed = false
    public var parentPID: Int32? = nil
    /// No per-step progress lines.
    public var quiet = true

    public init(file: SweepFile, run: String, database: String, results: String, threads: Int,
                retryFailed: Bool = false, parentPID: Int32? = nil) {
        self.file = file; self.run = run; self.database = database; self.results = results
        self.threads = threads; self.retryFailed = retryFailed; self.parentPID = parentPID
    }

    public var arguments: [String] {
        var a = ["sweep", absolute(file.path)]
        for o in file.overrides { a += ["--set", o] }
        a += ["--run", run, "--db", absolute(database), "--results", absolute(results), "--threads", String(threads)]
        if quiet { a.append("--quiet") }
        if let parentPID { a += ["--parent-pid", String(parentPID)] }
        if retryFailed { a.append("--retry-failed") }
        return a
    }
}

/// `path` made absolute against the current directory.
func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}
