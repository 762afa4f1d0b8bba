import ArgumentParser
import Foundation
import LabPlots
import LabRecords

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export runs: a Jupyter notebook, a table as CSV, or a one-page HTML report.",
        subcommands: [ExportNotebook.self, ExportCSV.self, ExportHTML.self])
}

struct ExportNotebook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notebook",
        abstract: "Write a Jupyter notebook (nbformat 4) that reads the runs with pandas and redraws the figures.",
        discussion: """
        Writes notebooks-export/<run>.ipynb (or <a>-vs-<b>.ipynb), or into --out DIR. The notebook needs pandas and matplotlib; set LONGCAT_LAB_DB to point it at another copy of the database.
        """)

    @Argument(help: "Run names.")
    var runs: [String]

    @OptionGroup var records: RecordsOptions

    @Option(help: "Output folder.")
    var out = "notebooks-export"

    func run() throws {
        let export = try NotebookExport(store: RecordStore(path: records.db), runs: runs)
        print(try export.write(into: out))
    }
}

struct ExportCSV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csv",
        abstract: "Write one table's rows of a run as CSV (to stdout, or to --out FILE).",
        discussion: "Tables: runs, steps, layer_steps, expert_steps, activated_params, token_samples, variance_stats, checkpoints.")

    @Argument(help: "Run name.")
    var name: String

    @Option(help: "Table to export.")
    var table: String

    @OptionGroup var records: RecordsOptions

    @Option(help: "Output file (default: stdout).")
    var out: String?

    func run() throws {
        let text = try TableExport.csv(store: RecordStore(path: records.db), run: name, table: table)
        guard let out else { print(text, terminator: ""); return }
        do { try text.write(toFile: out, atomically: true, encoding: .utf8) } catch {
            throw ValidationError("cannot write '\(out)': \(error.localizedDescription)")
        }
        print(out)
    }
}

struct ExportHTML: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "html",
        abstract: "Draw every figure and write a self-contained report.html beside them.")

    @Argument(help: "Run names (several: a comparison report).")
    var runs: [String]

    @Option(name: .customLong("metric"), help: "A metric to overlay when comparing (repeatable).")
    var metrics: [String] = []

    @OptionGroup var common: PlotOptionsGroup

    @OptionGroup var image: ImageFormatOption

    func run() throws {
        let store = try RecordStore(path: common.records.db)
        let options = try common.options(plotter: Plotter(store: store), runs: runs, imageFormat: image.format)
        let chosen = try metrics.isEmpty ? CompareMetric.defaults : metrics.map(CompareMetric.init(parsing:))
        print(try HTMLReport(store: store).write(runs: runs, options: options, metrics: chosen))
    }
}
