import Foundation
import LabRecords

/// Loss and FFN-experts-per-token curves of a sweep's runs as PNG figures, drawn by gnuplot
/// when it is installed (the data and script are written either way, so they can be drawn
/// elsewhere).
///
/// Files in `folder`: `data/<run>.dat` (step, smoothed LM loss, validation loss or `NaN`,
/// smoothed FFN experts per token), `plots.gp`, `loss.png`, `ffn-experts.png`.
public enum SweepPlots {
    /// One run's curves as the script draws them.
    struct Curve {
        let name: String
        let file: String
        let target: Double
        /// The run's group (runs differing only by seed share a colour) and its place in it
        /// (its dash pattern).
        let group: Int
        let member: Int
    }

    /// Writes the data and script; runs gnuplot when found. Returns the figures drawn.
    @discardableResult
    public static func write(runs: [SweepRun], store: RecordStore, folder: String, title: String) throws -> [String] {
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        var curves: [Curve] = []
        var groups: [String] = []
        var lastStep = 0
        var late: [Double] = [], lowest: [Double] = []
        for run in runs {
            guard let row = try store.run(named: run.name) else { continue }
            let steps = try store.steps(runID: row.id)
            guard let final = steps.last?.step else { continue }
            let layers = Dictionary(grouping: try store.layerSteps(runID: row.id), by: \.step)
            let window = max(1, steps.count / 25)
            let loss = movingAverage(steps.map(\.lmLoss), window: window)
            let ffn = movingAverage(steps.map { s in mean(layers[s.step]?.map(\.ffnExpertsMean) ?? []) ?? .nan }, window: window)
            var text = "# step lm_loss_smoothed eval_loss ffn_experts_smoothed\n"
            for (i, s) in steps.enumerated() {
                text += "\(s.step) \(loss[i]) \(s.evalLoss.map { String($0) } ?? "NaN") \(ffn[i])\n"
            }
            let file = "data/\(run.name).dat"
            try text.write(toFile: folder + "/" + file, atomically: true, encoding: .utf8)
            if !groups.contains(run.group) { groups.append(run.group) }
            let group = groups.firstIndex(of: run.group)!
            curves.append(Curve(name: run.name, file: file, target: run.config.effectiveTargetFfnExperts,
                                group: group, member: curves.filter { $0.group == group }.count))
            lastStep = max(lastStep, final)
            // The loss axis shows the part after the first fifth, where the runs differ.
            let from = steps.firstIndex { $0.step >= final / 5 } ?? 0
            late.append(loss[from...].max() ?? .nan)
            lowest.append(min(loss[from...].min() ?? .nan, steps.compactMap(\.evalLoss).min() ?? .infinity))
        }
        guard !curves.isEmpty else { return [] }
        let range = (low: lowest.filter(\.isFinite).min(), high: late.filter(\.isFinite).max())
        let script = gnuplotScript(curves, title: title, fromStep: lastStep / 5,
                                   lossRange: range.low.flatMap { low in range.high.map { (low, $0) } })
        try script.write(toFile: folder + "/plots.gp", atomically: true, encoding: .utf8)
        guard let gnuplot = findOnPath("gnuplot") else { return [] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: gnuplot)
        p.arguments = ["plots.gp"]
        p.currentDirectoryURL = URL(fileURLWithPath: folder)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return [] }
        return ["loss.png", "ffn-experts.png"].map { folder + "/" + $0 }.filter { fm.fileExists(atPath: $0) }
    }

    static func gnuplotScript(_ curves: [Curve], title: String, fromStep: Int, lossRange: (Double, Double)?) -> String {
        // A run's colour is its group's, its dash pattern its seed's, in both plots.
        func plots(_ column: Int, points: Bool) -> String {
            curves.map { c in
                let colour = "lc \(c.group + 1)"
                let style = points ? "points pt 7 ps 0.8 \(colour) notitle"
                    : "lines lw 1.5 \(colour) dt \(c.member + 1) title '\(c.name)'"
                return "'\(c.file)' using 1:\(column) with \(style)"
            }.joined(separator: ", \\\n     ")
        }
        let targets = Set(curves.map(\.target)).sorted()
        let targetLines = targets.map { "\($0) with lines dt 2 lc rgb 'gray40' title 'K_e = \($0)'" }
        let yrange = lossRange.map { String(format: "set yrange [%.4f:%.4f]", $0.0 - 0.02 * ($0.1 - $0.0), $0.1) } ?? "set autoscale y"
        return """
            set terminal pngcairo size 1000,640 noenhanced
            set datafile missing 'NaN'
            set key outside right top
            set grid
            set xlabel 'step'

            set output 'loss.png'
            set title '\(title): LM loss (smoothed, lines) and validation loss (points), from step \(fromStep)'
            set ylabel 'nats/token'
            set xrange [\(fromStep):*]
            \(yrange)
            plot \(plots(2, points: false)), \\
                 \(plots(3, points: true))

            set output 'ffn-experts.png'
            set title '\(title): FFN experts per token (mean over layers, smoothed)'
            set ylabel 'FFN experts per token'
            set xrange [*:*]
            set yrange [0:*]
            plot \((targetLines + [plots(4, points: false)]).joined(separator: ", \\\n     "))

            """
    }
}

/// The first executable named `name` on PATH.
func findOnPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}
