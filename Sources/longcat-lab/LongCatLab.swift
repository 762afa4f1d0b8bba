import ArgumentParser

/// The lab's command line: parsing and wiring only.
@main
struct LongCatLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "longcat-lab",
        abstract: "Train scaled-down LongCat-Flash MoE models on a CPU and record how the router spends compute.",
        discussion: """
        Configs are TOML files (see experiments/); every run records into a SQLite database
        (default results/lab.sqlite) and writes checkpoints under results/runs/<name>/.
        Start with: longcat-lab train experiments/quickstart.toml
        """,
        subcommands: [TrainCommand.self, BenchCommand.self, DoctorCommand.self, SweepCommand.self, MergeCommand.self])
}
