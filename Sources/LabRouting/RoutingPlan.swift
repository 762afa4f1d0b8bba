// The routing plan: which K experts each token uses, with what gate, and the slots grouped by
// expert so that each FFN expert can run one contiguous GEMM over its rows.
//
// Dimension letters: T tokens, N routed (FFN) experts with ids 0..<N, Z zero experts with ids
// N..<N+Z, E = N + Z, K top-k slots per token. Slot j of token t is index t*K + j.

/// One step's routing decisions; reusable storage (`route` grows it only when a dimension
/// grows, so routing the same shapes again allocates nothing). Its arrays are `PlanColumn`
/// views over owned buffers: a kernel takes `plan.gate.base` and reads through it, no closure.
///
/// A plan is a value: a copy keeps what it saw, because routing into a plan whose storage is
/// shared with a copy first gives it storage of its own.
public struct RoutingPlan: Sendable {
    /// T.
    public private(set) var tokens = 0
    /// K.
    public private(set) var topK = 0
    /// N: FFN experts, ids 0..<N.
    public private(set) var routedExperts = 0
    /// Z: zero experts, ids N..<N+Z.
    public private(set) var zeroExperts = 0
    var storage = PlanStorage()

    /// `[T*K]` chosen expert ids, ascending within each token.
    public var expert: PlanColumn<Int32> { column(storage.expert.base, tokens * topK) }
    /// `[T*K]` gates `s * p` of the chosen experts (unbiased probabilities, never renormalised).
    public var gate: PlanColumn<Float> { column(storage.gate.base, tokens * topK) }
    /// `[E+1]` slots routed to expert e are `sortedSlots[offsets[e]..<offsets[e+1]]`.
    public var offsets: PlanColumn<Int> { column(storage.offsets.base, experts + 1) }
    /// `[T*K]` slot indices t*K + j grouped by expert, tokens ascending within an expert.
    public var sortedSlots: PlanColumn<Int32> { column(storage.sortedSlots.base, tokens * topK) }
    /// `[T*K]` where slot t*K + j stands in `sortedSlots` (its inverse): the row of an FFN
    /// slot in the expert-sorted activations.
    public var sortedRow: PlanColumn<Int32> { column(storage.sortedRow.base, tokens * topK) }
    /// `[T]` how many FFN experts (ids < N) token t uses, 0...K.
    public var ffnCount: PlanColumn<Int32> { column(storage.ffnCount.base, tokens) }
    /// `[T]` K-th best minus (K+1)-th best biased score: small values flag near ties whose
    /// choice a tiny change of bias or probability would flip. +infinity when E = K (nothing
    /// competes); NaN for plans built from explicit choices.
    public var margin: PlanColumn<Float> { column(storage.margin.base, tokens) }

    private func column<T>(_ base: UnsafeMutablePointer<T>, _ count: Int) -> PlanColumn<T> {
        PlanColumn(base, count: count, owner: storage)
    }

    public init() {}

    /// E = N + Z.
    public var experts: Int { routedExperts + zeroExperts }

    /// S: slots routed to FFN experts (the rows of the expert-sorted activations).
    public var ffnSlots: Int { storage.offsets.base[routedExperts] }

    /// Slots (tokens) routed to expert e.
    @inlinable public func load(expert e: Int) -> Int { offsets[e + 1] - offsets[e] }

