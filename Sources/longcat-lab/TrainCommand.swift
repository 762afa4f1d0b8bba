import ArgumentParser
import Foundation
import LabConfig
import LabKernels
import LabSweeps
import LabTraining

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model from a TOML config, recording every step.",
        discussion: """
        Examples:
          longcat-lab train experiments/quickstart.toml
          longcat-lab train experiments/quickstart.toml --set controller.kind=none
          longcat-lab train experiments/quickstart.toml --resume  # newest run
          longcat-lab train experiments/quickstart.toml --name qs-1 --resume

        Ctrl-C finishes the current step, writes a checkpoint and marks the run interrupted; --resume continues it with results identical to an uninterrupted run.
        """)

    @Argument(help: "Config file (TOML). Presets in experiments/ hold only what differs from the defaults.")
    var config: String

    @OptionGroup var overrideOptions: ConfigOverrides

    @Option(help: "Run name, unique in the database (default: <config name>-<UTC time>).")
    var name: String?

    @Flag(help: "Continue the run from its newest checkpoint (the newest unfinished run of this config when --name is not given).")
    var resume = false

    @OptionGroup var records: RecordsOptions

    @OptionGroup var output: ResultsOptions

    @Flag(help: "Do not write per-step records (the training result is the same either way).")
    var noRecord = false

    @OptionGroup var progress: ProgressOptions

    @Option(name: .customLong("stop-after"), help: ArgumentHelp("Stop after this many steps as if interrupted (checkpoint; --resume continues).", valueName: "steps"))
    var stopAfter: Int?

    func run() throws {
        let loaded = try ConfigOrSweep.load(path: config, overrides: overrideOptions.overrides)
        if let note = loaded.note { print(note) }
        let cfg = loaded.config
        let stem = URL(fileURLWithPath: config).deletingPathExtension().lastPathComponent
        let runName: String
        if let name {
            runName = name
        } else if resume {
            guard let found = newestRun(prefix: stem + "-", in: output.results + "/runs") else {
                throw TrainingError("no run of '\(stem)' with a checkpoint under \(output.results)/runs to resume; give --name")
            }
            runName = found
        } else {
            let f = DateFormatter()
            f.dateFormat = "yyyyMMdd-HHmmss"
            f.timeZone = TimeZone(identifier: "UTC")
            runName = stem + "-" + f.string(from: Date())
        }
        var options = TrainOptions(name: runName)
        options.databasePath = records.db
        options.resultsDirectory = output.results
        options.resume = resume
        options.record = !noRecord
        options.verbose = !progress.quiet
        options.stopAfterStep = stopAfter
        LabThreads.set(cfg.train.threads)
        let kernel = try verifiedBLASKernel()
        print("run \(runName): \(cfg.model.numLayers) layers, d \(cfg.model.hiddenSize), N \(cfg.model.nRoutedExperts) + Z \(cfg.model.zeroExpertNum), top-\(cfg.model.moeTopk), \(cfg.train.steps) steps of \(cfg.train.batchSize)x\(cfg.train.seqLen) tokens; BLAS \(kernel) kernel (checked), \(LabThreads.count) threads")
        let trainer = try Trainer(config: cfg, options: options)
        let s = try trainer.run()
        var lines = ["run \(s.runName): \(s.interrupted ? "interrupted" : "finished") after \(s.steps) steps in \(formatDuration(s.wallSeconds))"]
        lines.append(String(format: "  final training loss %.4f", s.finalLoss))
        if let e = s.finalEvalLoss { lines.append(String(format: "  validation loss     %.4f nats/token", e)) }
        lines.append(String(format: "  median throughput   %.0f tokens/s", s.tokensPerSecond))
        lines.append(noRecord ? "  records             none (--no-record)"
                              : "  records             \(s.databasePath) (longcat-lab show \(s.runName))")
        lines.append("  config, checkpoints \(s.runDirectory)/")
        print(lines.joined(separator: "\n"))
        if s.interrupted { throw ExitCode(130) }
    }
}

/// The most recently modified run directory `<prefix>*` that has a checkpoint.
func newestRun(prefix: String, in folder: String) -> String? {
    let fm = FileManager.default
    guard let names = try? fm.contentsOfDirectory(atPath: folder) else { return nil }
    var best: (String, Date)? = nil
    for n in names where n.hasPrefix(prefix) {
        let latest = folder + "/" + n + "/checkpoints/latest"
        guard let attrs = try? fm.attributesOfItem(atPath: latest), let date = attrs[.modificationDate] as? Date else { continue }
        if best == nil || date > best!.1 { best = (n, date) }
    }
    return best?.0
}
