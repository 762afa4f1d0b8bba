// Load statistics on plans whose numbers can be worked out by hand.
import Foundation
import LabConfig
import Testing
import LabRouting

@Suite struct RoutingStatsTests {
    /// Guards against statistics that miscount (slots vs tokens, FFN vs zero experts, gates
    /// averaged over the wrong set, entropy in bits): every number here is worked out by hand.
    @Test func statsOnAHandBuiltPlanMatchHandNumbers() throws {
        // N = 2 (ids 0, 1), Z = 2 (ids 2, 3), K = 2, T = 3:
        // token 0 -> {0, 1} gates 0.5, 0.25; token 1 -> {1, 2} 0.2, 0.1; token 2 -> {2, 3} 0.3, 0.3.
        let plan = try RoutingPlan(expert: [0, 1, 2, 1, 3, 2], gate: [0.5, 0.25, 0.1, 0.2, 0.3, 0.3],
                                   tokens: 3, routedExperts: 2, zeroExperts: 2, topK: 2)
        let probs: [Float] = [0.25, 0.25, 0.25, 0.25, 1, 0, 0, 0, 0.5, 0.5, 0, 0]
        var stats = RoutingStats()
        probs.withUnsafeBufferPointer { stats.compute(plan: plan, probs: $0.baseAddress!) }
        #expect(stats.ffnHistogram == [1, 1, 1])
        #expect(abs(stats.ffnExpertsMean - 1) < 1e-12)
        #expect(abs(stats.ffnExpertsStd - (2.0 / 3).squareRoot()) < 1e-12)
        #expect(stats.tokens == [1, 2, 2, 1])
        #expect(zip(stats.loadShare, [1.0, 2, 2, 1].map { $0 / 6 }).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(zip(stats.meanGate, [0.5, 0.225, 0.2, 0.3]).allSatisfy { abs($0 - $1) < 1e-7 })
        #expect(abs(stats.zeroExpertShare - 0.5) < 1e-12)
        #expect(abs(stats.maxVio - 1.0 / 3) < 1e-12)
        #expect(abs(stats.routerEntropy - log(2.0)) < 1e-7)   // (ln 4 + 0 + ln 2) / 3

        // Without probabilities the entropy is not computed.
        stats.compute(plan: plan, probs: nil)
        #expect(stats.routerEntropy.isNaN && stats.tokens == [1, 2, 2, 1])
    }

    /// Guards against code that divides by the FFN load or assumes some FFN expert is used:
    /// a step in which every token picks only zero experts must route, count, control and
    /// balance without NaN.
    @Test func stepWithEveryTokenOnZeroExpertsWorks() throws {
        let T = 16, N = 4, Z = 3, K = 2, E = N + Z
        var rng = TestRNG(seed: 41)
        let probs = randomProbs(tokens: T, experts: E, rng: &rng)
        var bias = [Float](repeating: 0, count: E)
        bias[N] = 2; bias[N + 2] = 2
        let plan = try routed(probs, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K)
        #expect(plan.ffnCount.allSatisfy { $0 == 0 } && (0..<N).allSatisfy { plan.load(expert: $0) == 0 })
        try checkPlanConsistency(plan)

        var stats = RoutingStats()
        probs.withUnsafeBufferPointer { stats.compute(plan: plan, probs: $0.baseAddress!) }
        #expect(stats.zeroExpertShare == 1 && stats.maxVio == 0 && stats.ffnExpertsMean == 0)
        #expect(stats.ffnHistogram == [T, 0, 0] && stats.meanGate[0] == 0)

        var c = ControllerConfig()
        c.kind = .pid; c.targetFfnExperts = 1; c.ki = 0.1
        var controller = try BiasController(config: c, routedExperts: N, zeroExperts: Z, topK: K, totalSteps: 10)
        controller.observe(plan: plan)
        controller.step(0)
        // Every FFN expert is below its share 1/(2*4): all biases rise by 0.1 * 1/8.
        #expect(controller.bias[0..<N].allSatisfy { $0 == Float(0.1 * (0.5 * (1.0 / 4))) })

        let loss = try probs.withUnsafeBufferPointer {
            try deviceBalanceLoss(dProbs: nil, probs: $0.baseAddress!, plan: plan, groups: 2, targetFfnExperts: 1,
                                  alpha: 1)
        }
        #expect(loss.isFinite && loss > 0)
    }
}
