import CSQLite
import Foundation

/// What `merge(from:)` did.
public struct MergeReport: Sendable, Equatable {
    /// A run copied into this database under a fresh run_id.
    public struct CopiedRun: Sendable, Equatable {
        /// Its name in the other database.
        public var sourceName: String
        /// Its name here: the same, or a renamed one for a conflict.
        public var name: String
        public var runID: Int64
        public var steps: Int
    }

    /// A run whose name exists here with another config hash or step count; copied renamed
    /// (`name~2`, `name~3`, ...: the first free).
    public struct Conflict: Sendable, Equatable {
        public var name: String
        public var renamedTo: String
        public var reason: String
    }

    public var copied: [CopiedRun] = []
    /// Names skipped because the run exists here with the same config hash and step count.
    public var duplicates: [String] = []
    public var conflicts: [Conflict] = []
    /// Rows written over all tables (runs included).
    public var rowsCopied = 0
}

/// Merging another lab database into this one.
extension RecordStore {
    private static let source = "merge_source"

    /// Copies every run of the database at `otherPath`, with all its rows, into this one under
    /// fresh run_ids, in one transaction (so a failure copies nothing).
    ///
    /// A run whose name already exists here with the same `config_hash` and the same number of
    /// steps is a duplicate and is skipped; one whose name exists with another hash or step
    /// count is a conflict and is copied as `name~2` (`~3`, ...) unless such a renamed copy with
    /// the same hash and step count exists (then it is a duplicate too), so merging the same file
    /// twice copies nothing the second time. Columns are copied by name, so a database of an
    /// older schema version merges too.
    public func merge(from otherPath: String) throws -> MergeReport {
        guard FileManager.default.fileExists(atPath: otherPath) else {
            throw RecordsError(.other, "\(otherPath): no such database to merge into \(path)")
        }
        return try withConnection("merging \(otherPath)") { c in
            if let main = sqlite3_db_filename(c.handle, "main"), Self.sameFile(String(cString: main), otherPath) {
                throw RecordsError(.invalidInput, "\(path): cannot merge a database into itself")
            }
            do {
                let attach = try c.prepare("ATTACH DATABASE ?1 AS \(Self.source)")
                attach.bind(otherPath, at: 1)
                try attach.run()
            } catch {
                throw failure(error, "opening it for a merge", file: otherPath)
            }
            defer { try? c.execute("DETACH DATABASE \(Self.source)") }
            let version: Int
            do {
                version = try Self.checkLabSchema(c, schema: Self.source, file: otherPath)
            } catch {
                throw failure(error, "reading it for a merge", file: otherPath)
            }
            return try Self.transaction(c) { c in try copyRuns(c, sourceVersion: version) }
        }
    }

    /// Copies the runs; a version-1 source's per-label evaluation rows go from its
    /// `variance_stats` to `eval_by_label`, as `Migration` moves them.
    private func copyRuns(_ c: Connection, sourceVersion: Int) throws -> MergeReport {
        var report = MergeReport()
        let columns = try Dictionary(uniqueKeysWithValues: (["runs"] + Schema.stepTables).map { table in
            (table, try Self.sharedColumns(c, table).filter { $0 != "run_id" && $0 != "name" })
        })
        let sourceRuns = try c.prepare("SELECT run_id, name, config_hash FROM \(Self.source).runs ORDER BY run_id")
        var runs: [(id: Int64, name: String, hash: SQLValue)] = []
        while try sourceRuns.step() { runs.append((sourceRuns.int64(0), sourceRuns.text(1), sourceRuns.value(2))) }

        for run in runs {
            let steps = try Self.stepCount(c, schema: Self.source, runID: run.id)
            var name = run.name
            if let here = try Self.runRow(c, where: "name = ?1", .text(run.name)) {
                // The same run copied by an earlier merge may sit under a conflict name (name~2, ...).
                func same(_ row: RunRow) throws -> Bool {
                    let hash: SQLValue = row.configHash.map { .text($0) } ?? .null
                    return try hash == run.hash && Self.stepCount(c, schema: "main", runID: row.id) == steps
                }
                var candidate: RunRow? = here, n = 1, duplicate = false
                while let row = candidate {
                    if try same(row) { duplicate = true; break }
                    n += 1
                    candidate = try Self.runRow(c, where: "name = ?1", .text("\(run.name)~\(n)"))
                }
                if duplicate {
                    report.duplicates.append(run.name)
                    continue
                }
                name = "\(run.name)~\(n)"
                let hereHash: SQLValue = here.configHash.map { .text($0) } ?? .null
                let reason = hereHash != run.hash
                    ? "config_hash differs (\(hereHash) here, \(run.hash) there)"
                    : "\(try Self.stepCount(c, schema: "main", runID: here.id)) steps here, \(steps) there"
                report.conflicts.append(.init(name: run.name, renamedTo: name, reason: reason))
            }
            let runColumns = columns["runs"]!.joined(separator: ", ")
            let insertRun = try c.prepare("""
                INSERT INTO main.runs (name, \(runColumns)) SELECT ?1, \(runColumns) FROM \(Self.source).runs WHERE run_id = ?2
                """)
            insertRun.bind(name, at: 1)
            insertRun.bind(run.id, at: 2)
            try insertRun.run()
            let newID = sqlite3_last_insert_rowid(c.handle)
            report.rowsCopied += 1
            for table in Schema.stepTables where !columns[table]!.isEmpty {   // an older source lacks newer tables
                let list = columns[table]!.joined(separator: ", ")
                var from = "\(Self.source).\(table) WHERE run_id = ?2"
                if sourceVersion == 1, table == VarianceRow.table.name {
                    from += " AND NOT (\(Migration.v1EvalCondition))"
                } else if sourceVersion == 1, table == EvalLabelRow.table.name {
                    from = "(\(Migration.v1EvalRows(schema: Self.source))) WHERE run_id = ?2"
                }
                let copy = try c.prepare("""
                    INSERT INTO main.\(table) (run_id, \(list)) SELECT ?1, \(list) FROM \(from)
                    """)
                copy.bind(newID, at: 1)
                copy.bind(run.id, at: 2)
                try copy.run()
                report.rowsCopied += Int(sqlite3_changes(c.handle))
            }
            report.copied.append(.init(sourceName: run.name, name: name, runID: newID, steps: steps))
        }
        return report
    }

    /// Columns that `table` has both here and in the other database (older schemas lack some).
    private static func sharedColumns(_ c: Connection, _ table: String) throws -> [String] {
        func columns(_ schema: String) throws -> [String] {
            let s = try c.prepare("PRAGMA \(schema).table_info(\(table))")
            var names: [String] = []
            while try s.step() { names.append(s.text(1)) }
            return names
        }
        let there = Set(try columns(source))
        // A version-1 source has no eval_by_label; its rows come from variance_stats.
        if there.isEmpty, table == EvalLabelRow.table.name { return try columns("main") }
        return try columns("main").filter { there.contains($0) }
    }

    private static func stepCount(_ c: Connection, schema: String, runID: Int64) throws -> Int {
        let s = try c.prepare("SELECT COUNT(*) FROM \(schema).steps WHERE run_id = ?1")
        s.bind(runID, at: 1)
        _ = try s.step()
        return Int(s.int64(0))
    }

    private static func sameFile(_ a: String, _ b: String) -> Bool {
        let resolve = { (p: String) in URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }
        return resolve(a) == resolve(b)
    }
}
