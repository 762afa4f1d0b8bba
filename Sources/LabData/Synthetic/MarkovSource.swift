import Foundation

/// A first-order Markov chain over a small alphabet with a seeded random transition table.
///
/// With k symbols, P[i][j] is the probability that symbol j follows symbol i. Rows are skewed
/// (weights u^3 for u uniform, plus a floor so every transition is possible), so the chain is
/// ergodic and its entropy rate lies well below log k: predictable but not trivially.
public struct MarkovSource: Sendable {
    /// Byte of each symbol.
    public let alphabet: [UInt8]
    /// P: `[k][k]`, each row sums to 1.
    public let transition: [[Double]]
    /// pi with pi P = pi.
    public let stationary: [Double]
    private let cumulative: [[Double]]
    private let stationaryCumulative: [Double]

    public init(alphabet: [UInt8], seed: UInt64) {
        precondition(alphabet.count >= 2, "a Markov source needs two symbols")
        var random = DataRandom(seed: seed)
        let k = alphabet.count
        let rows: [[Double]] = (0..<k).map { _ in
            let weights = (0..<k).map { _ in 0.02 + pow(random.unit(), 3) }
            let total = weights.reduce(0, +)
            return weights.map { $0 / total }
        }
        self.alphabet = alphabet
        self.transition = rows
        self.stationary = MarkovSource.stationaryDistribution(rows)
        self.cumulative = rows.map(MarkovSource.cumulativeSums)
        self.stationaryCumulative = MarkovSource.cumulativeSums(stationary)
    }

    /// H(pi) = -sum_i pi_i log pi_i: the loss of a symbol drawn from pi without context.
    public var stationaryEntropy: Double { shannonEntropy(stationary) }

    /// h = sum_i pi_i H(P[i]): nats per symbol of an ideal model that knows the previous one.
    public var entropyRate: Double {
        zip(stationary, transition).reduce(0) { $0 + $1.0 * shannonEntropy($1.1) }
    }

    /// A symbol index drawn from pi (the first symbol of a run).
    func first(_ random: inout DataRandom) -> Int { random.pick(cumulative: stationaryCumulative) }

    /// The symbol index that follows `symbol`.
    func next(after symbol: Int, _ random: inout DataRandom) -> Int { random.pick(cumulative: cumulative[symbol]) }

    /// pi by power iteration (converges because every entry of P is positive).
    static func stationaryDistribution(_ p: [[Double]]) -> [Double] {
        let k = p.count
        var pi = [Double](repeating: 1 / Double(k), count: k)
        for _ in 0..<10_000 {
            var next = [Double](repeating: 0, count: k)
            for i in 0..<k { for j in 0..<k { next[j] += pi[i] * p[i][j] } }
            let change = zip(pi, next).map { abs($0 - $1) }.max() ?? 0
            pi = next
            if change < 1e-15 { break }
        }
        return pi
    }

    static func cumulativeSums(_ probabilities: [Double]) -> [Double] {
        var sum = 0.0
        var out = probabilities.map { sum += $0; return sum }
        out[out.count - 1] = 1
        return out
    }
}

/// Shannon entropy in nats of a probability vector.
func shannonEntropy(_ probabilities: [Double]) -> Double {
    -probabilities.reduce(0) { $1 > 0 ? $0 + $1 * log($1) : $0 }
}
