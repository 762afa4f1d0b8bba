import ArgumentParser
import LabAnalysis

// Option groups that several commands share, declared once so their names, defaults and help
// agree everywhere.

/// `--db`: the records database.
struct RecordsOptions: ParsableArguments {
    @Option(help: "Records database (SQLite).")
    var db = "results/lab.sqlite"
}

/// `--results`: the folder of run directories.
struct ResultsOptions: ParsableArguments {
    @Option(help: "Folder for run directories (config, checkpoints) and sweep outputs (logs, tables, plots).")
    var results = "results"
}

/// `--set key=value` (repeatable): config overrides applied after the file.
struct ConfigOverrides: ParsableArguments {
    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config key, e.g. --set train.steps=2000 (repeatable).", valueName: "key=value"))
    var overrides: [String] = []
}

/// `--quiet`: no per-step progress lines.
struct ProgressOptions: ParsableArguments {
    @Flag(help: "Print no per-step progress lines.")
    var quiet = false
}

/// `--format png|svg|pdf` of commands that only draw.
struct ImageFormatOption: ParsableArguments {
    @Option(help: "Image format: png, svg or pdf.")
    var format = "png"
}

/// `--format md|csv|json` of comparison tables, and `--baseline`.
struct ComparisonOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Arm (group of runs differing only by seed) that every other arm is compared against.", valueName: "group"))
    var baseline: String?

    @Option(help: ArgumentHelp("Table format: \(TableFormat.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "format"))
    var format = "md"

    func validate() throws {
        do { _ = try TableFormat(parsing: format) } catch { throw ValidationError("\(error)") }
    }

    var tableFormat: TableFormat { (try? TableFormat(parsing: format)) ?? .md }
}
