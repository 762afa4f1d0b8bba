import CSQLite
import Foundation

/// Runs: begin, resume, finish, checkpoints, stale-run detection and the run list.
extension RecordStore {
    static let finishSQL = """
        UPDATE runs SET status = ?1, message = ?2, finished_at = \(Schema.now) WHERE run_id = ?3
        """

    /// Starts a run with status `running` and this process's pid; returns its `run_id`.
    ///
    /// Throws `.duplicateRun`, naming the run, when the name is taken (resume it instead).
    public func beginRun(_ info: RunInfo) throws -> Int64 {
        try writing("beginning run '\(info.name)'") { c in
            if let existing = try Self.runRow(c, where: "name = ?1", .text(info.name)) {
                throw RecordsError(.duplicateRun, """
                    \(path): a run named '\(info.name)' already exists (run_id \(existing.id), \
                    \(existing.status.rawValue), created \(existing.createdAt)); choose another name or resume it
                    """)
            }
            let s = try c.cached("""
                INSERT INTO runs (name, created_at, status, config_toml, config_hash, seed, git_commit,
                                  host, threads, pid, kind)
                VALUES (?1, \(Schema.now), 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                """)
            s.bind(info.name, at: 1)
            s.bind(info.configTOML, at: 2)
            s.bind(info.configHash, at: 3)
            s.bind(Int64(info.seed), at: 4)
            if let commit = info.gitCommit { s.bind(commit, at: 5) } else { s.bindNull(at: 5) }
            s.bind(info.host, at: 6)
            s.bind(Int64(info.threads), at: 7)
            s.bind(Int64(getpid()), at: 8)
            s.bind(info.kind.rawValue, at: 9)
            try s.run()
            return sqlite3_last_insert_rowid(c.handle)
        }
    }

    /// Stores the hash of the run's subword tokenizer in `runs.tokenizer_hash`, a nullable
    /// column added the first time a database needs it (databases of byte runs keep the
    /// version-1 layout; `merge` copies the column where both databases have it).
    public func setTokenizerHash(runID: Int64, hash: String) throws {
        try writing("recording the tokenizer hash of run \(runID)") { c in
            let probe = try c.prepare("SELECT 1 FROM pragma_table_info('runs') WHERE name = 'tokenizer_hash'")
            if try !probe.step() { try c.execute("ALTER TABLE runs ADD COLUMN tokenizer_hash TEXT") }
            let s = try c.prepare("UPDATE runs SET tokenizer_hash = ?1 WHERE run_id = ?2")
            s.bind(hash, at: 1)
            s.bind(runID, at: 2)
            try s.run()
        }
    }

    /// The id of the run with this name, or nil.
    public func runID(named name: String) throws -> Int64? {
        try run(named: name)?.id
    }

    /// The run with this name, or nil.
    public func run(named name: String) throws -> RunRow? {
        try withConnection("reading run '\(name)'") { c in try Self.runRow(c, where: "name = ?1", .text(name)) }
    }

    /// The run with this id, or nil.
    public func run(id: Int64) throws -> RunRow? {
        try withConnection("reading run \(id)") { c in try Self.runRow(c, where: "run_id = ?1", .integer(id)) }
    }

    /// Sets a run back to `running` under this process (pid, host), clearing its end time and
    /// message; returns its id. Rows of steps after the checkpoint it restarts from are removed
    /// with `deleteSteps(runID:after:)` (or simply rewritten: every write replaces).
    ///
    /// Throws `.unknownRun` when no run has the name, `.runStillRunning` when its process is alive.
    public func resumeRun(named name: String) throws -> Int64 {
        try writing("resuming run '\(name)'") { c in
            guard let run = try Self.runRow(c, where: "name = ?1", .text(name)) else {
                throw RecordsError(.unknownRun, "\(path): no run named '\(name)' to resume")
            }
            if run.status == .running, run.host == Self.currentHost, let pid = run.pid,
               pid != Int(getpid()), Self.isProcessAlive(pid) {
                throw RecordsError(.runStillRunning, "\(path): run '\(name)' is still running as process \(pid) on this host")
            }
            let s = try c.cached("""
                UPDATE runs SET status = 'running', finished_at = NULL, message = NULL, pid = ?1, host = ?2
                WHERE run_id = ?3
                """)
            s.bind(Int64(getpid()), at: 1)
            s.bind(Self.currentHost, at: 2)
            s.bind(run.id, at: 3)
            try s.run()
            return run.id
        }
    }

