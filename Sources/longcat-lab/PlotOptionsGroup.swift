import ArgumentParser
import LabPlots

/// Options shared by `plot`, `compare` and `export html`.
struct PlotOptionsGroup: ParsableArguments {
    @OptionGroup var records: RecordsOptions

    @Option(help: "Output folder (default: results/plots/<run> or results/plots/<a>-vs-<b>).")
    var out: String?

    @Option(help: "Only this MoE layer (figures that show one layer use layer 0 by default).")
    var layer: Int?

    @Option(help: "Step of snapshot figures (expert-load heat map, allocation); default: the last recorded.")
    var step: Int?

    @Option(help: ArgumentHelp("Steps the activated-parameter histogram sums over, FIRST:LAST (default: the final window).", valueName: "first:last"))
    var steps: String?

    @Option(help: "Moving-average weight w in [0, 1) for per-step curves: s_t = w*s_(t-1) + (1-w)*x_t; 0 draws raw values.")
    var smooth = 0.8

    @Option(help: ArgumentHelp("Image size in pixels, WIDTHxHEIGHT.", valueName: "WxH"))
    var size = "800x500"

    /// The plot options, images in `imageFormat` (png, svg or pdf).
    func options(plotter: Plotter, runs: [String], imageFormat: String = "png") throws -> PlotOptions {
        var o = PlotOptions(outputDirectory: try out ?? plotter.defaultOutputDirectory(runs: runs))
        o.format = try ImageFormat(parsing: imageFormat)
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
