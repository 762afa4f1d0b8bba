import LabRecords

// The sampled routing of one layer as the specialisation measures read it: each token's label
// and chosen FFN experts, and the (token, chosen FFN expert) pair counts per label and expert.
// N routed (FFN) experts, C labels.

/// One sampled token in one layer: its label id and the FFN experts the router chose for it
/// (zero experts are not listed; a token that chose only zero experts has none).
public struct RoutedToken: Sendable, Equatable {
    public var label: Int
    public var experts: [Int]

    public init(label: Int, experts: [Int]) { self.label = label; self.experts = experts }
}

/// The sampled tokens of one layer, with their label names and the number of routed experts.
public struct RoutedTokens: Sendable {
    /// Label names in id order.
    public var labels: [String]
    /// N: routed (FFN) experts; expert ids are 0..<N.
    public var experts: Int
    public var tokens: [RoutedToken]

    public init(labels: [String], experts: Int, tokens: [RoutedToken]) {
        precondition(tokens.allSatisfy { $0.label >= 0 && $0.label < labels.count }, "label id without a name")
        precondition(tokens.allSatisfy { $0.experts.allSatisfy { $0 >= 0 && $0 < experts } }, "expert id outside 0..<N")
        self.labels = labels; self.experts = experts; self.tokens = tokens
    }

    /// The `token_samples` rows of one step split by layer (`layers` of them). Rows without a
    /// label are left out. Labels are numbered in the order of `labelOrder`, then any other
    /// label in sorted order; N is `experts`, or one more than the largest recorded id. Throws
    /// an `AnalysisError` naming the row when its layer or an FFN expert id is out of range (a
    /// database from another config, or edited by hand) instead of stopping the program.
    public static func byLayer(_ rows: [TokenSampleRow], layers: Int, experts: Int? = nil,
                               labelOrder: [String] = []) throws -> [RoutedTokens] {
        let seen = Set(rows.compactMap(\.label))
        let names = labelOrder.filter(seen.contains) + seen.subtracting(labelOrder).sorted()
        let ids = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        let n = experts ?? ((rows.flatMap(\.experts).max() ?? -1) + 1)
        var perLayer = [[RoutedToken]](repeating: [], count: layers)
        for r in rows {
            let row = "token_samples row (step \(r.step), sequence \(r.sample), position \(r.position), layer \(r.layer))"
            guard r.layer >= 0 && r.layer < layers else {
                throw AnalysisError("\(row): layer \(r.layer) is outside 0..<\(layers), the run's MoE layers")
            }
            if let bad = r.experts.first(where: { $0 < 0 || $0 >= n }) {
                throw AnalysisError("\(row): FFN expert id \(bad) is outside 0..<\(n), the run's routed experts "
                    + "(model.n_routed_experts); the records do not match the run's config")
            }
            guard let label = r.label.flatMap({ ids[$0] }) else { continue }
            perLayer[r.layer].append(RoutedToken(label: label, experts: r.experts))
        }
        return perLayer.map { RoutedTokens(labels: names, experts: n, tokens: $0) }
    }

    /// Tokens per label (`[C]`).
    public var tokensPerLabel: [Int] {
        var n = [Int](repeating: 0, count: labels.count)
        for t in tokens { n[t.label] += 1 }
        return n
    }

    /// pairs[c][e]: (token, chosen FFN expert) pairs of label c and expert e (`[C, N]`): each
    /// token adds one to every expert it chose.
    public var pairCounts: [[Int]] {
        var n = [[Int]](repeating: [Int](repeating: 0, count: experts), count: labels.count)
        for t in tokens { for e in t.experts { n[t.label][e] += 1 } }
        return n
    }
}
