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

        Output goes to results/plots/<run> (or results/plots/<a>-vs-<b>) unless --out is given; each image has its gnuplot script (<name>.gp) and data (<name>.dat) beside it, so `gnuplot <name>.gp` in that folder redraws it after restyling. The activated-parameter histogram covers the final window (\(FinalWindow.standard.description)) unless --steps is given.

        Examples:
          longcat-lab plot loss quickstart
          longcat-lab plot ffn-experts quickstart no-controller --format svg
          longcat-lab plot bias quickstart --layer 1
          longcat-lab plot activated-params quickstart --steps 100:199
          longcat-lab plot all quickstart
        """)

    @Argument(help: "Figure kind, or 'all'.")
    var kind: String

    @Argument(help: "Run names (as in the records database).")
    var runs: [String]

    @OptionGroup var common: PlotOptionsGroup

    @OptionGroup var image: ImageFormatOption

    func run() throws {
        let store = try RecordStore(path: common.records.db)
        let plotter = Plotter(store: store)
        let options = try common.options(plotter: plotter, runs: runs, imageFormat: image.format)
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
