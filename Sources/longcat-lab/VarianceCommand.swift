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
        Builds the model for each seed, runs one forward and backward pass on the step-0 batch
        (no update) and prints every statistic of the variance probe (the rows a training run
        records into variance_stats): mean and spread over seeds, and the ratio to the unsplit
        (init.fine_grain_factor = 1) reference. Layers are averaged unless --per-layer.

        --split 1,2,4,8 treats the config's unsplit reference as m = 1, splits its experts by
        each m (N*m experts of hidden F/m, top-k*m, Z*m zero experts) and measures every m with
        and without variance compensation (gamma = m), printing ratios to m = 1.

        Examples:
          longcat-lab variance experiments/bench-tiny.toml
          longcat-lab variance experiments/bench-tiny.toml --set model.mla_scale_kv_lora=false --module mla
          longcat-lab variance experiments/bench-tiny.toml --split 1,2,4,8 --module moe
        """)

    @Argument(help: "Config file (TOML).")
    var config: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config key (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

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
        let cfg = try LabConfig.load(path: config, overrides: overrides)
        let seedList = Array(cfg.train.seed..<(cfg.train.seed + seeds))
        let started = Date()
        let reference = try cfg.unsplitReference()
        print("variance at initialisation: \(config), seeds \(seedList.map(String.init).joined(separator: ", ")), batch \(batch)x\(cfg.train.seqLen), no update")
        if let factors = try splitFactors() {
            try runSplit(reference: reference, factors: factors, seeds: seedList)
        } else {
            try runSingle(cfg, reference: reference, seeds: seedList)
        }
        print(String(format: "measured in %.1f s", Date().timeIntervalSince(started)))
    }

    func measure(_ c: LabConfig, _ seeds: [Int]) throws -> [VarianceSummaryRow] {
        try measureInitialVariance(config: c, seeds: seeds, batch: batch).summary(perLayer: perLayer)
    }

    func shown(_ name: String) -> Bool { module.map { name.hasPrefix($0) } ?? true }

    /// Whether the --module filter leaves some module of `family` (e.g. "mla.") shown.
    func overlaps(_ family: String) -> Bool { module.map { family.hasPrefix($0) || $0.hasPrefix(family) } ?? true }

    /// One config: mean, spread and ratio to its unsplit reference for every statistic.
    func runSingle(_ cfg: LabConfig, reference: LabConfig, seeds: [Int]) throws {
        print(describe(cfg))
        let rows = try measure(cfg, seeds)
        let isReference = cfg.initialization.fineGrainFactor == 1
        let ref = isReference ? [:] : Dictionary(uniqueKeysWithValues: try measure(reference, seeds).map { ($0.key, $0.mean) })
        print(pad("layer", 6) + pad("module", 20) + pad("statistic", 20) + right("mean", 12) + right("sd", 11) + right("ratio m=1", 11))
        for row in rows where shown(row.module) {
            let ratio = isReference ? "ref" : ref[row.key].map { format($0 == 0 ? .nan : row.mean / $0) } ?? "-"
            print(pad(row.layer.map(String.init) ?? "mean", 6) + pad(row.module, 20) + pad(row.statistic, 20)
                  + right(format(row.mean), 12) + right(format(row.sd), 11) + right(ratio, 11))
        }
        if overlaps("mla.") { printAlignment(rows) }
        if overlaps("grad.") { printGradientScale(rows, eps: cfg.train.adamEps) }
    }

    /// Every m with compensation off and on; cells are ratios to m = 1 with the relative
    /// spread over seeds.
    func runSplit(reference: LabConfig, factors: [Int], seeds: [Int]) throws {
        print("m = 1 reference: " + describe(reference))
        var base = reference
        base.initialization.varianceCompensation = false
        let ref = try measure(base, seeds)
        var columns: [(String, [String: VarianceSummaryRow])] = []
        for m in factors where m > 1 {
            for compensated in [false, true] {
                var c = try base.splittingExperts(by: m)
                c.initialization.varianceCompensation = compensated
                let rows = try measure(c, seeds)
                columns.append(("m=\(m) \(compensated ? "on" : "off")", Dictionary(uniqueKeysWithValues: rows.map { ($0.key, $0) })))
            }
        }
        print("cells: ratio to m = 1 (mean over seeds), +-relative spread over seeds; on = gamma m, off = gamma 1")
        print(pad("layer", 6) + pad("module", 20) + pad("statistic", 20) + right("m=1 mean", 12)
              + columns.map { right($0.0, 14) }.joined())
        for row in ref where shown(row.module) {
            var line = pad(row.layer.map(String.init) ?? "mean", 6) + pad(row.module, 20) + pad(row.statistic, 20) + right(format(row.mean), 12)
            for (_, rows) in columns {
                guard let x = rows[row.key], row.mean != 0 else { line += right("-", 14); continue }
                line += right(String(format: "%.3g", x.mean / row.mean) + "+-" + String(format: "%.0f%%", 100 * x.sd / abs(x.mean)), 14)
            }
            print(line)
        }
        print("the paper's argument (near-uniform gates, independent experts): var_routed ~ 1/m^2 off, ~1 on; var_zero ~ 1 off, ~m^2 on")
    }

    /// How far q_nope, q_rope, k_nope and v are from the rope key's variance, per MLA block.
    func printAlignment(_ rows: [VarianceSummaryRow]) {
        let byKey = Dictionary(uniqueKeysWithValues: rows.map { ($0.key, $0.mean) })
        let layers = Array(Set(rows.filter { $0.module.hasPrefix("mla.") }.map(\.layer))).sorted { ($0 ?? -2) < ($1 ?? -2) }
        for layer in layers {
            for block in ["mla.0", "mla.1"] {
                let prefix = "\(layer.map(String.init) ?? "*")/\(block)/"
                guard let rope = byKey[prefix + "var_k_rope"], rope > 0 else { continue }
                let parts = ["q_nope", "q_rope", "k_nope", "v"].compactMap { name in
                    byKey[prefix + "var_" + name].map { "\(name) " + String(format: "%.3g", $0 / rope) }
                }
                print("alignment \(layer.map { "layer \($0)" } ?? "mean") \(block): var / var(k_rope): " + parts.joined(separator: ", "))
            }
        }
    }

    /// Gradient RMS of each group against Adam's epsilon (LONGCAT.md section 7).
    func printGradientScale(_ rows: [VarianceSummaryRow], eps: Double) {
        let groups = rows.filter { $0.layer == -1 && $0.module.hasPrefix("grad.") && $0.module != "grad.all" }
        guard let low = groups.min(by: { $0.mean < $1.mean }), let high = groups.max(by: { $0.mean < $1.mean }) else { return }
        print("train.adam_eps = \(format(eps)): gradient RMS from \(format(low.mean)) (\(low.module)) to \(format(high.mean)) (\(high.module)), "
              + String(format: "%.1e to %.1e times epsilon", low.mean / eps, high.mean / eps))
    }

    func describe(_ c: LabConfig) -> String {
        let m = c.model, i = c.initialization
        return "d \(m.hiddenSize), \(m.numLayers) layers, rq \(m.qLoraRank), rkv \(m.kvLoraRank), N \(m.nRoutedExperts) + Z \(m.zeroExpertNum), top-\(m.moeTopk), F \(m.expertFfnHiddenSize), m \(i.fineGrainFactor), compensation \(i.varianceCompensation ? "on" : "off"), output scale \(format(c.moeOutputScale)), alpha_q \(format(m.mlaScaleQ)), alpha_kv \(format(m.mlaScaleKV))"
    }
}

/// Four significant digits, or "nan".
private func format(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "nan" }

/// Right-aligns `s` in a field of `width` characters (with one space before it).
private func right(_ s: String, _ width: Int) -> String {
    s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
}
