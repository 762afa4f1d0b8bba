/// Columns declared once: each per-step table is a list of `Column`s (SQL name, key path on the
/// row struct, constraint, doc), and its CREATE TABLE, INSERT, SELECT, row writer and row reader
/// are all derived from that list, so a column's name, position and field cannot disagree.

/// A Swift type a column can hold: its SQLite type, and how it is bound and read.
protocol ColumnValue: Sendable {
    /// `INTEGER`, `REAL` or `TEXT`.
    static var sqlType: String { get }
    static func read(_ r: inout RowReader) -> Self
    func bind(_ w: inout RowBinder)
}

extension Int: ColumnValue {
    static var sqlType: String { "INTEGER" }
    static func read(_ r: inout RowReader) -> Int { r.int() }
    func bind(_ w: inout RowBinder) { w.add(self) }
}

extension Bool: ColumnValue {
    static var sqlType: String { "INTEGER" }
    static func read(_ r: inout RowReader) -> Bool { r.bool() }
    func bind(_ w: inout RowBinder) { w.add(self) }
}

/// NaN is stored as NULL by SQLite and reads back as NaN.
extension Double: ColumnValue {
    static var sqlType: String { "REAL" }
    static func read(_ r: inout RowReader) -> Double { r.double() }
    func bind(_ w: inout RowBinder) { w.add(self) }
}

extension String: ColumnValue {
    static var sqlType: String { "TEXT" }
    static func read(_ r: inout RowReader) -> String { r.string() }
    func bind(_ w: inout RowBinder) { w.add(self) }
}

/// A list of integers (expert ids), stored as space-separated TEXT (`"3 17"`).
extension Array: ColumnValue where Element == Int {
    static var sqlType: String { "TEXT" }
    static func read(_ r: inout RowReader) -> [Int] { r.string().split(separator: " ").compactMap { Int($0) } }
    func bind(_ w: inout RowBinder) { w.add(map(String.init).joined(separator: " ")) }
}

/// NULL when nil.
extension Optional: ColumnValue where Wrapped: ColumnValue {
    static var sqlType: String { Wrapped.sqlType }

    static func read(_ r: inout RowReader) -> Wrapped? {
        if r.isNull { r.skip(); return nil }
        return Wrapped.read(&r)
    }

    func bind(_ w: inout RowBinder) {
        if let value = self { value.bind(&w) } else { w.addNull() }
    }
}

/// What a column is besides its type.
enum ColumnRole: Sendable {
    /// A plain value, nullable (REAL columns must be: SQLite stores NaN as NULL).
    case value
    /// Part of the primary key: NOT NULL, and for INTEGER columns `CHECK (name >= 0)`.
    case key
    /// Part of the primary key, NOT NULL, any sign (layer -1 for model-wide rows).
    case signedKey
    /// NOT NULL with a CHECK expression, not part of the key.
    case required(check: String)
}

/// One column of a row table: its SQL name, role and doc, and the row field it holds.
struct Column<Row>: Sendable {
    let name: String
    let role: ColumnRole
    /// One line: what the column holds, with its unit.
    let doc: String
    /// The SQL after the name in CREATE TABLE, e.g. `REAL` or `INTEGER NOT NULL CHECK (step >= 0)`.
    let declaration: String
    let write: @Sendable (Row, inout RowBinder) -> Void
    let read: @Sendable (inout Row, inout RowReader) -> Void

    /// The column `name` holding the row's field at `field`.
    init<Value: ColumnValue>(_ name: String, _ field: WritableKeyPath<Row, Value> & Sendable,
                             _ role: ColumnRole = .value, doc: String) {
        self.name = name
        self.role = role
        self.doc = doc
        let type = Value.sqlType
        switch role {
        case .value: declaration = type
        case .key: declaration = type == "INTEGER" ? "\(type) NOT NULL CHECK (\(name) >= 0)" : "\(type) NOT NULL"
        case .signedKey: declaration = "\(type) NOT NULL"
        case .required(let check): declaration = "\(type) NOT NULL CHECK (\(check))"
        }
        write = { row, w in row[keyPath: field].bind(&w) }
        read = { row, r in row[keyPath: field] = Value.read(&r) }
    }

