import ArgumentParser
import Foundation
import LabConfig
import LabModel
import LabTraining

struct VarianceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "variance",
        abstract: "Measure activation and gradient variance at initialisation over several seeds, without training.",
        discussion: """
        Builds the model for each seed, runs one forward and backward pass on the step-0 batch (no update) and prints every statistic of the variance probe (the rows a training run records into variance_stats): mean and spread over seeds, and the ratio to the unsplit (init.fine_grain_factor = 1) reference. Layers are averaged unless --per-layer.

        --split 1,2,4,8 treats the config's unsplit reference as m = 1, splits its experts by each m (N*m experts of hidden F/m, top-k*m, Z*m zero experts) and measures every m with and without variance compensation (gamma = m), printing ratios to m = 1.

        Examples:
          longcat-lab variance experiments/bench-tiny.toml
          longcat-lab variance experiments/bench-tiny.toml --module mla
          longcat-lab variance experiments/bench-tiny.toml --split 1,2,4,8 --module moe
        """)

    @Argument(help: "Config file (TOML).")
    var config: String

    @OptionGroup var overrides: ConfigOverrides

    @Option(help: "Number of seeds: train.seed, train.seed + 1, ...")
    var seeds = 3

    @Option(help: "Sequences in the measured batch (of train.seq_len tokens).")
    var batch = 4

    @Option(help: ArgumentHelp("Split factors m to compare, e.g. 1,2,4,8.", valueName: "m,m,..."))
    var split: String?

    @Option(help: ArgumentHelp("Show only modules starting with this prefix (e.g. moe, mla, grad).", valueName: "prefix"))
    var module: String?

    @Flag(help: "One row per layer instead of the mean over layers.")
    var perLayer = false

    func validate() throws {
        guard seeds >= 1 else { throw ValidationError("--seeds \(seeds): must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch \(batch): must be at least 1") }
        _ = try splitFactors()
    }

    /// The --split list, or nil.
    func splitFactors() throws -> [Int]? {
        guard let split else { return nil }
        let parts = split.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let factors = parts.compactMap { Int($0) }
        guard !parts.isEmpty, factors.count == parts.count, factors.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--split \(split): must be a comma-separated list of integers >= 1, e.g. 1,2,4,8")
        }
        return factors
    }

    func run() throws {
        let cfg = try LabConfig.load(path: config, overrides: overrides.overrides)
        let seedList = Array(cfg.train.seed..<(cfg.train.seed + seeds))
        let started = Date()
        let reference = try cfg.unsplitReference()
        print("variance at initialisation: \(config), seeds \(seedList.map(String.init).joined(separator: ", ")), batch \(batch)x\(cfg.train.seqLen), no update")
        let tables = VarianceTables(batch: batch, perLayer: perLayer, module: module)
        let lines = try splitFactors().map { try tables.split(reference: reference, factors: $0, seeds: seedList) }
            ?? tables.single(cfg, reference: reference, seeds: seedList)
        for line in lines { print(line) }
        print(String(format: "measured in %.1f s", Date().timeIntervalSince(started)))
    }
}