    /// Removes every row of the run with step > `step` (steps, layer, expert, activated-parameter,
    /// token-sample, variance and checkpoint rows), in one transaction, so a run resumed from an
    /// earlier checkpoint rewrites its later steps without leftovers of the abandoned trajectory.
    public func deleteSteps(runID: Int64, after step: Int) throws {
        try writing("deleting steps after \(step) of run \(runID)") { c in
            for table in Schema.stepTables {
                let s = try c.cached("DELETE FROM \(table) WHERE run_id = ?1 AND step > ?2")
                s.bind(runID, at: 1)
                s.bind(Int64(step), at: 2)
                try s.run()
            }
        }
    }

    /// Ends a run: sets its status, message (error text for `.failed`) and `finished_at`.
    ///
    /// Safe on the trainer's way out after a signal: the UPDATE was prepared when the store
    /// opened, the timestamp is computed by SQLite, and the store's lock makes it wait for a step
    /// transaction in flight on another thread, so the last step is whole or absent. Call it from
    /// a normal thread or dispatch queue (e.g. a `DispatchSourceSignal` handler, or the loop after
    /// it sees a flag), never from inside a raw `signal()` handler: SQLite is not
    /// async-signal-safe, and the thread a raw handler interrupts may hold the lock.
    public func finishRun(_ id: Int64, status: RunStatus, message: String? = nil) throws {
        guard status != .running else {
            throw RecordsError(.invalidInput, "\(path): finishRun(\(id)) needs a final status, not running")
        }
        try withConnection("finishing run \(id) as \(status.rawValue)") { c in
            let s = try c.cached(Self.finishSQL)
            s.bind(status.rawValue, at: 1)
            if let message { s.bind(message, at: 2) } else { s.bindNull(at: 2) }
            s.bind(id, at: 3)
            try s.run()
            guard sqlite3_changes(c.handle) == 1 else {
                throw RecordsError(.unknownRun, "\(path): no run with id \(id) to finish")
            }
        }
    }

    /// Records that a checkpoint of `runID` at `step` was written to `path` (replacing any
    /// earlier record of that step).
    public func recordCheckpoint(runID: Int64, step: Int, path checkpointPath: String) throws {
        try writing("recording checkpoint of step \(step) of run \(runID)") { c in
            let s = try c.cached("""
                INSERT OR REPLACE INTO checkpoints (run_id, step, path, created_at) VALUES (?1, ?2, ?3, \(Schema.now))
                """)
            s.bind(runID, at: 1)
            s.bind(Int64(step), at: 2)
            s.bind(checkpointPath, at: 3)
            try s.run()
        }
    }

    /// The run's checkpoints, by step.
    public func checkpoints(runID: Int64) throws -> [CheckpointRow] {
        try withConnection("reading checkpoints of run \(runID)") { c in
            let s = try c.cached("SELECT step, path, created_at FROM checkpoints WHERE run_id = ?1 ORDER BY step")
            defer { s.reset() }
            s.bind(runID, at: 1)
            var rows: [CheckpointRow] = []
            while try s.step() {
                rows.append(CheckpointRow(step: Int(s.int64(0)), path: s.text(1), createdAt: s.text(2)))
            }
            return rows
        }
    }

    /// Marks as `interrupted` every `running` run of this host whose process no longer exists
    /// (killed, crashed, machine rebooted); returns how many. Runs of other hosts are left alone.
    @discardableResult
    public func markStaleRunsInterrupted() throws -> Int {
        try withConnection("marking stale runs interrupted") { c in try markStaleRuns(c) }
    }

    func markStaleRuns(_ c: Connection) throws -> Int {
        let host = Self.currentHost
        let select = try c.cached("SELECT run_id, pid FROM runs WHERE status = 'running' AND host = ?1 AND pid IS NOT NULL")
        select.bind(host, at: 1)
        var stale: [(id: Int64, pid: Int64)] = []
        while try select.step() {
            let pid = select.int64(1)
            if !Self.isProcessAlive(Int(pid)) { stale.append((select.int64(0), pid)) }
        }
        select.reset()
        guard !stale.isEmpty else { return 0 }
        return try Self.transaction(c) { c in
            let update = try c.cached("""
                UPDATE runs SET status = 'interrupted', message = ?1 WHERE run_id = ?2 AND status = 'running' AND pid = ?3
                """)
            var marked = 0
            for run in stale {
                update.bind("process \(run.pid) on \(host) ended without finishing the run", at: 1)
                update.bind(run.id, at: 2)
                update.bind(run.pid, at: 3)
                try update.run()
                marked += Int(sqlite3_changes(c.handle))
            }
            return marked
        }
    }

    static func runRow(_ c: Connection, where condition: String, _ value: SQLValue) throws -> RunRow? {
        let s = try c.cached("SELECT \(RunRow.columns) FROM runs WHERE \(condition)")
        defer { s.reset() }
        s.bind(value, at: 1)
        guard try s.step() else { return nil }
        var reader = RowReader(statement: s)
        return RunRow(reading: &reader)
    }
}
