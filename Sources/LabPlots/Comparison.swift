import Foundation
import LabRecords

/// `compare`: the runs' differing config keys and final metrics as a table, and overlay plots
/// of chosen metrics with one curve per run, or per group of runs that differ only by seed
/// (mean, with the range over seeds shaded).
///
/// "Final" metrics average the final window (`FinalWindow.standard`, as every report), which keeps
/// one noisy step from deciding a comparison; the evaluation loss is the last one measured;
/// tokens/s is the median over the run.
public struct Comparison: Sendable {
    /// One run's final metrics.
    public struct Finals: Sendable, Equatable {
        public var run: String
        public var steps: Int
        public var finalLoss: Double
        public var finalEvalLoss: Double?
        /// Mean FFN experts per token and layer over the final window; nil without layer rows.
        public var ffnExperts: Double?
        public var targetFFNExperts: Double?
        public var maxVio: Double?
        public var tokensPerS: Double
    }

    public let runSet: RunSet
    public let finals: [Finals]
    let store: RecordStore

    public init(store: RecordStore, runs names: [String]) throws {
        self.store = store
        runSet = try RunSet(names: names, store: store)
        finals = try runSet.runs.map { try Self.finals(RunRecords(store: store, run: $0)) }
    }

    static func finals(_ records: RunRecords) throws -> Finals {
        let steps = try records.steps()
        let window = FigureContext.finalWindow(steps.map(\.step))
        let last = steps.filter { window.contains($0.step) }
        let layers = try records.store.layerSteps(runID: records.run.id).filter { window.contains($0.step) }
        let tps = steps.map(\.tokensPerS).filter(\.isFinite).sorted()
        let median = tps.isEmpty ? .nan : (tps[(tps.count - 1) / 2] + tps[tps.count / 2]) / 2
        return Finals(run: records.run.name, steps: steps.count, finalLoss: mean(last.map(\.loss)) ?? .nan,
                      finalEvalLoss: steps.last(where: { $0.evalLoss != nil })?.evalLoss,
                      ffnExperts: mean(layers.map(\.ffnExpertsMean)),
                      targetFFNExperts: records.run.config.targetFFNExperts,
                      maxVio: mean(layers.map(\.maxVio)), tokensPerS: median)
    }

    /// The comparison as an aligned text table: run, each differing config key, final metrics.
    public func table() -> String {
        let keys = runSet.differingKeys
        var header = ["run"] + keys + ["steps", "final loss", "eval loss", "FFN experts (K_e)", "MaxVio", "tokens/s"]
        var rows: [[String]] = []
        for (run, f) in zip(runSet.runs, finals) {
            var ffn = "-"
            if let e = f.ffnExperts {
                ffn = String(format: "%.3f", e)
                if let t = f.targetFFNExperts { ffn += " (" + short(t) + ")" }
            }
            let eval = f.finalEvalLoss.map(Self.cell) ?? "-"
            let vio = f.maxVio.map { String(format: "%.3f", $0) } ?? "-"
            let metrics: [String] = [String(f.steps), Self.cell(f.finalLoss), eval, ffn, vio,
                                     f.tokensPerS.isFinite ? String(format: "%.0f", f.tokensPerS) : "-"]
            let values: [String] = keys.map { run.config[$0] ?? "(unset)" }
            rows.append([run.name] + values + metrics)
        }
        if keys.isEmpty { header.insert("config", at: 1); for i in rows.indices { rows[i].insert("(identical)", at: 1) } }
        let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, s in s.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var out = [line(header), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line)
        out.append("final loss, FFN experts and MaxVio: mean over the final window, \(FinalWindow.standard.description) (all layers); "
                   + "eval loss: the last evaluation; tokens/s: median")
        for g in groups(by: nil) where g.runs.count > 1 {
            let fs = g.runs.map { r in finals[runSet.runs.firstIndex(of: r)!] }
            let losses = fs.map(\.finalLoss)
            out.append(String(format: "group %@ (%d seeds): final loss %.4f ± %.4f", g.label, fs.count, mean(losses) ?? .nan, sampleStandardDeviation(losses) ?? 0))
        }
        return out.joined(separator: "\n")
    }

    /// A loss for the table: 4 decimals, or `-` when not finite (simulation runs record none).
    static func cell(_ v: Double) -> String { v.isFinite ? String(format: "%.4f", v) : "-" }

    /// A set of runs drawn as one curve.
    public struct Group: Sendable, Equatable {
        public var label: String
        public var runs: [PlotRun]
        public init(label: String, runs: [PlotRun]) { self.label = label; self.runs = runs }
    }

