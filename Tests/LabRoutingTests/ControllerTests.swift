// Invariants and dynamics of the expert-bias controllers.
import Foundation
import LabConfig
import Testing
import LabRouting

/// A controller config with the given kind and overrides.
private func config(_ kind: ControllerKind, ke: Double = 0, kp: Double = 0, ki: Double = 0, kd: Double = 0,
                    gamma: Double = 1e-3, schedule: GainSchedule = .constant, finalRatio: Double = 0.1,
                    interval: Int = 1, clamp: Double = 0, budgetRatio: Double = 1) -> ControllerConfig {
    var c = ControllerConfig()
    c.kind = kind; c.targetFfnExperts = ke; c.kp = kp; c.ki = ki; c.kd = kd; c.gamma = gamma
    c.gainSchedule = schedule; c.gainFinalRatio = finalRatio; c.updateInterval = interval
    c.integralClamp = clamp; c.budgetGainRatio = budgetRatio
    return c
}

/// Feeds `loads` ([E] slots per expert from `tokens` tokens) to the controller.
private func observe(_ controller: inout BiasController, _ loads: [Int], tokens: Int) {
    loads.withUnsafeBufferPointer { controller.observe(loads: $0.baseAddress!, tokens: tokens) }
}

/// Random loads of T tokens with K slots each, spread over E experts.
private func randomLoads(experts E: Int, tokens T: Int, topK K: Int, rng: inout TestRNG) -> [Int] {
    var loads = [Int](repeating: 0, count: E)
    for _ in 0..<T * K { loads[Int(rng.uniform() * Double(E))] += 1 }
    return loads
}

@Suite struct ControllerTests {
    /// Guards against a positional PID that does not reduce to the paper's rule
    /// b_i += mu(t) * e_i(t) (kp = kd = 0, ki = mu), e.g. by scaling the whole integral with a
    /// decaying gain, or by using a different error formula. Bit-for-bit: the hand loop keeps
    /// b in Double and the controller routes with its Float rounding.
    @Test(arguments: GainSchedule.allCases)
    func paperRuleEqualsIncrementalRule(schedule: GainSchedule) throws {
        let N = 8, Z = 4, K = 4, E = N + Z, T = 100, steps = 60, mu = 0.05, ke = 2.5, r = 0.1
        var controller = try BiasController(config: config(.pid, ke: ke, ki: mu, schedule: schedule, finalRatio: r),
                                            routedExperts: N, zeroExperts: Z, topK: K, totalSteps: steps)
        var b = [Double](repeating: 0, count: N)
        var rng = TestRNG(seed: 21)
        for t in 0..<steps {
            let loads = randomLoads(experts: E, tokens: T, topK: K, rng: &rng)
            observe(&controller, loads, tokens: T)
            let updated = controller.step(t)
            #expect(updated)
            let x = Double(t) / Double(steps)
            let decay = schedule == .constant ? 1 : schedule == .linear ? 1 + (r - 1) * x
                : r + (1 - r) * 0.5 * (1 + cos(Double.pi * x))
            for i in 0..<N {
                let e = (ke / Double(K)) * (1 / Double(N)) - Double(loads[i]) / (Double(K) * Double(T))
                b[i] += mu * decay * e
            }
            for i in 0..<N {
                #expect(controller.bias[i] == Float(b[i]), "step \(t) expert \(i)")
                #expect(controller.iTerm[i] == controller.bias[i] && controller.pTerm[i] == 0 && controller.dTerm[i] == 0)
            }
        }
    }

