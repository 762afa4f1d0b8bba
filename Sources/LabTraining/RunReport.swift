import Foundation
import LabAnalysis
import LabConfig
import LabRecords

/// What `longcat-lab show RUN` prints: a run's config, final losses, how closely each layer's
/// mean number of FFN experts per token held K_e over the final window (`FinalWindow.standard`,
/// the one every report uses), load balance and its stability per layer, telemetry,
/// throughput and checkpoints, all read from the records database.
public struct RunReport: Sendable {
    /// One layer over a window of steps (`layer_steps` rows).
    public struct LayerWindow: Sendable, Equatable {
        public var layer: Int
        /// Steps in the window with a row.
        public var steps: Int
        /// Mean over the window of the per-step mean FFN experts per token.
        public var ffnMean: Double
        /// Population standard deviation, minimum and maximum of the per-step means.
        public var ffnStepSD: Double
        public var ffnMin: Double
        public var ffnMax: Double
        /// Mean over the window of the per-step spread across tokens (`ffn_experts_std`).
        public var tokenSpread: Double
        public var maxVio: Double
        public var zeroExpertShare: Double
    }

    /// The newest R_g and router similarity of one layer.
    public struct Telemetry: Sendable, Equatable {
        public var layer: Int
        public var step: Int
        public var gradNormRatio: Double?
        public var routerSimilarity: Double?
    }

    public var run: RunRow
    /// The stored config, parsed; nil when it no longer parses (then only its text is shown).
    public var config: LabConfig?
    public var summary: RunSummaryRow
    /// The last `steps` row.
    public var last: StepRow?
    /// Step and value of the last evaluation.
    public var lastEval: (step: Int, loss: Double)?
    /// The final-window numbers every report shares (window, losses, FFN experts, activated
    /// parameters, per-layer stability), from LabAnalysis.
    public var analysis: RunAnalysis?
    /// The final window, and as many steps at the start (for MaxVio's trend).
    public var window: ClosedRange<Int>? { analysis?.window }
    public var earlyWindow: ClosedRange<Int>?
    /// Per layer over `window`, and over `earlyWindow` (for MaxVio's trend).
    public var layers: [LayerWindow] = []
    public var earlyLayers: [LayerWindow] = []
    public var telemetry: [Telemetry] = []
    /// Recording time over step time, summed over the run (`record_ms / step_ms`).
    public var recordShare: Double?
    public var checkpoints: [CheckpointRow] = []
    /// Per layer, the loop-gain estimate over the last `loopGainWindow` steps when they have
    /// expert rows on consecutive steps (`LoopGain`); empty otherwise.
    public var loopGain: [(layer: Int, estimate: LoopGain)] = []
    /// Steps per loop-gain window.
    public static let loopGainWindow = 200
    /// Routing churn per layer between consecutive traced evaluations (`routing_traces`,
    /// `train.trace_tokens`), with the freeze at `RoutingFreeze.standardTolerance`; empty
    /// without two traced evaluations. `longcat-lab churn` adds the loss-change bootstrap.
    public var churn: [ChurnPoint] = []
    public var freezes: [RoutingFreeze] = []

    /// K_e of the run's config.
    public var targetFfnExperts: Double? { config?.effectiveTargetFfnExperts }