    var isKey: Bool {
        switch role {
        case .key, .signedKey: return true
        case .value, .required: return false
        }
    }
}

/// A per-run row table: every column after `run_id`, and the SQL derived from them.
struct RowTable<Row>: Sendable {
    let name: String
    /// Every column after `run_id`, in the order `write` binds and `read` reads.
    let columns: [Column<Row>]
    /// `CREATE TABLE` of the table: `run_id` referencing `runs`, the columns, the primary key
    /// (run_id and the key columns, in order), WITHOUT ROWID.
    let create: String
    /// `INSERT OR REPLACE INTO table (run_id, columns...) VALUES (?, ...)`.
    let insert: String
    /// `SELECT columns... FROM table WHERE run_id = ?1`; callers append filters and ORDER BY.
    let select: String

    init(_ name: String, _ columns: [Column<Row>]) {
        self.name = name
        self.columns = columns
        let names = columns.map(\.name)
        precondition(Set(names).count == names.count, "table \(name) declares a column twice")
        let list = names.joined(separator: ", ")
        let marks = Array(repeating: "?", count: columns.count + 1).joined(separator: ", ")
        insert = "INSERT OR REPLACE INTO \(name) (run_id, \(list)) VALUES (\(marks))"
        select = "SELECT \(list) FROM \(name) WHERE run_id = ?1"
        let width = max(6, names.map(\.count).max() ?? 0)
        func pad(_ s: String) -> String { s + String(repeating: " ", count: width - s.count) }
        let lines = ["\(pad("run_id")) INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE"]
            + columns.map { "\(pad($0.name)) \($0.declaration)" }
            + ["PRIMARY KEY (" + (["run_id"] + columns.filter(\.isKey).map(\.name)).joined(separator: ", ") + ")"]
        create = "CREATE TABLE \(name) (\n    " + lines.joined(separator: ",\n    ") + "\n) WITHOUT ROWID"
    }

    /// The SQL of one column added to an existing table (`ALTER TABLE ... ADD COLUMN`); only
    /// nullable value columns can be added this way.
    func addColumn(_ column: Column<Row>) -> String {
        "ALTER TABLE \(name) ADD COLUMN \(column.name) \(column.declaration)"
    }

    func write(_ row: Row, to w: inout RowBinder) {
        for column in columns { column.write(row, &w) }
    }
}

extension RowTable where Row: StoredRow {
    func read(_ r: inout RowReader) -> Row {
        var row = Row()
        for column in columns { column.read(&row, &r) }
        return row
    }
}

/// A plain row struct stored in one table under a run id.
protocol StoredRow: Sendable {
    static var table: RowTable<Self> { get }
    /// The row's step, so `record` can check every row belongs to the step it writes.
    var step: Int { get }
    /// A row of zeros, filled in by `RowTable.read`.
    init()
}

/// The table-independent part of a row table, for the schema's lists.
protocol AnyRowTable: Sendable {
    var name: String { get }
    var create: String { get }
    var columnNames: [String] { get }
    /// The ALTER TABLE statements that add the nullable columns of this declaration missing
    /// from `existing` (the columns a database already has).
    func additions(existing: Set<String>) -> [String]
}

extension RowTable: AnyRowTable {
    var columnNames: [String] { columns.map(\.name) }

    func additions(existing: Set<String>) -> [String] {
        columns.filter { !existing.contains($0.name) }.map { column in
            guard case .value = column.role else {
                preconditionFailure("column \(name).\(column.name) is NOT NULL; add it with a migration step")
            }
            return addColumn(column)
        }
    }
}
