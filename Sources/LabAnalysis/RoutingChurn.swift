import LabRecords

// Routing churn: how much a traced token's FFN expert set changes from one evaluation to the
// next (rows of `routing_traces`). Zero experts are left out: they cost no compute, and which
// identity slot a token takes changes nothing but its gate.

/// The Jaccard distance 1 - |a ∩ b| / |a ∪ b| between two expert sets: 0 for equal sets, 1 for
/// disjoint ones; 0 when both are empty (a token that used no FFN expert twice did not move).
public func jaccardDistance(_ a: Set<Int>, _ b: Set<Int>) -> Double {
    let union = a.union(b).count
    guard union > 0 else { return 0 }
    return 1 - Double(a.intersection(b).count) / Double(union)
}

/// One traced token: its sequence and position within the evaluation batches.
public struct TracedToken: Hashable, Sendable, Comparable {
    public var sequence: Int
    public var position: Int

    public init(sequence: Int, position: Int) { self.sequence = sequence; self.position = position }

    public static func < (a: Self, b: Self) -> Bool { (a.sequence, a.position) < (b.sequence, b.position) }
}

/// Trace rows indexed by evaluation step, layer and token.
public struct RoutingTraces: Sendable {
    /// Evaluation steps, ascending.
    public let steps: [Int]
    /// Layers, ascending.
    public let layers: [Int]
    /// `rows[step][layer][token]`.
    public let rows: [Int: [Int: [TracedToken: RoutingTraceRow]]]

    public init(_ traceRows: [RoutingTraceRow]) {
        var rows: [Int: [Int: [TracedToken: RoutingTraceRow]]] = [:]
        for r in traceRows {
            rows[r.step, default: [:]][r.layer, default: [:]][TracedToken(sequence: r.sequence, position: r.position)] = r
        }
        self.rows = rows
        steps = rows.keys.sorted()
        layers = Set(traceRows.map(\.layer)).sorted()
    }

    /// Pairs of consecutive evaluation steps (earlier, later).
    public var transitions: [(from: Int, to: Int)] { zip(steps, steps.dropFirst()).map { ($0, $1) } }

    /// The tokens traced in `layer` at both `from` and `to`, sorted.
    public func matched(layer: Int, from: Int, to: Int) -> [(TracedToken, RoutingTraceRow, RoutingTraceRow)] {
        guard let a = rows[from]?[layer], let b = rows[to]?[layer] else { return [] }
        return a.keys.sorted().compactMap { key in b[key].map { (key, a[key]!, $0) } }
    }
}

/// Mean Jaccard distance of the traced tokens' FFN expert sets between two consecutive
/// evaluations, in one layer.
public struct ChurnPoint: Sendable, Equatable, Codable {
    public var layer: Int
    /// The earlier and the later evaluation step.
    public var from: Int
    public var to: Int
    /// Mean Jaccard distance over the matched tokens, in [0, 1].
    public var churn: Double
    /// Tokens traced at both evaluations.
    public var tokens: Int
}

/// Churn per layer and pair of consecutive evaluations, by layer then step; pairs without a
/// matched token are left out.
public func routingChurn(_ traces: RoutingTraces) -> [ChurnPoint] {
    var points: [ChurnPoint] = []
    for layer in traces.layers {
        for (from, to) in traces.transitions {
            let pairs = traces.matched(layer: layer, from: from, to: to)
            guard !pairs.isEmpty else { continue }
            let sum = pairs.reduce(0.0) { $0 + jaccardDistance($1.1.ffnSet, $1.2.ffnSet) }
            points.append(ChurnPoint(layer: layer, from: from, to: to, churn: sum / Double(pairs.count), tokens: pairs.count))
        }
    }
    return points
}
