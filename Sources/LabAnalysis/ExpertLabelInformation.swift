import Foundation

/// How much a layer's expert choice tells about a token's label: the mutual information
/// between the chosen FFN expert E and the label C, over (token, chosen FFN expert) pairs.
///
/// Definition. Every sampled token t of the layer with label c(t) and chosen FFN experts S(t)
/// adds one pair (c(t), e) for each e in S(t); tokens that chose only zero experts add none.
/// With n(c, e) the pair counts and P = sum n(c, e), p(c, e) = n(c, e) / P, and p(c), p(e) its
/// marginals,
///
///     I(E; C) = sum over c, e with n(c, e) > 0 of p(c, e) log( p(c, e) / (p(c) p(e)) )   (nats)
///
/// I is 0 when every label spreads its pairs over the experts in the same proportions (the
/// router ignores the label) and reaches H(C) (log #labels when the labels hold equal pair
/// counts) when each label goes to experts no other label uses. `share` = I / log(#labels with
/// pairs): the fraction of the largest possible information. The plug-in estimate is biased
/// upwards on a finite sample; `bias` is the Miller-Madow first-order term
/// (cells - labels - experts + 1) / (2P) over the occupied cells, labels and experts, so
/// I - bias is the corrected estimate.
public struct ExpertLabelInformation: Sendable, Equatable {
    /// I(E; C) in nats.
    public var nats: Double
    /// The same in bits.
    public var bits: Double { nats / log(2) }
    /// I / log(#labels with pairs); NaN with fewer than 2 such labels.
    public var share: Double
    /// H(C) over the pairs (nats): the most I can be.
    public var labelEntropy: Double
    /// Miller-Madow estimate of the plug-in bias (nats).
    public var bias: Double
    /// Labels with at least one pair.
    public var labels: Int
    /// P: (token, chosen FFN expert) pairs.
    public var pairs: Int
    /// Tokens of the layer (those with no FFN expert included).
    public var tokens: Int

    /// The measure for one layer's sampled tokens.
    public init(_ layer: RoutedTokens) {
        let n = layer.pairCounts // [C, N]
        let total = n.joined().reduce(0, +)
        tokens = layer.tokens.count
        pairs = total
        let rows = n.map { $0.reduce(0, +) } // [C]
        let columns = (0..<layer.experts).map { e in n.reduce(0) { $0 + $1[e] } } // [N]
        labels = rows.filter { $0 > 0 }.count
        guard total > 0 else {
            nats = 0; share = .nan; labelEntropy = 0; bias = 0
            return
        }
        let p = Double(total)
        var information = 0.0, cells = 0
        for c in n.indices {
            for e in n[c].indices where n[c][e] > 0 {
                cells += 1
                let joint = Double(n[c][e]) / p
                information += joint * log(joint * p * p / (Double(rows[c]) * Double(columns[e])))
            }
        }
        nats = max(0, information) // rounding can leave -1e-17 for independent tables
        labelEntropy = -rows.filter { $0 > 0 }.reduce(0.0) { $0 + Double($1) / p * log(Double($1) / p) }
        share = labels >= 2 ? nats / log(Double(labels)) : .nan
        let usedExperts = columns.filter { $0 > 0 }.count
        bias = Double(cells - labels - usedExperts + 1) / (2 * p)
    }
}
