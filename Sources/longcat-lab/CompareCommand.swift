import ArgumentParser
import Foundation
import LabAnalysis
import LabPlots
import LabRecords

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare runs: a table of differing config keys and final metrics, or arms against a baseline, and overlay plots.",
        discussion: """
        Without --baseline, compare prints one row per run (the keys that differ and the final-window metrics) and draws one overlay per metric. Runs whose configs differ only by train.seed are drawn as one curve (their mean) with the range over seeds shaded; --group-by KEY groups by one config key's value instead.

        With --baseline GROUP, runs that differ only by seed form an arm (named by the runs' shared stem, e.g. zero-experts-top2 for zero-experts-top2-s1, -s2, ...), and the table shows, per arm, the mean and 95% interval of the final validation loss, FFN experts per token and activated parameters per token over the final window (\(FinalWindow.standard.description)), and against the baseline the paired difference of the validation loss over matched seeds with its Student-t interval, a bootstrap interval from 8 seeds, and n. A difference whose interval contains 0 reads "not resolved". Rows are marked compute, budget, diverged or n<5 (their meanings are printed above the table), in the table and in the figure key. The table also shows per-step against windowed MaxVio and how many runs oscillate.

        Metrics: \(CompareMetric.allCases.map(\.rawValue).joined(separator: ", ")) (default: \(CompareMetric.defaults.map(\.rawValue).joined(separator: ", "))).

        Examples:
          longcat-lab compare quickstart no-controller
          longcat-lab compare a-s1 a-s2 b-s1 b-s2 --baseline a
          longcat-lab compare a-s1 a-s2 b-s1 b-s2 --baseline a --format csv
          longcat-lab compare seed-1 seed-2 none-1 --metric loss --metric zero-share
          longcat-lab compare a b c --group-by controller.kind --no-plots
        """)

    @Argument(help: "Run names (two or more, or one to see its final metrics).")
    var runs: [String]

    @Option(name: .customLong("metric"), help: "A metric to overlay (repeatable).")
    var metrics: [String] = []

    @Option(name: .customLong("group-by"), help: ArgumentHelp("Group runs by this config key's value.", valueName: "key"))
    var groupBy: String?

    @Flag(help: "Print the table only.")
    var noPlots = false

    @OptionGroup var comparison: ComparisonOptions

    @Option(name: .customLong("image-format"), help: "Image format of the overlays: png, svg or pdf.")
    var imageFormat = "png"

    @OptionGroup var common: PlotOptionsGroup

    func run() throws {
        let store = try RecordStore(path: common.records.db)
        let plots = try Comparison(store: store, runs: runs)
        let chosen = try metrics.isEmpty ? CompareMetric.defaults : metrics.map(CompareMetric.init(parsing:))
        let options = { try common.options(plotter: Plotter(store: store), runs: runs, imageFormat: imageFormat) }
        guard let baseline = comparison.baseline else {
            print(plots.table())
            guard !noPlots else { return }
            for f in try plots.overlays(metrics: chosen, groupBy: groupBy, options: options()) { print(f.image) }
            return
        }
        let arms = try ArmComparison.load(runs: runs, from: store, baseline: baseline, groupBy: groupBy)
        print(arms.rendered(comparison.tableFormat), terminator: "")
        guard !noPlots else { return }
        // One curve per arm, its key label carrying the arm's guard marks.
        let groups = arms.rows.map { row in
            Comparison.Group(label: arms.keyLabel(row.label),
                             runs: plots.runSet.runs.filter { r in row.runs.contains { $0.name == r.name } })
        }
        // Image paths would break a CSV or JSON table on standard output; they go to standard error.
        for f in try plots.overlays(metrics: chosen, groups: groups, options: options()) {
            if comparison.tableFormat == .md { print(f.image) } else { FileHandle.standardError.write(Data((f.image + "\n").utf8)) }
        }
    }
}
