import Foundation
import LabRecords
import Testing

@Suite("Schema and opening")
struct SchemaTests {
    /// Guards against a missing table or column of the public schema, and a missing version row.
    @Test func newDatabaseHasEveryTableAndTheCurrentVersion() throws {
        try withTempDirectory { dir in
            let path = dir + "/nested/results/lab.sqlite"
            let store = try RecordStore(path: path)
            #expect(FileManager.default.fileExists(atPath: path))
            #expect(try store.query("SELECT version FROM schema_version") == [[.integer(4)]])
            #expect(store.upgrade == nil)
            let tables = try store.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .compactMap { $0[0].string }
            #expect(tables == ["activated_params", "checkpoints", "eval_by_label", "expert_steps", "layer_steps",
                               "probe_summaries", "probe_tokens", "routing_traces", "runs", "schema_version", "steps", "token_samples",
                               "variance_stats"])
            func columns(_ table: String) throws -> [String] {
                try store.query("SELECT name FROM pragma_table_info(?)", [.text(table)]).compactMap { $0[0].string }
            }
            #expect(try columns("runs") == ["run_id", "name", "created_at", "finished_at", "status", "config_toml",
                                            "config_hash", "seed", "git_commit", "host", "threads", "pid", "kind",
                                            "message"])
            #expect(try columns("steps") == ["run_id", "step", "tokens_seen", "loss", "lm_loss", "balance_loss",
                                             "z_loss", "mtp_loss", "lr", "grad_norm", "step_ms", "tokens_per_s",
                                             "eval_loss", "record_ms"])
            #expect(try columns("layer_steps") == ["run_id", "step", "layer", "zero_expert_share", "ffn_experts_mean",
                                                   "ffn_experts_std", "max_vio", "router_entropy", "balance_loss",
                                                   "grad_norm_ratio", "router_similarity", "load_cv", "group_imbalance"])
            #expect(try columns("expert_steps") == ["run_id", "step", "layer", "expert", "is_zero", "tokens",
                                                    "load_share", "bias", "p_term", "i_term", "d_term", "mean_gate"])
            #expect(try columns("activated_params") == ["run_id", "step", "ffn_experts", "tokens", "activated_params"])
            #expect(try columns("token_samples") == ["run_id", "step", "sample", "position", "layer", "token", "label",
                                                     "ffn_experts", "experts"])
            #expect(try columns("variance_stats") == ["run_id", "step", "layer", "module", "statistic", "value"])
            #expect(try columns("eval_by_label") == ["run_id", "step", "label", "loss", "tokens"])
            #expect(try columns("checkpoints") == ["run_id", "step", "path", "created_at"])
            #expect(try store.query("PRAGMA journal_mode") == [[.text("wal")]])
            #expect(try store.query("PRAGMA foreign_keys") == [[.integer(1)]])
        }
    }

    /// Guards against reopening a database recreating (and so wiping) the schema or its rows.
    @Test func reopeningKeepsRows() throws {
        try withTempDirectory { dir in
            let path = dir + "/lab.sqlite"
            let id = try RecordStore(path: path).beginRun(runInfo("keep"))
            let reopened = try RecordStore(path: path)
            #expect(try reopened.runID(named: "keep") == id)
            #expect(try reopened.query("SELECT COUNT(*) FROM schema_version") == [[.integer(1)]])
        }
    }

    /// Guards against refusing (or corrupting) an existing empty file, e.g. one made by `touch`.
    @Test func emptyFileGetsTheSchema() throws {
        try withTempDirectory { dir in
            let path = dir + "/empty.sqlite"
            #expect(FileManager.default.createFile(atPath: path, contents: Data()))
            let store = try RecordStore(path: path)
            #expect(try store.query("SELECT version FROM schema_version") == [[.integer(4)]])
        }
    }

    /// Guards against a newer database being opened (and silently mis-read or written) by an
    /// older build.
    @Test func newerSchemaVersionIsRefused() throws {
        try withTempDirectory { dir in
            let path = dir + "/lab.sqlite"
            _ = try RecordStore(path: path).query("UPDATE schema_version SET version = 5")
            let error = try #require(throws: RecordsError.self) { try RecordStore(path: path) }
            #expect(error.kind == .newerSchema)
            #expect(error.message.hasPrefix(path + ": "))
            #expect(error.message.contains("version 5 is newer"))
        }
    }

    /// Guards against a text file being taken for a database, or being modified by the attempt.
    @Test func nonDatabaseFileErrorsClearlyAndIsLeftAlone() throws {
        try withTempDirectory { dir in
            let path = dir + "/notes.sqlite"
            let text = Data(String(repeating: "these are notes, not a database\n", count: 200).utf8)
            #expect(FileManager.default.createFile(atPath: path, contents: text))
            let error = try #require(throws: RecordsError.self) { try RecordStore(path: path) }
            #expect(error.kind == .notALabDatabase)
            #expect(error.message.hasPrefix(path + ": not a lab database"))
            #expect(FileManager.default.contents(atPath: path) == text)
        }
    }

    /// Guards against adopting some other program's SQLite database (and converting it to WAL).
    @Test func foreignSQLiteDatabaseNamesTheMissingTable() throws {
        try withTempDirectory { dir in
            let lab = try RecordStore(path: dir + "/lab.sqlite")
            let foreign = dir + "/foreign.sqlite"
            _ = try lab.query("ATTACH DATABASE ? AS foreign_db", [.text(foreign)])
            _ = try lab.query("CREATE TABLE foreign_db.notes (body TEXT)")
            _ = try lab.query("DETACH DATABASE foreign_db")
            let before = FileManager.default.contents(atPath: foreign)
            let error = try #require(throws: RecordsError.self) { try RecordStore(path: foreign) }
            #expect(error.kind == .notALabDatabase)
            #expect(error.message == "\(foreign): not a lab database: table runs missing")
            #expect(FileManager.default.contents(atPath: foreign) == before)
        }
    }
}
