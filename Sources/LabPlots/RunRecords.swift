import LabRecords

/// One run's rows as the figures need them, each read with one query; an empty table throws a
/// `PlotError` naming the run and the table, so a figure is never drawn from nothing.
struct RunRecords {
    let store: RecordStore
    let run: PlotRun

    /// `steps` rows, by step.
    func steps() throws -> [StepRow] {
        try nonEmpty(store.steps(runID: run.id), "steps")
    }

    /// `layer_steps` rows, by step then layer (only `layer` when given).
    func layers(_ layer: Int? = nil) throws -> [LayerStepRow] {
        let rows = try store.layerSteps(runID: run.id, layer: layer)
        if rows.isEmpty, let layer, try !store.layerSteps(runID: run.id).isEmpty {
            throw PlotError("run '\(run.name)' has no layer \(layer); its layers are 0...\(try layerCount() - 1)")
        }
        return try nonEmpty(rows, "layer_steps")
    }

    /// The number of MoE layers the run recorded.
    func layerCount() throws -> Int {
        let rows = try store.query("SELECT MAX(layer) FROM layer_steps WHERE run_id = ?1", [.integer(run.id)])
        return (rows.first?.first?.int).map { $0 + 1 } ?? 0
    }

    /// A per-expert column of one layer over every step: one series per expert, by expert.
    func expertSeries(layer: Int, column: String) throws -> [(expert: Int, isZero: Bool, points: [(step: Int, value: Double)])] {
        let rows = try store.query("""
            SELECT expert, is_zero, step, \(column) FROM expert_steps
            WHERE run_id = ?1 AND layer = ?2 ORDER BY expert, step
            """, [.integer(run.id), .integer(Int64(layer))])
        if rows.isEmpty { try checkLayer(layer, table: "expert_steps") }
        var series: [(expert: Int, isZero: Bool, points: [(step: Int, value: Double)])] = []
        for r in rows {
            let e = r[0].int ?? 0
            if series.last?.expert != e { series.append((e, r[1].int == 1, [])) }
            series[series.count - 1].points.append((r[2].int ?? 0, r[3].double ?? .nan))
        }
        return series
    }

    /// Load shares of one step: `[layer][expert]`, and which experts are zero experts.
    func loadShares(step: Int) throws -> (shares: [[Double]], isZero: [Bool]) {
        let rows = try store.expertSteps(runID: run.id, step: step)
        guard !rows.isEmpty else {
            let last = try lastStep(table: "expert_steps")
            throw PlotError("run '\(run.name)' has no expert_steps rows at step \(step); its last recorded step is \(last)")
        }
        let layers = (rows.map(\.layer).max() ?? 0) + 1, experts = (rows.map(\.expert).max() ?? 0) + 1
        var shares = [[Double]](repeating: [Double](repeating: .nan, count: experts), count: layers)
        var isZero = [Bool](repeating: false, count: experts)
        for r in rows { shares[r.layer][r.expert] = r.loadShare; isZero[r.expert] = r.isZero }
        return (shares, isZero)
    }

    /// Activated-parameter rows in `window` (every step when nil).
    func activatedParams(_ window: ClosedRange<Int>? = nil) throws -> [ActivatedParamsRow] {
        let rows = try store.activatedParams(runID: run.id, steps: window)
        if rows.isEmpty, let window, try !store.activatedParams(runID: run.id).isEmpty {
            throw PlotError("run '\(run.name)' has no activated_params rows in steps \(window.lowerBound)...\(window.upperBound)")
        }
        return try nonEmpty(rows, "activated_params")
    }

    /// Token samples of `step` (the last step that has any when nil).
    func tokenSamples(step: Int?) throws -> (step: Int, rows: [TokenSampleRow]) {
        let chosen = try step ?? lastStep(table: "token_samples")
        let rows = try store.tokenSamples(runID: run.id, step: chosen)
        if rows.isEmpty, step != nil {
            let steps = try store.query("SELECT DISTINCT step FROM token_samples WHERE run_id = ?1 ORDER BY step",
                                        [.integer(run.id)]).compactMap { $0[0].int }
            guard !steps.isEmpty else { return (chosen, try nonEmpty(rows, "token_samples")) }
            throw PlotError("run '\(run.name)' has no token_samples at step \(chosen); sampled steps: "
                            + steps.map(String.init).joined(separator: ", "))
        }
        return (chosen, rows)
    }

    /// `variance_stats` rows, by step, layer, module, statistic.
    func variance() throws -> [VarianceRow] {
        try nonEmpty(store.varianceStats(runID: run.id), "variance_stats")
    }

    /// The largest step of `table` for this run; throws when the table holds none.
    func lastStep(table: String) throws -> Int {
        let rows = try store.query("SELECT MAX(step) FROM \(table) WHERE run_id = ?1", [.integer(run.id)])
        guard let step = rows.first?.first?.int else { throw empty(table) }
        return step
    }

    private func checkLayer(_ layer: Int, table: String) throws {
        let count = try layerCount()
        if count > 0 && layer >= count {
            throw PlotError("run '\(run.name)' has no layer \(layer); its layers are 0...\(count - 1)")
        }
        throw empty(table)
    }

    private func nonEmpty<T>(_ rows: [T], _ table: String) throws -> [T] {
        guard !rows.isEmpty else { throw empty(table) }
        return rows
    }

    func empty(_ table: String) -> PlotError {
        PlotError("run '\(run.name)' has no rows in table \(table) of \(store.path); nothing to draw "
                  + "(a run trained with --no-record, or by a build that does not record \(table), has none)")
    }
}
