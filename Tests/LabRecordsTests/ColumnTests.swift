import Foundation
import Testing
@testable import LabRecords

@Suite("Declared columns")
struct ColumnTests {
    /// Guards against the derived DDL renaming, reordering or loosening a version-1 column
    /// (the schema is a public interface): every version-1 table keeps its columns, in order,
    /// with the same type, NOT NULL and key position; version 2 only appends.
    @Test func derivedTablesKeepEveryVersion1Column() throws {
        try withTempDirectory { dir in
            let v1 = try Connection(path: dir + "/v1.sqlite")
            defer { v1.close() }
            try v1.execute(Schema.createV1)
            let v2 = try Connection(path: dir + "/v2.sqlite")
            defer { v2.close() }
            try v2.execute(Schema.create)
            func info(_ c: Connection, _ table: String) throws -> [[SQLValue]] {
                let s = try c.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)")
                s.bind(table, at: 1)
                var rows: [[SQLValue]] = []
                while try s.step() { rows.append((0..<4).map { s.value($0) }) }
                return rows
            }
            for table in Schema.tablesV1 {
                let old = try info(v1, table), new = try info(v2, table)
                #expect(!old.isEmpty && Array(new.prefix(old.count)) == old, "\(table)")
            }
            #expect(try info(v2, "layer_steps").suffix(2).map { $0[0] } == ["load_cv", "group_imbalance"])
        }
    }

    /// Guards against a declared column that the public description omits: docs/RECORDS.md
    /// names every column of every row table (in backticks) in that table's section.
    @Test func recordsDocumentNamesEveryDeclaredColumn() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/RECORDS.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        for table in Schema.rowTables {
            let start = try #require(text.range(of: "### `\(table.name)`"), "no section for \(table.name)")
            let rest = text[start.upperBound...]
            let section = rest[..<(rest.range(of: "\n### ")?.lowerBound ?? rest.endIndex)]
            for column in table.columnNames where column != "step" {
                #expect(section.contains("`\(column)`"), "\(table.name).\(column) is not described in docs/RECORDS.md")
            }
        }
    }

    /// Guards against a new nullable column needing a hand-written migration: a database
    /// missing a declared column gets it when opened, NULL in its existing rows.
    @Test func openingAddsAMissingNullableColumn() throws {
        try withTempDirectory { dir in
            let path = dir + "/lab.sqlite"
            let id: Int64
            do {
                let store = try RecordStore(path: path)
                id = try store.beginRun(runInfo("r"))
                try store.record(makeRecord(runID: id, step: 0))
                // As a database written before load_cv was declared.
                _ = try store.query("ALTER TABLE layer_steps DROP COLUMN load_cv")
            }
            let store = try RecordStore(path: path)
            #expect(store.upgrade == nil)
            let layers = try store.layerSteps(runID: id)
            #expect(!layers.isEmpty && layers.allSatisfy { $0.loadCV == nil })
            try store.record(makeRecord(runID: id, step: 1))
            #expect(try store.layerSteps(runID: id).filter { $0.step == 1 } == makeRecord(runID: id, step: 1).layers)
        }
    }
}
