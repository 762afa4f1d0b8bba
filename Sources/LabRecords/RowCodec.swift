/// The SQL of one row table, built once from its column list so that writing and reading a row
/// use the same columns in the same order.
struct RowSQL: Sendable {
    let table: String
    /// Every column after `run_id`, in the order `StoredRow.write` binds and `init(reading:)` reads.
    let columns: [String]
    /// `INSERT OR REPLACE INTO table (run_id, columns...) VALUES (?, ...)`.
    let insert: String
    /// `SELECT columns... FROM table WHERE run_id = ?1`; callers append filters and ORDER BY.
    let select: String

    init(table: String, columns: [String]) {
        self.table = table
        self.columns = columns
        let list = columns.joined(separator: ", ")
        let marks = Array(repeating: "?", count: columns.count + 1).joined(separator: ", ")
        insert = "INSERT OR REPLACE INTO \(table) (run_id, \(list)) VALUES (\(marks))"
        select = "SELECT \(list) FROM \(table) WHERE run_id = ?1"
    }
}

/// A plain row struct stored in one table under a run id.
protocol StoredRow {
    static var sql: RowSQL { get }
    /// The row's step, so `record` can check every row belongs to the step it writes.
    var step: Int { get }
    init(reading row: inout RowReader)
    func write(to row: inout RowBinder)
}

/// Binds a row's values to consecutive parameters, starting after `run_id`.
struct RowBinder {
    let statement: Statement
    var index: Int32 = 2

    mutating func add(_ value: Int) { statement.bind(Int64(value), at: index); index += 1 }
    mutating func add(_ value: Int64) { statement.bind(value, at: index); index += 1 }
    mutating func add(_ value: Bool) { add(value ? 1 : 0) }
    /// NaN is stored as NULL by SQLite and reads back as NaN.
    mutating func add(_ value: Double) { statement.bind(value, at: index); index += 1 }
    mutating func add(_ value: String) { statement.bind(value, at: index); index += 1 }

    mutating func add(_ value: Int?) {
        if let value { add(value) } else { addNull() }
    }

    mutating func add(_ value: Double?) {
        if let value { add(value) } else { addNull() }
    }

    mutating func add(_ value: String?) {
        if let value { add(value) } else { addNull() }
    }

    mutating func addNull() { statement.bindNull(at: index); index += 1 }
}

/// Reads a row's columns in order, starting at column 0.
struct RowReader {
    let statement: Statement
    var index: Int32 = 0

    mutating func int() -> Int { defer { index += 1 }; return Int(statement.int64(index)) }
    mutating func int64() -> Int64 { defer { index += 1 }; return statement.int64(index) }
    mutating func bool() -> Bool { int() != 0 }
    mutating func string() -> String { defer { index += 1 }; return statement.text(index) }

    /// A REAL column; NULL (how SQLite stores NaN) reads as NaN.
    mutating func double() -> Double {
        defer { index += 1 }
        return statement.isNull(index) ? .nan : statement.double(index)
    }

    mutating func optionalInt() -> Int? {
        defer { index += 1 }
        return statement.isNull(index) ? nil : Int(statement.int64(index))
    }

    mutating func optionalDouble() -> Double? {
        defer { index += 1 }
        return statement.isNull(index) ? nil : statement.double(index)
    }

    mutating func optionalString() -> String? {
        defer { index += 1 }
        return statement.isNull(index) ? nil : statement.text(index)
    }
}
