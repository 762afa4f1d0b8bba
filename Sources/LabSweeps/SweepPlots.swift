import Foundation
import LabRecords

/// Loss and FFN-experts-per-token curves of a sweep's runs as PNG figures, drawn by gnuplot
/// when it is installed (the data and script are written either way, so they can be drawn
/// elsewhere).
///
/// Files in `folder`: `data/<run>.dat` (step, smoothed LM loss, validation loss or `NaN`,
/// smoothed FFN experts per token), `plots.gp`, `loss.png`, `ffn-experts.png`.
public enum SweepPlots {
    /// Writes the data and script; runs gnuplot when found. Returns the figures drawn.
    @discardableResult
    public static func write(runs: [SweepRun], store: RecordStore, folder: String, title: String) throws -> [String] {
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        var plotted: [(name: String, file: String, target: Double)] = []
        for run in runs {
            guard let row = try store.run(named: run.name) else { continue }
            let steps = try store.steps(runID: row.id)
            guard !steps.isEmpty else { continue }
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
            plotted.append((run.name, file, run.config.effectiveTargetFfnExperts))
        }
        guard !plotted.isEmpty else { return [] }
        let script = gnuplotScript(plotted, title: title)
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

    static func gnuplotScript(_ runs: [(name: String, file: String, target: Double)], title: String) -> String {
        // Run i keeps line type i + 1 in every plot, so its points match its line.
        func plots(_ column: Int, points: Bool) -> String {
            runs.enumerated().map { i, r in
                let style = points ? "points pt 7 ps 0.8 lt \(i + 1) notitle" : "lines lw 1.5 lt \(i + 1) title '\(r.name)'"
                return "'\(r.file)' using 1:\(column) with \(style)"
            }.joined(separator: ", \\\n     ")
        }
        let targets = Set(runs.map(\.target)).sorted()
        let targetLines = targets.map { "\($0) with lines dt 2 lc rgb 'gray40' title 'K_e = \($0)'" }
        return """
            set terminal pngcairo size 1000,640 noenhanced
            set datafile missing 'NaN'
            set key outside right top
            set grid
            set xlabel 'step'

            set output 'loss.png'
            set title '\(title): LM loss (smoothed) and validation loss (points)'
            set ylabel 'nats/token'
            plot \(plots(2, points: false)), \\
                 \(plots(3, points: true))

            set output 'ffn-experts.png'
            set title '\(title): FFN experts per token (mean over layers, smoothed)'
            set ylabel 'FFN experts per token'
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
