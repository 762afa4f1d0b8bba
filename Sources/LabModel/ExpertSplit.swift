import LabConfig

// Fine-grained expert splits (LONGCAT.md section 6). Splitting a reference MoE by m turns each
// routed expert of hidden F into m experts of hidden F/m: N -> m*N, F -> F/m, K -> m*K, so the
// FLOPs and parameters per token stay the same. Our choice for the zero experts: they are
// routing slots too, so Z -> m*Z keeps their share of the router's experts, and the controller
// target K_e -> m*K_e keeps the budget. `init.fine_grain_factor` records m; the model uses it
// only for gamma = m when `init.variance_compensation` is on.

public extension LabConfig {
    /// This config with every routed expert split into `m` finer ones (the factors compose:
    /// the result's fine_grain_factor is this one's times m). Throws when F is not divisible
    /// by m or the split config is invalid.
    func splittingExperts(by m: Int) throws -> LabConfig {
        guard m >= 1 else { throw ConfigError(keyPath: "init.fine_grain_factor", "split factor \(m): must be >= 1") }
        var c = self
        let f = model.expertFfnHiddenSize
        guard f % m == 0 else {
            throw ConfigError(keyPath: "model.expert_ffn_hidden_size",
                              "model.expert_ffn_hidden_size = \(f) cannot be split into \(m) experts: must be divisible by \(m)")
        }
        c.model.expertFfnHiddenSize = f / m
        c.model.nRoutedExperts *= m
        c.model.zeroExpertNum *= m
        c.model.moeTopk *= m
        c.controller.targetFfnExperts *= Double(m)
        c.initialization.fineGrainFactor *= m
        try validate(c)
        return c
    }

    /// The unsplit reference (fine_grain_factor 1) this config was split from: the inverse of
    /// `splittingExperts(by: fine_grain_factor)`. Throws when N, Z or K is not divisible by it.
    func unsplitReference() throws -> LabConfig {
        let m = initialization.fineGrainFactor
        if m == 1 { return self }
        for (key, value) in [("model.n_routed_experts", model.nRoutedExperts), ("model.zero_expert_num", model.zeroExpertNum),
                             ("model.moe_topk", model.moeTopk)] where value % m != 0 {
            throw ConfigError(keyPath: key, "\(key) = \(value) is not a split by init.fine_grain_factor = \(m): must be divisible by \(m)")
        }
        var c = self
        c.model.expertFfnHiddenSize *= m
        c.model.nRoutedExperts /= m
        c.model.zeroExpertNum /= m
        c.model.moeTopk /= m
        c.controller.targetFfnExperts /= Double(m)
        c.initialization.fineGrainFactor = 1
        try validate(c)
        return c
    }
}
