import CSQLite
import Foundation

/// The lab's SQLite records store: runs, and what the router did at every step.
///
/// One `RecordStore` owns one connection, opened in WAL mode with foreign keys on and a 10 s
/// busy timeout, so several processes (or several stores in one process) can write one database
/// at once: each write transaction waits for the others instead of failing. Every write takes
/// the write lock up front (`BEGIN IMMEDIATE`), so a waiting writer never hits a stale snapshot.
///
/// Writes are synchronous: a step of 2 layers x 48 experts costs well under a millisecond
/// (see the test log), so there is no writer thread and nothing to flush; when `record`
/// returns, the step is committed. `synchronous = NORMAL` keeps WAL commits atomic when the
/// process is killed (a power cut may lose the last few steps, never half of one).
///
/// Thread-safe: a lock serialises the methods, so e.g. `finishRun` from a signal-handling queue
/// waits for a step transaction in flight on the training thread.
public final class RecordStore: @unchecked Sendable {
    /// The database path as given; every error message starts with it.
    public let path: String
    /// How long a writer waits for another connection's write lock before failing.
    public static let busyTimeoutSeconds = 10

    private let lock = NSLock()
    /// nil once closed.
    private var connection: Connection?
    /// Set when opening upgraded an older database (its message is also printed on stderr).
    public private(set) var upgrade: SchemaUpgrade?

    /// Opens the database at `path`, creating the parent directory and, for a new or empty file,
    /// the schema. Marks runs of this host whose process has died as interrupted.
    ///
    /// A database of an older schema version is upgraded in place after a copy of it is written
    /// next to it (`upgrade` says where; see `Migration`).
    ///
    /// Throws `RecordsError` when the file is not SQLite, is SQLite without the lab's tables, or
    /// was written by a newer schema version, or needs an upgrade while one of its runs is still
    /// running.
    public init(path: String) throws {
        self.path = path
        try createParentDirectory()
        let c: Connection
        do { c = try Connection(path: path) } catch { throw failure(error, "opening the database") }
        sqlite3_busy_timeout(c.handle, Int32(Self.busyTimeoutSeconds * 1000))
        do {
            try Self.retryingWhileBusy {
                try openSchema(c)
                try c.execute("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL")
            }
        } catch {
            c.close()
            throw failure(error, "opening the database")
        }
        connection = c
        try markStaleRunsInterrupted()
        // Prepared now so that finishing a run (possibly on the way out after a signal) never
        // has to compile SQL.
        try withConnection("preparing statements") { c in _ = try c.cached(Self.finishSQL) }
    }

    deinit { connection?.close() }

