import ArgumentParser
import LabPlots
import LabRecords

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare runs: a table of differing config keys and final metrics, and overlay plots.",
        discussion: """
        Metrics: \(CompareMetric.allCases.map(\.rawValue).joined(separator: ", "))
        (default: \(CompareMetric.defaults.map(\.rawValue).joined(separator: ", "))).
        Runs whose configs differ only by train.seed are drawn as one curve (their mean) with the
        range over seeds shaded; --group-by KEY groups by one config key's value instead.

        Examples:
          longcat-lab compare quickstart no-controller
          longcat-lab compare seed-1 seed-2 seed-3 none-1 none-2 --metric loss --metric zero-share
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

    @OptionGroup var common: PlotOptionsGroup

    func run() throws {
        let store = try RecordStore(path: common.db)
        let comparison = try Comparison(store: store, runs: runs)
        let chosen = try metrics.isEmpty ? CompareMetric.defaults : metrics.map(CompareMetric.init(parsing:))
        print(comparison.table())
        guard !noPlots else { return }
        let options = try common.options(plotter: Plotter(store: store), runs: runs)
        for f in try comparison.overlays(metrics: chosen, groupBy: groupBy, options: options) { print(f.image) }
    }
}
