import CSQLite
import Foundation

/// What opening a database of an older schema version did: it was upgraded in place, after a
/// copy of it as it was had been written next to it.
public struct SchemaUpgrade: Sendable, Equatable {
    public var fromVersion: Int
    public var toVersion: Int
    /// The copy of the database before the upgrade (`<path>.v<from>-backup`, or with `-2`, `-3`,
    /// ... appended when that name is taken). Opening it with this build upgrades it too.
    public var backupPath: String
    /// One paragraph for the user: what changed and where the backup is.
    public var message: String
}

/// The steps that upgrade a database from one schema version to the next.
///
/// `steps[n]` turns version n into n + 1; `RecordStore` runs the steps from a database's
/// version up to `Schema.version` in one transaction, then sets the version. A new schema
/// version adds its step here; a new nullable column of a row table needs none (see `Schema`).
enum Migration {
    static let steps: [Int: @Sendable (Connection) throws -> Void] = [1: v1ToV2, 2: v2ToV3, 3: v3ToV4]

    /// What each step changes, for the upgrade message.
    static let changes: [Int: String] = [
        1: """
            per-label evaluation losses moved from variance_stats (modules \(Schema.v1EvalLossModule), \
            \(Schema.v1EvalTokensModule)) to the new table eval_by_label; layer_steps gained load_cv and \
            group_imbalance (NULL in the existing rows)
            """,
        2: "new tables probe_tokens and probe_summaries (written by `longcat-lab probe`)",
        3: "new table routing_traces (written at each evaluation of training, train.trace_tokens)",
    ]

    /// Version 3 -> 4: the routing traces' table (empty for runs recorded before it).
    static func v3ToV4(_ c: Connection) throws {
        try c.execute(RoutingTraceRow.table.create)
    }

    /// Version 2 -> 3: the probe's tables.
    static func v2ToV3(_ c: Connection) throws {
        try c.execute(ProbeTokenRow.table.create)
        try c.execute(ProbeSummaryRow.table.create)
    }

    /// Version 1 -> 2: the per-label evaluation rows get their own table (`eval_by_label`).
    /// The new nullable `layer_steps` columns are added by `RecordStore.addMissingColumns`.
    static func v1ToV2(_ c: Connection) throws {
        try c.execute(EvalLabelRow.table.create)
        try c.execute("""
            INSERT INTO eval_by_label (run_id, step, label, loss, tokens)
            SELECT run_id, step, label, loss, tokens FROM (\(v1EvalRows(schema: "main")))
            """)
        try c.execute("DELETE FROM variance_stats WHERE \(v1EvalCondition)")
    }

    /// Which `variance_stats` rows of a version-1 database are per-label evaluation rows.
    static let v1EvalCondition = """
        layer = -1 AND module IN ('\(Schema.v1EvalLossModule)', '\(Schema.v1EvalTokensModule)')
        """

    /// A SELECT of the version-1 per-label evaluation rows of `schema` as `eval_by_label` rows:
    /// (run_id, step, label, loss, tokens), the loss and token rows of a label joined.
    static func v1EvalRows(schema: String) -> String {
        """
        SELECT run_id, step, statistic AS label,
               MAX(CASE WHEN module = '\(Schema.v1EvalLossModule)' THEN value END) AS loss,
               CAST(MAX(CASE WHEN module = '\(Schema.v1EvalTokensModule)' THEN value END) AS INTEGER) AS tokens
        FROM \(schema).variance_stats WHERE \(v1EvalCondition)
        GROUP BY run_id, step, statistic
        """
    }
}

extension RecordStore {
    /// The schema version of `schema` (0 when `schema_version` is empty).
    static func schemaVersion(_ c: Connection, schema: String) throws -> Int {
        let s = try c.prepare("SELECT MAX(version) FROM \(schema).schema_version")
        guard try s.step(), !s.isNull(0) else { return 0 }
        return Int(s.int64(0))
    }

