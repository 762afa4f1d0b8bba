import ArgumentParser
import Foundation
import LabAnalysis
import LabConfig
import LabRecords
import LabTraining

struct AllocationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allocation",
        abstract: "Who gets compute: FFN experts per token by difficulty label or token class, per layer.",
        discussion: """
        Reads the token samples of one evaluation step of RUN (recorded for the first train.token_sample_batches evaluation batches) and prints, per label, its declared difficulty, the achievable and measured loss, and the mean FFN experts per token in each layer; then Spearman's rank correlation between difficulty and FFN experts with a 95% bootstrap interval over evaluation sequences. Synthetic corpora are labelled by their generators' difficulty labels, text by token class; byte-level text adds letters of function words against content words.

        --by domain (runs on the mix corpus, data.corpus = "mix") prints instead, per domain (c, python, bible, shakespeare, docs): the sampled tokens, the validation loss, the mean FFN experts per token in each layer and over all layers, and per layer the expert x domain load table (% of each domain's FFN-expert slots served by each expert; rows sum to 100). Its heat map: `longcat-lab plot specialisation RUN`.

        Examples:
          longcat-lab allocation mixture-1
          longcat-lab allocation quickstart-1 --step 599 --by target
          longcat-lab allocation corpus-mix-1 --by domain
        """)

    @Argument(help: ArgumentHelp("Run name.", valueName: "run"))
    var runName: String

    @Option(help: "Evaluation step (default: the last one with token samples).")
    var step: Int?

    @Option(help: ArgumentHelp("Count a position under its own token's label (token) or under the label of the token it predicts (target); default target for synthetic corpora, token for text. domain: the mix corpus's per-domain table and expert x domain load.", valueName: "token|target|domain"))
    var by: String?

    @Option(help: "Bootstrap resamples for the intervals.")
    var resamples = 1000

    @OptionGroup var records: RecordsOptions

    func validate() throws {
        if let by, by != "domain", AllocationView(rawValue: by) == nil {
            throw ValidationError("--by \(by): use token, target or domain")
        }
        guard resamples >= 1 else { throw ValidationError("--resamples \(resamples): must be at least 1") }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: records.db) else {
            throw ValidationError("--db \(records.db): no records database there (train writes one; see --db of train)")
        }
        let store = try RecordStore(path: records.db)
        if by == "domain" {
            print(try DomainAllocation(store: store, run: runName, step: step, order: DataConfig.mixDomains).rendered())
            return
        }
        let report = try allocationReport(store: store, run: runName, step: step, view: by.flatMap(AllocationView.init),
                                          resamples: resamples)
        print(report.rendered())
    }
}
