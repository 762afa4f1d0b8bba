import Foundation
import Testing
@testable import LabRecords

/// A version-1 database built by the version-1 DDL, as builds before version 2 wrote it: two
/// runs of `makeRecord` steps (per-label evaluation rows in `variance_stats`, as version 1 kept
/// them), and a checkpoint. Returns what each run holds, in version-2 rows.
@discardableResult
func makeV1Database(_ path: String, running: (host: String, pid: Int)? = nil) throws -> [String: [StepRecord]] {
    let c = try Connection(path: path)
    defer { c.close() }
    try c.execute("PRAGMA journal_mode = WAL")
    try c.execute(Schema.createV1)
    var runs: [String: [StepRecord]] = [:]
    for (id, name) in [(Int64(1), "old-a"), (Int64(2), "old-b")] {
        let status = running != nil && id == 2 ? "running" : "finished"
        try c.execute("""
            INSERT INTO runs (run_id, name, created_at, status, config_hash, seed, host, pid, kind)
            VALUES (\(id), '\(name)', '2026-01-01T00:00:00Z', '\(status)', 'hash-\(name)', 7,
                    '\(running?.host ?? "h")', \(running?.pid ?? 1), 'train')
            """)
        var records = (0..<(id == 1 ? 4 : 6)).map { makeRecord(runID: id, step: $0) }
        for i in records.indices {
            // Version 1 had no load_cv / group_imbalance.
            for l in records[i].layers.indices { records[i].layers[l].loadCV = nil; records[i].layers[l].groupImbalance = nil }
            try insertV1(c, [records[i].step], runID: id)
            try insertV1(c, records[i].layers, runID: id)
            try insertV1(c, records[i].experts, runID: id)
            try insertV1(c, records[i].activatedParams, runID: id)
            try insertV1(c, records[i].tokenSamples, runID: id)
            try insertV1(c, records[i].variance, runID: id)
            let v1Eval = records[i].evalByLabel.flatMap { e in [
                VarianceRow(step: e.step, layer: -1, module: Schema.v1EvalLossModule, statistic: e.label, value: e.loss),
                VarianceRow(step: e.step, layer: -1, module: Schema.v1EvalTokensModule, statistic: e.label, value: Double(e.tokens)),
            ] }
            try insertV1(c, v1Eval, runID: id)
        }
        try c.execute("""
            INSERT INTO checkpoints (run_id, step, path, created_at) VALUES (\(id), 3, '\(name).ckpt', '2026-01-01T00:01:00Z')
            """)
        runs[name] = records
    }
    return runs
}

/// Inserts rows into the version-1 table of their kind, binding only the columns it has.
private func insertV1<Row: StoredRow>(_ c: Connection, _ rows: [Row], runID: Int64) throws {
    guard !rows.isEmpty else { return }
    let info = try c.prepare("SELECT name FROM pragma_table_info(?1)")
    info.bind(Row.table.name, at: 1)
    var present: Set<String> = []
    while try info.step() { present.insert(info.text(0)) }
    let columns = Row.table.columns.filter { present.contains($0.name) }
    let marks = Array(repeating: "?", count: columns.count + 1).joined(separator: ", ")
    let s = try c.prepare("INSERT INTO \(Row.table.name) (run_id, \(columns.map(\.name).joined(separator: ", "))) VALUES (\(marks))")
    for row in rows {
        s.bind(runID, at: 1)
        var w = RowBinder(statement: s)
        for column in columns { column.write(row, &w) }
        try s.run()
    }
}

