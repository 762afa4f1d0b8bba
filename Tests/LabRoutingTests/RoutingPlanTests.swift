// Invariants of top-k routing with bias-for-choice and of the routing plan.
import Testing
import LabRouting

@Suite struct RoutingPlanTests {
    /// Guards against taking gates from the biased scores (p + b) or renormalising them: every
    /// gate must be s * p of its expert from the unbiased probabilities, whatever the bias.
    @Test func biasNeverChangesAGate() throws {
        var rng = TestRNG(seed: 1)
        let T = 64, N = 12, Z = 6, K = 4, E = N + Z
        let probs = randomProbs(tokens: T, experts: E, rng: &rng)
        let bias = (0..<E).map { _ in Float(rng.uniform(-10, 10)) }
        let s: Float = 2.5
        let plan = try routed(probs, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K, gateScale: s)
        let unbiased = try routed(probs, bias: [Float](repeating: 0, count: E), tokens: T,
                                  routedExperts: N, zeroExperts: Z, topK: K, gateScale: s)
        #expect(plan.expert != unbiased.expert, "the bias should change some choices here")
        for slot in 0..<T * K {
            let t = slot / K, e = Int(plan.expert[slot])
            #expect(plan.gate[slot] == s * probs[t * E + e])
        }
    }

    /// Guards against a fast top-k that disagrees with a full sort: on ties (which must go to
    /// the lower expert id), on expert counts that are not a multiple of the kernel's block,
    /// and on each of its paths (few experts, pruned blocks with counting ranks, pruned blocks
    /// with many tied candidates).
    @Test(arguments: [
        (13, 3, 2, true), (48, 32, 4, true), (77, 50, 12, true), (8, 5, 8, true), (40, 40, 7, true),
        (300, 200, 4, true), (768, 512, 12, true), (161, 100, 1, true),
        (300, 200, 4, false), (768, 512, 12, false), (200, 100, 31, false), (48, 32, 4, false),
    ])
    func fastTopKMatchesFullSort(experts E: Int, routedExperts N: Int, topK K: Int, tied: Bool) throws {
        var rng = TestRNG(seed: UInt64(E * 100 + K))
        let T = 50
        // Tied: few distinct values, so that ties are common. Else a softmax router.
        let probs = tied ? (0..<T * E).map { _ in Float(Int(rng.uniform() * 4)) / 8 }
                         : randomProbs(tokens: T, experts: E, spread: 1.5, rng: &rng)
        let bias = (0..<E).map { _ in tied ? Float(Int(rng.uniform() * 3)) / 8 : Float(rng.uniform(-1e-3, 1e-3)) }
        let plan = try routed(probs, bias: bias, tokens: T, routedExperts: N, zeroExperts: E - N, topK: K)
        for t in 0..<T {
            let reference = referenceTopScores(probs: Array(probs[t * E ..< (t + 1) * E]), bias: bias,
                                               keep: min(K + 1, E))
            let expected = reference.prefix(K).map { Int32($0.id) }.sorted()
            #expect(Array(plan.expert[t * K ..< (t + 1) * K]) == expected, "token \(t)")
            let margin = E > K ? reference[K - 1].score - reference[K].score : Float.infinity
            #expect(plan.margin[t] == margin)
        }
    }

