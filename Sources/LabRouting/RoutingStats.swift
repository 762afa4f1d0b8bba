// Load statistics of one layer's routing, computed from a plan in one pass, apart from
// routing so that a training step can skip them.
//
// Dimension letters: T tokens, N FFN experts (ids 0..<N), Z zero experts (ids N..<N+Z),
// E = N + Z, K top-k slots per token.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-layer routing statistics; reusable storage (`compute` allocates only when the shape
/// changes).
public struct RoutingStats: Sendable {
    /// Share of the T*K slots taken by zero experts.
    public private(set) var zeroExpertShare = 0.0
    /// Mean and population standard deviation (divide by T) across tokens of the number of FFN
    /// experts a token uses.
    public private(set) var ffnExpertsMean = 0.0
    public private(set) var ffnExpertsStd = 0.0
    /// `[K+1]` tokens that use exactly c FFN experts.
    public private(set) var ffnHistogram: [Int] = []
    /// `[E]` slots routed to each expert (a token counts once per expert; it picks distinct ones).
    public private(set) var tokens: [Int] = []
    /// `[E]` tokens_i / (T*K); sums to 1.
    public private(set) var loadShare: [Double] = []
    /// `[E]` mean gate over the slots routed to expert i (0 when none).
    public private(set) var meanGate: [Double] = []
    /// MaxVio over the FFN experts: (max_i load_i - mean) / mean, mean over i < N; 0 when no
    /// token reached an FFN expert.
    public private(set) var maxVio = 0.0
    /// Mean over tokens of the entropy of p (nats); NaN when `compute` got no probabilities.
    public private(set) var routerEntropy = Double.nan

    public init() {}

    /// Fills every statistic from `plan`, and the router entropy from `probs` `[T, E]` when
    /// given (the one part costing T*E logarithms).
    public mutating func compute(plan: RoutingPlan, probs: UnsafePointer<Float>?) {
        let T = plan.tokens, K = plan.topK, N = plan.routedExperts, E = plan.experts
        resize(&ffnHistogram, K + 1, 0)
        resize(&tokens, E, 0)
        resize(&loadShare, E, 0)
        resize(&meanGate, E, 0)
        for c in 0...K { ffnHistogram[c] = 0 }
        let slots = Double(T * K)

        // Per token: FFN-expert count histogram, its moments.
        var sum = 0.0, sumSquares = 0.0
        for t in 0..<T {
            let c = Int(plan.ffnCount[t])
            ffnHistogram[c] += 1
            sum += Double(c)
            sumSquares += Double(c * c)
        }
        ffnExpertsMean = T > 0 ? sum / Double(T) : 0
        ffnExpertsStd = T > 0 ? max(sumSquares / Double(T) - ffnExpertsMean * ffnExpertsMean, 0).squareRoot() : 0

        // Per expert: loads from the offsets, gates over its slots.
        var ffnSlots = 0, ffnMax = 0
        for e in 0..<E {
            let range = plan.offsets[e]..<plan.offsets[e + 1]
            var gates = 0.0
            for k in range { gates += Double(plan.gate[Int(plan.sortedSlots[k])]) }
            tokens[e] = range.count
            loadShare[e] = slots > 0 ? Double(range.count) / slots : 0
            meanGate[e] = range.isEmpty ? 0 : gates / Double(range.count)
            if e < N {
                ffnSlots += range.count
                ffnMax = max(ffnMax, range.count)
            }
        }
        zeroExpertShare = slots > 0 ? Double(T * K - ffnSlots) / slots : 0
        let ffnMean = Double(ffnSlots) / Double(N)
        maxVio = ffnMean > 0 ? (Double(ffnMax) - ffnMean) / ffnMean : 0

        routerEntropy = .nan
        if let probs {
            var entropy = 0.0
            for t in 0..<T {
                var h = 0.0
                for i in 0..<E {
                    let p = Double(probs[t * E + i])
                    if p > 0 { h -= p * log(p) }
                }
                entropy += h
            }
            routerEntropy = T > 0 ? entropy / Double(T) : 0
        }
    }
}

extension RoutingStats {
    /// Device-group imbalance of one plan (the quantity the device-level balance loss exists to
    /// reduce): the FFN experts split into G contiguous groups of N/G (as `deviceBalanceLoss`
    /// splits them); per sequence of `sequenceLength` consecutive tokens, the largest group's
    /// FFN slots divided by the mean over the G groups; averaged over sequences. Zero-expert
    /// slots are excluded (they run on no device). 1 is perfect balance, G the worst; a sequence
    /// with no FFN slot is skipped. nil when G does not divide N, the tokens are not whole
    /// sequences, or no sequence has an FFN slot.
    public static func groupImbalance(plan: RoutingPlan, groups G: Int, sequenceLength L: Int) -> Double? {
        let T = plan.tokens, K = plan.topK, N = plan.routedExperts
        guard G >= 1, N % G == 0, L >= 1, T % L == 0 else { return nil }
        let perGroup = N / G, expert = plan.expert
        var load = [Int](repeating: 0, count: G)   // [G] FFN slots of the sequence per group
        var sum = 0.0, counted = 0
        for sequence in 0..<(T / L) {
            for g in 0..<G { load[g] = 0 }
            for slot in (sequence * L * K)..<((sequence + 1) * L * K) {
                let e = Int(expert[slot])
                if e < N { load[e / perGroup] += 1 }
            }
            let total = load.reduce(0, +)
            if total == 0 { continue }
            sum += Double(load.max()!) * Double(G) / Double(total)
            counted += 1
        }
        return counted > 0 ? sum / Double(counted) : nil
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
