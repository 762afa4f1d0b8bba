import Testing
import LabRouting

/// The routing controls (`routing.mode` fixed_split and no_zero_selection, and the zero
/// experts' own gate scale) choose exactly the experts their definitions say.
@Suite struct FixedSplitTests {
    static let N = 8, Z = 4, K = 4, T = 96

    /// The `keep` best biased scores among experts `first..<first+count`, by the sorting oracle.
    func best(_ p: ArraySlice<Float>, _ b: [Float], first: Int, count: Int, keep: Int) -> Set<Int32> {
        let top = referenceTopScores(probs: Array(p[(p.startIndex + first)..<(p.startIndex + first + count)]),
                                     bias: Array(b[first..<(first + count)]), keep: keep)
        return Set(top.map { Int32(first + $0.id) })
    }

    /// Guards against a fixed split that lets a token take more or fewer than K_e FFN experts,
    /// picks other than the best biased scores within a kind, or gates by anything but s * p of
    /// the softmax over N+Z (for K_e = 1...K, K_e = K being no_zero_selection: no zero expert).
    @Test(arguments: [1, 2, 3, 4])
    func everyTokenTakesExactlyKeFFNExperts(ke: Int) throws {
        let (N, Z, K, T) = (Self.N, Self.Z, Self.K, Self.T), E = N + Z
        var rng = TestRNG(seed: 11 + UInt64(ke))
        // Zero experts strongly preferred, so that an adaptive router would give them most slots.
        let offset = (0..<E).map { $0 < N ? 0.0 : 2.0 }
        let probs = randomProbs(tokens: T, experts: E, offset: offset, rng: &rng)
        let bias = (0..<E).map { _ in Float(rng.uniform(-0.05, 0.05)) }
        var plan = RoutingPlan()
        try route(probs: probs, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K, gateScale: 1.5,
                  fixedFfnSlots: ke, into: &plan, threads: 2)
        var adaptive = RoutingPlan()
        try route(probs: probs, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K, gateScale: 1.5,
                  into: &adaptive)
        #expect((0..<T).contains { adaptive.ffnCount[$0] != Int32(ke) }, "the inputs do not exercise the split")
        for t in 0..<T {
            #expect(plan.ffnCount[t] == Int32(ke), "token \(t)")
            let ids = (0..<K).map { plan.expert[t * K + $0] }
            let p = probs[(t * E)..<((t + 1) * E)]
            #expect(Set(ids.filter { $0 < N }) == best(p, bias, first: 0, count: N, keep: ke), "token \(t)")
            #expect(Set(ids.filter { $0 >= N }) == best(p, bias, first: N, count: Z, keep: K - ke), "token \(t)")
            for j in 0..<K {
                #expect(plan.gate[t * K + j] == 1.5 * probs[t * E + Int(ids[j])], "token \(t) slot \(j)")
            }
            #expect(plan.margin[t] >= 0, "token \(t)")
        }
    }

    /// Guards the undiluted-vs-diluted control: with K_e = K no zero expert is ever chosen, yet
    /// the gates are the softmax over N+Z (their sum stays below s, unlike a softmax over N).
    @Test func noZeroSelectionKeepsTheDilutedSoftmax() throws {
        let (N, Z, K, T) = (Self.N, Self.Z, Self.K, Self.T), E = N + Z
        var rng = TestRNG(seed: 5)
        let probs = randomProbs(tokens: T, experts: E, rng: &rng)
        var plan = RoutingPlan()
        try route(probs: probs, bias: [Float](repeating: 0, count: E), tokens: T, routedExperts: N, zeroExperts: Z,
                  topK: K, gateScale: 1, fixedFfnSlots: K, into: &plan)
        #expect(plan.load(expert: N) + plan.load(expert: N + 1) + plan.load(expert: N + 2) + plan.load(expert: N + 3) == 0)
        for t in 0..<T {
            let gates = (0..<K).reduce(Float(0)) { $0 + plan.gate[t * K + $1] }
            let ffnMass = (0..<N).reduce(Float(0)) { $0 + probs[t * E + $1] }
            #expect(gates <= ffnMass + 1e-6 && ffnMass < 1, "token \(t)")
        }
    }

