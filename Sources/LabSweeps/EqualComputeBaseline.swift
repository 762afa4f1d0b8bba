import Foundation
import LabConfig

/// The fixed top-k baseline with the same mean activated parameters as a zero-expert model
/// (the comparison behind the paper's Figure 3a: zero experts give lower loss at equal compute).
///
/// A zero-expert model with K slots and budget K_e activates, per token and layer, K_e FFN
/// experts on average (the controller holds the mean there); its zero experts cost nothing
/// (identity kind). The baseline removes the zero experts (Z' = 0) and routes every token to
/// K' FFN experts. Its activated parameters are
///
///     dense' + L * K' * expert      versus      dense + L * K_e * expert
///
/// where dense' is smaller by the router rows of the zero experts (L * D * Z). So K' = K_e
/// when K_e is a whole number, with a residual of -L*D*Z parameters; otherwise K' is whichever
/// of floor(K_e) and ceil(K_e) leaves the smaller residual (a whole number of experts per token
/// cannot match a fractional mean), and `residual` says by how much the baseline differs.
/// The controller kind, expert shape and every other setting stay as they are; the controller's
/// target becomes 0 (= K'), so a pid or sign controller only balances load.
public struct EqualComputeBaseline: Sendable {
    /// The keys the derivation writes.
    public static let derivedKeys = ["model.zero_expert_num", "model.moe_topk", "controller.target_ffn_experts"]

    /// The zero-expert config it was derived from.
    public let source: LabConfig
    /// The baseline: Z' = 0, K' as above, target 0.
    public let baseline: LabConfig
    /// K_e of the source (mean FFN experts per token and layer).
    public let sourceFfnExperts: Double
    /// Mean activated parameters per token of the source at K_e, and of the baseline at K'.
    public let sourceActivated: Double
    public let baselineActivated: Double

    /// baseline - source activated parameters.
    public var residual: Double { baselineActivated - sourceActivated }
    /// `residual` as a fraction of the source's activated parameters.
    public var relativeResidual: Double { residual / sourceActivated }

    /// Derives the baseline of `config`. Throws a `ConfigError` naming the key when `config`
    /// has no zero experts (there is nothing to match) or when K' would exceed N.
    public init(of config: LabConfig) throws {
        let m = config.model
        guard m.zeroExpertNum > 0 else {
            throw ConfigError(keyPath: "model.zero_expert_num",
                              "equal-compute-baseline needs a config with zero experts; model.zero_expert_num = 0 is already a fixed top-\(m.moeTopk) model")
        }
        let ke = config.effectiveTargetFfnExperts
        let source = ParameterCount(model: m).activatedParameters(meanFfnExperts: ke)
        func candidate(_ k: Int) -> (config: LabConfig, activated: Double) {
            var c = config
            c.model.zeroExpertNum = 0
            c.model.moeTopk = k
            c.controller.targetFfnExperts = 0
            return (c, ParameterCount(model: c.model).activatedParameters(meanFfnExperts: Double(k)))
        }
        let options = Set([max(1, Int(ke.rounded(.down))), max(1, Int(ke.rounded(.up)))]).sorted()
        let best = options.map { (k: $0, c: candidate($0)) }.min { abs($0.c.activated - source) < abs($1.c.activated - source) }!
        guard best.k <= m.nRoutedExperts else {
            throw ConfigError(keyPath: "model.moe_topk",
                              "equal-compute-baseline needs top-\(best.k) of model.n_routed_experts = \(m.nRoutedExperts) FFN experts; raise n_routed_experts or lower controller.target_ffn_experts")
        }
        self.source = config
        baseline = best.c.config
        sourceFfnExperts = ke
        sourceActivated = source
        baselineActivated = best.c.activated
    }

    /// One line for the sweep's plan and results: what was matched and the residual.
    public var summary: String {
        String(format: "fixed top-%d, Z = 0: %.0f activated params/token vs %.0f for Z = %d at K_e = %g (residual %+.0f, %+.2f%%)",
               baseline.model.moeTopk, baselineActivated, sourceActivated, source.model.zeroExpertNum,
               sourceFfnExperts, residual, 100 * relativeResidual)
    }
}
