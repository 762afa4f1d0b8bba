import Foundation
import LabRecords

/// A sweep as a Slurm job array: one task per unfinished run, each running the sweep's worker
/// (`sweep FILE --run NAME`, the same skip/resume rules as a local sweep) and recording into
/// its own database `<results>/sweeps/<stem>/db/<run>.sqlite`, so tasks never share a SQLite
/// file over a network file system. `merge` then combines the task databases.
public struct SlurmArray: Sendable {
    public let file: SweepFile
    /// Every run of the sweep; a task's index is its run's index.
    public let runs: [SweepRun]
    public let results: String
    /// `--cpus-per-task` and each run's `train.threads`.
    public let threadsPerTask: Int
    public let executable: String
    /// At most this many tasks at once (`--array=...%N`); nil for no limit.
    public var maxConcurrent: Int? = nil
    public var retryFailed = false

    public init(file: SweepFile, runs: [SweepRun], results: String, threadsPerTask: Int,
                executable: String = currentExecutablePath()) {
        self.file = file
        self.runs = runs
        self.results = absolute(results)
        self.threadsPerTask = max(1, threadsPerTask)
        self.executable = executable
    }

    /// `<results>/sweeps/<stem>`.
    public var folder: String { results + "/sweeps/" + file.stem }
    /// Where the task databases go.
    public var databaseFolder: String { folder + "/db" }
    public func database(of run: String) -> String { databaseFolder + "/\(run).sqlite" }

    /// Runs that still need a task: not finished in their task database nor in `mainDatabase`
    /// (runs already merged there). Throws `SweepConflict` for a run recorded with another config.
    public func unfinished(mainDatabase: String?) throws -> [SweepRun] {
        try runs.filter { run in
            for path in [database(of: run.name)] + (mainDatabase.map { [$0] } ?? []) {
                guard FileManager.default.fileExists(atPath: path) else { continue }
                let store = try RecordStore(path: path)
                defer { store.close() }
                switch try RunInspector.state(of: run, store: store, results: results) {
                case .finished: return false
                case .failed where !retryFailed: return false
                default: continue
                }
            }
            return true
        }
    }

    /// `0-3,5,7-8`: Slurm's compact list of indices.
    static func arraySpec(_ indices: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        let s = indices.sorted()
        while i < s.count {
            var j = i
            while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(i == j ? "\(s[i])" : "\(s[i])-\(s[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// The batch script for the tasks `tasks` (run indices).
    public func script(tasks: [SweepRun]) -> String {
        let placeholder = "@@RUN@@"
        var worker = SweepWorkerArguments(file: file, run: placeholder, database: database(of: placeholder),
                                          results: results, threads: threadsPerTask, retryFailed: retryFailed)
        worker.quiet = false
        let command = ([executable] + worker.arguments).map { shellQuoted($0).replacingOccurrences(of: placeholder, with: "'\"$name\"'") }
        var array = Self.arraySpec(tasks.map(\.index))
        if let maxConcurrent { array += "%\(maxConcurrent)" }
        return """
            #!/bin/bash
            #SBATCH --job-name=lab-\(file.stem)
            #SBATCH --array=\(array)
            #SBATCH --cpus-per-task=\(threadsPerTask)
            #SBATCH --ntasks=1
            #SBATCH --output=\(folder)/slurm/%A_%a.out
            # Written by `longcat-lab sweep \(file.path) --slurm`: one array task per run of the sweep.
            # Each task trains its run (skipping it when finished, resuming it from its newest
            # checkpoint when interrupted) and records into its own database under
            # \(databaseFolder)/; combine them with
            #   longcat-lab merge --into <database> \(databaseFolder)
            set -euo pipefail
            names=(\(runs.map { shellQuoted($0.name) }.joined(separator: " ")))
            name="${names[$SLURM_ARRAY_TASK_ID]}"
            mkdir -p \(shellQuoted(databaseFolder))
            exec \(command.joined(separator: " "))

            """
    }

    /// Writes the script for `tasks` and submits it with `sbatch --parsable [options] script`.
    /// Returns the job id and sbatch's output. With `--wait` among the options, returns when
    /// the job has ended. Throws `SweepConflict` with sbatch's message when it fails.
    public func submit(tasks: [SweepRun], sbatchOptions: [String]) throws -> (jobID: String, output: String) {
        try FileManager.default.createDirectory(atPath: folder + "/slurm", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: databaseFolder, withIntermediateDirectories: true)
        let path = folder + "/slurm/job.sh"
        try script(tasks: tasks).write(toFile: path, atomically: true, encoding: .utf8)
        guard let sbatch = findOnPath("sbatch") else {
            throw SweepConflict("sbatch not found on PATH; the job script is at \(path) (submit it with sbatch on a cluster login node)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: sbatch)
        p.arguments = ["--parsable"] + sbatchOptions + [path]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let firstLine = output.split(separator: "\n").first.map(String.init) ?? ""
        let jobID = String(firstLine.prefix(while: { $0.isNumber }))
        guard !jobID.isEmpty else {
            throw SweepConflict("sbatch \((sbatchOptions + [path]).joined(separator: " ")) failed (status \(p.terminationStatus)): \(output)")
        }
        return (jobID, output)
    }

    /// Merges the task databases of finished runs into `database`; returns the merge reports.
    /// Runs not finished in their task database are left out (merging them half-done would
    /// make a second copy, renamed, once they finish).
    public func mergeFinished(into database: String) throws -> [(run: String, report: MergeReport)] {
        let target = try RecordStore(path: database)
        defer { target.close() }
        var reports: [(run: String, report: MergeReport)] = []
        for run in runs {
            let path = self.database(of: run.name)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let source = try RecordStore(path: path)
            let state = try RunInspector.state(of: run, store: source, results: results)
            source.close()
            guard state == .finished else { continue }
            reports.append((run.name, try target.merge(from: path)))
        }
        return reports
    }
}

/// `'text'` with single quotes escaped, for a POSIX shell.
func shellQuoted(_ s: String) -> String {
    "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// The first executable named `name` on PATH.
func findOnPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}
