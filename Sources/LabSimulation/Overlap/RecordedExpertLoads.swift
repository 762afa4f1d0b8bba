import LabRecords

extension ExpertLoadModel {
    /// FFN-expert loads of one layer of a recorded run (`expert_steps.tokens`, zero experts
    /// left out), summed over the last `steps` recorded steps (up to `step` when given), so that
    /// the overlap model sees the imbalance a training or simulation run actually had.
    ///
    /// Throws, naming the database and run, when the run, layer or steps are missing.
    public static func recorded(store: RecordStore, run name: String, layer: Int, step: Int? = nil,
                                steps: Int = 1) throws -> ExpertLoadModel {
        guard steps >= 1 else { throw SimulationError("--load-steps = \(steps) must be at least 1") }
        guard let runID = try store.runID(named: name) else {
            throw SimulationError("\(store.path): no run named '\(name)'")
        }
        guard let last = try step ?? store.lastStep(runID: runID) else {
            throw SimulationError("\(store.path): run '\(name)' has no recorded steps")
        }
        var loads: [Int: Double] = [:]
        var stepsFound = 0
        for s in stride(from: last, through: 0, by: -1) where stepsFound < steps {
            let rows = try store.expertSteps(runID: runID, step: s).filter { $0.layer == layer && !$0.isZero }
            if rows.isEmpty { continue }
            stepsFound += 1
            for row in rows { loads[row.expert, default: 0] += Double(row.tokens) }
        }
        guard stepsFound > 0 else {
            throw SimulationError("\(store.path): run '\(name)' has no expert rows of layer \(layer) at or before step \(last)")
        }
        let experts = loads.keys.sorted()
        guard experts == Array(0..<experts.count) else {
            throw SimulationError("\(store.path): run '\(name)' layer \(layer): FFN expert rows are not numbered 0..<N")
        }
        return .recorded(loads: experts.map { loads[$0]! },
                         source: "\(store.path) run '\(name)' layer \(layer), \(stepsFound) step(s) to \(last)")
    }
}