@Suite("Schema upgrade from version 1")
struct MigrationTests {
    /// Guards against an upgrade that loses or alters rows, leaves the per-label evaluation
    /// rows in variance_stats, writes no backup, or upgrades twice.
    @Test func version1IsUpgradedInPlaceAfterABackup() throws {
        try withTempDirectory { dir in
            let path = dir + "/lab.sqlite"
            let runs = try makeV1Database(path)
            let store = try RecordStore(path: path)
            let upgrade = try #require(store.upgrade)
            #expect(upgrade.fromVersion == 1 && upgrade.toVersion == Schema.version)
            #expect(upgrade.backupPath == path + ".v1-backup")
            #expect(upgrade.message.contains(path + ".v1-backup") && upgrade.message.contains("eval_by_label"))
            #expect(try store.query("SELECT version FROM schema_version") == [[.integer(Int64(Schema.version))]])

            for (name, records) in runs {
                let id = try #require(try store.runID(named: name))
                #expect(try store.run(id: id)?.configHash == "hash-\(name)")
                #expect(try store.steps(runID: id) == records.map(\.step))
                #expect(try store.layerSteps(runID: id) == records.flatMap(\.layers))
                for record in records {
                    #expect(try store.expertSteps(runID: id, step: record.step.step) == record.experts)
                    #expect(try store.tokenSamples(runID: id, step: record.step.step) == record.tokenSamples)
                }
                #expect(try store.activatedParams(runID: id) == records.flatMap(\.activatedParams))
                #expect(try store.varianceStats(runID: id) == records.flatMap(\.variance))
                let evals = records.flatMap(\.evalByLabel)
                #expect(!evals.isEmpty)
                #expect(try store.evalByLabel(runID: id) == evals)
                #expect(try store.checkpoints(runID: id).map(\.path) == ["\(name).ckpt"])
            }
            #expect(try store.query("SELECT COUNT(*) FROM variance_stats WHERE module LIKE 'eval\\_%' ESCAPE '\\'")
                    == [[.integer(0)]])
            // The new columns exist and are NULL in the old rows; new steps write them.
            let id = try #require(try store.runID(named: "old-a"))
            try store.record(makeRecord(runID: id, step: 4))
            #expect(try store.layerSteps(runID: id).filter { $0.step == 4 } == makeRecord(runID: id, step: 4).layers)

            // The backup is the version-1 database as it was.
            let backup = try Connection(path: upgrade.backupPath)
            defer { backup.close() }
            #expect(try RecordStore.schemaVersion(backup, schema: "main") == 1)
            #expect(try !RecordStore.tableNames(backup, schema: "main").contains("eval_by_label"))
            let v1Eval = try backup.prepare("SELECT COUNT(*) FROM variance_stats WHERE module LIKE 'eval_%'")
            #expect(try v1Eval.step())
            #expect(Int(v1Eval.int64(0)) == 2 * runs.values.reduce(0) { $0 + $1.flatMap(\.evalByLabel).count })

            // Opening again neither upgrades nor backs up again.
            store.close()
            #expect(try RecordStore(path: path).upgrade == nil)
            #expect(!FileManager.default.fileExists(atPath: path + ".v1-backup-2"))
        }
    }

    /// Guards against upgrading a database that an older build is still writing (its later
    /// per-label rows would land in the old place), and against a refusal without a remedy.
    @Test func upgradeIsRefusedWhileARunIsRunning() throws {
        try withTempDirectory { dir in
            let path = dir + "/lab.sqlite"
            try makeV1Database(path, running: (host: "another-host", pid: 4242))
            let error = try #require(throws: RecordsError.self) { try RecordStore(path: path) }
            #expect(error.kind == .runStillRunning)
            #expect(error.message.contains("'old-b'") && error.message.contains("longcat-lab runs --db \(path)"))
            #expect(!FileManager.default.fileExists(atPath: path + ".v1-backup"))
            let c = try Connection(path: path)
            defer { c.close() }
            #expect(try RecordStore.schemaVersion(c, schema: "main") == 1)
        }
    }

    /// Guards against a merge of a version-1 database dropping its per-label evaluation rows
    /// or copying them into variance_stats.
    @Test func mergingAVersion1DatabaseMovesItsEvaluationRows() throws {
        try withTempDirectory { dir in
            let old = dir + "/old.sqlite"
            let runs = try makeV1Database(old)
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let report = try store.merge(from: old)
            #expect(report.copied.count == 2)
            for (name, records) in runs {
                let id = try #require(try store.runID(named: name))
                #expect(try store.evalByLabel(runID: id) == records.flatMap(\.evalByLabel))
                #expect(try store.varianceStats(runID: id) == records.flatMap(\.variance))
                #expect(try store.steps(runID: id) == records.map(\.step))
            }
            // Merging reads the other file; it stays version 1.
            let c = try Connection(path: old)
            defer { c.close() }
            #expect(try RecordStore.schemaVersion(c, schema: "main") == 1)
        }
    }
}
