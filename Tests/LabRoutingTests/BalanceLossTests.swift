// The device-level balance loss, its gradient, and the two diagnostics that go with it.
import Testing
import LabRouting

@Suite struct BalanceLossTests {
    /// Guards against a wrong analytic gradient (missing 1/T, wrong group of an expert, zero
    /// experts given an FFN group's factor). f is a constant of the step, so the finite
    /// differences perturb probs and recompute with the same plan. Tolerance: 1e-3 relative
    /// (L is linear in p; what remains is Float rounding of the perturbed sums).
    @Test func balanceGradientMatchesFiniteDifferences() throws {
        let T = 12, N = 8, Z = 4, K = 3, E = N + Z, D = 4
        let alpha: Float = 0.3, ke = 1.5
        var rng = TestRNG(seed: 31)
        var probs = randomProbs(tokens: T, experts: E, rng: &rng)
        let plan = try routed(probs, bias: [Float](repeating: 0, count: E), tokens: T, routedExperts: N,
                              zeroExperts: Z, topK: K)
        func loss(_ p: [Float]) throws -> Double {
            try p.withUnsafeBufferPointer {
                try deviceBalanceLoss(dProbs: nil, probs: $0.baseAddress!, plan: plan, groups: D,
                                      targetFfnExperts: ke, alpha: alpha)
            }
        }
        var grad = [Float](repeating: 0, count: T * E)
        try probs.withUnsafeBufferPointer { p in
            try grad.withUnsafeMutableBufferPointer { g in
                _ = try deviceBalanceLoss(dProbs: g.baseAddress!, probs: p.baseAddress!, plan: plan, groups: D,
                                          targetFfnExperts: ke, alpha: alpha)
            }
        }
        let h: Float = 1e-2
        for k in 0..<T * E {
            let saved = probs[k]
            probs[k] = saved + h
            let up = try loss(probs)
            probs[k] = saved - h
            let down = try loss(probs)
            probs[k] = saved
            let numeric = (up - down) / Double(2 * h)
            #expect(abs(numeric - Double(grad[k])) <= 1e-3 * max(abs(Double(grad[k])), 1e-4), "entry \(k)")
        }
        #expect(grad.contains { $0 != grad[0] }, "groups off target must get different factors")
    }

    /// Guards against a loss that overwrites dProbs instead of adding to it (backward adds).
    @Test func balanceGradientIsAddedIntoDProbs() throws {
        let T = 4, N = 4, Z = 2, K = 2, E = N + Z
        var rng = TestRNG(seed: 32)
        let probs = randomProbs(tokens: T, experts: E, rng: &rng)
        let plan = try routed(probs, bias: [Float](repeating: 0, count: E), tokens: T, routedExperts: N,
                              zeroExperts: Z, topK: K)
        func addGradient(into buffer: inout [Float]) throws {
            try probs.withUnsafeBufferPointer { p in
                try buffer.withUnsafeMutableBufferPointer { g in
                    _ = try deviceBalanceLoss(dProbs: g.baseAddress!, probs: p.baseAddress!, plan: plan, groups: 2,
                                              targetFfnExperts: 1, alpha: 0.5)
                }
            }
        }
        var fresh = [Float](repeating: 0, count: T * E), ones = [Float](repeating: 1, count: T * E)
        try addGradient(into: &fresh)
        try addGradient(into: &ones)
        #expect(zip(fresh, ones).allSatisfy { $1 == 1 + $0 })
    }

    /// Guards against mis-normalised factors: at exactly the target split (K_e FFN selections
    /// per token spread evenly over the D groups, K - K_e on zero experts) every f_j is 1, so
    /// L = alpha * sum_j P_j = alpha (each token's probabilities sum to 1).
    @Test func factorsAreOneAtTheTargetSplit() throws {
        // N = 4 in D = 2 groups {0,1}, {2,3}; Z = 2 (ids 4, 5); K = 2, K_e = 1; T = 4.
        let plan = try RoutingPlan(expert: [0, 4, 2, 5, 1, 5, 3, 4], gate: [Float](repeating: 0.5, count: 8),
                                   tokens: 4, routedExperts: 4, zeroExperts: 2, topK: 2)
        #expect(try balanceFactors(plan: plan, groups: 2, targetFfnExperts: 1) == [1, 1, 1])
        var rng = TestRNG(seed: 33)
        let probs = randomProbs(tokens: 4, experts: 6, rng: &rng)
        let loss = try probs.withUnsafeBufferPointer {
            try deviceBalanceLoss(dProbs: nil, probs: $0.baseAddress!, plan: plan, groups: 2, targetFfnExperts: 1,
                                  alpha: 0.25)
        }
        #expect(abs(loss - 0.25) < 1e-6)
        // Off target: every slot on zero experts gives f = 0 for the FFN groups, K / (K - K_e) for zeros.
        let zeroOnly = try RoutingPlan(expert: [4, 5, 4, 5], gate: [0, 0, 0, 0], tokens: 2, routedExperts: 4,
                                       zeroExperts: 2, topK: 2)
        #expect(try balanceFactors(plan: zeroOnly, groups: 2, targetFfnExperts: 1) == [0, 0, 2])
    }

