import CSQLite
import Foundation

/// A failed SQLite call: its extended result code and SQLite's own message. `RecordStore`
/// turns it into a `RecordsError` that names the database and what the store was doing.
struct SQLiteFailure: Error {
    let code: Int32
    let message: String

    /// The primary result code (SQLITE_BUSY, SQLITE_FULL, ...) without the extended bits.
    var primary: Int32 { code & 0xff }
}

/// SQLite's SQLITE_TRANSIENT: "copy the bound buffer now", so bound Swift strings may be temporaries.
private var sqliteTransient: sqlite3_destructor_type {
    unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// One open SQLite connection with a cache of prepared statements keyed by their SQL.
///
/// Not thread-safe on its own; `RecordStore` serialises every use behind its lock.
final class Connection {
    let handle: OpaquePointer
    private var cache: [String: Statement] = [:]
    private(set) var isOpen = true

    /// Opens (creating if needed) the database file; nothing is read until the first statement.
    init(path: String) throws {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw SQLiteFailure(code: rc, message: message)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { close() }

    /// Finalises the cached statements and closes the connection (idempotent).
    func close() {
        guard isOpen else { return }
        isOpen = false
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// The connection's last error.
    func failure() -> SQLiteFailure {
        SQLiteFailure(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }

    /// Runs SQL without results (several statements allowed).
    func execute(_ sql: String) throws {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else { throw failure() }
    }

    /// True while a transaction is open (SQLite may roll back by itself on SQLITE_FULL or BUSY).
    var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Rolls back the open transaction, if any; used on error paths, so it never throws.
    func rollbackIfNeeded() {
        if inTransaction { sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
    }

    /// A prepared statement for `sql`, prepared once per connection and reused (reset) after.
    func cached(_ sql: String) throws -> Statement {
        if let statement = cache[sql] {
            statement.reset()
            return statement
        }
        let statement = try prepare(sql)
        cache[sql] = statement
        return statement
    }

    /// Prepares exactly one statement; trailing text other than whitespace and `;` is an error.
    func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        var leftover = ""
        let rc = sql.withCString { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v2(handle, text, -1, &statement, &tail)
            if let tail { leftover = String(cString: tail) }
            return rc
        }
        guard rc == SQLITE_OK else { throw failure() }
        guard let statement else {
            throw SQLiteFailure(code: SQLITE_MISUSE, message: "no SQL statement in '\(sql)'")
        }
        let rest = leftover.trimmingCharacters(in: CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: ";")))
        guard rest.isEmpty else {
            sqlite3_finalize(statement)
            throw SQLiteFailure(code: SQLITE_MISUSE, message: "only one statement at a time; found more: '\(rest)'")
        }
        return Statement(statement, connection: handle)
    }
}
/// A prepared statement: bind by 1-based index, step, read columns by 0-based index.
final class Statement {
    let handle: OpaquePointer
    private let db: OpaquePointer

    init(_ handle: OpaquePointer, connection: OpaquePointer) {
        self.handle = handle
        self.db = connection
    }

    deinit { sqlite3_finalize(handle) }

    /// Makes the statement ready to bind and run again, releasing any read snapshot it holds.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Runs one step: true when a row is ready to read, false when done.
    @discardableResult
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let failure = SQLiteFailure(code: sqlite3_extended_errcode(db), message: String(cString: sqlite3_errmsg(db)))
            sqlite3_reset(handle)
            throw failure
        }
    }

    /// Runs the statement to completion and resets it (for writes).
    func run() throws {
        defer { sqlite3_reset(handle) }
        while try step() {}
    }

    // MARK: binding (indices start at 1)

    func bind(_ value: Int64, at index: Int32) { sqlite3_bind_int64(handle, index, value) }
    func bind(_ value: Double, at index: Int32) { sqlite3_bind_double(handle, index, value) }
    func bindNull(at index: Int32) { sqlite3_bind_null(handle, index) }
    func bind(_ value: String, at index: Int32) { sqlite3_bind_text(handle, index, value, -1, sqliteTransient) }

    func bind(_ value: SQLValue, at index: Int32) {
        switch value {
        case .null: bindNull(at: index)
        case .integer(let v): bind(v, at: index)
        case .real(let v): bind(v, at: index)
        case .text(let v): bind(v, at: index)
        }
    }

    // MARK: reading (indices start at 0)

    var columnCount: Int32 { sqlite3_column_count(handle) }
    func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }
    func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }
    func double(_ index: Int32) -> Double { sqlite3_column_double(handle, index) }
    func text(_ index: Int32) -> String {
        guard let text = sqlite3_column_text(handle, index) else { return "" }
        return String(cString: text)
    }

    func value(_ index: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .integer(int64(index))
        case SQLITE_FLOAT: return .real(double(index))
        default: return .text(text(index))
        }
    }
}
