/// How often two FFN experts serve the same token in one layer: the expert co-activation
/// matrix.
///
/// counts[i][j] (i != j) = sampled tokens of the layer whose chosen FFN experts include both i
/// and j; counts[i][i] = tokens that chose i. Symmetric by construction. `share(i, j)` divides
/// by the layer's tokens; `lift(i, j)` compares the pair with independent choices,
/// P(i and j) / (P(i) P(j)): above 1 the two experts are chosen together more often than their
/// loads alone predict (they act as a team), below 1 less (they substitute for each other).
public struct ExpertCoActivation: Sendable, Equatable {
    /// counts[i][j] (`[N, N]`).
    public var counts: [[Int]]
    /// Tokens of the layer (those with no FFN expert included).
    public var tokens: Int

    /// The matrix of one layer's sampled tokens (labels are not used).
    public init(_ layer: RoutedTokens) {
        var c = [[Int]](repeating: [Int](repeating: 0, count: layer.experts), count: layer.experts)
        for t in layer.tokens {
            let chosen = Set(t.experts) // a token lists each expert once; a set guards the count anyway
            for i in chosen { for j in chosen { c[i][j] += 1 } }
        }
        counts = c
        tokens = layer.tokens.count
    }

    /// Fraction of the layer's tokens that chose both i and j (for i == j: that chose i).
    public func share(_ i: Int, _ j: Int) -> Double {
        tokens > 0 ? Double(counts[i][j]) / Double(tokens) : .nan
    }

    /// P(i and j) / (P(i) P(j)); NaN where either expert served no token.
    public func lift(_ i: Int, _ j: Int) -> Double {
        let a = counts[i][i], b = counts[j][j]
        guard a > 0, b > 0 else { return .nan }
        return Double(counts[i][j]) * Double(tokens) / (Double(a) * Double(b))
    }

    /// N: the experts.
    public var experts: Int { counts.count }
}
