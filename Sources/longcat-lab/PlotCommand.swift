import ArgumentParser
import Foundation
import LabPlots
import LabRecords

struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a figure kind for one or more runs with gnuplot (image, script and data side by side).",
        discussion: """
        Kinds: \(FigureKind.allCases.map(\.rawValue).joined(separator: ", ")).
        Output goes to results/plots/<run> (or results/plots/<a>-vs-<b>) unless --out is given;
        each image has its gnuplot script (<name>.gp) and data (<name>.dat) beside it, so
        `gnuplot <name>.gp` in that folder redraws it after restyling.

        Examples:
          longcat-lab plot loss quickstart
          longcat-lab plot ffn-experts quickstart no-controller --format svg
          longcat-lab plot bias quickstart --layer 1
          longcat-lab plot activated-params quickstart --steps 100:199
          longcat-lab plot all quickstart          # every kind that has data
        """)

    @Argument(help: "Figure kind, or 'all'.")
    var kind: String

    @Argument(help: "Run names (as in the records database).")
    var runs: [String]

    @OptionGroup var common: PlotOptionsGroup

    func run() throws {
        let store = try RecordStore(path: common.db)
        let plotter = Plotter(store: store)
        let options = try common.options(plotter: plotter, runs: runs)
        if kind == "all" {
            let (figures, skipped) = try plotter.plotAll(runs: runs, options: options)
            for f in figures { print(f.image) }
            for (k, why) in skipped { print("skipped \(k.rawValue): \(why)") }
            return
        }
        let figureKind = try FigureKind(parsing: kind)
        for f in try plotter.plot(figureKind, runs: runs, options: options) { print(f.image) }
    }
}

/// Options shared by `plot`, `compare` and `export html`.
struct PlotOptionsGroup: ParsableArguments {
    @Option(help: "Records database.")
    var db = "results/lab.sqlite"

    @Option(help: "Output folder (default: results/plots/<run> or results/plots/<a>-vs-<b>).")
    var out: String?

    @Option(help: "Image format: png, svg or pdf.")
    var format = "png"

    @Option(help: "Only this MoE layer (figures that show one layer use layer 0 by default).")
    var layer: Int?

    @Option(help: "Step of snapshot figures (expert-load heat map, allocation); default: the last recorded.")
    var step: Int?

    @Option(help: ArgumentHelp("Steps the activated-parameter histogram sums over, FIRST:LAST (default: the last tenth).", valueName: "first:last"))
    var steps: String?

    @Option(help: "Moving-average weight w in [0, 1) for per-step curves: s_t = w*s_(t-1) + (1-w)*x_t; 0 draws raw values.")
    var smooth = 0.8

    @Option(help: ArgumentHelp("Image size in pixels, WIDTHxHEIGHT.", valueName: "WxH"))
    var size = "800x500"

    func options(plotter: Plotter, runs: [String]) throws -> PlotOptions {
        var o = PlotOptions(outputDirectory: try out ?? plotter.defaultOutputDirectory(runs: runs))
        o.format = try ImageFormat(parsing: format)
        o.layer = layer
        o.step = step
        o.smoothing = smooth
        if let steps {
            let parts = steps.split(separator: ":").map { Int($0) }
            guard parts.count == 2, let a = parts[0], let b = parts[1], a <= b else {
                throw ValidationError("--steps '\(steps)' must be FIRST:LAST with FIRST <= LAST, e.g. 100:199")
            }
            o.window = a...b
        }
        let wh = size.lowercased().split(separator: "x").map { Int($0) }
        guard wh.count == 2, let w = wh[0], let h = wh[1] else {
            throw ValidationError("--size '\(size)' must be WIDTHxHEIGHT, e.g. 800x500")
        }
        o.width = w
        o.height = h
        return o
    }
}
