import ArgumentParser
import LabConfig
import LabSimulation
import LabSweeps

/// `longcat-lab params`: parameters by component, activated parameters per token and FLOPs per
/// token of a model config, computed by `ParameterCount` (the trainer's `activated_params`
/// column uses the same code).
struct ParamsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "params",
        abstract: "Count parameters, activated parameters per token and FLOPs per token of a model config.",
        discussion: """
            Example: longcat-lab params --preset longcat-flash reproduces the release's 560.66B total and 18.69B-31.38B activated parameters.
            """)

    @Argument(help: "Config TOML file (omit with --preset).")
    var config: String?

    @Option(help: "Built-in configuration instead of a file: longcat-flash.")
    var preset: String?

    @OptionGroup var overrideOptions: ConfigOverrides

    @Option(name: .customLong("ffn-experts"), help: "K_e: mean FFN experts per token and layer (default: the config's controller.target_ffn_experts, 0 meaning K).")
    var ffnExperts: Double?

    @Option(name: .customLong("seq-len"), help: "Sequence length for training FLOPs (default: train.seq_len).")
    var seqLen: Int?

    @Option(help: "Keys in the cache for inference FLOPs per generated token (default: the sequence length).")
    var context: Int?

    @Flag(help: "Count a multi-token-prediction layer (default: when model.mtp_loss_coef > 0).")
    var mtp = false

    func run() throws {
        let (config, name) = try loadConfig()
        let count = ParameterCount(model: config.model, mtp: mtp ? true : nil)
        let K = config.model.moeTopk
        let target = config.controller.targetFfnExperts
        let ke = ffnExperts ?? (target == 0 ? Double(K) : target)
        guard ke.isFinite, ke >= 0, ke <= Double(K) else {
            throw ValidationError("--ffn-experts \(ke) must lie in 0...K = \(K)")
        }
        let seq = seqLen ?? config.train.seqLen
        let ctx = context ?? seq
        guard seq >= 1, ctx >= 1 else { throw ValidationError("--seq-len and --context must be at least 1") }
        print(ParamsReport(count: count, name: name, targetFfnExperts: ke, seqLen: seq, context: ctx).text, terminator: "")
    }

    /// The config and a name for the heading.
    private func loadConfig() throws -> (LabConfig, String) {
        switch (config, preset) {
        case (nil, nil):
            throw ValidationError("give a config file or --preset longcat-flash")
        case (.some, .some):
            throw ValidationError("give either a config file or --preset, not both")
        case (nil, let preset?):
            guard preset == "longcat-flash" else {
                throw ValidationError("--preset \(preset): unknown; allowed: longcat-flash")
            }
            guard overrideOptions.overrides.isEmpty else {
                throw ValidationError("--set applies to config files; with --preset use --ffn-experts, --seq-len, --context")
            }
            return (LabConfig.longcatFlashRelease, "LongCat-Flash release (preset longcat-flash)")
        case (let path?, nil):
            return (try ConfigOrSweep.load(path: path, overrides: overrideOptions.overrides).config, path)
        }
    }
}

extension LabConfig {
    /// The release architecture with the paper's budget: K_e = 8, 8192-token sequences.
    static var longcatFlashRelease: LabConfig {
        var c = LabConfig()
        c.model = .longcatFlash
        c.controller.targetFfnExperts = 8
        c.train.seqLen = 8192
        return c
    }
}
