import ArgumentParser
import LabRecords
import LabTraining

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Summarise one run: final and eval losses, FFN experts per layer against K_e, MaxVio, tokens/s, checkpoints, config.",
        discussion: """
        The routing table covers the last 10% of recorded steps: the mean over steps of each
        layer's mean FFN experts per token, its deviation from K_e, the standard deviation and
        the largest deviation of the per-step means (relative to K_e), the spread across tokens,
        the zero-expert share of slots, and MaxVio over the first and last 10%.
        """)

    @Argument(help: ArgumentHelp("Run name (as listed by `longcat-lab runs`).", valueName: "run"))
    var name: String

    @Option(help: "Records database.")
    var db = "results/lab.sqlite"

    @Flag(help: "Leave out the resolved config.")
    var noConfig = false

    func run() throws {
        let store = try openExistingStore(db)
        print(try RunReport.load(from: store, run: name).text(includeConfig: !noConfig))
    }
}
