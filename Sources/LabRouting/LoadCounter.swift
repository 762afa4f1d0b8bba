// Expert loads of top-k routing without a plan: the controller simulator's fast path, which
// routes millions of tokens and needs only how many slots each expert received.
//
// Dimension letters: T tokens, N FFN experts, Z zero experts, E = N + Z, K top-k slots.

/// Accumulates per-expert slot counts and the FFN-experts-per-token histogram of top-k
/// routing over many calls; reusable storage, no allocation per call once shapes are set.
///
/// Choices are exactly those of `route` (same kernel, same tie rule), without gates, slot
/// lists or margins.
public struct LoadCounter: Sendable {
    public let routedExperts: Int
    public let zeroExperts: Int
    public let topK: Int
    /// `[E]` slots routed to each expert since the last `reset`.
    public private(set) var loads: [Int]
    /// `[K+1]` tokens that used exactly c FFN experts, since the last `reset`.
    public private(set) var ffnHistogram: [Int]
    /// Tokens counted since the last `reset`.
    public private(set) var tokens = 0
    /// Per-chunk partial counts `[chunks, E + K + 1]` and top-k scratch `[chunks, topKScratchCount(E)]`.
    private var chunkCounts: [Int] = []
    private var keyScratch: [Int32] = []

    /// Throws when the shape is invalid (N >= 1, Z >= 0, 1 <= K <= N + Z).
    public init(routedExperts N: Int, zeroExperts Z: Int, topK K: Int) throws {
        try validateRoutingShape(routedExperts: N, zeroExperts: Z, topK: K)
        routedExperts = N; zeroExperts = Z; topK = K
        loads = Array(repeating: 0, count: N + Z)
        ffnHistogram = Array(repeating: 0, count: K + 1)
    }

    /// Clears the counts.
    public mutating func reset() {
        for e in loads.indices { loads[e] = 0 }
        for c in ffnHistogram.indices { ffnHistogram[c] = 0 }
        tokens = 0
    }

    /// Routes T tokens (top-K of p + b per token) and adds their loads to the counts.
    ///
    /// - Parameters:
    ///   - probs: `[T, E]` router probabilities.
    ///   - bias: `[E]` expert bias.
    ///   - threads: workers over static token chunks; counts do not depend on it.
    public mutating func count(probs: UnsafePointer<Float>, bias: UnsafePointer<Float>, tokens T: Int,
                               threads: Int = 1) {
        if T <= 0 { return }
        let N = routedExperts, E = routedExperts + zeroExperts, K = topK
        let row = E + K + 1
        let chunks = chunkCount(T, costPerItem: E, threads: threads)
        resize(&chunkCounts, chunks * row, 0)
        resize(&keyScratch, chunks * topKScratchCount(experts: E), 0)
        for i in chunkCounts.indices { chunkCounts[i] = 0 }
        let p = SharedConstPointer(probs), b = SharedConstPointer(bias)
        chunkCounts.withUnsafeMutableBufferPointer { counts in
            keyScratch.withUnsafeMutableBufferPointer { scratch in
                let counts = SharedPointer(counts.baseAddress!), scratch = SharedPointer(scratch.baseAddress!)
                forEachChunk(T, chunks: chunks) { c, range in
                    let load = counts.base + c * row, histogram = load + E
                    withTopList(capacity: K) { topKeys, topIds in
                        let keys = scratch.base + c * topKScratchCount(experts: E)
                        for t in range {
                            selectTopScores(probs: p.base + t * E, bias: b.base, experts: E, keep: K,
                                            scratch: keys, topKeys: topKeys, topIds: topIds)
                            var ffn = 0
                            for j in 0..<K {
                                let e = Int(topIds[j])
                                load[e] += 1
                                if e < N { ffn += 1 }
                            }
                            histogram[ffn] += 1
                        }
                    }
                }
            }
        }
        for c in 0..<chunks {
            for e in 0..<E { loads[e] += chunkCounts[c * row + e] }
            for f in 0...K { ffnHistogram[f] += chunkCounts[c * row + E + f] }
        }
        tokens += T
    }
}
