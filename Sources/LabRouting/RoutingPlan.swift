// The routing plan: which K experts each token uses, with what gate, and the slots grouped by
// expert so that each FFN expert can run one contiguous GEMM over its rows.
//
// Dimension letters: T tokens, N routed (FFN) experts with ids 0..<N, Z zero experts with ids
// N..<N+Z, E = N + Z, K top-k slots per token. Slot j of token t is index t*K + j.

/// One step's routing decisions; reusable storage (`route` resizes it only when a dimension
/// changes, so routing the same shapes again allocates nothing).
public struct RoutingPlan: Sendable {
    /// T.
    public private(set) var tokens = 0
    /// K.
    public private(set) var topK = 0
    /// N: FFN experts, ids 0..<N.
    public private(set) var routedExperts = 0
    /// Z: zero experts, ids N..<N+Z.
    public private(set) var zeroExperts = 0

    /// `[T*K]` chosen expert ids, ascending within each token.
    public internal(set) var expert: [Int32] = []
    /// `[T*K]` gates `s * p` of the chosen experts (unbiased probabilities, never renormalised).
    public internal(set) var gate: [Float] = []
    /// `[E+1]` slots routed to expert e are `sortedSlots[offsets[e]..<offsets[e+1]]`.
    public internal(set) var offsets: [Int] = []
    /// `[T*K]` slot indices t*K + j grouped by expert, tokens ascending within an expert.
    public internal(set) var sortedSlots: [Int32] = []
    /// `[T]` how many FFN experts (ids < N) token t uses, 0...K.
    public internal(set) var ffnCount: [Int32] = []
    /// `[T]` K-th best minus (K+1)-th best biased score: small values flag near ties whose
    /// choice a tiny change of bias or probability would flip. +infinity when E = K (nothing
    /// competes); NaN for plans built from explicit choices.
    public internal(set) var margin: [Float] = []

    /// Scratch of the counting sort: slots per (chunk of tokens, expert) `[chunks, E]`.
    var chunkCounts: [Int] = []
    /// Scratch of the top-k kernel `[chunks, topKScratchCount(E)]`.
    var keyScratch: [Int32] = []

    public init() {}

    /// E = N + Z.
    public var experts: Int { routedExperts + zeroExperts }

    /// Slots (tokens) routed to expert e.
    @inlinable public func load(expert e: Int) -> Int { offsets[e + 1] - offsets[e] }

    /// Sizes the storage for T tokens, keeping capacity (no allocation when shapes repeat).
    mutating func prepare(tokens T: Int, routedExperts N: Int, zeroExperts Z: Int, topK K: Int, chunks: Int) {
        tokens = T; topK = K; routedExperts = N; zeroExperts = Z
        let E = N + Z
        resize(&expert, T * K, 0)
        resize(&gate, T * K, 0)
        resize(&offsets, E + 1, 0)
        resize(&sortedSlots, T * K, 0)
        resize(&ffnCount, T, 0)
        resize(&margin, T, 0)
        resize(&chunkCounts, chunks * E, 0)
        resize(&keyScratch, chunks * topKScratchCount(experts: E), 0)
    }

    /// Builds a plan from explicit choices (tests, replays): `expert` `[T*K]` ids in 0..<N+Z,
    /// distinct within a token (any order; stored ascending), `gate` `[T*K]` matching.
    /// Throws when a count, an id or a repeat is wrong. `margin` is NaN (unknown).
    public init(expert: [Int32], gate: [Float], tokens T: Int, routedExperts N: Int,
                zeroExperts Z: Int, topK K: Int) throws {
        try validateRoutingShape(routedExperts: N, zeroExperts: Z, topK: K)
        guard T >= 0, expert.count == T * K, gate.count == T * K else {
            throw RoutingError("explicit routing plan: expert and gate need T*K = \(T)*\(K) entries, "
                + "got \(expert.count) and \(gate.count)")
        }
        prepare(tokens: T, routedExperts: N, zeroExperts: Z, topK: K, chunks: 1)
        for t in 0..<T {
            let ids = (0..<K).map { expert[t * K + $0] }
            let order = (0..<K).sorted { ids[$0] < ids[$1] }
            for (j, src) in order.enumerated() {
                let id = ids[src]
                guard id >= 0 && Int(id) < N + Z else {
                    throw RoutingError("explicit routing plan: token \(t) uses expert \(id), "
                        + "outside 0..<\(N + Z)")
                }
                guard j == 0 || self.expert[t * K + j - 1] != id else {
                    throw RoutingError("explicit routing plan: token \(t) uses expert \(id) twice")
                }
                self.expert[t * K + j] = id
                self.gate[t * K + j] = gate[t * K + src]
            }
            ffnCount[t] = Int32(ids.filter { Int($0) < N }.count)
            margin[t] = .nan
        }
        groupSlotsByExpert(chunks: 1)
    }

