/// The marks that warn that a row of a comparison does not support a conclusion.
public enum Guard: String, Sendable, CaseIterable, Codable, Comparable {
    /// The arm's activated parameters per token differ from the baseline's by more than
    /// `GuardLimits.compute` over the final window: not an equal-compute comparison.
    case compute
    /// The arm's FFN experts per token are not held at K_e: a layer's final-window mean is more
    /// than `GuardLimits.budget` from K_e with a controller on, or the arm has zero experts and
    /// no controller (`controller.kind = "none"`), so nothing holds the budget.
    case budget
    /// A loss of one of the arm's runs went NaN or infinite.
    case diverged
    /// Fewer than `GuardLimits.minimumSeeds` paired seeds behind the difference.
    case fewSeeds = "n<5"

    public static func < (a: Guard, b: Guard) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// What the mark means, with its limit, for table and figure keys.
    public var meaning: String {
        switch self {
        case .compute: return "activated params/token differ from the baseline's by more than \(formatPercent(GuardLimits.compute)) over the final window"
        case .budget: return "a layer's mean FFN experts/token is more than \(formatPercent(GuardLimits.budget)) from K_e with a controller on, or zero experts with controller.kind = none"
        case .diverged: return "a loss went non-finite"
        case .fewSeeds: return "fewer than \(GuardLimits.minimumSeeds) paired seeds"
        }
    }
}

/// The limits of the guards (STATISTICS.md: equal compute and a held budget are both within 1%).
public enum GuardLimits {
    public static let compute = 0.01
    public static let budget = 0.01
    public static let minimumSeeds = 5
}

/// Whether one run holds its budget: false when it has zero experts and no controller, or a
/// controller is on and some layer's final-window mean FFN experts/token is more than
/// `GuardLimits.budget` from K_e. Runs without zero experts and without a controller always use
/// K FFN experts and hold it trivially.
public func holdsBudget(_ run: RunAnalysis) -> Bool {
    if run.config.zeroExperts > 0 && !run.config.controllerIsOn { return false }
    guard run.config.controllerIsOn, let error = run.budgetError else { return true }
    return error <= GuardLimits.budget
}

/// Whether `a` activated parameters per token differ from the baseline's `b` by more than
/// `GuardLimits.compute` (relative to `b`); false when either is unknown.
public func exceedsComputeLimit(_ a: Double?, baseline b: Double?) -> Bool {
    guard let a, let b, b > 0 else { return false }
    return abs(a - b) / b > GuardLimits.compute
}