    /// Guards against a bias vector sized N while the scores have N + Z entries (and against
    /// probabilities of the wrong size): the checked overload must reject both.
    @Test func biasOfLengthNPlusZIsRequired() throws {
        let T = 4, N = 6, Z = 3, K = 2
        var rng = TestRNG(seed: 2)
        let probs = randomProbs(tokens: T, experts: N + Z, rng: &rng)
        var plan = RoutingPlan()
        #expect(throws: RoutingError.self) {
            try route(probs: probs, bias: [Float](repeating: 0, count: N), tokens: T, routedExperts: N,
                      zeroExperts: Z, topK: K, gateScale: 1, into: &plan)
        }
        #expect(throws: RoutingError.self) {
            try route(probs: Array(probs.dropLast()), bias: [Float](repeating: 0, count: N + Z), tokens: T,
                      routedExperts: N, zeroExperts: Z, topK: K, gateScale: 1, into: &plan)
        }
        do {
            try route(probs: probs, bias: [Float](repeating: 0, count: N), tokens: T, routedExperts: N,
                      zeroExperts: Z, topK: K, gateScale: 1, into: &plan)
        } catch let error as RoutingError {
            #expect(error.message.contains("N + Z"))
        }
        try route(probs: probs, bias: [Float](repeating: 0, count: N + Z), tokens: T, routedExperts: N,
                  zeroExperts: Z, topK: K, gateScale: 1, into: &plan)
        #expect(plan.tokens == T)
    }

    /// Guards against duplicate experts in a token, ids outside 0..<N+Z, unsorted ids, or an
    /// FFN count that miscounts zero experts.
    @Test func eachTokenHasKDistinctExpertsInRange() throws {
        var rng = TestRNG(seed: 3)
        let T = 200, N = 20, Z = 10, K = 6, E = N + Z
        let probs = randomProbs(tokens: T, experts: E, spread: 2, rng: &rng)
        let bias = (0..<E).map { _ in Float(rng.uniform(-0.1, 0.1)) }
        let plan = try routed(probs, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K)
        #expect(plan.expert.count == T * K && plan.gate.count == T * K && plan.ffnCount.count == T)
        for t in 0..<T {
            let ids = Array(plan.expert[t * K ..< (t + 1) * K])
            #expect(ids.allSatisfy { $0 >= 0 && Int($0) < E })
            #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 }, "ascending and distinct")
            #expect(Int(plan.ffnCount[t]) == ids.filter { Int($0) < N }.count)
        }
    }

    /// Guards against zero-expert ids that wrap to expert 0 or go negative (ids computed as
    /// e - N, or stored in a type too small): with every slot on zero experts, expert 0 must
    /// see no token and the last zero expert must keep the id N + Z - 1.
    @Test func zeroExpertIdsNeverAliasExpertZero() throws {
        var rng = TestRNG(seed: 4)
        let T = 32, N = 8, Z = 5, K = 3, E = N + Z
        let probs = randomProbs(tokens: T, experts: E, rng: &rng)
        var bias = [Float](repeating: 0, count: E)
        bias[E - 1] = 5; bias[E - 2] = 4; bias[N] = 3
        let plan = try routed(probs, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K)
        #expect(plan.expert.allSatisfy { Int($0) >= N && Int($0) < E })
        #expect(plan.load(expert: 0) == 0)
        #expect(plan.load(expert: E - 1) == T && plan.load(expert: E - 2) == T && plan.load(expert: N) == T)
        #expect(plan.ffnCount.allSatisfy { $0 == 0 })
        for slot in 0..<T * K {
            #expect(plan.gate[slot] == probs[(slot / K) * E + Int(plan.expert[slot])])
        }
    }

    /// Guards against a counting sort that drops, repeats or misfiles slots, or loses token
    /// order within an expert (the expert GEMMs read rows through sortedSlots).
    @Test func offsetsAndSortedSlotsListEverySlotOnce() throws {
        var rng = TestRNG(seed: 5)
        let T = 300, N = 16, Z = 8, K = 4, E = N + Z
        let probs = randomProbs(tokens: T, experts: E, spread: 1.5, rng: &rng)
        let plan = try routed(probs, bias: [Float](repeating: 0, count: E), tokens: T,
                              routedExperts: N, zeroExperts: Z, topK: K)
        try checkPlanConsistency(plan)
    }

    /// Guards against code that assumes Z > 0 (empty zero-expert ranges, offsets of length N+1).
    @Test func planWorksWithoutZeroExperts() throws {
        var rng = TestRNG(seed: 6)
        let T = 40, N = 10, K = 3
        let probs = randomProbs(tokens: T, experts: N, rng: &rng)
        let plan = try routed(probs, bias: [Float](repeating: 0, count: N), tokens: T,
                              routedExperts: N, zeroExperts: 0, topK: K)
        #expect(plan.offsets.count == N + 1)
        #expect(plan.ffnCount.allSatisfy { $0 == Int32(K) })
        try checkPlanConsistency(plan)
    }

    /// Guards against storage reallocated on every step (the training loop and the simulator
    /// reuse one plan): routing the same shapes again must keep every buffer in place.
    @Test func reroutingTheSameShapeKeepsStorage() throws {
        var rng = TestRNG(seed: 7)
        let T = 64, N = 8, Z = 4, K = 3, E = N + Z
        let probs = randomProbs(tokens: T, experts: E, rng: &rng)
        let bias = [Float](repeating: 0, count: E)
        var plan = try routed(probs, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K)
        func addresses(_ p: RoutingPlan) -> [UnsafeRawPointer?] {
            [UnsafeRawPointer(p.expert.base), UnsafeRawPointer(p.gate.base), UnsafeRawPointer(p.sortedSlots.base),
             UnsafeRawPointer(p.sortedRow.base), UnsafeRawPointer(p.offsets.base), UnsafeRawPointer(p.ffnCount.base)]
        }
        let before = addresses(plan)
        let probs2 = randomProbs(tokens: T, experts: E, rng: &rng)
        try route(probs: probs2, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K,
                  gateScale: 1, into: &plan)
        #expect(addresses(plan) == before)
        try checkPlanConsistency(plan)
    }

    /// Guards against results that depend on the thread count (static chunks must give the
    /// same plan, bit for bit, as the serial pass).
    @Test func planDoesNotDependOnThreadCount() throws {
        var rng = TestRNG(seed: 8)
        let T = 4096, N = 32, Z = 16, K = 4, E = N + Z
        let probs = randomProbs(tokens: T, experts: E, rng: &rng)
        let bias = (0..<E).map { _ in Float(rng.uniform(-0.01, 0.01)) }
        let serial = try routed(probs, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K)
        let parallel = try routed(probs, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K,
                                  threads: 3)
        #expect(serial.expert == parallel.expert && serial.gate == parallel.gate)
        #expect(serial.offsets == parallel.offsets && serial.sortedSlots == parallel.sortedSlots)
        #expect(serial.ffnCount == parallel.ffnCount && serial.margin == parallel.margin)
    }

    /// Guards against the simulator's plan-free counter choosing differently from `route`.
    @Test func loadCounterMatchesPlanLoads() throws {
        var rng = TestRNG(seed: 9)
        let T = 3000, N = 40, Z = 20, K = 6, E = N + Z
        let probs = randomProbs(tokens: T, experts: E, rng: &rng)
        let bias = (0..<E).map { _ in Float(rng.uniform(-0.02, 0.02)) }
        let plan = try routed(probs, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K)
        var counter = try LoadCounter(routedExperts: N, zeroExperts: Z, topK: K)
        probs.withUnsafeBufferPointer { p in
            bias.withUnsafeBufferPointer { b in
                counter.count(probs: p.baseAddress!, bias: b.baseAddress!, tokens: T / 2, threads: 2)
                counter.count(probs: p.baseAddress! + (T / 2) * E, bias: b.baseAddress!, tokens: T - T / 2,
                              threads: 1)
            }
        }
        #expect(counter.tokens == T)
        #expect(counter.loads == (0..<E).map { plan.load(expert: $0) })
        var histogram = [Int](repeating: 0, count: K + 1)
        for c in plan.ffnCount { histogram[Int(c)] += 1 }
        #expect(counter.ffnHistogram == histogram)
        counter.reset()
        #expect(counter.tokens == 0 && counter.loads.allSatisfy { $0 == 0 })
    }

    /// Guards against explicit plans (used by tests and replays) that accept repeated or
    /// out-of-range experts.
    @Test func explicitPlanRejectsRepeatsAndOutOfRangeIds() throws {
        #expect(throws: RoutingError.self) {
            _ = try RoutingPlan(expert: [1, 1], gate: [0, 0], tokens: 1, routedExperts: 2, zeroExperts: 1, topK: 2)
        }
        #expect(throws: RoutingError.self) {
            _ = try RoutingPlan(expert: [0, 3], gate: [0, 0], tokens: 1, routedExperts: 2, zeroExperts: 1, topK: 2)
        }
        #expect(throws: RoutingError.self) {
            _ = try RoutingPlan(expert: [0, -1], gate: [0, 0], tokens: 1, routedExperts: 2, zeroExperts: 1, topK: 2)
        }
        let plan = try RoutingPlan(expert: [2, 0, 1, 2], gate: [0.5, 0.25, 0.75, 0.125], tokens: 2,
                                   routedExperts: 2, zeroExperts: 1, topK: 2)
        #expect(plan.expert == [0, 2, 1, 2] && plan.gate == [0.25, 0.5, 0.75, 0.125])
        #expect(plan.ffnCount == [1, 1])
        try checkPlanConsistency(plan)
    }

    /// Guards against plan storage shared between copies: routing again into a plan must not
    /// change a copy taken before (a kept plan would silently show the new routing).
    @Test func aCopyKeepsItsRoutingWhenThePlanRoutesAgain() throws {
        var rng = TestRNG(seed: 4)
        let T = 32, N = 8, Z = 4, K = 3, E = N + Z
        let first = randomProbs(tokens: T, experts: E, rng: &rng), second = randomProbs(tokens: T, experts: E, rng: &rng)
        let bias = [Float](repeating: 0, count: E)
        var plan = RoutingPlan()
        try route(probs: second, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K, gateScale: 1, into: &plan)
        let copy = plan
        let kept = (Array(copy.expert), Array(copy.gate), Array(copy.sortedSlots))
        try route(probs: first, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K, gateScale: 1, into: &plan)
        #expect(Array(copy.expert) == kept.0 && Array(copy.gate) == kept.1 && Array(copy.sortedSlots) == kept.2)
        #expect(plan.gate != copy.gate, "different probabilities should give different gates")
        try checkPlanConsistency(copy)
        try checkPlanConsistency(plan)
    }
}

/// Every slot appears once in sortedSlots, under the expert it chose, tokens ascending.
func checkPlanConsistency(_ plan: RoutingPlan) throws {
    let T = plan.tokens, K = plan.topK, E = plan.experts
    try #require(plan.offsets.count == E + 1)
    #expect(plan.offsets[0] == 0 && plan.offsets[E] == T * K)
    var seen = [Bool](repeating: false, count: T * K)
    for e in 0..<E {
        #expect(plan.offsets[e] <= plan.offsets[e + 1])
        let slots = plan.sortedSlots[plan.offsets[e] ..< plan.offsets[e + 1]].map(Int.init)
        #expect(zip(slots, slots.dropFirst()).allSatisfy { $0 / K < $1 / K }, "tokens ascending, once each")
        for slot in slots {
            #expect(Int(plan.expert[slot]) == e)
            #expect(!seen[slot])
            seen[slot] = true
        }
    }
    #expect(seen.allSatisfy { $0 })
    for p in 0..<(T * K) { #expect(Int(plan.sortedRow[Int(plan.sortedSlots[p])]) == p, "sortedRow inverts sortedSlots") }
}
