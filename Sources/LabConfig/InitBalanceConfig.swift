/// `[init]`: initialisation and variance compensation (LONGCAT.md section 6). Each field's
/// meaning and allowed values are in its row of `LabConfig.initFields` below.
public struct InitConfig: Sendable, Equatable {
    public var std = 0.02
    public var embeddingStd = 1.0
    public var varianceCompensation = false
    public var fineGrainFactor = 1
    public var varianceCompensationScope = CompensationScope.all
    public init() {}
}

/// `[balance]`: device-level load-balance loss (LONGCAT.md section 5). Each field's meaning and
/// allowed values are in its row of `LabConfig.balanceFields` below.
public struct BalanceConfig: Sendable, Equatable {
    public var alpha = 0.0
    public var groups = 1
    public init() {}
}

extension LabConfig {
    static let initFields: [ConfigField] = [
        ConfigField("init.std", \.initialization.std,
                    doc: "Standard deviation of every weight matrix except the embedding.", .positive),
        ConfigField("init.embedding_std", \.initialization.embeddingStd,
                    doc: "Standard deviation of the token embedding.", .positive),
        ConfigField("init.variance_compensation", \.initialization.varianceCompensation,
                    doc: "Multiply the MoE output by gamma = m (the fine-grain factor)."),
        ConfigField("init.fine_grain_factor", \.initialization.fineGrainFactor,
                    doc: "m: how many finer experts one reference expert was split into.", .atLeast(1)),
        ConfigField("init.variance_compensation_scope", \.initialization.varianceCompensationScope,
                    doc: "What gamma multiplies: all (the whole MoE output, the paper) or routed (the FFN "
                        + "experts' part only; the zero experts' term keeps gate s * p)."),
    ]

    static let balanceFields: [ConfigField] = [
        ConfigField("balance.alpha", \.balance.alpha, doc: "alpha; 0 = off.", .nonNegative),
        ConfigField("balance.groups", \.balance.groups,
                    doc: "D: expert-parallel groups; must divide model.n_routed_experts."),
    ]
}
