import ArgumentParser

/// The lab's command line: parsing and wiring only.
@main
struct LongCatLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "longcat-lab",
        abstract: "Train scaled-down LongCat-Flash MoE models on a CPU and record how the router spends compute.",
        discussion: """
        Configs are TOML files (see experiments/); every run records into a SQLite database (default results/lab.sqlite) and writes checkpoints under results/runs/<name>/.

        Start with: longcat-lab train experiments/quickstart.toml
        """,
        subcommands: [
            TrainCommand.self,
            BenchCommand.self,
            DoctorCommand.self,
            ParamsCommand.self,
            SimulateCommand.self,
            ExportHFCommand.self,
            ImportHFCommand.self,
            LogitsCommand.self,
            VarianceCommand.self,
            RunsCommand.self,
            ShowCommand.self,
            PlotCommand.self,
            CompareCommand.self,
            ExportCommand.self,
            AllocationCommand.self,
            SweepCommand.self,
            MergeCommand.self,
            ProbeCommand.self,
            SpecialisationCommand.self,
            ChurnCommand.self,
            TrendCommand.self,
        ])
}
