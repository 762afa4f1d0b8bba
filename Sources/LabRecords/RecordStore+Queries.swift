import CSQLite

/// The run list for the CLI, and plain SQL for analyses.
extension RecordStore {
    /// Every run, by id, with its step count, last losses and median throughput. Marks stale
    /// runs of this host interrupted first, so a killed run never shows as running.
    public func runs() throws -> [RunSummaryRow] {
        try withConnection("listing runs") { c in
            _ = try markStaleRuns(c)
            let s = try c.cached("""
                SELECT r.run_id, r.name, r.kind, r.status, r.created_at, r.finished_at,
                       (SELECT COUNT(*) FROM steps s WHERE s.run_id = r.run_id),
                       (SELECT MAX(step) FROM steps s WHERE s.run_id = r.run_id),
                       (SELECT loss FROM steps s WHERE s.run_id = r.run_id ORDER BY step DESC LIMIT 1),
                       (SELECT eval_loss FROM steps s WHERE s.run_id = r.run_id AND eval_loss IS NOT NULL
                        ORDER BY step DESC LIMIT 1)
                FROM runs r ORDER BY r.run_id
                """)
            var rows: [RunSummaryRow] = []
            while try s.step() {
                var r = RowReader(statement: s)
                rows.append(RunSummaryRow(
                    id: r.int64(), name: r.string(), kind: RunKind(rawValue: r.string()) ?? .train,
                    status: RunStatus(rawValue: r.string()) ?? .interrupted, createdAt: r.string(),
                    finishedAt: r.optionalString(), stepsRecorded: r.int(), lastStep: r.optionalInt(),
                    lastLoss: r.optionalDouble(), lastEvalLoss: r.optionalDouble(), medianTokensPerS: nil))
            }
            s.reset()
            for i in rows.indices { rows[i].medianTokensPerS = try Self.medianTokensPerS(c, runID: rows[i].id) }
            return rows
        }
    }

    /// Median of the run's non-NULL `tokens_per_s` (mean of the middle two for an even count).
    static func medianTokensPerS(_ c: Connection, runID: Int64) throws -> Double? {
        let count = try c.cached("SELECT COUNT(tokens_per_s) FROM steps WHERE run_id = ?1")
        count.bind(runID, at: 1)
        _ = try count.step()
        let n = count.int64(0)
        count.reset()
        guard n > 0 else { return nil }
        let middle = try c.cached("""
            SELECT tokens_per_s FROM steps WHERE run_id = ?1 AND tokens_per_s IS NOT NULL
            ORDER BY tokens_per_s LIMIT ?2 OFFSET ?3
            """)
        defer { middle.reset() }
        middle.bind(runID, at: 1)
        middle.bind(Int64(n % 2 == 0 ? 2 : 1), at: 2)
        middle.bind((n - 1) / 2, at: 3)
        var sum = 0.0, taken = 0.0
        while try middle.step() { sum += middle.double(0); taken += 1 }
        return sum / taken
    }

    /// Runs one SQL statement with `?` / `?N` parameters bound to `args`; returns every row.
    ///
    /// For analyses: any single statement is allowed (SELECT, PRAGMA, or a write, which
    /// commits at once). Text such as `"a; b"` holding a second statement is refused.
    public func query(_ sql: String, _ args: [SQLValue] = []) throws -> [[SQLValue]] {
        try withConnection("running query '\(sql.prefix(200))'") { c in
            let s = try c.prepare(sql)
            let expected = Int(sqlite3_bind_parameter_count(s.handle))
            guard expected == args.count else {
                throw RecordsError(.invalidInput, """
                    \(path): query '\(sql.prefix(200))' takes \(expected) parameter(s) but \(args.count) were given
                    """)
            }
            for (i, arg) in args.enumerated() { s.bind(arg, at: Int32(i + 1)) }
            var rows: [[SQLValue]] = []
            let columns = s.columnCount
            while try s.step() { rows.append((0..<columns).map { s.value($0) }) }
            return rows
        }
    }
}
