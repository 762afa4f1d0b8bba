import Foundation

/// A Markov chain of order n over a small alphabet with a seeded random transition table.
///
/// With k symbols, a context is the last n symbols, numbered c = sum of s_i k^(n-1-i) (oldest
/// symbol most significant), and P[c][j] is the probability that symbol j follows it. Rows are
/// skewed (weights u^3 for u uniform, plus a floor so every transition is possible), so the
/// chain is ergodic and its entropy rate lies well below log k: predictable but not trivially.
/// Order 1 is a bigram table, which a model's embedding and output layer alone can represent;
/// higher orders (k^n rows) take attention to gather the context and capacity to learn.
public struct MarkovSource: Sendable {
    /// Byte of each symbol.
    public let alphabet: [UInt8]
    /// n: symbols of context.
    public let order: Int
    /// P: `[k^n][k]`, each row sums to 1.
    public let transition: [[Double]]
    /// pi over contexts, with pi P = pi for the chain of contexts.
    public let stationary: [Double]
    private let cumulative: [[Double]]
    private let stationaryCumulative: [Double]

    public init(alphabet: [UInt8], order: Int = 1, seed: UInt64) {
        precondition(alphabet.count >= 2, "a Markov source needs two symbols")
        precondition(order >= 1 && pow(Double(alphabet.count), Double(order)) <= 65_536, "order 1 to a table of 65536 rows")
        var random = DataRandom(seed: seed)
        let k = alphabet.count
        let contexts = (0..<order).reduce(1) { r, _ in r * k }
        let rows: [[Double]] = (0..<contexts).map { _ in
            let weights = (0..<k).map { _ in 0.02 + pow(random.unit(), 3) }
            let total = weights.reduce(0, +)
            return weights.map { $0 / total }
        }
        self.alphabet = alphabet
        self.order = order
        self.transition = rows
        self.stationary = MarkovSource.stationaryDistribution(rows, symbols: k)
        self.cumulative = rows.map(MarkovSource.cumulativeSums)
        self.stationaryCumulative = MarkovSource.cumulativeSums(stationary)
    }

    /// H(pi) = -sum_c pi_c log pi_c: the loss of the first n symbols of a run together.
    public var stationaryEntropy: Double { shannonEntropy(stationary) }

    /// h = sum_c pi_c H(P[c]): nats per symbol of an ideal model that knows the n before it.
    public var entropyRate: Double {
        zip(stationary, transition).reduce(0) { $0 + $1.0 * shannonEntropy($1.1) }
    }

    /// The symbol indices of context `c`, oldest first.
    public func symbols(ofContext c: Int) -> [Int] {
        let k = alphabet.count
        var rest = c
        var out = [Int](repeating: 0, count: order)
        for i in (0..<order).reversed() {
            out[i] = rest % k
            rest /= k
        }
        return out
    }

    /// The context after `context` is followed by `symbol`.
    public func context(_ context: Int, then symbol: Int) -> Int {
        (context * alphabet.count + symbol) % transition.count
    }

    /// A context drawn from pi (the first n symbols of a run).
    func first(_ random: inout DataRandom) -> Int { random.pick(cumulative: stationaryCumulative) }

    /// The symbol index that follows `context`.
    func next(after context: Int, _ random: inout DataRandom) -> Int { random.pick(cumulative: cumulative[context]) }

    /// pi by power iteration on the chain of contexts (converges because every transition
    /// is possible, so the chain is ergodic and aperiodic).
    static func stationaryDistribution(_ p: [[Double]], symbols k: Int) -> [Double] {
        let n = p.count
        var pi = [Double](repeating: 1 / Double(n), count: n)
        for _ in 0..<10_000 {
            var next = [Double](repeating: 0, count: n)
            for c in 0..<n {
                let base = (c * k) % n
                for j in 0..<k { next[base + j] += pi[c] * p[c][j] }
            }
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
