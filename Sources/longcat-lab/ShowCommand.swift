import ArgumentParser
import LabAnalysis
import LabRecords
import LabTraining

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Summarise one run: losses, FFN experts per layer against K_e, load balance and its stability, tokens/s, checkpoints, config.",
        discussion: """
        The final-window numbers are the ones compare and sweep --report print for the same run: the final window is the \(FinalWindow.standard.description), and settling means the \(Settling.standard.description) K_e.

        The routing table covers the final window: the mean over steps of each layer's mean FFN experts per token, its deviation from K_e, the standard deviation and the largest deviation of the per-step means (relative to K_e), the spread across tokens, the zero-expert share of slots, and MaxVio over the first steps and the final window.

        The stability table shows, per layer over the final window, the budget error next to the per-step MaxVio of the FFN experts' loads, the MaxVio of their loads summed over the window, the per-step coefficient of variation, the median over experts of the lag-1 autocorrelation of each expert's load, the dominant period in steps when there is one, and the flag oscillating (\(LoadStability.Thresholds.standard.description)).

        Example:
          longcat-lab show quickstart --no-config
        """)

    @Argument(help: ArgumentHelp("Run name (as listed by `longcat-lab runs`).", valueName: "run"))
    var name: String

    @OptionGroup var records: RecordsOptions

    @Flag(help: "Leave out the resolved config.")
    var noConfig = false

    func run() throws {
        let store = try openExistingStore(records.db)
        print(try RunReport.load(from: store, run: name).text(includeConfig: !noConfig))
    }
}