    /// Sizes the storage for T tokens, keeping capacity (no allocation when shapes repeat);
    /// first takes storage of its own when a copy of this plan shares it.
    mutating func prepare(tokens T: Int, routedExperts N: Int, zeroExperts Z: Int, topK K: Int, chunks: Int) {
        if !isKnownUniquelyReferenced(&storage) { storage = PlanStorage() }
        tokens = T; topK = K; routedExperts = N; zeroExperts = Z
        let E = N + Z, s = storage
        s.expert.reserve(T * K); s.gate.reserve(T * K); s.sortedSlots.reserve(T * K); s.sortedRow.reserve(T * K)
        s.offsets.reserve(E + 1)
        s.ffnCount.reserve(T); s.margin.reserve(T)
        s.chunkCounts.reserve(chunks * E)
        s.keyScratch.reserve(chunks * topKScratchCount(experts: E))
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
                guard j == 0 || storage.expert.base[t * K + j - 1] != id else {
                    throw RoutingError("explicit routing plan: token \(t) uses expert \(id) twice")
                }
                storage.expert.base[t * K + j] = id
                storage.gate.base[t * K + j] = gate[t * K + src]
            }
            storage.ffnCount.base[t] = Int32(ids.filter { Int($0) < N }.count)
            storage.margin.base[t] = .nan
        }
        groupSlotsByExpert(chunks: 1)
    }

    /// Counting sort of the slots by expert, over the same token chunks as the routing pass:
    /// chunk c's slots of expert e follow those of chunks before it, so tokens stay ascending
    /// within an expert and the result does not depend on the chunk count. Also writes
    /// `sortedRow`, the inverse of `sortedSlots`.
    mutating func groupSlotsByExpert(chunks: Int) {
        let E = experts, T = tokens, K = topK, s = storage
        let counts = s.chunkCounts.base, offsets = s.offsets.base
        for i in 0..<(chunks * E) { counts[i] = 0 }
        if T * K == 0 {
            for e in 0...E { offsets[e] = 0 }
            return
        }
        forEachChunk(T, chunks: chunks) { c, range in
            let expert = s.expert.base, n = s.chunkCounts.base + c * E
            for slot in range.lowerBound * K ..< range.upperBound * K { n[Int(expert[slot])] += 1 }
        }
        // Exclusive prefix over (expert, chunk): counts become write positions.
        var running = 0
        for e in 0..<E {
            offsets[e] = running
            for c in 0..<chunks {
                let n = counts[c * E + e]
                counts[c * E + e] = running
                running += n
            }
        }
        offsets[E] = running
        forEachChunk(T, chunks: chunks) { c, range in
            let expert = s.expert.base, cursor = s.chunkCounts.base + c * E
            let sorted = s.sortedSlots.base, sortedRow = s.sortedRow.base
            for slot in range.lowerBound * K ..< range.upperBound * K {
                let e = Int(expert[slot])
                sorted[cursor[e]] = Int32(truncatingIfNeeded: slot)
                sortedRow[slot] = Int32(truncatingIfNeeded: cursor[e])
                cursor[e] += 1
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
///   - zeroGateScale: the zero experts' gate scale; nil = `gateScale` (gamma on the whole output).
///   - fixedFfnSlots: nil = adaptive (the K best over all E). Otherwise K_e: every token takes
///     the K_e best biased FFN scores and the K - K_e best biased zero scores (`routing.mode`
///     fixed_split; K_e = K is no_zero_selection); the margin is then the smaller of the two
///     kinds' margins.
///   - plan: reused storage; allocates only when a dimension changes.
///   - threads: workers for the per-token pass and the counting sort (static token chunks, so
///     the plan is identical for every thread count); 1 = serial.
/// - Precondition: N >= 1, Z >= 0, 1 <= K <= N+Z, T >= 0; probabilities finite; with
///   fixedFfnSlots K_e: 1 <= K_e <= N and K - K_e <= Z.
public func route(probs: UnsafePointer<Float>, bias: UnsafePointer<Float>, tokens T: Int,
                  routedExperts N: Int, zeroExperts Z: Int, topK K: Int, gateScale s: Float,
                  zeroGateScale: Float? = nil, fixedFfnSlots: Int? = nil,
                  into plan: inout RoutingPlan, threads: Int = 1) {
    precondition(T >= 0 && N >= 1 && Z >= 0 && K >= 1 && K <= N + Z,
                 "route: need T >= 0, N >= 1, Z >= 0, 1 <= K <= N+Z (T=\(T) N=\(N) Z=\(Z) K=\(K))")
    if let ke = fixedFfnSlots {
        precondition(ke >= 1 && ke <= min(K, N) && K - ke <= Z,
                     "route: fixed split needs 1 <= K_e <= min(K, N) and K - K_e <= Z (K_e=\(ke) K=\(K) N=\(N) Z=\(Z))")
    }
    let sz = zeroGateScale ?? s
    let E = N + Z
    let M = min(K + 1, E)   // keep one more than K to learn the margin
    let chunks = chunkCount(T, costPerItem: E, threads: threads)
    plan.prepare(tokens: T, routedExperts: N, zeroExperts: Z, topK: K, chunks: chunks)
    if T > 0 {
        let p = SharedConstPointer(probs), b = SharedConstPointer(bias)
        let out = plan.storage.routeOutputs
        forEachChunk(T, chunks: chunks) { c, range in
            withTopList(capacity: M) { topKeys, topIds in
                let keys = out.keyScratch + c * topKScratchCount(experts: E)
                for t in range {
                    let pt = p.base + t * E
                    let ids = out.expert + t * K
                    if let ke = fixedFfnSlots {
                        out.margin[t] = selectFixedSplit(probs: pt, bias: b.base, routed: N, zero: Z, topK: K,
                                                         ffnSlots: ke, scratch: keys, topKeys: topKeys,
                                                         topIds: topIds, ids: ids)
                    } else {
                        selectTopScores(probs: pt, bias: b.base, experts: E, keep: M, scratch: keys,
                                        topKeys: topKeys, topIds: topIds)
                        out.margin[t] = M > K
                            ? (pt[Int(topIds[K - 1])] + b.base[Int(topIds[K - 1])])
                              - (pt[Int(topIds[K])] + b.base[Int(topIds[K])])
                            : .infinity
                        for j in 0..<K { ids[j] = topIds[j] }
                    }
                    sortIdsAscending(ids, count: K)
                    var ffn: Int32 = 0
                    for j in 0..<K {
                        let e = Int(ids[j])
                        out.gate[t * K + j] = (e < N ? s : sz) * pt[e]
                        if e < N { ffn += 1 }
                    }
                    out.ffnCount[t] = ffn
                }
            }
        }
    }
    plan.groupSlotsByExpert(chunks: chunks)
}

/// The fixed split of one token: the `ffnSlots` best biased scores among the N FFN experts and
/// the K - ffnSlots best among the Z zero experts, written unsorted to `ids` `[K]`. Returns the
/// margin: the smaller of the two kinds' last-kept minus first-dropped score (+infinity when
/// nothing competes). `topKeys`, `topIds` hold at least min(K + 1, N + Z) entries.
@inline(__always)
private func selectFixedSplit(probs pt: UnsafePointer<Float>, bias b: UnsafePointer<Float>, routed N: Int,
                              zero Z: Int, topK K: Int, ffnSlots ke: Int, scratch keys: UnsafeMutablePointer<Int32>,
                              topKeys: UnsafeMutablePointer<Int32>, topIds: UnsafeMutablePointer<Int32>,
                              ids: UnsafeMutablePointer<Int32>) -> Float {
    var margin = Float.infinity
    // Kind 0: FFN experts 0..<N into slots 0..<ke; kind 1: zero experts N..<N+Z into ke..<K.
    for kind in 0..<2 {
        let first = kind == 0 ? 0 : N, count = kind == 0 ? N : Z, kept = kind == 0 ? ke : K - ke
        if kept == 0 { continue }
        let m = min(kept + 1, count)
        selectTopScores(probs: pt + first, bias: b + first, experts: count, keep: m, scratch: keys,
                        topKeys: topKeys, topIds: topIds)
        if m > kept {
            let last = first + Int(topIds[kept - 1]), next = first + Int(topIds[kept])
            margin = min(margin, (pt[last] + b[last]) - (pt[next] + b[next]))
        }
        let slot0 = kind == 0 ? 0 : ke
        for j in 0..<kept { ids[slot0 + j] = Int32(first) + topIds[j] }
    }
    return margin
}

/// `route` with lengths checked: `probs` must hold T*(N+Z) values and `bias` N+Z (a bias
/// sized N while the scores have N+Z entries is a known porting bug). Throws `RoutingError`
/// on a mismatch or a bad shape.
public func route(probs: [Float], bias: [Float], tokens T: Int, routedExperts N: Int,
                  zeroExperts Z: Int, topK K: Int, gateScale s: Float,
                  zeroGateScale: Float? = nil, fixedFfnSlots: Int? = nil,
                  into plan: inout RoutingPlan, threads: Int = 1) throws {
    try validateRoutingShape(routedExperts: N, zeroExperts: Z, topK: K)
    if let ke = fixedFfnSlots, !(ke >= 1 && ke <= min(K, N) && K - ke <= Z) {
        throw RoutingError("route: a fixed split of K_e = \(ke) FFN experts needs 1 <= K_e <= min(K, N) = "
            + "\(min(K, N)) and K - K_e <= Z = \(Z)")
    }
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
                  zeroExperts: Z, topK: K, gateScale: s, zeroGateScale: zeroGateScale,
                  fixedFfnSlots: fixedFfnSlots, into: &plan, threads: threads)
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

extension PlanStorage {
    /// The per-token outputs of `route` (valid until the storage grows).
    var routeOutputs: RouteOutputs {
        RouteOutputs(expert: expert.base, gate: gate.base, ffnCount: ffnCount.base, margin: margin.base,
                     keyScratch: keyScratch.base)
    }
}
