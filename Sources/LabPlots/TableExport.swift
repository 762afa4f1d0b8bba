import LabRecords

/// `export csv`: every row of one table for one run, as RFC 4180 CSV with a header line
/// (NULL as an empty field), in primary-key order.
public enum TableExport {
    /// The tables that hold rows per run (every table with a `run_id` column), `runs` first.
    public static func tables(_ store: RecordStore) throws -> [String] {
        let names = try store.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap { $0[0].string }
        return try names.filter { try columns(store, $0).contains { $0.name == "run_id" } }
            .sorted { ($0 == "runs" ? 0 : 1, $0) < ($1 == "runs" ? 0 : 1, $1) }
    }

    /// The CSV text of `table`'s rows of run `name`.
    public static func csv(store: RecordStore, run name: String, table: String) throws -> String {
        let known = try tables(store)
        guard known.contains(table) else {
            throw PlotError("unknown table '\(table)'; tables: " + known.joined(separator: ", "))
        }
        let run = try RunSet(names: [name], store: store).runs[0]
        let cols = try columns(store, table)
        let order = cols.filter { $0.pk > 0 }.sorted { $0.pk < $1.pk }.map(\.name)
        let rows = try store.query("SELECT * FROM \(table) WHERE run_id = ?1"
                                   + (order.isEmpty ? "" : " ORDER BY " + order.joined(separator: ", ")),
                                   [.integer(run.id)])
        guard !rows.isEmpty else {
            throw PlotError("run '\(name)' has no rows in table \(table) of \(store.path)")
        }
        var out = cols.map { field($0.name) }.joined(separator: ",") + "\r\n"
        for row in rows {
            out += row.map { $0.isNull ? "" : field($0.description) }.joined(separator: ",") + "\r\n"
        }
        return out
    }

    /// Column names and primary-key positions (0 = not in the key), from `PRAGMA table_info`.
    static func columns(_ store: RecordStore, _ table: String) throws -> [(name: String, pk: Int)] {
        try store.query("SELECT name, pk FROM pragma_table_info(?1)", [.text(table)]).map { ($0[0].string ?? "", $0[1].int ?? 0) }
    }

    /// A field, quoted when it holds a comma, a quote or a line break (quotes doubled).
    static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