    /// Closes the connection; later calls throw a `.closed` error. Every recorded step is
    /// already committed, so nothing is lost.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        connection?.close()
        connection = nil
    }

    // MARK: running SQL under the lock

    /// Runs `body` with the connection under the lock; on any error rolls back an open
    /// transaction and rethrows as a `RecordsError` that names the file and `doing`.
    func withConnection<T>(_ doing: @autoclosure () -> String, _ body: (Connection) throws -> T) throws -> T {
        try withConnection({ _ in doing() }, body)
    }

    /// As above, with a description that may look things up (e.g. the run's name) after rollback.
    func withConnection<T>(_ doing: (Connection) -> String, _ body: (Connection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        guard let c = connection else {
            throw RecordsError(.closed, "\(path): the store is closed")
        }
        do {
            return try body(c)
        } catch {
            c.rollbackIfNeeded()
            throw failure(error, doing(c))
        }
    }

    /// Runs `body` in one write transaction (`BEGIN IMMEDIATE` ... `COMMIT`), rolled back on error.
    func writing<T>(_ doing: @autoclosure () -> String, _ body: (Connection) throws -> T) throws -> T {
        try withConnection(doing()) { c in try Self.transaction(c, body) }
    }

    static func transaction<T>(_ c: Connection, _ body: (Connection) throws -> T) throws -> T {
        try c.execute("BEGIN IMMEDIATE")
        do {
            let result = try body(c)
            try c.execute("COMMIT")
            return result
        } catch {
            c.rollbackIfNeeded()
            throw error
        }
    }

    /// Turns a failure into a `RecordsError` naming `file` (the store's own by default).
    func failure(_ error: Error, _ doing: String, file: String? = nil) -> RecordsError {
        if let error = error as? RecordsError { return error }
        let file = file ?? path
        guard let f = error as? SQLiteFailure else {
            return RecordsError(.other, "\(file): \(doing) failed: \(error)")
        }
        switch f.primary {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return RecordsError(.locked, "\(file): database is locked after \(Self.busyTimeoutSeconds) s while \(doing)",
                                sqliteCode: f.code)
        case SQLITE_FULL:
            return RecordsError(.diskFull, "\(file): disk full while \(doing); the transaction was rolled back",
                                sqliteCode: f.code)
        case SQLITE_NOTADB:
            return RecordsError(.notALabDatabase, "\(file): not a lab database: not an SQLite file (\(f.message))",
                                sqliteCode: f.code)
        case SQLITE_CONSTRAINT:
            return RecordsError(.constraint, "\(file): \(doing) failed: \(f.message)", sqliteCode: f.code)
        default:
            return RecordsError(.other, "\(file): \(doing) failed: \(f.message)", sqliteCode: f.code)
        }
    }

    // MARK: opening

    private func createParentDirectory() throws {
        guard path != ":memory:" else { return }
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RecordsError(.other, "\(path): cannot create directory '\(directory)': \(error.localizedDescription)")
        }
    }

    /// Runs `body` again while it fails with SQLITE_BUSY, for up to the busy timeout.
    ///
    /// The busy handler does not cover opening a fresh file: switching the journal to WAL, or
    /// upgrading the read that found no tables to a write, fails at once with SQLITE_BUSY when
    /// another connection is doing the same (SQLite refuses to wait where waiting could
    /// deadlock). Opening is idempotent, so the whole step is simply retried.
    static func retryingWhileBusy(_ body: () throws -> Void) throws {
        let deadline = Date().addingTimeInterval(Double(busyTimeoutSeconds))
        var pause: UInt32 = 2_000
        while true {
            do {
                return try body()
            } catch let f as SQLiteFailure where f.primary == SQLITE_BUSY || f.primary == SQLITE_LOCKED {
                guard Date() < deadline else { throw f }
                usleep(pause + UInt32.random(in: 0..<pause))
                pause = min(pause * 2, 100_000)
            }
        }
    }

    /// Creates the schema in an empty database, or checks an existing one (upgrading an older
    /// version in place, after a backup), then switches to WAL. A foreign file is checked
    /// before anything is written to it.
    private func openSchema(_ c: Connection) throws {
        if try Self.tableNames(c, schema: "main").isEmpty {
            try c.execute("PRAGMA journal_mode = WAL")
            try Self.transaction(c) { c in
                // Another process may have created it while this one waited for the lock.
                if try Self.tableNames(c, schema: "main").isEmpty { try c.execute(Schema.create) }
            }
        }
        let version = try Self.checkLabSchema(c, schema: "main", file: path)
        if version < Schema.version, let done = try upgradeSchema(c, from: version) {
            upgrade = done
            FileHandle.standardError.write(Data((done.message + "\n").utf8))
        }
        if try !Self.missingColumns(c).isEmpty {
            try Self.transaction(c) { c in try Self.addMissingColumns(c) }
        }
        try c.execute("PRAGMA journal_mode = WAL")
    }

    /// The tables of an attached schema ("main" or an ATTACH alias).
    static func tableNames(_ c: Connection, schema: String) throws -> Set<String> {
        let s = try c.prepare("SELECT name FROM \(schema).sqlite_master WHERE type = 'table'")
        var names: Set<String> = []
        while try s.step() { names.insert(s.text(0)) }
        return names
    }

    /// Throws unless `schema` holds every lab table of its version and a version this build
    /// can read (its own or an older one, which `upgradeSchema` brings up to date); returns the version.
    @discardableResult
    static func checkLabSchema(_ c: Connection, schema: String, file: String) throws -> Int {
        let names = try tableNames(c, schema: schema)
        func require(_ tables: [String]) throws {
            if let missing = tables.first(where: { !names.contains($0) }) {
                throw RecordsError(.notALabDatabase, "\(file): not a lab database: table \(missing) missing")
            }
        }
        try require(["runs", "schema_version"])
        let version = try schemaVersion(c, schema: schema)
        guard version > 0 else {
            throw RecordsError(.notALabDatabase, "\(file): not a lab database: table schema_version is empty")
        }
        guard version <= Schema.version else {
            throw RecordsError(.newerSchema, """
                \(file): database schema version \(version) is newer than this build's version \
                \(Schema.version); open it with a newer longcat-lab
                """)
        }
        try require(Schema.tables(version: version))
        return version
    }
}