    /// Guards against groups that do not tile the experts: D must divide N, and the error must
    /// name the key and the value.
    @Test func groupsMustDivideRoutedExperts() throws {
        let plan = try RoutingPlan(expert: [0, 1], gate: [0, 0], tokens: 1, routedExperts: 4, zeroExperts: 1, topK: 2)
        for bad in [3, 0, -2] {
            do {
                _ = try balanceFactors(plan: plan, groups: bad, targetFfnExperts: 1)
                Issue.record("groups = \(bad) was accepted")
            } catch {
                #expect("\(error)".contains("balance.groups = \(bad)") && "\(error)".contains("n_routed_experts = 4"))
            }
        }
    }

    /// Guards against R_g taken over per-token gradients instead of the gradients with respect
    /// to the batch-mean probabilities (the column sums), and against a balance gradient whose
    /// mean-probability form is not alpha * f of the expert's group.
    @Test func gradientNormRatioUsesTheMeanProbabilityGradient() throws {
        // Hand example: column sums [2, 0] and [1, 1] -> sqrt(2) / 2.
        let lm: [Float] = [1, 0, 1, 0], lb: [Float] = [0.5, 0.5, 0.5, 0.5]
        #expect(abs(gradientNormRatio(lmGradient: lm, balanceGradient: lb, tokens: 2, experts: 2)
                    - 2.0.squareRoot() / 2) < 1e-12)
        #expect(gradientNormRatio(lmGradient: [0, 0], balanceGradient: [0, 0], tokens: 1, experts: 2) == 0)
        #expect(gradientNormRatio(lmGradient: [0, 0], balanceGradient: [1, 0], tokens: 1, experts: 2) == .infinity)

        let T = 6, N = 4, Z = 2, K = 2, E = N + Z
        let alpha: Float = 0.1
        var rng = TestRNG(seed: 34)
        let probs = randomProbs(tokens: T, experts: E, rng: &rng)
        let plan = try routed(probs, bias: [Float](repeating: 0, count: E), tokens: T, routedExperts: N,
                              zeroExperts: Z, topK: K)
        var balance = [Float](repeating: 0, count: T * E)
        try probs.withUnsafeBufferPointer { p in
            try balance.withUnsafeMutableBufferPointer { g in
                _ = try deviceBalanceLoss(dProbs: g.baseAddress!, probs: p.baseAddress!, plan: plan, groups: 2,
                                          targetFfnExperts: 1, alpha: alpha)
            }
        }
        let f = try balanceFactors(plan: plan, groups: 2, targetFfnExperts: 1)
        let expectedNorm = (0..<E).map { i -> Double in
            let g = Double(alpha) * f[i < N ? i / 2 : 2]
            return g * g
        }.reduce(0, +).squareRoot()
        let lmGrad = (0..<T * E).map { $0 % E == 1 ? Float(1) : 0 }   // column sums: T at expert 1
        let ratio = gradientNormRatio(lmGradient: lmGrad, balanceGradient: balance, tokens: T, experts: E)
        #expect(abs(ratio - expectedNorm / Double(T)) < 1e-5)
    }

    /// Guards against a similarity that mixes in zero experts' rows, skips pairs or ignores
    /// normalisation.
    @Test func routerWeightSimilarityIsMeanPairwiseCosine() {
        // FFN rows [1,0], [0,1], [2,2]; a zero expert's row [1,0] must be ignored.
        let weights: [Float] = [1, 0, 0, 1, 2, 2, 1, 0]
        let similarity = routerWeightSimilarity(weights: weights, experts: 3, dim: 2)
        #expect(abs(similarity - 2.0.squareRoot() / 3) < 1e-12)
        #expect(abs(routerWeightSimilarity(weights: [1, 2, 2, 4, 3, 6], experts: 3, dim: 2) - 1) < 1e-12)
        #expect(routerWeightSimilarity(weights: [1, 2], experts: 1, dim: 2) == 0)
    }
}
