import Foundation
import LabRecords

/// The routing-over-training report of one run (`longcat-lab churn`): churn per layer between
/// consecutive evaluations, when each layer's routing freezes, and whether the tokens that
/// change allocation are the ones whose loss changes. Read from `routing_traces`.
public struct ChurnReport: Sendable, Codable {
    public var run: String
    /// Distinct traced tokens, layers, and evaluation steps in the records.
    public var tracedTokens: Int
    public var layers: Int
    public var evaluations: [Int]
    public var tolerance: Double
    public var resamples: Int
    public var churn: [ChurnPoint]
    public var freezes: [RoutingFreeze]
    public var lossChanges: [AllocationLossChange]

    /// The report of `traceRows` (one run's `routing_traces`).
    public init(run: String, traceRows: [RoutingTraceRow], tolerance: Double, resamples: Int) {
        let traces = RoutingTraces(traceRows)
        self.run = run
        tracedTokens = Set(traceRows.map { TracedToken(sequence: $0.sequence, position: $0.position) }).count
        layers = traces.layers.count
        evaluations = traces.steps
        self.tolerance = tolerance
        self.resamples = resamples
        churn = routingChurn(traces)
        freezes = RoutingFreeze.perLayer(churn, tolerance: tolerance)
        lossChanges = allocationLossChanges(traces, resamples: resamples)
    }

    /// Reads run `name`'s traces from `store`; throws when the run is unknown or has fewer than
    /// two traced evaluations.
    public init(store: RecordStore, run name: String, tolerance: Double, resamples: Int) throws {
        guard let run = try store.run(named: name) else {
            throw AnalysisError("no run '\(name)' in \(store.path); `longcat-lab runs --db \(store.path)` lists them")
        }
        let rows = try store.routingTraces(runID: run.id)
        self.init(run: name, traceRows: rows, tolerance: tolerance, resamples: resamples)
        guard evaluations.count >= 2 else {
            throw AnalysisError("""
                run '\(name)' has routing traces at \(evaluations.count) evaluation(s); churn needs two or more \
                (train.trace_tokens > 0 and train.eval_interval below train.steps; runs recorded before schema \
                version 4 have none)
                """)
        }
    }

    /// The report in `format`.
    public func rendered(_ format: TableFormat) -> String {
        switch format {
        case .md: return markdown
        case .csv: return csv
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
        }
    }

    /// The lines above the tables.
    public var notes: [String] {
        ["run \(run): \(tracedTokens) traced validation tokens, \(layers) MoE layers, evaluations at steps "
            + evaluations.map(String.init).joined(separator: ", "),
         "churn: mean Jaccard distance of a token's FFN expert set between consecutive evaluations (0 = same set, "
            + "1 = disjoint; zero experts left out)",
         "frozen from: the first evaluation after which the layer's churn stays below the tolerance "
            + String(format: "%g", tolerance) + "; 'not frozen' when the last churn is not below it",
         "|loss change|: mean |loss(to) - loss(from)| (nats) of tokens whose FFN expert count changed in some layer "
            + "(changed) and of the others; difference with a 95% percentile bootstrap over tokens (\(resamples) resamples)"]
    }

    var churnTable: [[String]] {
        [["layer", "from", "to", "churn", "tokens"]]
            + churn.map { ["\($0.layer)", "\($0.from)", "\($0.to)", String(format: "%.4f", $0.churn), "\($0.tokens)"] }
    }

    var freezeTable: [[String]] {
        [["layer", "tolerance", "frozen from"]]
            + freezes.map { ["\($0.layer)", String(format: "%g", $0.tolerance), $0.step.map(String.init) ?? "not frozen"] }
    }

    var lossTable: [[String]] {
        func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "" }
        return [["from", "to", "changed", "unchanged", "abs dloss changed", "abs dloss unchanged", "difference", "low", "high"]]
            + lossChanges.map { c in
                [c.from.map(String.init) ?? "all", c.to.map(String.init) ?? "all", "\(c.changed)", "\(c.unchanged)",
                 f(c.changedMean), f(c.unchangedMean), f(c.difference), f(c.low), f(c.high)]
            }
    }

    public var markdown: String {
        notes.map { "- " + $0 }.joined(separator: "\n")
            + "\n\nRouting churn per layer\n\n" + markdownTable(churnTable)
            + "\nRouting freeze\n\n" + markdownTable(freezeTable)
            + "\nLoss change of tokens that changed allocation\n\n" + markdownTable(lossTable)
    }

    /// Three CSV tables, each headed by a `# name` line, separated by blank lines.
    public var csv: String {
        [("churn", churnTable), ("freeze", freezeTable), ("loss_change", lossTable)].map { name, rows in
            "# \(name)\n" + rows.map { $0.joined(separator: ",") }.joined(separator: "\n")
        }.joined(separator: "\n\n") + "\n"
    }
}
