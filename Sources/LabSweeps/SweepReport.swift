import Foundation
import LabRecords

/// The comparison table that ends a sweep: one row per run, then one per group of runs that
/// differ only by seed (mean ± sample standard deviation over the seeds), as Markdown.
/// Columns that no run has a value for are left out.
public struct SweepReport: Sendable {
    public let title: String
    public let runs: [SweepRun]
    public let metrics: [RunMetrics]

    /// Reads the metrics of every run of the sweep found in `store` (and the runs' newest
    /// checkpoints under `results`, when given).
    public init(title: String, runs: [SweepRun], store: RecordStore, results: String? = nil) throws {
        self.title = title
        self.runs = runs
        metrics = try runs.compactMap { try RunMetrics.measure($0, in: store, results: results) }
    }

    /// A column: header, the value of a run, its format.
    struct Column: Sendable {
        let header: String
        let value: @Sendable (RunMetrics) -> Double?
        let format: @Sendable (Double) -> String
    }

    static let columns: [Column] = [
        Column(header: "train loss", value: { $0.trainLoss }, format: { String(format: "%.4f", $0) }),
        Column(header: "val loss", value: { $0.evalLoss }, format: { String(format: "%.4f", $0) }),
        Column(header: "FFN experts/token", value: { $0.ffnExperts }, format: { String(format: "%.3f", $0) }),
        Column(header: "K_e", value: { $0.targetFfnExperts }, format: { String(format: "%g", $0) }),
        Column(header: "settling step", value: { $0.settlingStep.map(Double.init) }, format: { String(format: "%.0f", $0) }),
        Column(header: "overshoot", value: { $0.overshoot }, format: { String(format: "%.1f%%", 100 * $0) }),
        Column(header: "MaxVio", value: { $0.maxVio }, format: { String(format: "%.3f", $0) }),
        Column(header: "activated params", value: { $0.activatedParams }, format: { String(format: "%.0f", $0) }),
        Column(header: "grad RMS", value: { $0.gradRMS }, format: { String(format: "%.2e", $0) }),
        Column(header: "R_g", value: { $0.gradNormRatio }, format: { String(format: "%.3g", $0) }),
        Column(header: "router similarity", value: { $0.routerSimilarity }, format: { String(format: "%.3f", $0) }),
        Column(header: "final router similarity", value: { $0.finalRouterSimilarity }, format: { String(format: "%.3f", $0) }),
        Column(header: "tokens/s", value: { $0.tokensPerSecond }, format: { String(format: "%.0f", $0) }),
    ]

    /// The columns with at least one value.
    var shownColumns: [Column] {
        Self.columns.filter { c in metrics.contains { c.value($0) != nil } }
    }

    /// One row per run.
    public var runTable: String {
        let cols = shownColumns
        var rows = [["run", "status", "steps"] + cols.map(\.header)]
        for m in metrics {
            rows.append([m.name, m.status, String(m.steps)] + cols.map { c in c.value(m).map(c.format) ?? "" })
        }
        let missing = runs.filter { r in !metrics.contains { $0.name == r.name } }
        for r in missing { rows.append([r.name, "not run", "0"] + cols.map { _ in "" }) }
        return markdownTable(rows)
    }

    /// One row per group of seeds: mean ± sd, with "(k of n)" when only k of its n runs have a value.
    public var groupTable: String {
        let cols = shownColumns.filter { $0.header != "K_e" && $0.header != "tokens/s" }
        var rows = [["group", "runs"] + cols.map(\.header)]
        var order: [String] = []
        for r in runs where !order.contains(r.group) { order.append(r.group) }
        for group in order {
            let members = metrics.filter { $0.group == group }
            guard !members.isEmpty else { continue }
            let cells = cols.map { c -> String in
                let values = members.compactMap(c.value)
                guard let m = mean(values) else { return "" }
                var cell = c.format(m)
                if let sd = standardDeviation(values) { cell += " ± \(c.format(sd))" }
                // E.g. a settling step that only some seeds reached.
                if values.count < members.count { cell += " (\(values.count) of \(members.count))" }
                return cell
            }
            rows.append([group, String(members.count)] + cells)
        }
        return markdownTable(rows)
    }

    /// Whether any group holds more than one run (then the group table is worth printing).
    public var hasSeedGroups: Bool {
        Dictionary(grouping: metrics, by: \.group).values.contains { $0.count > 1 }
    }

    /// Notes of the runs (e.g. the equal-compute baseline's residual), one line each.
    public var notes: [String] {
        runs.flatMap { r in r.notes.map { "\(r.name): \($0)" } }
    }

    /// Title, run table, group table (when seeds repeat) and notes.
    public var markdown: String {
        var out = "## \(title)\n\n" + runTable
        if hasSeedGroups { out += "\nMean ± sample standard deviation over seeds:\n\n" + groupTable }
        if !notes.isEmpty { out += "\n" + notes.map { "- \($0)" }.joined(separator: "\n") + "\n" }
        return out
    }
}

/// A Markdown table with aligned columns; the first row is the header.
func markdownTable(_ rows: [[String]]) -> String {
    guard let header = rows.first else { return "" }
    let widths = header.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
    func line(_ cells: [String]) -> String {
        "| " + cells.enumerated().map { i, c in c + String(repeating: " ", count: widths[i] - c.count) }
            .joined(separator: " | ") + " |"
    }
    var out = line(header) + "\n"
    out += "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|\n"
    for r in rows.dropFirst() { out += line(r) + "\n" }
    return out
}
