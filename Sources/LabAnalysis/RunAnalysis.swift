import LabRecords

/// One run's final-window numbers, read from the records: the numbers every report prints for
/// a run (`show`, `compare`, `sweep --report`), so they cannot disagree.
public struct RunAnalysis: Sendable {
    /// One MoE layer over the final window.
    public struct Layer: Sendable, Equatable {
        public var layer: Int
        /// Mean over the window of the per-step mean FFN experts per token (`layer_steps`).
        public var ffnExperts: Double
        /// Mean over the window of the recorded per-step MaxVio (`layer_steps.max_vio`).
        public var maxVio: Double
        /// Per-step and windowed balance of the FFN experts' loads (`expert_steps.tokens`); nil
        /// when no expert rows were recorded in the window.
        public var stability: LoadStability?
    }

    public var id: Int64
    public var name: String
    public var config: RunConfig
    /// `train.seed`, else the run row's seed.
    public var seed: Int?
    public var status: RunStatus
    /// Recorded steps, and the final window over them (nil before the first step).
    public var stepsRecorded: Int
    public var window: ClosedRange<Int>?
    /// Mean LM loss over the final window.
    public var trainLoss: Double?
    /// The last validation loss and its step.
    public var evalLoss: Double?
    public var evalStep: Int?
    /// Mean over the window and the layers of FFN experts per token.
    public var ffnExperts: Double?
    /// Token-weighted mean of activated parameters per token over the window (`activated_params`).
    public var activatedParams: Double?
    /// Mean recorded MaxVio over the window and the layers.
    public var maxVio: Double?
    public var layers: [Layer] = []
    /// When the per-step mean FFN experts per token (over layers) settled at K_e, by
    /// `Settling.standard` (printed with it); nil when it never did or K_e is unknown.
    public var settlingStep: Int?
    /// A loss (total, LM or validation) was recorded as NaN or infinite.
    public var diverged = false

    /// K_e per layer from the config (K when no target is set); nil when the config lacks it.
    public var targetFfnExperts: Double? { config.targetFFNExperts }

    /// The largest |layer mean - K_e| / K_e over the layers; nil without layers or K_e.
    public var budgetError: Double? {
        guard let ke = targetFfnExperts, ke > 0, !layers.isEmpty else { return nil }
        return layers.map { abs($0.ffnExperts - ke) / ke }.max()
    }

    /// Reads run `name`; nil when `store` has no such run. `definition` is the final window
    /// (the lab's one definition unless a test says otherwise), `settling` the settling rule,
    /// `thresholds` decide `oscillating`.
    public static func load(_ name: String, from store: RecordStore, definition: FinalWindow = .standard,
                            settling: Settling = .standard, thresholds: LoadStability.Thresholds = .standard) throws -> RunAnalysis? {
        guard let row = try store.run(named: name) else { return nil }
        let config = RunConfig(toml: row.configTOML ?? "")
        var a = RunAnalysis(id: row.id, name: row.name, config: config, seed: config.seed ?? row.seed,
                            status: row.status, stepsRecorded: 0)
        let steps = try store.steps(runID: row.id)
        a.stepsRecorded = steps.count
        a.diverged = steps.contains { !$0.loss.isFinite || !$0.lmLoss.isFinite || $0.evalLoss.map { !$0.isFinite } ?? false }
        if let lastEval = steps.last(where: { $0.evalLoss != nil }) {
            a.evalLoss = lastEval.evalLoss
            a.evalStep = lastEval.step
        }
        guard let window = definition.range(of: steps.map(\.step)) else { return a }
        a.window = window
        a.trainLoss = mean(steps.filter { window.contains($0.step) }.map(\.lmLoss))

        let allLayerRows = try store.layerSteps(runID: row.id)
        if let ke = config.targetFFNExperts {
            let byStep = Dictionary(grouping: allLayerRows, by: \.step)
            let series = byStep.keys.sorted().map { (step: $0, value: mean(byStep[$0]!.map(\.ffnExpertsMean)) ?? .nan) }
            a.settlingStep = settling.step(of: series, target: ke)
        }
        let layerRows = allLayerRows.filter { window.contains($0.step) }
        a.ffnExperts = mean(layerRows.map(\.ffnExpertsMean))
        a.maxVio = mean(layerRows.map(\.maxVio))
        let loads = try expertLoads(store, runID: row.id, window: window)
        for (layer, rows) in Dictionary(grouping: layerRows, by: \.layer).sorted(by: { $0.key < $1.key }) {
            let stability = loads[layer].flatMap { $0.isEmpty || $0[0].isEmpty ? nil : LoadStability(loads: $0, thresholds: thresholds) }
            a.layers.append(Layer(layer: layer, ffnExperts: mean(rows.map(\.ffnExpertsMean)) ?? .nan,
                                  maxVio: mean(rows.map(\.maxVio)) ?? .nan, stability: stability))
        }
        a.activatedParams = meanActivatedParams(try store.activatedParams(runID: row.id, steps: window))
        return a
    }

    /// The FFN experts' loads of every layer over `window`: `[layer: [step][expert]]`, steps
    /// that recorded every expert of the layer only.
    static func expertLoads(_ store: RecordStore, runID: Int64, window: ClosedRange<Int>) throws -> [Int: [[Double]]] {
        var out: [Int: [[Double]]] = [:]
        for step in window {
            let rows = try store.expertSteps(runID: runID, step: step).filter { !$0.isZero }
            for (layer, experts) in Dictionary(grouping: rows, by: \.layer) {
                let ordered = experts.sorted { $0.expert < $1.expert }.map { Double($0.tokens) }
                if let first = out[layer]?.first, first.count != ordered.count { continue }
                out[layer, default: []].append(ordered)
            }
        }
        return out
    }
}

/// Token-weighted mean of activated parameters per token over `rows`; nil without tokens.
public func meanActivatedParams(_ rows: [ActivatedParamsRow]) -> Double? {
    let tokens = rows.reduce(0) { $0 + $1.tokens }
    guard tokens > 0 else { return nil }
    return rows.reduce(0.0) { $0 + Double($1.tokens) * Double($1.activatedParams) } / Double(tokens)
}
