// Expert-bias controllers (LONGCAT.md section 4): the bias only chooses experts; these rules
// move it between steps from the observed loads.
//
// Dimension letters: N FFN experts (ids 0..<N), Z zero experts (ids N..<N+Z), E = N + Z,
// K top-k slots per token, K_e target mean FFN experts per token, T_all tokens observed.
import LabConfig
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `controller.gain_schedule`: the factor c(t) that multiplies every gain at update step t.
public extension GainSchedule {
    /// c(t), from 1 at t = 0 to `finalRatio` at t >= totalSteps (1 throughout when
    /// totalSteps <= 0 or the schedule is constant).
    func factor(step t: Int, totalSteps: Int, finalRatio r: Double) -> Double {
        if self == .constant || totalSteps <= 0 { return 1 }
        let x = min(max(Double(t) / Double(totalSteps), 0), 1)
        switch self {
        case .constant: return 1
        case .linear: return 1 + (r - 1) * x
        case .cosine: return r + (1 - r) * 0.5 * (1 + cos(Double.pi * x))
        }
    }
}

/// Sets the expert bias from observed loads with the rule `config.kind` names.
///
/// Use: `observe` each routed batch (loads accumulate), then `step(t)` once per training step;
/// it updates when `t % updateInterval == 0` (or when `updateInterval` steps have passed
/// since the last update, should a multiple be skipped) and clears the accumulated loads.
///
/// **pid** (FFN experts i < N; zero experts' bias stays exactly 0):
/// ```
/// e_i(t) = (K_e / K) * (1 / N) - T_i / (K * T_all)          target share minus actual share
/// I_i(t) = clamp(I_i(t-1) + ki * c(t) * e_i(t))             |I| <= integral_clamp when > 0
/// b_i(t) = kp * c(t) * e_i(t) + I_i(t) + kd * c(t) * (e_i(t) - e_i(t-1))
/// ```
/// With `budget_gain_ratio` r != 1 every term uses e'_i = e_i + (r - 1) * mean_j e_j (j < N)
/// in place of e_i: the budget part of the error (its mean, the same for every FFN expert) is
/// scaled by r, the balance part (e_i minus the mean) is not. r = 1 is the paper's rule and
/// skips the rewrite, so it stays bit-identical.
///
/// The integral accumulates ki(t) * e(t) rather than ki(t) * sum e, so a decaying mu means
/// the increment mu(t) * e(t): with kp = kd = 0 the bias equals the paper's incremental rule
/// b_i += mu(t) * e_i(t) exactly (a decaying gain never rescales past increments). The
/// integral is kept in Double; the bias used for routing is its Float rounding. The first
/// update has no previous error, so its D term is 0 (no derivative kick).
///
/// With `load_window` W > 1 the load share T_i / (K * T_all) in e_i is the mean of the last W
/// updates' shares (a moving average; fewer while the history fills). With `loop_gain_target`
/// g* > 0 (pid), ki is replaced by g* / S_hat once S_hat exists (`AdaptiveGain.swift`): S_hat,
/// the sensitivity +d(share_i)/d(b_i), is refitted every update by `SensitivityFit` over the
/// last `sensitivityWindow` updates' biases and instantaneous shares. W = 1 and g* = 0 leave the
/// paper's rule bit-identical.
///
/// **sign** (all E experts, toward uniform load): `b_i += gamma * c(t) * sign(mean - load_i)`,
/// kept as the I term (clamped like pid's when integral_clamp > 0); `error` holds the uniform
/// share minus the actual share, 1/E - T_i / (K * T_all).
///
/// **none**: the bias stays 0.
public struct BiasController: Sendable {
    /// A config that passed `LabConfig`'s `validate` (the controller does not check it again).
    public let config: ControllerConfig
    /// N, Z, K as routed.
    public let routedExperts: Int
    public let zeroExperts: Int
    public let topK: Int
    /// Training length for the gain schedule.
    public let totalSteps: Int
    /// K_e resolved (a configured 0 means K).
    public let targetFfnExperts: Double

    /// `[E]` the terms of the last update (0 where unused); bias = pTerm + iTerm + dTerm. For
    /// records only: the next update does not read them, and a restored controller has 0 here
    /// until its first update.
    public private(set) var pTerm: [Float]
    public private(set) var iTerm: [Float]
    public private(set) var dTerm: [Float]
    /// `[E]` the error of the last update (0 where unused).
    public private(set) var error: [Float]
    /// The controller's memory: routing bias, integral, previous error, loads waiting for the
    /// next update.
    public private(set) var state: State

    /// `controller.kind`.
    public var kind: ControllerKind { config.kind }
    /// `controller.gain_schedule`.
    public var schedule: GainSchedule { config.gainSchedule }
    /// `[E]` bias for routing.
    public var bias: [Float] { state.bias }

