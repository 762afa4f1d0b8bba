/// The records schema: a public interface that researchers query with plain SQL.
///
/// Names may grow (new tables, new nullable columns, with a version bump and a migration where
/// `RecordStore.checkLabSchema` reads the version) but never change. Every per-step table's primary key starts with
/// (run_id, step), which is the (run_id, step) index the queries and plots use. Per-step tables
/// are WITHOUT ROWID: the key is the row's only index, which keeps a step's insert cheap.
/// REAL columns hold no NOT NULL constraint because SQLite stores NaN (a diverged loss) as NULL.
enum Schema {
    /// The version this build writes; a database with a larger version is refused.
    static let version = 1

    /// Every table of version 1, in the order a foreign database is checked (runs first).
    static let tables = [
        "runs", "schema_version", "steps", "layer_steps", "expert_steps", "activated_params",
        "token_samples", "variance_stats", "checkpoints",
    ]

    /// The per-run child tables, which `deleteSteps` trims and `merge` copies.
    static let stepTables = [
        "steps", "layer_steps", "expert_steps", "activated_params", "token_samples", "variance_stats",
        "checkpoints",
    ]

    /// SQLite's clock as ISO 8601 UTC; computed by SQLite so that finishing a run needs no
    /// date formatting in Swift.
    static let now = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

    static let createV1 = """
        CREATE TABLE schema_version (version INTEGER NOT NULL);

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
        );

        CREATE TABLE steps (
            run_id       INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            step         INTEGER NOT NULL CHECK (step >= 0),
            tokens_seen  INTEGER,
            loss         REAL,
            lm_loss      REAL,
            balance_loss REAL,
            z_loss       REAL,
            mtp_loss     REAL,
            lr           REAL,
            grad_norm    REAL,
            step_ms      REAL,
            tokens_per_s REAL,
            eval_loss    REAL,
            record_ms    REAL,
            PRIMARY KEY (run_id, step)
        ) WITHOUT ROWID;

        CREATE TABLE layer_steps (
            run_id            INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            step              INTEGER NOT NULL CHECK (step >= 0),
            layer             INTEGER NOT NULL CHECK (layer >= 0),
            zero_expert_share REAL,
            ffn_experts_mean  REAL,
            ffn_experts_std   REAL,
            max_vio           REAL,
            router_entropy    REAL,
            balance_loss      REAL,
            grad_norm_ratio   REAL,
            router_similarity REAL,
            PRIMARY KEY (run_id, step, layer)
        ) WITHOUT ROWID;

        CREATE TABLE expert_steps (
            run_id     INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            step       INTEGER NOT NULL CHECK (step >= 0),
            layer      INTEGER NOT NULL CHECK (layer >= 0),
            expert     INTEGER NOT NULL CHECK (expert >= 0),
            is_zero    INTEGER NOT NULL CHECK (is_zero IN (0, 1)),
            tokens     INTEGER,
            load_share REAL,
            bias       REAL,
            p_term     REAL,
            i_term     REAL,
            d_term     REAL,
            mean_gate  REAL,
            PRIMARY KEY (run_id, step, layer, expert)
        ) WITHOUT ROWID;

        CREATE TABLE activated_params (
            run_id           INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            step             INTEGER NOT NULL CHECK (step >= 0),
            ffn_experts      INTEGER NOT NULL CHECK (ffn_experts >= 0),
            tokens           INTEGER,
            activated_params INTEGER,
            PRIMARY KEY (run_id, step, ffn_experts)
        ) WITHOUT ROWID;

        CREATE TABLE token_samples (
            run_id      INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            step        INTEGER NOT NULL CHECK (step >= 0),
            sample      INTEGER NOT NULL CHECK (sample >= 0),
            position    INTEGER NOT NULL CHECK (position >= 0),
            layer       INTEGER NOT NULL CHECK (layer >= 0),
            token       INTEGER,
            label       TEXT,
            ffn_experts INTEGER,
            experts     TEXT,
            PRIMARY KEY (run_id, step, sample, position, layer)
        ) WITHOUT ROWID;

        CREATE TABLE variance_stats (
            run_id    INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            step      INTEGER NOT NULL CHECK (step >= 0),
            layer     INTEGER NOT NULL,
            module    TEXT NOT NULL,
            statistic TEXT NOT NULL,
            value     REAL,
            PRIMARY KEY (run_id, step, layer, module, statistic)
        ) WITHOUT ROWID;

        CREATE TABLE checkpoints (
            run_id     INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            step       INTEGER NOT NULL CHECK (step >= 0),
            path       TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (run_id, step)
        );

        INSERT INTO schema_version (version) VALUES (1);
        """
}
