import ArgumentParser
import Foundation
import LabConfig
import LabRecords
import LabSimulation

/// `longcat-lab simulate`: questions of scale answered without training a model.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate the bias controllers or the expert-parallel overlap at the paper's scale.",
        subcommands: [OverlapSubcommand.self])
}

/// `longcat-lab simulate overlap`: one decoding step and one training micro-batch of every
/// layer on a cluster, conventional layouts against ScMoE's overlap, calibrated on the paper.
struct OverlapSubcommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overlap",
        abstract: "Model per-layer time and non-overlapped all-to-all share, conventional vs ScMoE.",
        discussion: """
            Fits the model's rates to the paper's per-layer decoding times, reproduces its
            LongCat-Flash vs DeepSeek-V3 comparison, then tabulates every strategy for the
            release (or --preset) in decoding and training, each table with its assumptions.
            Examples:
              longcat-lab simulate overlap
              longcat-lab simulate overlap --set decode.expert_load=lognormal:0.3 --set training.link_gbps=40
            Keys: model.ffn_experts_per_token, and decode.KEY / training.KEY with KEY one of
            \(OverlapSettings.keys.joined(separator: ", ")).
            """)

    @Option(help: "Architecture: longcat-flash (the release) or deepseek-v3.")
    var preset = "longcat-flash"

    @Option(name: .customLong("set"), help: "Override an assumption, e.g. --set decode.link_gbps=40 (repeatable).")
    var overrides: [String] = []

    @Option(name: .customLong("loads-from"), help: "Records database whose expert_steps set the expert load of both phases (with --run).")
    var loadsFrom: String?

    @Option(name: .customLong("run"), help: "Run in --loads-from to take expert loads from.")
    var runName: String?

    @Option(help: "MoE layer of the recorded run.")
    var layer = 0

    @Option(help: "Last step to read (default: the run's last step).")
    var step: Int?

    @Option(name: .customLong("load-steps"), help: "Recorded steps to sum, counting back from --step.")
    var loadSteps = 1

    func run() throws {
        let settings = try OverlapSettings(overrides: overrides)
        var recorded: ExpertLoadModel?
        switch (loadsFrom, runName) {
        case (nil, nil): recorded = nil
        case (let path?, let name?):
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("--loads-from \(path): no such records database")
            }
            let store = try RecordStore(path: path)
            defer { store.close() }
            recorded = try .recorded(store: store, run: name, layer: layer, step: step, steps: loadSteps)
        default: throw ValidationError("--loads-from and --run go together")
        }
        var arch: MoEArchitecture
        switch preset {
        case "longcat-flash": arch = .longcatFlash
        case "deepseek-v3": arch = .deepSeekV3
        default: throw ValidationError("--preset \(preset): unknown; allowed: longcat-flash, deepseek-v3")
        }
        if let ke = settings.ffnExpertsPerToken {
            guard ke <= Double(arch.model.moeTopk) else {
                throw ValidationError("model.ffn_experts_per_token = \(ke) exceeds K = \(arch.model.moeTopk)")
            }
            arch.ffnExpertsPerToken = ke
        }
        let study = try OverlapStudy(architecture: arch,
                                     adjustDecode: { a in
                                         if let recorded { a.expertLoad = recorded }
                                         try settings.applyDecode(to: &a)
                                     },
                                     adjustTraining: { a in
                                         if let recorded { a.expertLoad = recorded }
                                         try settings.applyTraining(to: &a)
                                     },
                                     calibrateTraining: !settings.trainingLinkGiven)
        print(study.markdown, terminator: "")
    }
}
