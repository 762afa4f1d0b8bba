import Foundation
import LabPlots
import LabRecords

extension SweepReport {
    /// The overlays of the sweep's groups (one curve per group over its seeds, shown as mean
    /// and range; the key carries each group's guard marks) for loss, validation loss and FFN
    /// experts, into `folder`. Returns the images drawn and, per metric, why one was not.
    public func drawOverlays(store: RecordStore, folder: String) -> (images: [String], problems: [String]) {
        let recorded = metrics.filter { $0.steps > 0 }.map(\.name)
        guard !recorded.isEmpty else { return ([], []) }
        let comparison: Comparison
        do { comparison = try Comparison(store: store, runs: recorded) } catch { return ([], ["\(error)"]) }
        let groupOf = Dictionary(runs.map { ($0.name, $0.group) }, uniquingKeysWith: { a, _ in a })
        var order: [String] = []
        for run in comparison.runSet.runs where !order.contains(groupOf[run.name]!) { order.append(groupOf[run.name]!) }
        let groups = order.map { g in
            Comparison.Group(label: keyLabel(g), runs: comparison.runSet.runs.filter { groupOf[$0.name] == g })
        }
        var images: [String] = [], problems: [String] = []
        for metric in [CompareMetric.loss, .evalLoss, .ffnExperts] {
            do {
                images += try comparison.overlays(metrics: [metric], groups: groups,
                                                  options: PlotOptions(outputDirectory: folder)).map(\.image)
            } catch {
                problems.append("\(metric.rawValue): \(error)")
            }
        }
        return (images, problems)
    }

    /// Writes the Markdown report to `folder/summary.md` and, for CSV or JSON, the comparison
    /// to `folder/summary.csv` or `summary.json` too; returns the paths written.
    public func write(to folder: String, format: TableFormat) throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var paths = [folder + "/summary.md"]
        try markdown.write(toFile: paths[0], atomically: true, encoding: .utf8)
        if format != .md {
            paths.append(folder + "/summary." + format.rawValue)
            try rendered(format).write(toFile: paths[1], atomically: true, encoding: .utf8)
        }
        return paths
    }
}