    /// Upgrades the main database from `version` to `Schema.version`: refuses while one of its
    /// runs is still running, copies the database to a backup file next to it, then runs the
    /// migration steps and sets the version in one transaction. Returns nil when another
    /// process upgraded it first.
    func upgradeSchema(_ c: Connection, from version: Int) throws -> SchemaUpgrade? {
        try refuseWhileRunning(c, version: version)
        let backup = Self.freeBackupPath(for: path, version: version)
        let vacuum = try c.prepare("VACUUM INTO ?1")
        vacuum.bind(backup, at: 1)
        do { try vacuum.run() } catch {
            throw failure(error, "writing the backup \(backup) before upgrading schema version \(version)")
        }
        let upgraded = try Self.transaction(c) { c -> Bool in
            let current = try Self.schemaVersion(c, schema: "main")
            guard current < Schema.version else { return false }
            for v in current..<Schema.version {
                guard let step = Migration.steps[v] else {
                    throw RecordsError(.other, "\(path): no upgrade from schema version \(v) to \(v + 1)")
                }
                try step(c)
            }
            try Self.addMissingColumns(c)
            try c.execute("DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES (\(Schema.version))")
            return true
        }
        guard upgraded else {
            try? FileManager.default.removeItem(atPath: backup)
            return nil
        }
        let changes = (version..<Schema.version).compactMap { Migration.changes[$0] }.joined(separator: "; ")
        return SchemaUpgrade(fromVersion: version, toVersion: Schema.version, backupPath: backup, message: """
            \(path): upgraded the records schema from version \(version) to \(Schema.version) in place \
            (\(changes)); the database as it was is saved in \(backup)
            """)
    }

    /// Throws `.runStillRunning` when a run of the database may still be writing it with an
    /// older build: a running run whose process is alive on this host, or of another host.
    private func refuseWhileRunning(_ c: Connection, version: Int) throws {
        let s = try c.prepare("SELECT name, host, pid FROM runs WHERE status = 'running'")
        while try s.step() {
            let name = s.text(0), host = s.isNull(1) ? nil : s.text(1), pid = s.isNull(2) ? nil : Int(s.int64(2))
            let alive = host == Self.currentHost ? pid.map { $0 != Int(getpid()) && Self.isProcessAlive($0) } ?? false : true
            if alive {
                throw RecordsError(.runStillRunning, """
                    \(path): schema version \(version) must be upgraded to \(Schema.version), but run '\(name)' is \
                    still running (process \(pid.map(String.init) ?? "?") on \(host ?? "an unknown host")); let it \
                    finish, then upgrade with `longcat-lab runs --db \(path)`
                    """)
            }
        }
    }

    /// `<path>.v<version>-backup`, or the first of `-2`, `-3`, ... appended that is free.
    static func freeBackupPath(for path: String, version: Int) -> String {
        let base = "\(path).v\(version)-backup"
        var candidate = base, n = 1
        while FileManager.default.fileExists(atPath: candidate) {
            n += 1
            candidate = "\(base)-\(n)"
        }
        return candidate
    }

    /// The `ALTER TABLE ... ADD COLUMN` statements that would add the declared nullable
    /// columns the main database's row tables lack (read only).
    static func missingColumns(_ c: Connection) throws -> [String] {
        var statements: [String] = []
        for table in Schema.rowTables {
            let s = try c.prepare("SELECT name FROM pragma_table_info(?1)")
            s.bind(table.name, at: 1)
            var existing: Set<String> = []
            while try s.step() { existing.insert(s.text(0)) }
            statements += table.additions(existing: existing)
        }
        return statements
    }

    /// Adds the declared nullable columns that the main database's row tables lack. Call inside
    /// a write transaction.
    static func addMissingColumns(_ c: Connection) throws {
        for sql in try missingColumns(c) { try c.execute(sql) }
    }
}
