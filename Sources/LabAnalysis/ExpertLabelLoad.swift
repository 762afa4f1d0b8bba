/// Which experts each label uses in one layer: the expert x label load matrix, normalised per
/// label.
///
/// share[c][e] = n(c, e) / sum over e' of n(c, e'), with n(c, e) the (token, chosen FFN
/// expert) pairs of label c and expert e (see `ExpertLabelInformation`): of the FFN-expert
/// slots the label's tokens used, the fraction expert e served. Each row of a label with pairs
/// sums to 1; a label whose tokens chose no FFN expert has a row of NaN. Uniform routing gives
/// 1/N everywhere; a label served by its own experts has its mass on them alone.
public struct ExpertLabelLoad: Sendable, Equatable {
    /// Label names in id order (the rows).
    public var labels: [String]
    /// share[c][e] (`[C, N]`).
    public var share: [[Double]]
    /// Sampled tokens of each label (`[C]`).
    public var tokens: [Int]
    /// Mean FFN experts per token of each label (`[C]`; NaN for a label without tokens).
    public var meanFFNExperts: [Double]

    /// The matrix of one layer's sampled tokens.
    public init(_ layer: RoutedTokens) {
        labels = layer.labels
        let counts = layer.tokensPerLabel // [C]
        tokens = counts
        let n = layer.pairCounts // [C, N]
        share = n.map { row in
            let total = row.reduce(0, +)
            return row.map { total > 0 ? Double($0) / Double(total) : .nan }
        }
        meanFFNExperts = n.indices.map { c in
            counts[c] > 0 ? Double(n[c].reduce(0, +)) / Double(counts[c]) : .nan
        }
    }

    /// N: the experts (columns).
    public var experts: Int { share.first?.count ?? 0 }
}