    /// Counting sort of the slots by expert, over the same token chunks as the routing pass:
    /// chunk c's slots of expert e follow those of chunks before it, so tokens stay ascending
    /// within an expert and the result does not depend on the chunk count.
    mutating func groupSlotsByExpert(chunks: Int) {
        let E = experts, T = tokens, K = topK
        for i in chunkCounts.indices { chunkCounts[i] = 0 }
        if T * K == 0 {
            for e in 0...E { offsets[e] = 0 }
            return
        }
        expert.withUnsafeBufferPointer { ex in
            chunkCounts.withUnsafeMutableBufferPointer { counts in
                let ex = SharedConstPointer(ex.baseAddress!)
                let counts = SharedPointer(counts.baseAddress!)
                forEachChunk(T, chunks: chunks) { c, range in
                    let n = counts.base + c * E
                    for slot in range.lowerBound * K ..< range.upperBound * K { n[Int(ex.base[slot])] += 1 }
                }
            }
        }
        // Exclusive prefix over (expert, chunk): counts become write positions.
        var running = 0
        for e in 0..<E {
            offsets[e] = running
            for c in 0..<chunks {
                let n = chunkCounts[c * E + e]
                chunkCounts[c * E + e] = running
                running += n
            }
        }
        offsets[E] = running
        expert.withUnsafeBufferPointer { ex in
            chunkCounts.withUnsafeMutableBufferPointer { pos in
                sortedSlots.withUnsafeMutableBufferPointer { out in
                    let ex = SharedConstPointer(ex.baseAddress!)
                    let pos = SharedPointer(pos.baseAddress!)
                    let out = SharedPointer(out.baseAddress!)
                    forEachChunk(T, chunks: chunks) { c, range in
                        let cursor = pos.base + c * E
                        for slot in range.lowerBound * K ..< range.upperBound * K {
                            let e = Int(ex.base[slot])
                            out.base[cursor[e]] = Int32(truncatingIfNeeded: slot)
                            cursor[e] += 1
                        }
                    }
                }
            }
        }
    }
}

/// Routes T tokens: per token the K experts with the best biased score p + b (ties to the
/// lower id), gates g = s * p from the UNBIASED probabilities (never renormalised, never
/// including b), then the slots grouped by expert.
///
/// - Parameters:
///   - probs: `[T, N+Z]` softmax router probabilities over all experts jointly, unbiased.
///   - bias: `[N+Z]` expert bias (zero experts included; a vector of length N only is a bug
///     this pointer cannot detect: use the array overload to have lengths checked).
///   - gateScale: s, the routed scaling factor; it multiplies zero experts' gates too.
///   - plan: reused storage; allocates only when a dimension changes.
///   - threads: workers for the per-token pass and the counting sort (static token chunks, so
///     the plan is identical for every thread count); 1 = serial.
/// - Precondition: N >= 1, Z >= 0, 1 <= K <= N+Z, T >= 0; probabilities finite.
public func route(probs: UnsafePointer<Float>, bias: UnsafePointer<Float>, tokens T: Int,
                  routedExperts N: Int, zeroExperts Z: Int, topK K: Int, gateScale s: Float,
                  into plan: inout RoutingPlan, threads: Int = 1) {
    precondition(T >= 0 && N >= 1 && Z >= 0 && K >= 1 && K <= N + Z,
                 "route: need T >= 0, N >= 1, Z >= 0, 1 <= K <= N+Z (T=\(T) N=\(N) Z=\(Z) K=\(K))")
    let E = N + Z
    let M = min(K + 1, E)   // keep one more than K to learn the margin
    let chunks = chunkCount(T, costPerItem: E, threads: threads)
    plan.prepare(tokens: T, routedExperts: N, zeroExperts: Z, topK: K, chunks: chunks)
    if T > 0 {
        let p = SharedConstPointer(probs), b = SharedConstPointer(bias)
        plan.withRouteOutputs { out in
            forEachChunk(T, chunks: chunks) { c, range in
                withTopList(capacity: M) { topKeys, topIds in
                    let keys = out.keyScratch + c * topKScratchCount(experts: E)
                    for t in range {
                        let pt = p.base + t * E
                        selectTopScores(probs: pt, bias: b.base, experts: E, keep: M, scratch: keys,
                                        topKeys: topKeys, topIds: topIds)
                        out.margin[t] = M > K
                            ? (pt[Int(topIds[K - 1])] + b.base[Int(topIds[K - 1])])
                              - (pt[Int(topIds[K])] + b.base[Int(topIds[K])])
                            : .infinity
                        let ids = out.expert + t * K
                        for j in 0..<K { ids[j] = topIds[j] }
                        sortIdsAscending(ids, count: K)
                        var ffn: Int32 = 0
                        for j in 0..<K {
                            let e = Int(ids[j])
                            out.gate[t * K + j] = s * pt[e]
                            if e < N { ffn += 1 }
                        }
                        out.ffnCount[t] = ffn
                    }
                }
            }
        }
    }
    plan.groupSlotsByExpert(chunks: chunks)
}