    /// Reads the report of the run named `name`. Throws a `RecordsError` of kind `.unknownRun`
    /// listing the closest names when there is no such run.
    public static func load(from store: RecordStore, run name: String) throws -> RunReport {
        let all = try store.runs()
        guard let summary = all.first(where: { $0.name == name }), let run = try store.run(id: summary.id) else {
            throw RecordsError(.unknownRun, unknownRunMessage(name, among: all.map(\.name), database: store.path))
        }
        var r = RunReport(run: run, summary: summary)
        r.config = run.configTOML.flatMap { try? LabConfig.parse(text: $0, file: "runs.config_toml", overrides: []) }
        let id: SQLValue = .integer(run.id)
        let steps = try store.steps(runID: run.id).map(\.step)
        r.last = try store.steps(runID: run.id).last
        r.analysis = try RunAnalysis.load(name, from: store)
        if let step = r.analysis?.evalStep, let loss = r.analysis?.evalLoss { r.lastEval = (step, loss) }
        if let window = r.window {
            let width = steps.filter { window.contains($0) }.count
            r.earlyWindow = steps[0]...steps[min(width, steps.count) - 1]
            let rows = try store.layerSteps(runID: run.id)
            r.layers = layerWindows(rows.filter { window.contains($0.step) })
            r.earlyLayers = layerWindows(rows.filter { r.earlyWindow!.contains($0.step) })
        }
        r.telemetry = try store.query("""
            SELECT layer, step, grad_norm_ratio, router_similarity FROM layer_steps
            WHERE run_id = ?1 AND step = (SELECT MAX(step) FROM layer_steps
                                          WHERE run_id = ?1 AND router_similarity IS NOT NULL)
            ORDER BY layer
            """, [id]).map { Telemetry(layer: $0[0].int ?? 0, step: $0[1].int ?? 0, gradNormRatio: $0[2].double,
                                       routerSimilarity: $0[3].double) }
        if let row = try store.query("SELECT SUM(record_ms), SUM(step_ms) FROM steps WHERE run_id = ?1", [id]).first,
           let recordMs = row[0].double, let stepMs = row[1].double, stepMs > 0 {
            r.recordShare = recordMs / stepMs
        }
        r.checkpoints = try store.checkpoints(runID: run.id)
        let traces = RoutingTraces(try store.routingTraces(runID: run.id))
        if traces.steps.count >= 2 {
            r.churn = routingChurn(traces)
            r.freezes = RoutingFreeze.perLayer(r.churn, tolerance: RoutingFreeze.standardTolerance)
        }
        r.loopGain = try LoopGain.windows(store, runID: run.id, windowSteps: loopGainWindow, lastOnly: true)
            .sorted { $0.key < $1.key }.compactMap { layer, windows in windows.last.map { (layer, $0) } }
        return r
    }

    private init(run: RunRow, summary: RunSummaryRow) {
        self.run = run
        self.summary = summary
    }

    /// Per-layer statistics of `layer_steps` rows (one window's), by layer. The means are
    /// LabAnalysis's over the same rows in the same order, so they equal `analysis.layers`.
    private static func layerWindows(_ rows: [LayerStepRow]) -> [LayerWindow] {
        Dictionary(grouping: rows, by: \.layer).sorted { $0.key < $1.key }.map { layer, rows in
            let ffn = rows.map(\.ffnExpertsMean)
            return LayerWindow(layer: layer, steps: rows.count, ffnMean: mean(ffn) ?? .nan,
                               ffnStepSD: populationStandardDeviation(ffn) ?? .nan, ffnMin: ffn.min() ?? .nan,
                               ffnMax: ffn.max() ?? .nan, tokenSpread: mean(rows.map(\.ffnExpertsStd)) ?? .nan,
                               maxVio: mean(rows.map(\.maxVio)) ?? .nan, zeroExpertShare: mean(rows.map(\.zeroExpertShare)) ?? .nan)
        }
    }
}

/// "no run named X in DB; closest: a, b" (or the newest runs when nothing is close).
func unknownRunMessage(_ name: String, among names: [String], database: String) -> String {
    var message = "\(database): no run named '\(name)'"
    if names.isEmpty { return message + "; the database holds no runs yet" }
    let lower = name.lowercased()
    let close = names
        .map { ($0, nameDistance(lower, $0.lowercased())) }
        .filter { candidate, distance in
            distance <= max(2, name.count / 3) || candidate.lowercased().contains(lower)
                || (lower.count >= 3 && candidate.lowercased().hasPrefix(String(lower.prefix(3))))
        }
        .sorted { $0.1 < $1.1 }
        .prefix(5).map(\.0)
    if close.isEmpty {
        message += "; newest runs: " + names.suffix(5).reversed().joined(separator: ", ")
    } else {
        message += "; did you mean " + close.joined(separator: ", ") + "?"
    }
    return message + " (longcat-lab runs --db \(database) lists them all)"
}

/// Levenshtein distance between two names.
private func nameDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var previous = Array(0...b.count), current = previous
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
