import Foundation
import LabConfig
import LabRecords
import LabTraining

/// What happened to one run when the sweep reached it.
public struct RunOutcome: Sendable {
    public enum Status: String, Sendable {
        /// Trained to the end now (from scratch or resumed).
        case finished
        /// Already finished in the database; nothing done.
        case skipped
        /// Stopped by a signal after writing a checkpoint; the next sweep resumes it.
        case interrupted
        /// Ended with an error (recorded as failed), or failed earlier and not retried.
        case failed
    }

    public var name: String
    public var status: Status
    /// How it started ("from scratch", "resumed from step 200") or what went wrong.
    public var detail: String
    public var summary: TrainSummary?

    public init(name: String, status: Status, detail: String, summary: TrainSummary? = nil) {
        self.name = name; self.status = status; self.detail = detail; self.summary = summary
    }
}

/// Trains one run of a sweep in this process, picking up wherever an earlier attempt stopped.
///
/// Run by each child process of a local sweep (`sweep FILE --run NAME`) and by each Slurm array
/// task, so both follow one rule:
/// finished runs are skipped, interrupted ones resume from their newest checkpoint, ones
/// without a checkpoint start over (their partial rows removed first), failed ones are
/// reported (or retried from scratch with `retryFailed`), and a run another live process is
/// training is waited for.
public struct SweepWorker {
    public var database: String
    public var results: String
    /// `train.threads` of the run (0 = all cores).
    public var threads: Int
    /// Print the trainer's progress lines.
    public var verbose = false
    /// Start failed runs again from scratch instead of reporting them.
    public var retryFailed = false
    /// Checked while waiting and before training starts: true stops without training.
    public var shouldStop: @Sendable () -> Bool = { false }
    /// Where status lines go.
    public var log: @Sendable (String) -> Void = { print($0) }

    public init(database: String, results: String, threads: Int) {
        self.database = database
        self.results = results
        self.threads = threads
    }

    /// Brings `run` to finished (or reports why not). Throws `SweepConflict` when the database
    /// holds a different run of that name; training errors become a `.failed` outcome.
    public func train(_ run: SweepRun) throws -> RunOutcome {
        var resume = false
        var detail = "from scratch"
        while true {
            let store = try RecordStore(path: database)
            defer { store.close() }
            let state = try RunInspector.state(of: run, store: store, results: results)
            switch state {
            case .finished:
                return RunOutcome(name: run.name, status: .skipped, detail: "already finished")
            case .failed(let message) where !retryFailed:
                return RunOutcome(name: run.name, status: .failed, detail: "failed earlier: \(message) (--retry-failed starts it again)")
            case .failed, .restart:
                if case .restart(let reason) = state { detail = "starting over: \(reason)" } else { detail = "retrying from scratch" }
                try RunInspector.clear(run.name, store: store, results: results)
            case .resumable(let step):
                resume = true
                detail = "resumed from step \(step)"
            case .busy(let pid):
                log("run \(run.name) is being trained by process \(pid); waiting for it")
                store.close()
                while RunInspector.isAlive(pid) && !shouldStop() { usleep(200_000) }
                if shouldStop() { return RunOutcome(name: run.name, status: .interrupted, detail: "stopped while waiting for process \(pid)") }
                continue
            case .notStarted:
                break
            }
            break
        }
        if shouldStop() { return RunOutcome(name: run.name, status: .interrupted, detail: "stopped before starting") }
        var config = run.config
        config.train.threads = threads
        var options = TrainOptions(name: run.name)
        options.databasePath = database
        options.resultsDirectory = results
        options.resume = resume
        options.verbose = verbose
        do {
            let trainer = try Trainer(config: config, options: options)
            if shouldStop() { return RunOutcome(name: run.name, status: .interrupted, detail: "stopped before starting") }
            let summary = try trainer.run()
            return RunOutcome(name: run.name, status: summary.interrupted ? .interrupted : .finished, detail: detail, summary: summary)
        } catch {
            return RunOutcome(name: run.name, status: .failed, detail: "\(error)")
        }
    }
}
