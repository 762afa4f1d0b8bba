import Foundation

// Do the tokens that change allocation change loss? Between two consecutive evaluations, a
// traced token "changes allocation" when its FFN expert count differs in at least one layer.
// The statistic compares the mean |loss change| of those tokens against the others'; its
// interval is a percentile bootstrap that resamples tokens (so a token followed over several
// evaluations counts once per draw, with all its transitions).

/// Mean |loss change| of tokens that changed allocation against those that did not.
public struct AllocationLossChange: Sendable, Equatable, Codable {
    /// The earlier and the later evaluation step; nil for the pool over all transitions.
    public var from: Int?
    public var to: Int?
    /// Token transitions with a changed (unchanged) FFN expert count in some layer.
    public var changed: Int
    public var unchanged: Int
    /// Mean |loss(to) - loss(from)| (nats) of each group; nil for an empty group.
    public var changedMean: Double?
    public var unchangedMean: Double?
    /// changedMean - unchangedMean, and its percentile bootstrap interval.
    public var difference: Double?
    public var low: Double?
    public var high: Double?

    /// Confidence level of the interval, and the seed of its bootstrap draws.
    public static let level = 0.95
    public static let bootstrapSeed: UInt64 = 0x6368_7572_6E21   // "churn!"
}

/// One token's move between two evaluations.
struct TokenTransition {
    var token: TracedToken
    var changed: Bool
    var absLossChange: Double
}

/// The comparison for every pair of consecutive evaluations, then (from and to nil) over all of
/// them pooled.
public func allocationLossChanges(_ traces: RoutingTraces, resamples: Int = 1000) -> [AllocationLossChange] {
    var all: [TokenTransition] = []
    var out: [AllocationLossChange] = []
    for (from, to) in traces.transitions {
        var byToken: [TracedToken: TokenTransition] = [:]
        for layer in traces.layers {
            for (key, a, b) in traces.matched(layer: layer, from: from, to: to) {
                var t = byToken[key] ?? TokenTransition(token: key, changed: false, absLossChange: abs(b.loss - a.loss))
                if a.ffnExperts != b.ffnExperts { t.changed = true }
                byToken[key] = t
            }
        }
        let moves = byToken.keys.sorted().map { byToken[$0]! }
        all += moves
        out.append(compareTransitions(moves, from: from, to: to, resamples: resamples))
    }
    if traces.transitions.count > 1 { out.append(compareTransitions(all, from: nil, to: nil, resamples: resamples)) }
    return out
}

/// The comparison of `moves`, with a bootstrap over their tokens (all of a token's moves drawn together).
func compareTransitions(_ moves: [TokenTransition], from: Int?, to: Int?, resamples: Int) -> AllocationLossChange {
    func means(_ ms: [TokenTransition]) -> (Double?, Double?, Int, Int) {
        var sum = [0.0, 0.0], count = [0, 0]
        for m in ms { let g = m.changed ? 0 : 1; sum[g] += m.absLossChange; count[g] += 1 }
        return (count[0] > 0 ? sum[0] / Double(count[0]) : nil, count[1] > 0 ? sum[1] / Double(count[1]) : nil,
                count[0], count[1])
    }
    let (c, u, nc, nu) = means(moves)
    var result = AllocationLossChange(from: from, to: to, changed: nc, unchanged: nu, changedMean: c, unchangedMean: u)
    guard let c, let u else { return result }
    result.difference = c - u
    let tokens = Array(Set(moves.map(\.token))).sorted()
    let byToken = Dictionary(grouping: moves, by: \.token)
    var generator = SplitMix64(seed: AllocationLossChange.bootstrapSeed)
    var draws: [Double] = []
    draws.reserveCapacity(resamples)
    for _ in 0..<max(resamples, 0) {
        var sample: [TokenTransition] = []
        for _ in tokens.indices { sample += byToken[tokens[Int(generator.next() % UInt64(tokens.count))]]! }
        let (bc, bu, _, _) = means(sample)
        if let bc, let bu { draws.append(bc - bu) }
    }
    draws.sort()
    let alpha = (1 - AllocationLossChange.level) / 2
    result.low = quantile(sorted: draws, alpha)
    result.high = quantile(sorted: draws, 1 - alpha)
    return result
}