/// `route` with lengths checked: `probs` must hold T*(N+Z) values and `bias` N+Z (a bias
/// sized N while the scores have N+Z entries is a known porting bug). Throws `RoutingError`
/// on a mismatch or a bad shape.
public func route(probs: [Float], bias: [Float], tokens T: Int, routedExperts N: Int,
                  zeroExperts Z: Int, topK K: Int, gateScale s: Float,
                  into plan: inout RoutingPlan, threads: Int = 1) throws {
    try validateRoutingShape(routedExperts: N, zeroExperts: Z, topK: K)
    guard bias.count == N + Z else {
        throw RoutingError("route: the bias has \(bias.count) entries but there are "
            + "N + Z = \(N) + \(Z) = \(N + Z) experts (zero experts need entries too)")
    }
    guard T >= 0, probs.count == T * (N + Z) else {
        throw RoutingError("route: probs has \(probs.count) entries, expected "
            + "T * (N + Z) = \(T) * \(N + Z)")
    }
    probs.withUnsafeBufferPointer { p in
        bias.withUnsafeBufferPointer { b in
            route(probs: p.baseAddress!, bias: b.baseAddress!, tokens: T, routedExperts: N,
                  zeroExperts: Z, topK: K, gateScale: s, into: &plan, threads: threads)
        }
    }
}

/// Where the per-token pass of `route` writes; chunks touch disjoint tokens.
struct RouteOutputs: @unchecked Sendable {
    let expert: UnsafeMutablePointer<Int32>   // [T*K]
    let gate: UnsafeMutablePointer<Float>     // [T*K]
    let ffnCount: UnsafeMutablePointer<Int32> // [T]
    let margin: UnsafeMutablePointer<Float>   // [T]
    let keyScratch: UnsafeMutablePointer<Int32> // [chunks, topKScratchCount(E)]
}

extension RoutingPlan {
    /// Lends the per-token outputs to `body` (T > 0).
    mutating func withRouteOutputs(_ body: (RouteOutputs) -> Void) {
        expert.withUnsafeMutableBufferPointer { ex in
            gate.withUnsafeMutableBufferPointer { g in
                ffnCount.withUnsafeMutableBufferPointer { fc in
                    margin.withUnsafeMutableBufferPointer { mg in
                        keyScratch.withUnsafeMutableBufferPointer { ks in
                            body(RouteOutputs(expert: ex.baseAddress!, gate: g.baseAddress!,
                                              ffnCount: fc.baseAddress!, margin: mg.baseAddress!,
                                              keyScratch: ks.baseAddress!))
                        }
                    }
                }
            }
        }
    }
}

/// Sets `a.count` to n, filling new entries with `fill`; keeps capacity when shrinking.
@inline(__always)
func resize<T>(_ a: inout [T], _ n: Int, _ fill: T) {
    if a.count > n {
        a.removeLast(a.count - n)
    } else if a.count < n {
        a.append(contentsOf: repeatElement(fill, count: n - a.count))
    }
}
