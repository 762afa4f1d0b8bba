import Testing
import LabRecords
@testable import LabAnalysis

/// A trace row of token (sequence, 0) in `layer` at `step` with the given FFN experts (ids
/// below 8) padded with zero experts (ids 8...) to K = 4 slots.
func traceRow(step: Int, sequence: Int, layer: Int = 0, ffn: [Int], loss: Double = 1) -> RoutingTraceRow {
    let zero = (0..<(4 - ffn.count)).map { 8 + $0 }
    return RoutingTraceRow(step: step, sequence: sequence, position: 0, layer: layer, token: 5, ffnExperts: ffn.count,
                           experts: ffn.sorted() + zero, gates: [Float](repeating: 0.25, count: 4), loss: loss)
}

@Suite("Routing churn, freeze and loss change")
struct RoutingChurnTests {
    /// Guards against a distance with the wrong normalisation or empty-set case: identical sets
    /// are 0 apart, disjoint ones 1, {1,2,3} and {2,3,4} share 2 of 4 (0.5), two empty sets 0.
    @Test func jaccardDistanceOfHandMadeSets() {
        #expect(jaccardDistance([1, 5], [5, 1]) == 0)
        #expect(jaccardDistance([1, 2], [3, 4]) == 1)
        #expect(jaccardDistance([1, 2, 3], [2, 3, 4]) == 0.5)
        #expect(jaccardDistance([7], []) == 1)
        #expect(jaccardDistance([], []) == 0)
    }

    /// Guards against churn that counts zero experts, pairs the wrong tokens or evaluations, or
    /// averages over the wrong count: two tokens over three evaluations with known distances.
    @Test func churnOfHandMadeTraces() {
        let rows = [
            // step 10: token 0 uses {1, 2}, token 1 uses {3}
            traceRow(step: 10, sequence: 0, ffn: [1, 2]), traceRow(step: 10, sequence: 1, ffn: [3]),
            // step 20: token 0 the same set with another zero slot count fixed; token 1 disjoint
            traceRow(step: 20, sequence: 0, ffn: [2, 1]), traceRow(step: 20, sequence: 1, ffn: [4]),
            // step 30: token 0 {1, 2} -> {2, 3} (1/3 shared: 2/3), token 1 {4} -> {4} (0)
            traceRow(step: 30, sequence: 0, ffn: [2, 3]), traceRow(step: 30, sequence: 1, ffn: [4]),
            // layer 1 at steps 10 and 20 only: identical
            traceRow(step: 10, sequence: 0, layer: 1, ffn: [6]), traceRow(step: 20, sequence: 0, layer: 1, ffn: [6]),
        ]
        let points = routingChurn(RoutingTraces(rows.shuffled()))
        #expect(points.count == 3)
        #expect(points[0] == ChurnPoint(layer: 0, from: 10, to: 20, churn: 0.5, tokens: 2))
        #expect(points[1].layer == 0 && points[1].from == 20 && points[1].to == 30 && points[1].tokens == 2)
        #expect(abs(points[1].churn - 1.0 / 3) < 1e-12)
        #expect(points[2] == ChurnPoint(layer: 1, from: 10, to: 20, churn: 0, tokens: 1))
    }

    /// Guards against a freeze that ignores a later rise, starts at the wrong evaluation or
    /// claims a freeze the run never reached.
    @Test func freezeOfHandMadeSeries() {
        func series(_ churn: [Double]) -> [ChurnPoint] {
            churn.enumerated().map { ChurnPoint(layer: 0, from: 100 * $0.offset, to: 100 * ($0.offset + 1), churn: $0.element, tokens: 8) }
        }
        #expect(RoutingFreeze(layer: 0, points: series([0.5, 0.2, 0.04, 0.01]), tolerance: 0.05).step == 200)
        #expect(RoutingFreeze(layer: 0, points: series([0.01, 0.2, 0.04, 0.01]), tolerance: 0.05).step == 200)
        #expect(RoutingFreeze(layer: 0, points: series([0.01, 0.02, 0.03]), tolerance: 0.05).step == 0)
        #expect(RoutingFreeze(layer: 0, points: series([0.01, 0.02, 0.3]), tolerance: 0.05).step == nil)
        #expect(RoutingFreeze(layer: 0, points: series([0.5, 0.05]), tolerance: 0.05).step == nil)
        let twoLayers = series([0.5, 0.01]) + series([0.5, 0.5]).map { var p = $0; p.layer = 1; return p }
        #expect(RoutingFreeze.perLayer(twoLayers, tolerance: 0.1).map(\.step) == [100, nil])
    }

    /// Guards against a comparison that mixes up the groups, counts a token once per layer, or
    /// misses a change in a later layer: tokens whose FFN count changed (in layer 0 or in layer
    /// 1 only) moved their loss by 1, the others by 0.25, so the difference is 0.75 with a
    /// degenerate bootstrap interval.
    @Test func changedTokensAgainstUnchanged() {
        var rows: [RoutingTraceRow] = []
        for s in 0..<6 {
            let changed = s < 2, layerOneOnly = s == 1
            let delta = changed ? 1.0 : 0.25
            rows.append(traceRow(step: 0, sequence: s, layer: 0, ffn: [1], loss: 3))
            rows.append(traceRow(step: 0, sequence: s, layer: 1, ffn: [1], loss: 3))
            rows.append(traceRow(step: 5, sequence: s, layer: 0, ffn: changed && !layerOneOnly ? [1, 2] : [2], loss: 3 - delta))
            rows.append(traceRow(step: 5, sequence: s, layer: 1, ffn: changed ? [] : [1], loss: 3 - delta))
        }
        let result = allocationLossChanges(RoutingTraces(rows), resamples: 200)
        #expect(result.count == 1)
        let r = result[0]
        #expect(r.from == 0 && r.to == 5 && r.changed == 2 && r.unchanged == 4)
        #expect(r.changedMean == 1 && r.unchangedMean == 0.25 && r.difference == 0.75)
        #expect(r.low == 0.75 && r.high == 0.75)
    }
}
