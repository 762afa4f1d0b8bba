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

    /// True when the next column is NULL.
    var isNull: Bool { statement.isNull(index) }
    /// Moves past the next column without reading it.
    mutating func skip() { index += 1 }

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