    /// Runs grouped by the value of `key`; or, when nil, runs whose configs agree on every key
    /// except `train.seed` (each run alone when no two do).
    public func groups(by key: String?) -> [Group] {
        var order: [String] = [], members: [String: [PlotRun]] = [:]
        for run in runSet.runs {
            let id: String
            if let key { id = "\(key)=\(run.config[key] ?? "(unset)")" } else {
                id = run.config.keys.filter { $0 != "train.seed" }.map { "\($0)=\(run.config[$0]!)" }.joined(separator: "\n")
            }
            if members[id] == nil { order.append(id) }
            members[id, default: []].append(run)
        }
        return order.map { id in
            let rs = members[id]!
            if let key { return Group(label: id.isEmpty ? key : id, runs: rs) }
            if rs.count == 1 { return Group(label: rs[0].label, runs: rs) }
            let keys = runSet.differingKeys.filter { $0 != "train.seed" }
            let label = keys.isEmpty ? "all runs" : keys.map { "\($0)=\(rs[0].config[$0] ?? "(unset)")" }.joined(separator: ", ")
            return Group(label: label, runs: rs)
        }
    }

    /// Overlay plots, one per metric (`compare-<metric>`): a curve per group, the mean over its
    /// runs with the range shaded when it holds several.
    public func overlays(metrics: [CompareMetric], groupBy key: String? = nil, options: PlotOptions,
                         gnuplot: String = "gnuplot") throws -> [RenderedFigure] {
        try options.validate()
        if let key, !runSet.runs.contains(where: { $0.config[key] != nil }) {
            throw PlotError("--group-by \(key): no run's config has that key (keys look like controller.kind)")
        }
        return try overlays(metrics: metrics, groups: groups(by: key), options: options, gnuplot: gnuplot)
    }

    /// Overlay plots of groups the caller formed (e.g. a sweep's variants, each over its seeds).
    public func overlays(metrics: [CompareMetric], groups: [Group], options: PlotOptions,
                         gnuplot: String = "gnuplot") throws -> [RenderedFigure] {
        try options.validate()
        var specs: [FigureSpec] = []
        for metric in metrics {
            specs.append(try overlay(metric, groups: groups, options: options))
        }
        var plotter = Plotter(store: store)
        plotter.gnuplot = gnuplot
        return try plotter.render(specs, options: options, set: runSet)
    }

    func overlay(_ metric: CompareMetric, groups: [Group], options: PlotOptions) throws -> FigureSpec {
        let smooth = metric.isSparse ? 0 : options.smoothing
        let grouped = groups.contains { $0.runs.count > 1 }
        var plot = SeriesPlot(name: "compare-" + metric.rawValue,
                              title: metric.displayName + (grouped ? " (mean over runs, band = range)" : "")
                                  + (smooth > 0 ? ", moving average w = \(short(smooth))" : "")
                                  + (metric.isPerLayer ? (options.layer.map { ", layer \($0)" } ?? ", mean over layers") : ""),
                              ylabel: metric.axisLabel, smoothing: smooth)
        for (g, group) in groups.enumerated() {
            var byStep: [Int: [Double]] = [:]
            for run in group.runs {
                var values = try metric.values(RunRecords(store: store, run: run), layer: options.layer)
                if smooth > 0 {
                    let avg = movingAverage(values.map(\.value), weight: smooth)
                    values = zip(values, avg).map { ($0.0.step, $0.1) }
                }
                for (s, v) in values { byStep[s, default: []].append(v) }
            }
            // Only steps every run of the group recorded, so a mean never mixes run counts.
            let steps = byStep.keys.filter { byStep[$0]!.count == group.runs.count }.sorted()
            let values = steps.map { byStep[$0]! }
            guard values.joined().contains(where: \.isFinite) else {
                throw PlotError("run(s) " + group.runs.map { "'\($0.name)'" }.joined(separator: ", ")
                                + " recorded no finite \(metric.rawValue) values; nothing to draw")
            }
            var series = SeriesPlot.Series(title: group.label, colour: group.runs.count > 1 ? g : group.runs[0].colour,
                                           x: steps.map(Double.init), y: values.map { mean($0) ?? .nan }, markers: metric.isSparse)
            if group.runs.count > 1 { series.band = (values.map { $0.min()! }, values.map { $0.max()! }) }
            plot.series.append(series)
        }
        // Curves were smoothed per run above; the plot draws them as they are.
        plot.smoothing = 0
        plot.clipEarlyPeaks = [.loss, .lmLoss, .evalLoss].contains(metric)
        if metric == .ffnExperts {
            plot.references = FigureContext(store: store, runSet: runSet, options: options).targets.map { ($0, "target K_e = \(short($0))") }
        }
        return plot.spec()
    }
}
