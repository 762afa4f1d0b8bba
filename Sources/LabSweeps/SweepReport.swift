import Foundation
import LabAnalysis
import LabRecords

/// The tables that end a sweep: one row per run, then the comparison of its groups (runs that
/// differ only by seed) with a baseline group, from LabAnalysis: mean and 95% interval per
/// group, the paired difference against the baseline with its interval and n, the guards.
/// Columns of the run table that no run has a value for are left out.
public struct SweepReport: Sendable {
    public let title: String
    public let runs: [SweepRun]
    public let metrics: [RunMetrics]
    /// The groups against the baseline group; nil when no run of the sweep is recorded.
    public let comparison: ArmComparison?

    /// Reads the metrics of every run of the sweep found in `store` (and the runs' newest
    /// checkpoints under `results`, when given) and compares its groups with `baseline` (the
    /// first group of the file when nil). Throws an `AnalysisError` listing the groups when
    /// `baseline` names none of them.
    public init(title: String, runs: [SweepRun], store: RecordStore, results: String? = nil, baseline: String? = nil) throws {
        self.title = title
        self.runs = runs
        metrics = try runs.compactMap { try RunMetrics.measure($0, in: store, results: results) }
        var order: [String] = []
        for r in runs where !order.contains(r.group) { order.append(r.group) }
        if let baseline, !order.contains(baseline) {
            throw AnalysisError("--baseline \(baseline): the sweep has no group of that name; its groups: " + order.joined(separator: ", "))
        }
        let measured = metrics
        let arms = order.map { g in (label: g, runs: measured.filter { $0.group == g }.map(\.analysis)) }.filter { !$0.runs.isEmpty }
        if let chosen = baseline ?? arms.first?.label, arms.contains(where: { $0.label == chosen }) {
            comparison = try ArmComparison(arms: arms, baseline: chosen)
        } else {
            comparison = nil
        }
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

    /// One row per run, with a flag column for runs with an `oscillating` layer.
    public var runTable: String {
        let cols = shownColumns
        var rows = [["run", "status", "steps"] + cols.map(\.header) + ["flags"]]
        for m in metrics {
            let flags = [m.analysis.diverged ? "diverged" : nil,
                         m.analysis.layers.contains { $0.stability?.oscillating == true } ? "oscillating" : nil].compactMap { $0 }
            rows.append([m.name, m.status, String(m.steps)] + cols.map { c in c.value(m).map(c.format) ?? "" }
                        + [flags.joined(separator: ", ")])
        }
        let missing = runs.filter { r in !metrics.contains { $0.name == r.name } }
        for r in missing { rows.append([r.name, "not run", "0"] + cols.map { _ in "" } + [""]) }
        return markdownTable(rows)
    }

    /// Notes of the runs (e.g. the equal-compute baseline's residual), one line each.
    public var notes: [String] {
        runs.flatMap { r in r.notes.map { "\(r.name): \($0)" } }
    }

    /// Title, run table (final window and settling rule in its header), the group comparison
    /// and notes.
    public var markdown: String {
        var out = "## \(title)\n\nPer run; final window: \(FinalWindow.standard.description); "
            + "settling step: \(Settling.standard.description) K_e.\n\n" + runTable
        if let comparison { out += "\nGroups against the baseline:\n\n" + comparison.markdown }
        if !notes.isEmpty { out += "\n" + notes.map { "- \($0)" }.joined(separator: "\n") + "\n" }
        return out
    }

    /// The report in `format`: Markdown as `markdown`; CSV and JSON hold the group comparison.
    public func rendered(_ format: TableFormat) -> String {
        switch format {
        case .md: return markdown
        case .csv, .json: return comparison?.rendered(format) ?? ""
        }
    }

    /// The figure-key label of a group: its name with its guard marks.
    public func keyLabel(_ group: String) -> String { comparison?.keyLabel(group) ?? group }
}
