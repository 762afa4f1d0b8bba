/// The records schema: a public interface that researchers query with plain SQL.
///
/// Names may grow but never change. A new nullable column of a row table needs only its
/// declaration (`Column`): opening a database adds it (`ALTER TABLE ... ADD COLUMN`, NULL in
/// older rows) without a version bump. Anything else (a new table, a moved or NOT NULL column)
/// bumps `version` and adds a step to `Migration`, which upgrades an older database in place
/// after writing a backup copy next to it. Every per-step table's primary key starts with
/// (run_id, step), which is the (run_id, step) index the queries and plots use. Per-step tables
/// are WITHOUT ROWID: the key is the row's only index, which keeps a step's insert cheap.
/// REAL columns hold no NOT NULL constraint because SQLite stores NaN (a diverged loss) as NULL.
enum Schema {
    /// The version this build writes; an older database is upgraded, a newer one refused.
    /// Version 2: per-label evaluation losses in `eval_by_label` (version 1 kept them in
    /// `variance_stats`), `layer_steps.load_cv` and `layer_steps.group_imbalance`. Version 3:
    /// the probe's `probe_tokens` and `probe_summaries`. Version 4: `routing_traces`.
    static let version = 4

    /// SQLite's clock as ISO 8601 UTC; computed by SQLite so that finishing a run needs no
    /// date formatting in Swift.
    static let now = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

    /// The per-run row tables, declared column by column with their row structs.
    static let rowTables: [any AnyRowTable] = [
        StepRow.table, LayerStepRow.table, ExpertStepRow.table, ActivatedParamsRow.table,
        TokenSampleRow.table, VarianceRow.table, EvalLabelRow.table, ProbeTokenRow.table, ProbeSummaryRow.table,
        RoutingTraceRow.table,
    ]

    /// The row tables version 3 added (a version-2 database lacks them until upgraded).
    static let addedInV3 = [ProbeTokenRow.table.name, ProbeSummaryRow.table.name]

    /// The row table version 4 added.
    static let addedInV4 = [RoutingTraceRow.table.name]

    /// The tables a database of `version` holds, in the order a database is checked (runs first).
    static func tables(version: Int) -> [String] {
        if version == 1 { return tablesV1 }
        let current = ["runs", "schema_version"] + rowTables.map(\.name) + ["checkpoints"]
        let absent = (version <= 2 ? addedInV3 : []) + (version <= 3 ? addedInV4 : [])
        return current.filter { !absent.contains($0) }
    }

    /// The per-run child tables, which `deleteSteps` trims and `merge` copies.
    static let stepTables = rowTables.map(\.name) + ["checkpoints"]

    /// `runs` and `checkpoints` are written by their own statements (SQLite's clock fills
    /// their times), so they are declared here rather than as row tables.
    static let createRuns = """
        CREATE TABLE runs (
            run_id      INTEGER PRIMARY KEY,
            name        TEXT UNIQUE NOT NULL,
            created_at  TEXT NOT NULL,
            finished_at TEXT,
            status      TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
            config_toml TEXT,
            config_hash TEXT,
            seed        INTEGER,
            git_commit  TEXT,
            host        TEXT,
            threads     INTEGER,
            pid         INTEGER,
            kind        TEXT NOT NULL CHECK (kind IN ('train', 'simulation')),
            message     TEXT
        )
        """

    static let createCheckpoints = """
        CREATE TABLE checkpoints (
            run_id     INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            step       INTEGER NOT NULL CHECK (step >= 0),
            path       TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (run_id, step)
        )
        """

    /// The DDL of this build's version, for an empty database.
    static let create = (["CREATE TABLE schema_version (version INTEGER NOT NULL)", createRuns]
        + rowTables.map(\.create) + [createCheckpoints, "INSERT INTO schema_version (version) VALUES (\(version))"])
        .joined(separator: ";\n\n") + ";"
}
