// Forced routing: edits of a routed plan, applied between routing and the expert path, for
// counterfactual analyses ("what would this token's loss be with one FFN expert more?").
//
// Scores are the router's biased scores p + b (the bias chooses), gates are s * p from the
// unbiased probabilities, exactly as `route` sets them. Letters as in RoutingPlan.swift.

/// A change of one token's expert set.
public enum RoutingEdit: Sendable, Equatable {
    /// +1: the token's lowest-scored zero-expert slot goes to its best-scored unchosen FFN expert.
    case addFFN
    /// -1: the token's lowest-scored FFN slot goes to its best-scored unchosen zero expert.
    case removeFFN
    /// Exactly these K distinct expert ids (any order).
    case experts([Int32])
}

/// One token's edit: row `token` of the plan (b*T + t).
public struct TokenRoutingEdit: Sendable, Equatable {
    public var token: Int
    public var edit: RoutingEdit
    public init(token: Int, edit: RoutingEdit) { self.token = token; self.edit = edit }
}

extension RoutingPlan {
    /// Whether `edit` can apply to token `t` of this plan: +1 needs a zero slot and an
    /// unchosen FFN expert, -1 an FFN slot and an unchosen zero expert; an explicit set is
    /// always applicable (it is validated when applied).
    public func canApply(_ edit: RoutingEdit, token t: Int) -> Bool {
        let c = Int(ffnCount[t])
        switch edit {
        case .addFFN: return c < topK && c < routedExperts
        case .removeFFN: return c > 0 && topK - c < zeroExperts
        case .experts: return true
        }
    }

    /// Applies `edits` in place: rewrites the edited tokens' expert ids (ascending), gates
    /// `s * p` and FFN counts, then regroups the slots by expert. An edit that cannot apply
    /// (`canApply` false) leaves its token as routed. Margins are kept (they describe the
    /// router's choice). Returns, per edit, whether it changed the plan's expert set.
    ///
    /// - Parameters:
    ///   - probs: `[T, N+Z]` the unbiased router probabilities the plan was routed from.
    ///   - bias: `[N+Z]` the bias it was routed with.
    ///   - gateScale: s.
    /// - Throws: `RoutingError` for a token outside the plan, two edits of one token, or an
    ///   explicit set that is not K distinct ids in 0..<N+Z. The plan is unchanged then.
    @discardableResult
    public mutating func apply(_ edits: [TokenRoutingEdit], probs: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               gateScale s: Float) throws -> [Bool] {
        let K = topK, E = experts, N = routedExperts
        try validateRoutingEdits(edits, tokens: tokens, topK: K, experts: E)
        var newSets: [(token: Int, ids: [Int32])] = []
        for e in edits {
            let current = Array(expert[(e.token * K)..<((e.token + 1) * K)])
            let score = { (id: Int32) -> Float in probs[e.token * E + Int(id)] + bias[Int(id)] }
            switch e.edit {
            case .experts(let ids):
                newSets.append((e.token, ids.sorted()))
            case .addFFN, .removeFFN:
                guard canApply(e.edit, token: e.token) else { newSets.append((e.token, current)); continue }
                let adding = e.edit == .addFFN
                // Drop the lowest-scored slot of the kind that gives way (ties: the higher id).
                let leaving = current.filter { (Int($0) < N) != adding }
                    .min { (score($0), -$0) < (score($1), -$1) }!
                // Take the best-scored unchosen expert of the other kind (ties: the lower id).
                let pool = adding ? 0..<N : N..<E
                let entering = pool.map { Int32($0) }.filter { !current.contains($0) }
                    .max { (score($0), -$0) < (score($1), -$1) }!
                newSets.append((e.token, (current.filter { $0 != leaving } + [entering]).sorted()))
            }
        }
        makeStorageUnique()
        var changed: [Bool] = []
        let ids = storage.expert.base, gates = storage.gate.base, counts = storage.ffnCount.base
        for (t, set) in newSets {
            changed.append((0..<K).contains { ids[t * K + $0] != set[$0] })
            var ffn: Int32 = 0
            for (j, id) in set.enumerated() {
                ids[t * K + j] = id
                gates[t * K + j] = s * probs[t * E + Int(id)]
                if Int(id) < N { ffn += 1 }
            }
            counts[t] = ffn
        }
        groupSlotsByExpert(chunks: 1)
        return changed
    }

    /// Gives the plan storage of its own (a copy of its contents) when a copy of the plan shares it.
    private mutating func makeStorageUnique() {
        if isKnownUniquelyReferenced(&storage) { return }
        let old = storage
        let T = tokens, K = topK
        prepare(tokens: T, routedExperts: routedExperts, zeroExperts: zeroExperts, topK: K, chunks: 1)
        storage.expert.base.update(from: old.expert.base, count: T * K)
        storage.gate.base.update(from: old.gate.base, count: T * K)
        storage.ffnCount.base.update(from: old.ffnCount.base, count: T)
        storage.margin.base.update(from: old.margin.base, count: T)
    }
}

/// Throws `RoutingError` unless every edit names a token in 0..<T, no token twice, and every
/// explicit set is K distinct ids in 0..<E.
public func validateRoutingEdits(_ edits: [TokenRoutingEdit], tokens T: Int, topK K: Int, experts E: Int) throws {
    var seen = Set<Int>()
    for e in edits {
        guard e.token >= 0 && e.token < T else {
            throw RoutingError("routing edit: token \(e.token) outside the rows 0..<\(T)")
        }
        guard seen.insert(e.token).inserted else {
            throw RoutingError("routing edit: token \(e.token) is edited twice")
        }
        if case .experts(let ids) = e.edit,
           ids.count != K || Set(ids).count != K || !ids.allSatisfy({ $0 >= 0 && Int($0) < E }) {
            throw RoutingError("routing edit of token \(e.token): need \(K) distinct expert ids in 0..<\(E), got \(ids)")
        }
    }
}
