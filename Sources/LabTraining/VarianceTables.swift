import Foundation
import LabConfig
import LabModel

/// The tables of `longcat-lab variance`: every statistic of the variance probe at
/// initialisation, its mean and spread over seeds and its ratio to the unsplit (m = 1)
/// reference; with split factors, each m with variance compensation off and on; then the MLA
/// alignment and the gradient scale against Adam's epsilon. Each function returns the lines.
public struct VarianceTables: Sendable {
    /// Sequences in the measured batch.
    public var batch: Int
    /// One row per layer instead of the mean over layers.
    public var perLayer: Bool
    /// Only modules starting with this prefix.
    public var module: String?

    public init(batch: Int, perLayer: Bool, module: String?) {
        self.batch = batch
        self.perLayer = perLayer
        self.module = module
    }

    func measure(_ c: LabConfig, _ seeds: [Int]) throws -> [VarianceSummaryRow] {
        try measureInitialVariance(config: c, seeds: seeds, batch: batch).summary(perLayer: perLayer)
    }

    func shown(_ name: String) -> Bool { module.map { name.hasPrefix($0) } ?? true }

    /// Whether the --module filter leaves some module of `family` (e.g. "mla.") shown.
    func overlaps(_ family: String) -> Bool { module.map { family.hasPrefix($0) || $0.hasPrefix(family) } ?? true }

    /// One config: mean, spread and ratio to its unsplit reference for every statistic.
    public func single(_ cfg: LabConfig, reference: LabConfig, seeds: [Int]) throws -> [String] {
        var out = [describe(cfg)]
        let rows = try measure(cfg, seeds)
        let isReference = cfg.initialization.fineGrainFactor == 1
        let ref = isReference ? [:] : Dictionary(uniqueKeysWithValues: try measure(reference, seeds).map { ($0.key, $0.mean) })
        out.append(pad("layer", 6) + pad("module", 20) + pad("statistic", 20) + right("mean", 12) + right("sd", 11) + right("ratio m=1", 11))
        for row in rows where shown(row.module) {
            let ratio = isReference ? "ref" : ref[row.key].map { format($0 == 0 ? .nan : row.mean / $0) } ?? "-"
            out.append(pad(row.layer.map(String.init) ?? "mean", 6) + pad(row.module, 20) + pad(row.statistic, 20)
                  + right(format(row.mean), 12) + right(format(row.sd), 11) + right(ratio, 11))
        }
        if overlaps("mla.") { out += alignment(rows) }
        if overlaps("grad.") { out += gradientScale(rows, eps: cfg.train.adamEps) }
        return out
    }

    /// Every m with compensation off and on; cells are ratios to m = 1 with the relative
    /// spread over seeds.
    public func split(reference: LabConfig, factors: [Int], seeds: [Int]) throws -> [String] {
        var out = ["m = 1 reference: " + describe(reference)]
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
        out.append("cells: ratio to m = 1 (mean over seeds), +-relative spread over seeds; on = gamma m, off = gamma 1")
        out.append(pad("layer", 6) + pad("module", 20) + pad("statistic", 20) + right("m=1 mean", 12)
              + columns.map { right($0.0, 14) }.joined())
        for row in ref where shown(row.module) {
            var line = pad(row.layer.map(String.init) ?? "mean", 6) + pad(row.module, 20) + pad(row.statistic, 20) + right(format(row.mean), 12)
            for (_, rows) in columns {
                guard let x = rows[row.key], row.mean != 0 else { line += right("-", 14); continue }
                line += right(String(format: "%.3g", x.mean / row.mean) + "+-" + String(format: "%.0f%%", 100 * x.sd / abs(x.mean)), 14)
            }
            out.append(line)
        }
        out.append("the paper's argument (near-uniform gates, independent experts): var_routed ~ 1/m^2 off, ~1 on; var_zero ~ 1 off, ~m^2 on")
        return out
    }

    /// How far q_nope, q_rope, k_nope and v are from the rope key's variance, per MLA block.
    func alignment(_ rows: [VarianceSummaryRow]) -> [String] {
        var out: [String] = []
        let byKey = Dictionary(uniqueKeysWithValues: rows.map { ($0.key, $0.mean) })
        let layers = Array(Set(rows.filter { $0.module.hasPrefix("mla.") }.map(\.layer))).sorted { ($0 ?? -2) < ($1 ?? -2) }
        for layer in layers {
            for block in ["mla.0", "mla.1"] {
                let prefix = "\(layer.map(String.init) ?? "*")/\(block)/"
                guard let rope = byKey[prefix + "var_k_rope"], rope > 0 else { continue }
                let parts = ["q_nope", "q_rope", "k_nope", "v"].compactMap { name in
                    byKey[prefix + "var_" + name].map { "\(name) " + String(format: "%.3g", $0 / rope) }
                }
                out.append("alignment \(layer.map { "layer \($0)" } ?? "mean") \(block): var / var(k_rope): " + parts.joined(separator: ", "))
            }
        }
        return out
    }

    /// Gradient RMS of each group against Adam's epsilon (LONGCAT.md section 7).
    func gradientScale(_ rows: [VarianceSummaryRow], eps: Double) -> [String] {
        let groups = rows.filter { $0.layer == -1 && $0.module.hasPrefix("grad.") && $0.module != "grad.all" }
        guard let low = groups.min(by: { $0.mean < $1.mean }), let high = groups.max(by: { $0.mean < $1.mean }) else { return [] }
        return ["train.adam_eps = \(format(eps)): gradient RMS from \(format(low.mean)) (\(low.module)) to \(format(high.mean)) (\(high.module)), "
              + String(format: "%.1e to %.1e times epsilon", low.mean / eps, high.mean / eps)]
    }

    public func describe(_ c: LabConfig) -> String {
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
