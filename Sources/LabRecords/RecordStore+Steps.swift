import CSQLite
import Foundation

/// Writing one step's rows, and reading them back.
extension RecordStore {
    /// Writes every row of one step in ONE transaction, replacing rows with the same keys.
    ///
    /// Either the whole step is stored or none of it: a failing row (a constraint, a full disk,
    /// a killed process) rolls the step back and leaves earlier steps intact. When
    /// `record.step.recordMs` is nil, the steps row stores the milliseconds this call spent
    /// before writing it (validation, lock wait, the other rows; not the commit).
    public func record(_ record: StepRecord) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        try validate(record)
        let doing = { (c: Connection) in
            "writing step \(record.step.step) of \(Self.runLabel(c, record.runID))"
        }
        try withConnection(doing) { c in
            try Self.transaction(c) { c in
                try Self.insert(record.layers, runID: record.runID, c)
                try Self.insert(record.experts, runID: record.runID, c)
                try Self.insert(record.activatedParams, runID: record.runID, c)
                try Self.insert(record.tokenSamples, runID: record.runID, c)
                try Self.insert(record.variance, runID: record.runID, c)
                try Self.insert(record.evalByLabel, runID: record.runID, c)
                try Self.insert(record.routingTraces, runID: record.runID, c)
                var step = record.step
                if step.recordMs == nil {
                    step.recordMs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                }
                try Self.insert(step, runID: record.runID, c)
            }
        }
    }

    /// Every recorded step of the run, by step.
    public func steps(runID: Int64) throws -> [StepRow] {
        try select(StepRow.self, " ORDER BY step", [.integer(runID)], "reading steps of run \(runID)")
    }

    /// The step of the run's last `steps` row, or nil before the first.
    public func lastStep(runID: Int64) throws -> Int? {
        try withConnection("reading the last step of run \(runID)") { c in
            let s = try c.cached("SELECT MAX(step) FROM steps WHERE run_id = ?1")
            defer { s.reset() }
            s.bind(runID, at: 1)
            guard try s.step(), !s.isNull(0) else { return nil }
            return Int(s.int64(0))
        }
    }

    /// Layer rows of the run, by step then layer; only `layer` when given.
    public func layerSteps(runID: Int64, layer: Int? = nil) throws -> [LayerStepRow] {
        let doing = "reading layer rows of run \(runID)"
        guard let layer else { return try select(LayerStepRow.self, " ORDER BY step, layer", [.integer(runID)], doing) }
        return try select(LayerStepRow.self, " AND layer = ?2 ORDER BY step", [.integer(runID), .integer(Int64(layer))], doing)
    }

    /// Expert rows of one step of the run, by layer then expert.
    public func expertSteps(runID: Int64, step: Int) throws -> [ExpertStepRow] {
        try select(ExpertStepRow.self, " AND step = ?2 ORDER BY layer, expert", [.integer(runID), .integer(Int64(step))],
                   "reading expert rows of step \(step) of run \(runID)")
    }

    /// Activated-parameter rows of the run (only steps in `steps` when given), by step then
    /// number of FFN experts.
    public func activatedParams(runID: Int64, steps: ClosedRange<Int>? = nil) throws -> [ActivatedParamsRow] {
        let doing = "reading activated parameters of run \(runID)"
        guard let steps else {
            return try select(ActivatedParamsRow.self, " ORDER BY step, ffn_experts", [.integer(runID)], doing)
        }
        return try select(ActivatedParamsRow.self, " AND step BETWEEN ?2 AND ?3 ORDER BY step, ffn_experts",
                          [.integer(runID), .integer(Int64(steps.lowerBound)), .integer(Int64(steps.upperBound))], doing)
    }

    /// Token samples of one step of the run, by sample, position, layer.
    public func tokenSamples(runID: Int64, step: Int) throws -> [TokenSampleRow] {
        try select(TokenSampleRow.self, " AND step = ?2 ORDER BY sample, position, layer",
                   [.integer(runID), .integer(Int64(step))], "reading token samples of step \(step) of run \(runID)")
    }

    /// Variance statistics of the run, by step, layer, module, statistic.
    public func varianceStats(runID: Int64) throws -> [VarianceRow] {
        try select(VarianceRow.self, " ORDER BY step, layer, module, statistic", [.integer(runID)],
                   "reading variance statistics of run \(runID)")
    }

    /// Per-label evaluation losses of the run (only `step` when given), by step then label.
    public func evalByLabel(runID: Int64, step: Int? = nil) throws -> [EvalLabelRow] {
        let doing = "reading per-label evaluation losses of run \(runID)"
        guard let step else { return try select(EvalLabelRow.self, " ORDER BY step, label", [.integer(runID)], doing) }
        return try select(EvalLabelRow.self, " AND step = ?2 ORDER BY label", [.integer(runID), .integer(Int64(step))], doing)
    }

    // MARK: helpers

    /// Throws `.invalidInput` unless every row belongs to the record's step.
    private func validate(_ record: StepRecord) throws {
        let step = record.step.step
        func check<Row: StoredRow>(_ rows: [Row], _ kind: String) throws {
            if let stray = rows.first(where: { $0.step != step }) {
                throw RecordsError(.invalidInput, """
                    \(path): the record of step \(step) of run \(record.runID) holds a \(kind) row of step \(stray.step)
                    """)
            }
        }
        try check(record.layers, "layer")
        try check(record.experts, "expert")
        try check(record.activatedParams, "activated-parameters")
        try check(record.tokenSamples, "token-sample")
        try check(record.variance, "variance")
        try check(record.evalByLabel, "per-label evaluation")
        try check(record.routingTraces, "routing-trace")
    }

    static func insert<Row: StoredRow>(_ rows: [Row], runID: Int64, _ c: Connection) throws {
        guard !rows.isEmpty else { return }
        let s = try c.cached(Row.table.insert)
        for row in rows { try insert(row, runID: runID, s) }
    }

    static func insert<Row: StoredRow>(_ row: Row, runID: Int64, _ c: Connection) throws {
        try insert(row, runID: runID, c.cached(Row.table.insert))
    }

    private static func insert<Row: StoredRow>(_ row: Row, runID: Int64, _ s: Statement) throws {
        s.bind(runID, at: 1)
        var binder = RowBinder(statement: s)
        Row.table.write(row, to: &binder)
        try s.run()
    }

    /// Rows of `Row`'s table for a run: `Row.table.select` (`WHERE run_id = ?1`) + `tail`.
    func select<Row: StoredRow>(_ type: Row.Type, _ tail: String, _ args: [SQLValue], _ doing: String) throws -> [Row] {
        try withConnection(doing) { c in
            let s = try c.cached(Row.table.select + tail)
            defer { s.reset() }
            for (i, arg) in args.enumerated() { s.bind(arg, at: Int32(i + 1)) }
            var rows: [Row] = []
            while try s.step() {
                var reader = RowReader(statement: s)
                rows.append(Row.table.read(&reader))
            }
            return rows
        }
    }

    /// "run 'name'" for messages, or "run id N" when the run cannot be read (never throws).
    static func runLabel(_ c: Connection, _ id: Int64) -> String {
        switch Result(catching: { try runRow(c, where: "run_id = ?1", .integer(id)) }) {
        case .success(let run?): return "run '\(run.name)'"
        case .success(nil): return "run id \(id) (no such run)"
        case .failure: return "run id \(id)"
        }
    }
}
