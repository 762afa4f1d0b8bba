import ArgumentParser
import Foundation
import LabAnalysis
import LabConfig
import LabPlots
import LabRecords
import LabSweeps

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run every variant of an experiment file, skipping finished runs and resuming interrupted ones.",
        discussion: """
        An experiment file is a lab config plus a [sweep] table (grid keys, seeds) and optional [variants.NAME] tables; see experiments/controllers.toml. Each run is named after what differs (e.g. controllers-pid-s2) and records into the database like train does.

        The time plan: --dry-run prints each run's estimated time and the sweep's wall time with --jobs; a sweep prints the total before it starts. A run's seconds per step are the median step time of finished runs of the same shape in the database (same FLOPs per step within 2%, same threads per run), else those of the timed run nearest in FLOPs per step scaled by the FLOPs ratio (the lab's count, as in params and bench), plus the evaluations; --time-steps N first times N steps of each shape with no recorded timing (alone on the machine, so optimistic when --jobs runs share the cores).

        Stopping a sweep (Ctrl-C, kill, a crash) at any moment and running the same command again finishes it: finished runs are skipped, interrupted ones resume from their newest checkpoint.

        The sweep ends with its report, written to <results>/sweeps/<file name>/summary.md: one row per run, then the groups (runs that differ only by seed) against the baseline group (--baseline, default the first group of the file), with the mean and 95% interval per group, the paired difference of the final validation loss over matched seeds with its interval and n, and the guards compute, budget, diverged and n<5, as compare --baseline prints them. With gnuplot, overlays of the groups are drawn beside it, their keys carrying the guard marks. --format csv or json prints the group comparison in that format and writes it beside summary.md. --by domain reports the final validation loss per domain instead (runs on a labelled corpus such as mix), each group's paired difference against the baseline per domain, into summary-by-domain.md (.csv, .json).

        Examples:
          longcat-lab sweep experiments/controllers.toml --dry-run
          longcat-lab sweep experiments/ladder/r1-d64-l2.toml --dry-run --jobs 2 --time-steps 5
          longcat-lab sweep experiments/controllers.toml --jobs 2
          longcat-lab sweep experiments/controllers.toml --set train.steps=2000
          longcat-lab sweep experiments/controllers.toml --slurm --time=2:00:00
          longcat-lab sweep experiments/zero-experts.toml --report
          longcat-lab sweep experiments/controllers.toml --report --format json
          longcat-lab sweep experiments/ladder/r3-d128-l4.toml --report --by domain --baseline r3-d128-l4-topk
        """)

    @Argument(help: "Experiment file (TOML with a [sweep] table).")
    var file: String

    @OptionGroup var config: ConfigOverrides

    @Option(help: "Runs at once, each in a child process (default 1); with --slurm, the most array tasks at once.")
    var jobs: Int?

    @Option(help: "Threads in all, split between the --jobs runs (0 = all cores); with --slurm, CPUs per task (default 1).")
    var threads = 0

    @Flag(help: "List the runs, what differs and what would happen to each, and run nothing.")
    var dryRun = false

    @Option(name: .customLong("time-steps"), help: ArgumentHelp("Before estimating the time, train this many steps (unrecorded) of each run shape that no finished run in the database has timed (default 0: estimate from the records only).", valueName: "steps"))
    var timeSteps = 0

    @Flag(help: "Only print the report (and plots) of the runs recorded so far.")
    var report = false

    @Option(name: .customLong("by"), help: ArgumentHelp("With --report: 'domain' compares the groups' final validation loss per domain (evaluation label) instead, paired over seeds, and writes summary-by-domain.md beside summary.md.", valueName: "domain"))
    var by: String?

    @OptionGroup var comparison: ComparisonOptions

    @OptionGroup var records: RecordsOptions

    @OptionGroup var output: ResultsOptions

    @Flag(help: "Start runs that failed earlier again from scratch (otherwise they are reported and left).")
    var retryFailed = false

    @Flag(help: "Submit a Slurm job array (one task per unfinished run, each with its own database); options after the file that the sweep does not know go to sbatch. With sbatch's --wait, merge and report when it ends.")
    var slurm = false

    @Option(name: .customLong("run"), help: .hidden)
    var runName: String?

    @Option(name: .customLong("parent-pid"), help: .hidden)
    var parentPID: Int32?

    @OptionGroup var progress: ProgressOptions

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var sbatchOptions: [String] = []

    var db: String { records.db }
    var results: String { output.results }
    var quiet: Bool { progress.quiet }

    func validate() throws {
        if !sbatchOptions.isEmpty && !slurm {
            throw ValidationError("unknown arguments \(sbatchOptions.joined(separator: " ")) (options for sbatch need --slurm)")
        }
        if let jobs, jobs < 1 { throw ValidationError("--jobs \(jobs): must be >= 1") }
        if threads < 0 { throw ValidationError("--threads \(threads): must be >= 0 (0 = all cores)") }
        if let by {
            guard by == "domain" else { throw ValidationError("--by \(by): the only breakdown is 'domain'") }
            guard report else { throw ValidationError("--by domain needs --report (it reads the recorded runs; it trains nothing)") }
        }
        if timeSteps < 0 { throw ValidationError("--time-steps \(timeSteps): must be >= 0 (0 = no timing, records only)") }
        if sbatchOptions.contains(where: { $0.hasPrefix("--array") || $0 == "-a" }) {
            throw ValidationError("--array is set by the sweep (one task per unfinished run); use --jobs to limit tasks at once")
        }
    }

    func run() throws {
        let sweep = try SweepFile.load(path: file, overrides: config.overrides)
        let runs = try sweep.expand()
        if let name = runName { return try runWorker(sweep: sweep, runs: runs, name: name) }
        if dryRun { return try printPlan(sweep: sweep, runs: runs) }
        if report { return try printReport(sweep: sweep, runs: runs) }
        if slurm { return try submitToSlurm(sweep: sweep, runs: runs) }

        var runner = SweepRunner(file: sweep, runs: runs, database: db, results: results)
        runner.jobs = jobs ?? 1
        runner.threads = threads
        runner.retryFailed = retryFailed
        runner.verbose = !quiet
        runner.log = { say($0) }
        if FileManager.default.fileExists(atPath: db) || timeSteps > 0 {
            let store = FileManager.default.fileExists(atPath: db) ? try RecordStore(path: db) : nil
            defer { store?.close() }
            let states = try store.map { s in try runs.map { try RunInspector.state(of: $0, store: s, results: results) } }
                ?? runs.map { _ in .notStarted }
            let plan = try SweepPlan.make(runs: runs, states: states, store: store, jobs: runner.jobs, threads: threads,
                                          timeSteps: timeSteps, log: { say($0) })
            for line in plan.summary { say("sweep \(sweep.stem): " + line) }
        }
        let stop = StopFlag()
        stop.install()
        let outcomes = try runner.run(stop: stop)
        try printReport(sweep: sweep, runs: runs)
        let interrupted = outcomes.contains { $0.status == .interrupted } || outcomes.count < runs.count
        let failed = outcomes.filter { $0.status == .failed }
        if interrupted {
            say("sweep \(sweep.stem): stopped; run the same command again to finish it (interrupted runs resume from their checkpoints)")
            throw ExitCode(130)
        }
        if !failed.isEmpty {
            say("sweep \(sweep.stem): \(failed.count) run(s) failed: " + failed.map { "\($0.name) (\($0.detail))" }.joined(separator: "; "))
            throw ExitCode(1)
        }
    }

    /// `--run NAME`: trains one run in this process (a child of a sweep or a Slurm task).
    private func runWorker(sweep: SweepFile, runs: [SweepRun], name: String) throws {
        guard let target = runs.first(where: { $0.name == name }) else {
            throw ValidationError("--run \(name): \(file) has no run of that name; its runs: \(runs.map(\.name).joined(separator: ", "))")
        }
        // A stop request that arrives before the trainer takes over signals is kept here, so the
        // run then does not start (instead of the signal ending the process mid-set-up).
        let stop = StopFlag()
        stop.install()
        if let parentPID { terminateWhenParentExits(parentPID) }
        var worker = SweepWorker(database: db, results: results, threads: threads)
        worker.verbose = !quiet
        worker.retryFailed = retryFailed
        worker.shouldStop = { stop.isRaised }
        worker.log = { say($0) }
        let outcome = try worker.train(target)
        say("run \(name): \(outcome.status.rawValue) (\(outcome.detail))")
        switch outcome.status {
        case .finished, .skipped: return
        case .interrupted: throw ExitCode(130)
        case .failed: throw ExitCode(1)
        }
    }

    private func printPlan(sweep: SweepFile, runs: [SweepRun]) throws {
        let store = FileManager.default.fileExists(atPath: db) ? try RecordStore(path: db) : nil
        defer { store?.close() }
        say("sweep \(sweep.stem): \(runs.count) runs (\(sweep.path))")
        let states = try runs.map { r in try store.map { try RunInspector.state(of: r, store: $0, results: results) } ?? .notStarted }
        let plan = try SweepPlan.make(runs: runs, states: states, store: store, jobs: jobs ?? 1, threads: threads,
                                      timeSteps: timeSteps, log: { say($0) })
        for (r, state) in zip(runs, states) {
            let action: String
            switch state {
            case .notStarted: action = "would run"
            case .finished: action = "finished, would skip"
            case .failed: action = retryFailed ? "failed, would start over" : "failed, would report"
            case .resumable(let step): action = "would resume from step \(step)"
            case .restart: action = "would start over"
            case .busy(let pid): action = "running now (process \(pid)), would wait"
            }
            say("  \(r.name): \(action); " + r.assignments.joined(separator: ", "))
            for note in r.notes { say("    \(note)") }
            if let time = plan.line(for: r.name) { say("    \(time)") }
        }
        for line in plan.summary { say(line) }
        if slurm {
            let array = SlurmArray(file: sweep, runs: runs, results: results, threadsPerTask: max(1, threads))
            say("\nSlurm job script (not submitted):\n")
            say(array.script(tasks: try array.unfinished(mainDatabase: FileManager.default.fileExists(atPath: db) ? db : nil)))
        }
    }

    private func printReport(sweep: SweepFile, runs: [SweepRun]) throws {
        guard FileManager.default.fileExists(atPath: db) else {
            say("no records yet: \(db) does not exist")
            return
        }
        let store = try RecordStore(path: db)
        defer { store.close() }
        let folder = results + "/sweeps/" + sweep.stem
        let format = comparison.tableFormat
        if by == "domain" { return try printDomainReport(sweep: sweep, runs: runs, store: store, folder: folder, format: format) }
        let report = try SweepReport(title: sweep.stem, runs: runs, store: store, results: results, baseline: comparison.baseline)
        say((format == .md ? "\n" : "") + report.rendered(format))
        let paths = try report.write(to: folder, format: format)
        let (images, problems) = report.drawOverlays(store: store, folder: folder)
        // Keep a CSV or JSON table alone on standard output.
        let line = "tables: " + paths.joined(separator: ", ") + (images.isEmpty ? "" : "; plots: " + images.joined(separator: ", "))
            + (problems.isEmpty ? "" : " (not drawn: " + problems.joined(separator: "; ") + ")")
        if format == .md { say(line) } else { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    /// `--report --by domain`: the per-domain table, printed and written beside summary.md.
    private func printDomainReport(sweep: SweepFile, runs: [SweepRun], store: RecordStore, folder: String, format: TableFormat) throws {
        let table = try DomainComparison(title: sweep.stem, runs: runs, store: store, baseline: comparison.baseline)
        let text = table.rendered(format)
        say((format == .md ? "\n" : "") + text)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/summary-by-domain." + format.rawValue
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let line = "table: " + path
        if format == .md { say(line) } else { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    private func submitToSlurm(sweep: SweepFile, runs: [SweepRun]) throws {
        var array = SlurmArray(file: sweep, runs: runs, results: results, threadsPerTask: max(1, threads))
        array.maxConcurrent = jobs
        array.retryFailed = retryFailed
        let mainDB = FileManager.default.fileExists(atPath: db) ? db : nil
        let tasks = try array.unfinished(mainDatabase: mainDB)
        let waits = sbatchOptions.contains { $0 == "--wait" || $0 == "-W" }
        if tasks.isEmpty {
            say("sweep \(sweep.stem): every run is finished; nothing to submit")
        } else {
            say("sweep \(sweep.stem): submitting \(tasks.count) of \(runs.count) runs as a Slurm array (\(array.threadsPerTask) CPU(s) per task)")
            let job = try array.submit(tasks: tasks, sbatchOptions: sbatchOptions)
            say("job \(job.jobID): script \(array.folder)/slurm/job.sh, output \(array.folder)/slurm/\(job.jobID)_<task>.out, databases \(array.databaseFolder)/")
            if !waits {
                say("""
                    when it has ended: longcat-lab merge --into \(db) \(array.databaseFolder)
                                       longcat-lab sweep \(file) --report --db \(db) --results \(results)
                    (or submit with --wait to have this command merge and report)
                    """)
                return
            }
        }
        for (run, r) in try array.mergeFinished(into: db) where !r.copied.isEmpty || !r.conflicts.isEmpty {
            say("merged \(run): \(r.copied.count) run(s), \(r.rowsCopied) rows" + (r.conflicts.isEmpty ? "" : "; renamed " + r.conflicts.map { "\($0.name) -> \($0.renamedTo)" }.joined(separator: ", ")))
        }
        try printReport(sweep: sweep, runs: runs)
        let left = try array.unfinished(mainDatabase: db)
        if !left.isEmpty {
            say("sweep \(sweep.stem): \(left.count) run(s) not finished: \(left.map(\.name).joined(separator: ", ")); submit again to continue them")
            throw ExitCode(1)
        }
    }
}

/// Prints a line and flushes it at once (so a sweep's progress shows up in pipes and logs).
func say(_ line: String) {
    print(line)
    fflush(nil)
}