    /// Guards against a PID that writes zero experts' bias (they must stay exactly 0: the
    /// budget comes from the FFN experts' targets alone).
    /// Guards against a budget gain that leaks into the balance part (or the reverse): with
    /// budget_gain_ratio r, one update moves the mean FFN bias by r * ki * mean(e) and the
    /// deviations from that mean by ki * (e_i - mean(e)), on scripted loads whose budget error
    /// and imbalance are both non-zero; the recorded error stays the paper's e_i.
    @Test(arguments: [0.0, 1.0, 4.0])
    func budgetGainScalesOnlyTheMeanOfTheError(ratio: Double) throws {
        let N = 4, Z = 4, K = 2, T = 100, ki = 0.5, ke = 1.0
        var controller = try BiasController(config: config(.pid, ke: ke, ki: ki, budgetRatio: ratio),
                                            routedExperts: N, zeroExperts: Z, topK: K, totalSteps: 10)
        // 200 slots: FFN experts take 30 + 50 + 20 + 40 = 140 (target 100), zero experts 60.
        let loads = [30, 50, 20, 40, 15, 15, 15, 15]
        observe(&controller, loads, tokens: T)
        let updated = controller.step(0)
        #expect(updated)
        let e = (0..<N).map { (ke / Double(K)) / Double(N) - Double(loads[$0]) / Double(K * T) }
        let meanE = e.reduce(0, +) / Double(N)
        let bias = controller.bias.prefix(N).map(Double.init)
        let meanB = bias.reduce(0, +) / Double(N)
        #expect(abs(meanB - ratio * ki * meanE) < 1e-7)
        for i in 0..<N {
            #expect(abs((bias[i] - meanB) - ki * (e[i] - meanE)) < 1e-7, "expert \(i)")
            #expect(controller.error[i] == Float(e[i]))
        }
        #expect(controller.bias[N...].allSatisfy { $0 == 0 })
    }

