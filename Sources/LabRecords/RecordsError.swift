/// An error of the records store; its message names the database file and what failed,
/// e.g. `results/lab.sqlite: database is locked after 10 s while recording step 12 of run 'a'`.
public struct RecordsError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, for callers that react (e.g. resume on `.duplicateRun`).
    public enum Kind: Sendable, Equatable {
        /// Another connection held the write lock for longer than the busy timeout.
        case locked
        /// SQLITE_FULL: the disk (or `max_page_count`) is full; the step was rolled back.
        case diskFull
        /// The file is not SQLite, or is SQLite without the lab's tables.
        case notALabDatabase
        /// The database was written by a newer schema version than this build knows.
        case newerSchema
        /// `beginRun` with a name that is already taken.
        case duplicateRun
        /// No run with that name or id.
        case unknownRun
        /// `resumeRun` of a run whose process is still alive on this host.
        case runStillRunning
        /// A row broke a constraint (CHECK, foreign key, NOT NULL).
        case constraint
        /// A row or argument the caller built wrongly (e.g. rows of another step).
        case invalidInput
        /// The store was closed.
        case closed
        /// Anything else SQLite or the file system reported.
        case other
    }

    public let kind: Kind
    /// The full message, starting with the database path.
    public let message: String
    /// SQLite's extended result code, where SQLite failed.
    public let sqliteCode: Int32?

    public init(_ kind: Kind, _ message: String, sqliteCode: Int32? = nil) {
        self.kind = kind
        self.message = message
        self.sqliteCode = sqliteCode
    }

    public var description: String { message }
}
