/// Version 1 of the records schema, frozen: what builds before version 2 created. Kept to
/// recognise and upgrade such databases (`Migration`) and to build them in tests; never edit it.
extension Schema {
    /// Every table of version 1, in the order a database is checked (runs first).
    static let tablesV1 = [
        "runs", "schema_version", "steps", "layer_steps", "expert_steps", "activated_params",
        "token_samples", "variance_stats", "checkpoints",
    ]

    /// The `variance_stats` modules under which version 1 kept the per-label evaluation rows
    /// (layer -1, statistic = label name): mean loss, and token count. Version 2 keeps them in
    /// `eval_by_label`.
    static let v1EvalLossModule = "eval_loss_by_label"
    static let v1EvalTokensModule = "eval_tokens_by_label"

    /// The DDL of version 1, exactly as those builds ran it.
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