    @Test func pidNeverMovesZeroExpertBias() throws {
        let N = 6, Z = 5, K = 3, E = N + Z, T = 50
        var controller = try BiasController(config: config(.pid, ke: 1.5, kp: 0.3, ki: 0.1, kd: 0.2, clamp: 0.5),
                                            routedExperts: N, zeroExperts: Z, topK: K, totalSteps: 100)
        var rng = TestRNG(seed: 22)
        for t in 0..<40 {
            var loads = randomLoads(experts: E, tokens: T, topK: K, rng: &rng)
            loads[N] += 20; loads[0] = max(0, loads[0] - 5)   // skew, zero experts included
            observe(&controller, loads, tokens: T)
            controller.step(t)
            #expect(controller.bias.count == E)
            for z in N..<E {
                #expect(controller.bias[z] == 0 && controller.pTerm[z] == 0 && controller.iTerm[z] == 0
                        && controller.dTerm[z] == 0)
            }
        }
        #expect(controller.bias[0..<N].contains { $0 != 0 }, "FFN experts' bias must move")
    }

    /// Guards against terms recorded apart from what the bias uses, or a derivative kick on the
    /// first update (no previous error yet).
    @Test func pidTermsAddUpToTheBias() throws {
        let N = 4, Z = 2, K = 2, E = N + Z, T = 40, kp = 0.7, ki = 0.2, kd = 0.4
        var controller = try BiasController(config: config(.pid, ke: 1, kp: kp, ki: ki, kd: kd),
                                            routedExperts: N, zeroExperts: Z, topK: K, totalSteps: 10)
        var rng = TestRNG(seed: 23)
        var previous: [Float]? = nil
        for t in 0..<5 {
            observe(&controller, randomLoads(experts: E, tokens: T, topK: K, rng: &rng), tokens: T)
            controller.step(t)
            for i in 0..<N {
                let sum = controller.pTerm[i] + controller.iTerm[i] + controller.dTerm[i]
                #expect(abs(controller.bias[i] - sum) <= 1e-6)
                #expect(abs(controller.pTerm[i] - Float(kp) * controller.error[i]) <= 1e-7)
                let expectedD = previous.map { Float(kd) * (controller.error[i] - $0[i]) } ?? 0
                #expect(abs(controller.dTerm[i] - expectedD) <= 1e-6)
            }
            previous = controller.error
        }
    }

    /// Guards against a controller that does not actually steer the FFN budget: on a fixed
    /// batch whose router prefers FFN experts (mean FFN experts per token well above K_e), the
    /// paper's I-controller must bring the mean to K_e within 1% and keep it there.
    @Test func stepResponseConvergesToTargetFfnExperts() throws {
        let N = 16, Z = 8, K = 4, E = N + Z, T = 1024, ke = 2.0, steps = 300
        var rng = TestRNG(seed: 24)
        let offset = (0..<E).map { $0 < N ? 0.8 : 0.0 }
        let probs = randomProbs(tokens: T, experts: E, spread: 1, offset: offset, rng: &rng)
        var controller = try BiasController(config: config(.pid, ke: ke, ki: 0.15), routedExperts: N,
                                            zeroExperts: Z, topK: K, totalSteps: steps)
        var plan = RoutingPlan()
        var stats = RoutingStats()
        var means: [Double] = []
        for t in 0..<steps {
            try route(probs: probs, bias: controller.bias, tokens: T, routedExperts: N, zeroExperts: Z,
                      topK: K, gateScale: 1, into: &plan)
            stats.compute(plan: plan, probs: nil)
            means.append(stats.ffnExpertsMean)
            controller.observe(plan: plan)
            controller.step(t)
        }
        #expect(means[0] > ke * 1.3, "the scripted router must start far from the target")
        let settled = means.suffix(100)
        #expect(settled.allSatisfy { abs($0 - ke) / ke < 0.01 }, "last 100 means: \(settled.min()!)...\(settled.max()!)")
    }

    /// Guards against integral windup: with a router that ignores the bias, the clamped integral
    /// must stop at +-integral_clamp, while an unclamped one keeps growing.
    @Test func antiWindupClampsTheIntegral() throws {
        let N = 4, Z = 2, K = 2, E = N + Z, T = 10, clamp = 0.01
        var clamped = try BiasController(config: config(.pid, ke: 1, ki: 0.1, clamp: clamp),
                                         routedExperts: N, zeroExperts: Z, topK: K, totalSteps: 100)
        var free = try BiasController(config: config(.pid, ke: 1, ki: 0.1),
                                      routedExperts: N, zeroExperts: Z, topK: K, totalSteps: 100)
        var loads = [Int](repeating: 0, count: E)
        loads[0] = T; loads[1] = T   // experts 0 and 1 take every slot, whatever the bias
        for t in 0..<100 {
            observe(&clamped, loads, tokens: T); clamped.step(t)
            observe(&free, loads, tokens: T); free.step(t)
        }
        #expect(clamped.iTerm.allSatisfy { abs($0) <= Float(clamp) })
        #expect(clamped.iTerm[0] == -Float(clamp) && clamped.iTerm[2] == Float(clamp))
        #expect(abs(free.iTerm[0]) > 10 * Float(clamp))
    }

    /// Guards against updates on every step regardless of update_interval, or loads dropped
    /// between updates: the update must use the loads summed since the previous one.
    @Test func updateIntervalAccumulatesLoads() throws {
        let N = 2, Z = 1, K = 2, ke = 1.0, mu = 0.5
        var controller = try BiasController(config: config(.pid, ke: ke, ki: mu, interval: 3),
                                            routedExperts: N, zeroExperts: Z, topK: K, totalSteps: 10)
        let batches = [([3, 1, 0], 2), ([0, 2, 2], 2), ([4, 0, 2], 3)]
        for (t, (loads, tokens)) in batches.enumerated() {
            observe(&controller, loads, tokens: tokens)
            let updated = controller.step(t + 1)
            #expect(updated == (t + 1 == 3))
            if t + 1 < 3 { #expect(controller.bias == [0, 0, 0]) }
        }
        // Summed: loads [7, 3, 4] from 7 tokens.
        let e0 = (ke / 2) * (1 / 2.0) - 7.0 / (2 * 7), e1 = (ke / 2) * (1 / 2.0) - 3.0 / (2 * 7)
        #expect(controller.bias[0] == Float(mu * e0) && controller.bias[1] == Float(mu * e1))
        #expect(controller.state.pendingTokens == 0 && controller.state.pendingLoads == [0, 0, 0])
        let updatedAgain = controller.step(4)
        #expect(!updatedAgain, "nothing observed since the update")
    }

    /// Guards against a sign controller that pushes the wrong way or ignores zero experts: on
    /// a skewed fixed router it must lower overloaded experts, raise underloaded ones (all
    /// N + Z of them) and cut MaxVio.
    @Test func signControllerReducesMaxVio() throws {
        let N = 16, Z = 4, K = 2, E = N + Z, T = 1024, steps = 300
        var rng = TestRNG(seed: 25)
        let offset = (0..<E).map { Double($0 % 5) * 0.3 }   // experts 4, 9, 14, 19 preferred
        let probs = randomProbs(tokens: T, experts: E, spread: 1, offset: offset, rng: &rng)
        var controller = try BiasController(config: config(.sign, gamma: 1e-3), routedExperts: N,
                                            zeroExperts: Z, topK: K, totalSteps: steps)
        var plan = RoutingPlan()
        var stats = RoutingStats()
        var firstVio = 0.0
        for t in 0..<steps {
            try route(probs: probs, bias: controller.bias, tokens: T, routedExperts: N, zeroExperts: Z,
                      topK: K, gateScale: 1, into: &plan)
            stats.compute(plan: plan, probs: nil)
            controller.observe(plan: plan)
            let updated = controller.step(t)
            #expect(updated)
            if t == 0 {
                firstVio = stats.maxVio
                let mean = Double(T * K) / Double(E)
                for i in 0..<E {
                    let load = Double(stats.tokens[i])
                    #expect(controller.bias[i] == (load > mean ? -1e-3 : load < mean ? 1e-3 : 0))
                }
            }
        }
        #expect(controller.bias[N..<E].contains { $0 != 0 }, "the sign rule acts on zero experts too")
        #expect(firstVio > 1)
        #expect(stats.maxVio < firstVio / 4, "MaxVio \(firstVio) -> \(stats.maxVio)")
    }

    /// Guards against a "none" controller that moves the bias or claims to update.
    @Test func noneControllerKeepsBiasZero() throws {
        var controller = try BiasController(config: config(.none), routedExperts: 3, zeroExperts: 1, topK: 2,
                                            totalSteps: 5)
        observe(&controller, [4, 0, 0, 0], tokens: 2)
        let updated = controller.step(0)
        #expect(!updated)
        #expect(controller.bias == [0, 0, 0, 0] && controller.state.pendingTokens == 0)
    }

    /// Guards against a controller built for a router shape no plan can have (the one check
    /// left in the controller: its config is `LabConfig`'s to validate, see ValidationTests).
    @Test func impossibleRouterShapeIsRejected() throws {
        func message(N: Int = 8, Z: Int = 4, K: Int = 4) -> String {
            do {
                _ = try BiasController(config: config(.pid), routedExperts: N, zeroExperts: Z, topK: K, totalSteps: 10)
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(message(K: 13).contains("model.moe_topk"))
        #expect(message(N: 0).contains("model.n_routed_experts"))
        #expect(message().isEmpty)
    }

    /// Guards against a controller that re-validates its config with rules of its own (they
    /// disagreed with LabConfig's): it takes what validation accepted, and K_e = 0 means K.
    @Test func trustsAValidatedConfig() throws {
        var lab = LabConfig()
        try lab.set("controller.kind", .string("pid"))
        try lab.set("controller.gain_final_ratio", .float(1))
        try lab.set("controller.gain_schedule", .string("linear"))
        try validate(lab)
        let m = lab.model
        let c = try BiasController(config: lab.controller, routedExperts: m.nRoutedExperts, zeroExperts: m.zeroExpertNum,
                                   topK: m.moeTopk, totalSteps: 10)
        #expect(c.kind == .pid && c.schedule == .linear && c.targetFfnExperts == Double(m.moeTopk))
    }

    /// Guards against a schedule with the wrong end points or shape.
    @Test func gainScheduleRunsFromOneToTheFinalRatio() {
        for schedule in GainSchedule.allCases {
            #expect(schedule.factor(step: 0, totalSteps: 100, finalRatio: 0.2) == 1)
            let end = schedule.factor(step: 100, totalSteps: 100, finalRatio: 0.2)
            let middle = schedule.factor(step: 50, totalSteps: 100, finalRatio: 0.2)
            #expect(abs(end - (schedule == .constant ? 1 : 0.2)) < 1e-12)
            #expect(abs(middle - (schedule == .constant ? 1 : 0.6)) < 1e-12)
            #expect(schedule.factor(step: 500, totalSteps: 100, finalRatio: 0.2) == end)
        }
    }

    /// Guards against checkpoints that lose controller memory: a controller restored from
    /// another's state must continue with identical biases.
    @Test func restoredControllerContinuesIdentically() throws {
        let N = 4, Z = 2, K = 2, E = N + Z, T = 20
        let c = config(.pid, ke: 1, kp: 0.2, ki: 0.1, kd: 0.3, interval: 2)
        var a = try BiasController(config: c, routedExperts: N, zeroExperts: Z, topK: K, totalSteps: 20)
        var rng = TestRNG(seed: 26)
        let loads = (0..<20).map { _ in randomLoads(experts: E, tokens: T, topK: K, rng: &rng) }
        for t in 0..<9 { observe(&a, loads[t], tokens: T); a.step(t) }
        var b = try BiasController(config: c, routedExperts: N, zeroExperts: Z, topK: K, totalSteps: 20)
        try b.restore(a.state)
        for t in 9..<20 {
            observe(&a, loads[t], tokens: T); a.step(t)
            observe(&b, loads[t], tokens: T); b.step(t)
            #expect(a.bias == b.bias)
        }
        var short = a.state
        short.bias = [0]
        #expect(throws: RoutingError.self) { try b.restore(short) }
    }
}
