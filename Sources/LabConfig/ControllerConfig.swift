/// `[controller]`: the expert-bias controller (LONGCAT.md section 4). Each field's meaning and
/// allowed values are in its row of `LabConfig.controllerFields` below.
public struct ControllerConfig: Sendable, Equatable {
    public var kind = ControllerKind.none
    public var targetFfnExperts = 0.0
    public var kp = 0.0
    public var ki = 1e-3
    public var kd = 0.0
    public var gamma = 1e-3
    public var gainSchedule = GainSchedule.constant
    public var gainFinalRatio = 0.1
    public var updateInterval = 1
    public var integralClamp = 0.0
    public var budgetGainRatio = 1.0
    public var loopGainTarget = 0.0
    public var loadWindow = 1
    public init() {}
}

extension LabConfig {
    /// The gains are >= 0: the error is target minus actual share, so a negative gain would push
    /// an expert's load away from its target.
    static let controllerFields: [ConfigField] = [
        ConfigField("controller.kind", \.controller.kind,
                    doc: "pid (the paper's rule is kp = 0, ki = mu, kd = 0), sign (loss-free balancing) or none."),
        ConfigField("controller.target_ffn_experts", \.controller.targetFfnExperts,
                    doc: "K_e: target mean number of FFN experts per token; 0 < K_e <= K. 0 means K (no zero slots)."),
        ConfigField("controller.kp", \.controller.kp, doc: "Proportional gain.", .nonNegative),
        ConfigField("controller.ki", \.controller.ki, doc: "Integral gain (the paper's mu).", .nonNegative),
        ConfigField("controller.kd", \.controller.kd, doc: "Derivative gain.", .nonNegative),
        ConfigField("controller.gamma", \.controller.gamma, doc: "Step size of the sign controller.", .nonNegative),
        ConfigField("controller.gain_schedule", \.controller.gainSchedule,
                    doc: "constant, linear or cosine decay of the gains over training."),
        ConfigField("controller.gain_final_ratio", \.controller.gainFinalRatio,
                    doc: "Final gain as a fraction of the initial one, for decaying schedules (a decay: at most 1).",
                    Constraint("in [0, 1]") { (0...1).contains($0) }),
        ConfigField("controller.update_interval", \.controller.updateInterval,
                    doc: "Update every this many steps (loads accumulated in between).", .atLeast(1)),
        ConfigField("controller.integral_clamp", \.controller.integralClamp,
                    doc: "Clamp of the integral term (|I| <= this); 0 = no clamp.", .nonNegative),
        ConfigField("controller.budget_gain_ratio", \.controller.budgetGainRatio,
                    doc: "pid only: multiplies the gains on the budget part of the error (its mean over the FFN "
                        + "experts, which sets how many FFN experts a token gets) while the per-expert differences "
                        + "(the balance part) keep the plain gains. 1 is the paper's rule exactly.", .nonNegative),
        ConfigField("controller.loop_gain_target", \.controller.loopGainTarget,
                    doc: "pid only: adaptive integral gain. The controller refits the sensitivity S of an expert's load "
                        + "share to its own bias every update from its last 64 updates (the share one step later "
                        + "against the bias, per step centred over the FFN experts, per expert detrended) and sets "
                        + "ki = target / S (times the gain schedule, within 10x of ki), so the loop gain ki * S stays at "
                        + "this value as the router sharpens; ki is used until the first fit. Below 1 the loop settles "
                        + "monotonely, 1 to 2 it rings, above 2 it is unstable. 0 = off (the fixed ki).", Constraint("in [0, 2)") { $0 >= 0 && $0 < 2 }),
        ConfigField("controller.load_window", \.controller.loadWindow,
                    doc: "Update on the load shares averaged over the last this many updates (a moving average) "
                        + "instead of the last one only; unlike update_interval the bias still moves every update. "
                        + "1 = off.", .atLeast(1)),
    ]
}