    /// Guards `init.variance_compensation_scope = "routed"`: zero experts' gates use their own
    /// scale, FFN experts' the full one.
    @Test func zeroExpertsHaveTheirOwnGateScale() throws {
        let (N, Z, K, T) = (Self.N, Self.Z, Self.K, Self.T), E = N + Z
        var rng = TestRNG(seed: 9)
        let probs = randomProbs(tokens: T, experts: E, offset: (0..<E).map { $0 < N ? 0 : 1 }, rng: &rng)
        var plan = RoutingPlan()
        try route(probs: probs, bias: [Float](repeating: 0, count: E), tokens: T, routedExperts: N, zeroExperts: Z,
                  topK: K, gateScale: 8, zeroGateScale: 2, into: &plan)
        var zeros = 0
        for slot in 0..<(T * K) {
            let e = Int(plan.expert[slot]), p = probs[(slot / K) * E + e]
            #expect(plan.gate[slot] == (e < N ? 8 : 2) * p)
            zeros += e >= N ? 1 : 0
        }
        #expect(zeros > 0 && zeros < T * K)
    }

    /// Guards against an impossible split reaching the kernel: K - K_e above Z is refused.
    @Test func impossibleSplitIsRefused() {
        var plan = RoutingPlan()
        #expect(throws: RoutingError.self) {
            try route(probs: [Float](repeating: 0.1, count: 10), bias: [Float](repeating: 0, count: 10), tokens: 1,
                      routedExperts: 8, zeroExperts: 2, topK: 4, gateScale: 1, fixedFfnSlots: 1, into: &plan)
        }
    }
}

/// `RoutingStats.groupImbalance` on hand-made plans.
@Suite struct GroupImbalanceTests {
    /// Guards the definition (max group load over the mean, per sequence, averaged; zero experts
    /// excluded; groups contiguous): N = 4 in G = 2 groups {0,1}, {2,3}, K = 2, sequences of 2.
    @Test func handMadePlan() throws {
        // Sequence 0: tokens use (0,1), (0,4): group loads 3, 0 -> 3 / 1.5 = 2.
        // Sequence 1: tokens use (1,2), (3,5): group loads 1, 2 -> 2 / 1.5 = 4/3.
        let plan = try RoutingPlan(expert: [0, 1, 0, 4, 1, 2, 3, 5], gate: [Float](repeating: 0.5, count: 8), tokens: 4,
                                   routedExperts: 4, zeroExperts: 2, topK: 2)
        let g = try #require(RoutingStats.groupImbalance(plan: plan, groups: 2, sequenceLength: 2))
        #expect(abs(g - (2 + 4.0 / 3) / 2) < 1e-12)
        // One sequence of 4 tokens: loads 4, 2 -> 4 / 3.
        #expect(RoutingStats.groupImbalance(plan: plan, groups: 2, sequenceLength: 4) == 4.0 / 3)
        #expect(RoutingStats.groupImbalance(plan: plan, groups: 1, sequenceLength: 2) == 1)
        #expect(RoutingStats.groupImbalance(plan: plan, groups: 3, sequenceLength: 2) == nil)
        // Four groups of one expert, sequence 0: loads 2, 1, 0, 0 -> 2 / 0.75.
        let four = try #require(RoutingStats.groupImbalance(plan: plan, groups: 4, sequenceLength: 2))
        #expect(abs(four - (2 / 0.75 + 1 / 0.75) / 2) < 1e-12)
    }

    /// Guards against counting zero-expert slots or dividing by zero: a sequence routed only to
    /// zero experts is skipped, and a plan with no FFN slot has no value.
    @Test func zeroOnlySequencesAreSkipped() throws {
        let plan = try RoutingPlan(expert: [4, 5, 0, 4], gate: [Float](repeating: 1, count: 4), tokens: 2,
                                   routedExperts: 4, zeroExperts: 2, topK: 2)
        #expect(RoutingStats.groupImbalance(plan: plan, groups: 2, sequenceLength: 1) == 2)
        let none = try RoutingPlan(expert: [4, 5], gate: [1, 1], tokens: 1, routedExperts: 4, zeroExperts: 2, topK: 2)
        #expect(RoutingStats.groupImbalance(plan: none, groups: 2, sequenceLength: 1) == nil)
    }
}