    /// Everything the controller carries from one step to the next, saved whole in checkpoints
    /// (`Codable`; floats bit for bit), so a field added here is saved and restored with no
    /// other edit. Give a new Float or Double field `@BitExact`.
    public struct State: Sendable, Equatable, Codable {
        /// `[E]` bias for routing: the Float rounding of the last update's P + I + D.
        @BitExact public var bias: [Float]
        /// `[E]` the I term in Double.
        @BitExact public var integral: [Double]
        /// `[E]` the last update's error; nil before the first update.
        @BitExact public var previousError: [Double]?
        /// `[E]` slots per expert observed since the last update, and the tokens they came from.
        public var pendingLoads: [Int]
        public var pendingTokens: Int
        /// Step of the last update, nil before the first.
        public var lastUpdateStep: Int?
        /// `[W][E]` the load shares of the last W updates, oldest first (`load_window` > 1 only;
        /// nil before the first such update). New fields are optional, so older checkpoints load.
        @BitExact public var shareHistory: [[Double]]?
        /// Adaptive gain (`loop_gain_target` > 0): `[U][N]` the FFN experts' instantaneous shares
        /// of the last U < `sensitivityWindow` updates and the biases each update left, oldest
        /// first, and the last positive fit of the sensitivity (nil before one).
        @BitExact public var fitShares: [[Double]]?
        @BitExact public var fitBiases: [[Double]]?
        @BitExact public var sensitivity: Double?

        /// The state before the first update of `experts` experts: bias 0, nothing observed.
        public init(experts E: Int) {
            bias = Array(repeating: 0, count: E)
            integral = Array(repeating: 0, count: E)
            previousError = nil
            pendingLoads = Array(repeating: 0, count: E)
            pendingTokens = 0
            lastUpdateStep = nil
            shareHistory = nil
            fitShares = nil
            fitBiases = nil
            sensitivity = nil
        }
    }

    /// Starts with bias 0. `config` must have passed `LabConfig`'s `validate` with this N, Z, K
    /// (kind, gains, schedule, interval, clamp and K_e are not checked again here); throws
    /// `RoutingError` only for a router shape no plan could have.
    public init(config: ControllerConfig, routedExperts N: Int, zeroExperts Z: Int, topK K: Int,
                totalSteps: Int) throws {
        try validateRoutingShape(routedExperts: N, zeroExperts: Z, topK: K)
        targetFfnExperts = config.targetFfnExperts == 0 ? Double(K) : config.targetFfnExperts
        self.config = config
        routedExperts = N; zeroExperts = Z; topK = K
        self.totalSteps = totalSteps
        let E = N + Z
        state = State(experts: E)
        pTerm = Array(repeating: 0, count: E); iTerm = pTerm; dTerm = pTerm; error = pTerm
    }

    /// E = N + Z.
    public var experts: Int { routedExperts + zeroExperts }

    /// Adds a routed batch's loads to those awaiting the next update.
    /// - Precondition: the plan was routed with this controller's N, Z and K.
    public mutating func observe(plan: RoutingPlan) {
        precondition(plan.routedExperts == routedExperts && plan.zeroExperts == zeroExperts
                     && plan.topK == topK, "BiasController.observe: plan shape differs from the controller's")
        for e in 0..<experts { state.pendingLoads[e] += plan.load(expert: e) }
        state.pendingTokens += plan.tokens
    }

    /// Adds counted loads (`[E]` slots per expert) from `tokens` tokens, e.g. a `LoadCounter`'s.
    public mutating func observe(loads: UnsafePointer<Int>, tokens: Int) {
        for e in 0..<experts { state.pendingLoads[e] += loads[e] }
        state.pendingTokens += tokens
    }

    /// `observe(loads:tokens:)` for 32-bit counts.
    public mutating func observe(loads: UnsafePointer<Int32>, tokens: Int) {
        for e in 0..<experts { state.pendingLoads[e] += Int(loads[e]) }
        state.pendingTokens += tokens
    }

    /// Adds a `LoadCounter`'s counts (the caller resets the counter).
    public mutating func observe(counter: LoadCounter) {
        counter.loads.withUnsafeBufferPointer { observe(loads: $0.baseAddress!, tokens: counter.tokens) }
    }

