import Foundation

/// A run's life cycle, stored as text in `runs.status`.
public enum RunStatus: String, Sendable, CaseIterable {
    case running, finished, failed, interrupted
}

/// What produced a run, stored as text in `runs.kind`.
public enum RunKind: String, Sendable, CaseIterable {
    case train, simulation
}

/// What the caller knows about a run when it begins; the store adds id, times, status and pid.
public struct RunInfo: Sendable, Equatable {
    /// Unique within the database; resuming a run means naming it again.
    public var name: String
    /// The fully resolved config, as TOML.
    public var configTOML: String
    public var configHash: String
    public var seed: Int
    public var gitCommit: String?
    /// Host the run executes on; stale-run detection only judges runs of this host.
    public var host: String
    public var threads: Int
    public var kind: RunKind

    public init(name: String, configTOML: String, configHash: String, seed: Int, gitCommit: String? = nil,
                host: String = RecordStore.currentHost, threads: Int, kind: RunKind = .train) {
        self.name = name; self.configTOML = configTOML; self.configHash = configHash; self.seed = seed
        self.gitCommit = gitCommit; self.host = host; self.threads = threads; self.kind = kind
    }
}

/// One row of `runs`, as stored.
public struct RunRow: Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// ISO 8601 UTC, e.g. `2026-01-31T12:00:00Z`.
    public var createdAt: String
    public var finishedAt: String?
    public var status: RunStatus
    public var configTOML: String?
    public var configHash: String?
    public var seed: Int?
    public var gitCommit: String?
    public var host: String?
    public var threads: Int?
    public var pid: Int?
    public var kind: RunKind
    /// Error text of a failed run, or why a run was marked interrupted.
    public var message: String?
}

extension RunRow {
    static let columns = """
        run_id, name, created_at, finished_at, status, config_toml, config_hash, seed, git_commit, \
        host, threads, pid, kind, message
        """

    init(reading r: inout RowReader) {
        id = r.int64(); name = r.string(); createdAt = r.string(); finishedAt = r.optionalString()
        status = RunStatus(rawValue: r.string()) ?? .interrupted
        configTOML = r.optionalString(); configHash = r.optionalString(); seed = r.optionalInt()
        gitCommit = r.optionalString(); host = r.optionalString(); threads = r.optionalInt()
        pid = r.optionalInt(); kind = RunKind(rawValue: r.string()) ?? .train; message = r.optionalString()
    }
}

/// One line of the CLI's run list.
public struct RunSummaryRow: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var kind: RunKind
    public var status: RunStatus
    public var createdAt: String
    public var finishedAt: String?
    /// Number of `steps` rows.
    public var stepsRecorded: Int
    public var lastStep: Int?
    /// Loss of the last recorded step.
    public var lastLoss: Double?
    /// Eval loss of the last evaluation step.
    public var lastEvalLoss: Double?
    /// Median of `tokens_per_s` over the recorded steps.
    public var medianTokensPerS: Double?
}

/// One row of `checkpoints`.
public struct CheckpointRow: Sendable, Equatable {
    public var step: Int
    public var path: String
    public var createdAt: String
}
