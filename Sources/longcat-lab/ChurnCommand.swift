import ArgumentParser
import Foundation
import LabAnalysis
import LabRecords

struct ChurnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "churn",
        abstract: "Routing over training: churn per layer, when routing freezes, and whether tokens that change allocation change loss.",
        discussion: """
        Reads the routing traces of RUN (table routing_traces: the same train.trace_tokens validation tokens, with their expert ids, gates and loss, at every evaluation) and prints three tables:

        churn: per layer and pair of consecutive evaluations, the mean Jaccard distance between a token's FFN expert sets (0 = the same experts, 1 = disjoint; zero experts are left out);
        freeze: per layer, the first evaluation after which the churn stays below --tolerance (printed with the result);
        loss change: the mean |loss change| of tokens whose FFN expert count changed in some layer against the others', per pair of evaluations and pooled, with a 95% percentile bootstrap interval of the difference over tokens.

        A run needs two or more evaluations with traces (train.eval_interval below train.steps, train.trace_tokens > 0). `longcat-lab plot churn RUN` draws the churn against step.

        Examples:
          longcat-lab churn quickstart-1
          longcat-lab churn quickstart-1 --tolerance 0.02 --format csv
          longcat-lab churn mixture-1 --db results/sweeps/mix/db/lab.sqlite --format json
        """)

    @Argument(help: ArgumentHelp("Run name.", valueName: "run"))
    var runName: String

    @Option(help: "Churn (mean Jaccard distance) below which a layer's routing counts as frozen, in (0, 1].")
    var tolerance = RoutingFreeze.standardTolerance

    @Option(help: ArgumentHelp("Output: md, csv or json.", valueName: "md|csv|json"))
    var format = "md"

    @Option(help: "Bootstrap resamples for the loss-change intervals.")
    var resamples = 1000

    @OptionGroup var records: RecordsOptions

    func validate() throws {
        guard tolerance > 0 && tolerance <= 1 else { throw ValidationError("--tolerance \(tolerance): must be in (0, 1]") }
        guard resamples >= 1 else { throw ValidationError("--resamples \(resamples): must be at least 1") }
        _ = try TableFormat(parsing: format)
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: records.db) else {
            throw ValidationError("--db \(records.db): no records database there (train writes one; see --db of train)")
        }
        let store = try RecordStore(path: records.db)
        let report = try ChurnReport(store: store, run: runName, tolerance: tolerance, resamples: resamples)
        print(report.rendered(try TableFormat(parsing: format)), terminator: "")
    }
}
