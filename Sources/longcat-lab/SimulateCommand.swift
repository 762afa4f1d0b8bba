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
        subcommands: [ControllerSubcommand.self, OverlapSubcommand.self])
}

/// `longcat-lab simulate controller`: the bias controllers on synthetic tokens and a drifting
/// router, LabRouting's own top-k and controllers, recorded like a training run.
struct ControllerSubcommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Simulate the expert-bias controllers without a model; records runs like training does.",
        discussion: """
            Examples:
              longcat-lab simulate controller --preset longcat-flash --set controller.ki=0.3
              longcat-lab simulate controller --preset longcat-flash --sweep controller.ki=0.03,0.1,0.3,1
            Keys: controller.KEY and model.KEY as in config files, and \(ControllerSimulationSettings.keys.map { "sim." + $0 }.joined(separator: ", ")).
            """)

    @Option(help: "Router shape: the lab's default model, or longcat-flash (N 512, Z 256, K 12, K_e 8).")
    var preset: String?

    @Option(name: .customLong("set"), help: "Override a key, e.g. --set controller.ki=0.3 or --set sim.drift=0.05 (repeatable).")
    var overrides: [String] = []

    @Option(help: "Run once per value of one key, e.g. --sweep controller.ki=0.1,0.3,1.")
    var sweep: String?

    @OptionGroup var records: RecordsOptions

    @Flag(name: .customLong("no-records"), help: "Do not write records (just print).")
    var noRecords = false

    @Option(help: "Run name (default: controller-sim-<time>); sweeps append -KEY=VALUE.")
    var name: String?

    func run() throws {
        var base: ControllerSimulationSettings
        switch preset {
        case nil: base = ControllerSimulationSettings()
        case "longcat-flash": base = .longcatFlash
        case let other?: throw ValidationError("--preset \(other): unknown; allowed: longcat-flash")
        }
        for text in overrides { try apply(text, to: &base) }
        var variants: [(suffix: String, settings: ControllerSimulationSettings)] = [("", base)]
        if let sweep {
            guard let eq = sweep.firstIndex(of: "=") else {
                throw ValidationError("--sweep \(sweep): expected KEY=V1,V2,...")
            }
            let key = String(sweep[..<eq])
            variants = try sweep[sweep.index(after: eq)...].split(separator: ",").map { value in
                var settings = base
                try apply("\(key)=\(value)", to: &settings)
                return ("-\(key)=\(value)", settings)
            }
        }
        let store = noRecords ? nil : try RecordStore(path: records.db)
        defer { store?.close() }
        let stem = name ?? "controller-sim-\(Int(Date().timeIntervalSince1970))"
        var rows: [String] = []
        for (suffix, settings) in variants {
            let runName = stem + suffix
            let m = settings.model, c = settings.controller
            print("\(runName): N \(m.nRoutedExperts), Z \(m.zeroExpertNum), K \(m.moeTopk), controller \(c.kind) "
                + "(kp \(c.kp), ki \(c.ki), kd \(c.kd), K_e \(c.targetFfnExperts), every \(c.updateInterval) steps), "
                + "\(settings.steps) steps of \(settings.batchTokens) tokens, drift \(settings.drift)")
            var runID: Int64?
            if let store {
                runID = try store.beginRun(RunInfo(name: runName, configTOML: settings.toml, configHash: settings.hash,
                                                   seed: Int(truncatingIfNeeded: settings.seed), threads: 1, kind: .simulation))
            }
            var simulation = ControllerSimulation(settings: settings)
            do {
                try simulation.run(store: store, runID: runID) { p in
                    print("  step \(p.step + 1)/\(settings.steps)  FFN experts per token \(String(format: "%.3f", p.ffnExpertsMean))"
                        + "  MaxVio \(String(format: "%.3f", p.maxVio))"
                        + "  \(String(format: "%.1f", p.routedTokensPerSecond / 1e6))M routed tokens/s")
                }
            } catch {
                if let store, let runID { try? store.finishRun(runID, status: .failed, message: "\(error)") }
                throw error
            }
            if let store, let runID { try store.finishRun(runID, status: .finished) }
            let summary = ControllerSummary(simulation)
            print("  \(String(format: "%.1f", summary.routedTokensPerSecond / 1e6))M routed tokens per second of one core "
                + "(\(String(format: "%.2f", simulation.simulationCpuSeconds)) s CPU, "
                + "\(String(format: "%.2f", simulation.simulationSeconds)) s wall simulating, "
                + "\(String(format: "%.2f", simulation.recordingSeconds)) s recording)")
            rows.append(summary.markdownRow(runName))
        }
        print("")
        print(ControllerSummary.markdownHeader)
        rows.forEach { print($0) }
        if !noRecords { print("\nRecorded in \(records.db) (runs.kind = 'simulation').") }
    }

    /// Applies one `--set` to the settings.
    private func apply(_ text: String, to settings: inout ControllerSimulationSettings) throws {
        guard let eq = text.firstIndex(of: "=") else { throw ValidationError("--set \(text): expected KEY=VALUE") }
        let key = String(text[..<eq]), value = String(text[text.index(after: eq)...])
        if key.hasPrefix("sim.") {
            try settings.apply(simKey: String(key.dropFirst(4)), value: value)
        } else {
            try applyConfigKey(key, value, to: &settings)
        }
    }
}

/// Applies a `controller.*` or `model.*` override through the lab config's key table (the same
/// parsing, types and messages as `train --set`), then re-validates the simulated shape.
private func applyConfigKey(_ key: String, _ value: String, to s: inout ControllerSimulationSettings) throws {
    guard key.hasPrefix("controller.") || key.hasPrefix("model.") else {
        throw ValidationError("--set \(key): the controller simulator takes controller.*, model.* and sim.* keys")
    }
    var config = LabConfig()
    config.model = s.model
    config.controller = s.controller
    try config.set(key, (try? parseTOMLValue(value, file: "--set")) ?? .string(value))
    try validate(config)
    s.model = config.model
    s.controller = config.controller
}

/// `longcat-lab simulate overlap`: one decoding step and one training micro-batch of every
/// layer on a cluster, conventional layouts against ScMoE's overlap, calibrated on the paper.
struct OverlapSubcommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overlap",
        abstract: "Model per-layer time and non-overlapped all-to-all share, conventional vs ScMoE.",
        discussion: """
            Fits the model's rates to the paper's per-layer decoding times, sets its LongCat-Flash vs DeepSeek-V3 comparison beside the paper's (only the numbers the rates were not fitted to test the model), then tabulates every strategy for the release (or --preset) in decoding and training, each table with its assumptions.
            Examples:
              longcat-lab simulate overlap
              longcat-lab simulate overlap --set decode.expert_load=lognormal:0.3 --set training.link_gbps=40
            Keys: model.ffn_experts_per_token, and decode.KEY / training.KEY with KEY one of \(OverlapSettings.keys.joined(separator: ", ")).
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