    /// Updates the bias if step `t` is due and loads were observed; clears the loads when due.
    /// Returns whether the bias was updated (never for kind none).
    @discardableResult
    public mutating func step(_ t: Int) -> Bool {
        let interval = config.updateInterval
        let due = t % interval == 0 || state.lastUpdateStep.map { t - $0 >= interval } == true
        guard due, state.pendingTokens > 0 else { return false }
        let c = schedule.factor(step: t, totalSteps: totalSteps, finalRatio: config.gainFinalRatio)
        switch kind {
        case .pid: updatePID(gainFactor: c)
        case .sign: updateSign(gainFactor: c)
        case .none: break
        }
        for e in 0..<experts { state.pendingLoads[e] = 0 }
        state.pendingTokens = 0
        state.lastUpdateStep = t
        return kind != .none
    }

    /// Restores a checkpointed `state` (the bias with it); throws when a length differs from E.
    public mutating func restore(_ saved: State) throws {
        let E = experts
        guard saved.bias.count == E, saved.integral.count == E, saved.pendingLoads.count == E,
              saved.previousError.map({ $0.count == E }) ?? true else {
            throw RoutingError("controller checkpoint: state vectors must have N + Z = \(E) entries")
        }
        state = saved
    }

    private func clampIntegral(_ x: Double) -> Double {
        let limit = config.integralClamp
        return limit > 0 ? min(max(x, -limit), limit) : x
    }

    private mutating func updatePID(gainFactor c: Double) {
        let N = routedExperts, K = Double(topK), tAll = Double(state.pendingTokens)
        let shares = config.loadWindow > 1 ? windowedShares() : nil
        let instant = config.loopGainTarget > 0 ? (0..<N).map { Double(state.pendingLoads[$0]) / (K * tAll) } : nil
        if let instant { Self.refitSensitivity(&state, shares: instant) }
        let kp = config.kp * c, ki = (config.loopGainTarget > 0 ? integralGain : config.ki) * c, kd = config.kd * c
        let hadPrevious = state.previousError != nil
        if !hadPrevious { state.previousError = Array(repeating: 0, count: experts) }
        let targetShare = (targetFfnExperts / K) * (1 / Double(N))
        func rawError(_ i: Int) -> Double {
            if let shares { return targetShare - shares[i] }
            return targetShare - Double(state.pendingLoads[i]) / (K * tAll)
        }
        // (r - 1) * mean_j e_j, added to every FFN expert's error; 0 for the paper's rule.
        var budgetBoost = 0.0
        if config.budgetGainRatio != 1 {
            var sum = 0.0
            for j in 0..<N { sum += rawError(j) }
            budgetBoost = (config.budgetGainRatio - 1) * sum / Double(N)
        }
        for i in 0..<N {
            let raw = rawError(i)
            let e = budgetBoost == 0 ? raw : raw + budgetBoost
            let integral = clampIntegral(state.integral[i] + ki * e)
            let p = kp * e
            let d = hadPrevious ? kd * (e - state.previousError![i]) : 0
            state.integral[i] = integral
            state.previousError![i] = e
            pTerm[i] = Float(p); iTerm[i] = Float(integral); dTerm[i] = Float(d)
            error[i] = Float(raw)
            state.bias[i] = Float(p + integral + d)
        }
        if let instant { Self.rememberForFit(&state, shares: instant) }
    }

    /// `[E]` the load shares T_i / (K * T_all) of the pending loads, averaged with the previous
    /// `load_window - 1` updates' (recorded in the state when the window is > 1).
    private mutating func windowedShares() -> [Double] {
        let K = Double(topK), tAll = Double(state.pendingTokens)
        let current = state.pendingLoads.map { Double($0) / (K * tAll) }
        let W = config.loadWindow
        guard W > 1 else { return current }
        var history = state.shareHistory ?? []
        history.append(current)
        if history.count > W { history.removeFirst(history.count - W) }
        state.shareHistory = history
        let n = Double(history.count)
        return (0..<experts).map { e in history.reduce(0) { $0 + $1[e] } / n }
    }

    private mutating func updateSign(gainFactor c: Double) {
        let E = experts, K = Double(topK), tAll = Double(state.pendingTokens)
        let total = state.pendingLoads.reduce(0, +)
        let gamma = config.gamma * c
        let shares = config.loadWindow > 1 ? windowedShares() : nil
        let meanShare = shares.map { $0.reduce(0, +) / Double(E) } ?? 0
        for i in 0..<E {
            let load = state.pendingLoads[i]
            // sign(mean - load_i) with mean = total / E, compared in integers (or in the
            // windowed shares).
            let direction: Double
            if let shares {
                direction = meanShare > shares[i] ? 1 : (meanShare < shares[i] ? -1 : 0)
            } else {
                direction = total > load * E ? 1 : (total < load * E ? -1 : 0)
            }
            let integral = clampIntegral(state.integral[i] + gamma * direction)
            state.integral[i] = integral
            iTerm[i] = Float(integral)
            error[i] = Float(1 / Double(E) - Double(load) / (K * tAll))
            state.bias[i] = Float(integral)
        }
    }
}
