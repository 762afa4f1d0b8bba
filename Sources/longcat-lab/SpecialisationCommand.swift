import ArgumentParser
import Foundation
import LabAnalysis
import LabConfig
import LabRecords
import LabTraining

struct SpecialisationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "specialisation",
        abstract: "Expert specialisation: mutual information between expert choice and label per layer, the expert x label load and expert co-activation.",
        discussion: """
        Reads the token samples of one evaluation step of RUN (table token_samples: the first train.token_sample_batches evaluation batches; raise it for more tokens) and prints, per MoE layer:

          - the mutual information I(E; C) between the chosen FFN expert E and the label C, over (token, chosen FFN expert) pairs (each token adds one pair per FFN expert it chose; tokens routed only to zero experts add none), in nats and bits, and as a share of log #labels (0: the choice says nothing about the label; 1: every label has experts of its own), with H(C) and the Miller-Madow estimate of the plug-in bias;
          - the expert x label load matrix: % of each label's FFN-expert slots served by each expert (rows sum to 100), with the label's tokens and FFN experts per token;
          - the expert co-activation matrix: % of tokens that chose both experts i and j (diagonal: chose i).

        Labels are whatever the run's corpus records: token classes for text (class), the generator's labels for synthetic byte corpora (label), the document's domain for the mix corpus (domain). --by checks that the run records what you expect. Heat maps: `longcat-lab plot specialisation RUN`.

        Examples:
          longcat-lab specialisation quickstart-1
          longcat-lab specialisation mixture-1 --by label --step 500
          longcat-lab specialisation corpus-mix-1 --by domain --format csv > spec.csv
        """)

    @Argument(help: ArgumentHelp("Run name.", valueName: "run"))
    var runName: String

    @Option(help: ArgumentHelp("The labels expected: class (token class, text corpora), label (synthetic generator's label) or domain (mix corpus); default: what the run records.", valueName: "class|label|domain"))
    var by: String?

    @Option(help: "Evaluation step (default: the last one with token samples).")
    var step: Int?

    @Option(help: ArgumentHelp("Output: md (tables), csv (long format: measure,layer,row,column,value) or json.", valueName: "md|csv|json"))
    var format = "md"

    @OptionGroup var records: RecordsOptions

    func validate() throws {
        if let by, SpecialisationLabels(rawValue: by) == nil {
            throw ValidationError("--by \(by): use class, label or domain")
        }
        if SpecialisationFormat(rawValue: format) == nil {
            throw ValidationError("--format \(format): use md, csv or json")
        }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: records.db) else {
            throw ValidationError("--db \(records.db): no records database there (train writes one; see --db of train)")
        }
        let store = try RecordStore(path: records.db)
        let report = try SpecialisationReport(store: store, run: runName, step: step,
                                              by: by.flatMap(SpecialisationLabels.init),
                                              labelOrder: try Self.labelOrder(store: store, run: runName))
        print(report.rendered(SpecialisationFormat(rawValue: format)!))
    }

    /// The run's label names in the corpus's id order (classes by difficulty, the generator's
    /// order, the domains' order); empty where the config cannot be read (labels then sort).
    static func labelOrder(store: RecordStore, run name: String) throws -> [String] {
        guard let toml = try store.run(named: name)?.configTOML,
              let config = try? LabConfig.parse(text: toml, file: "config of run '\(name)'", overrides: []) else { return [] }
        return (try? recordedLabelNames(config.data)) ?? []
    }
}
