import LabConfig
import LabKernels
import LabRouting
import Testing
@testable import LabModel

/// Forced routing (ForcedRouting.swift, LabRouting/PlanEdit.swift): edits of the router's plan
/// between routing and the experts.
@Suite struct ForcedRoutingTests {
    /// Logits of an inference pass with the current edits, `[B*T, V]`, copied.
    func logits(_ b: TinyBatch, fromLayer l: Int = 0) -> [Float] {
        let p = b.tokens.withUnsafeBufferPointer { b.model.forwardLogits(tokens: $0.baseAddress!, batch: b.batch, fromLayer: l) }
        return Array(UnsafeBufferPointer(start: p, count: b.batch * b.model.seqLen * b.model.config.model.vocabSize))
    }

    func bits(_ x: [Float]) -> [UInt32] { x.map(\.bitPattern) }

    /// Guards against the hook or the inference path changing the ordinary forward: with no
    /// edit, an empty edit list, or edits that re-state the router's own choice, the logits
    /// are bit-for-bit those of `pass(train: false)`; so are those of a pass restarted at layer 1.
    @Test func noEditIsTheOrdinaryForwardBitForBit() throws {
        let b = TinyBatch(tinyConfig(), batch: 2, seqLen: 6)
        b.pass(train: false)
        let ordinary = b.model.lastLogits(rows: b.batch * b.model.seqLen)
        let routing = b.routing
        #expect(bits(logits(b)) == bits(ordinary))
        try b.model.setRoutingEdits([], layer: 0)
        #expect(bits(logits(b)) == bits(ordinary))
        #expect(bits(logits(b, fromLayer: 1)) == bits(ordinary))
        let k = b.model.config.model.moeTopk
        let same = (0..<(b.batch * b.model.seqLen)).map {
            TokenRoutingEdit(token: $0, edit: .experts(Array(routing[1][($0 * k)..<(($0 + 1) * k)])))
        }
        try b.model.setRoutingEdits(same, layer: 1)
        #expect(bits(logits(b)) == bits(ordinary))
        #expect(b.model.saved[1].moe.routingEditsChanged.allSatisfy { !$0 })
        b.model.clearRoutingEdits()
        b.pass(train: false)
        #expect(bits(b.model.lastLogits(rows: b.batch * b.model.seqLen)) == bits(ordinary))
    }

    /// Guards against a +1 edit touching other tokens or layers, choosing the wrong experts,
    /// or gating differently from an explicit set of the same experts: exactly the edited
    /// token's set changes in the edited layer (one more FFN expert, the best-scored unchosen
    /// one in place of its lowest-scored zero expert, gate s*p), earlier tokens' logits are
    /// untouched, and the explicit set gives bit-identical logits.
    @Test func plusEditChangesOneTokenLayerLikeAnExplicitSet() throws {
        let c = tinyConfig()
        let b = TinyBatch(c, batch: 2, seqLen: 6)
        let m = c.model, k = m.moeTopk, n = m.nRoutedExperts, e = n + m.zeroExpertNum, v = m.vocabSize
        let layer = 0
        b.pass(train: false)
        let ordinary = b.model.lastLogits(rows: b.batch * b.model.seqLen)
        let before = b.routing
        let probs = Array(UnsafeBufferPointer(start: b.model.saved[layer].moe.probs.ptr, count: b.batch * b.model.seqLen * e))
        let plan = b.model.saved[layer].moe.plan
        let token = try #require((0..<plan.tokens).first { plan.canApply(.addFFN, token: $0) && $0 % b.model.seqLen > 0 })
        try b.model.setRoutingEdits([TokenRoutingEdit(token: token, edit: .addFFN)], layer: layer)
        let edited = logits(b)
        #expect(b.model.saved[layer].moe.routingEditsChanged == [true])
        let after = b.model.saved[layer].moe.plan
        for t in 0..<plan.tokens where t != token {
            #expect(Array(after.expert[(t * k)..<((t + 1) * k)]) == Array(before[layer][(t * k)..<((t + 1) * k)]))
        }
        let old = Array(before[layer][(token * k)..<((token + 1) * k)]), new = Array(after.expert[(token * k)..<((token + 1) * k)])
        #expect(Int(after.ffnCount[token]) == Int(plan.ffnCount[token]) + 1)
        // The slot that left: the lowest-scored zero expert; the one that came: the best unchosen FFN expert.
        let score = { (id: Int32) in probs[token * e + Int(id)] }   // the bias is 0 here
        let left = try #require(old.first { !new.contains($0) }), came = try #require(new.first { !old.contains($0) })
        #expect(Int(left) >= n && Int(came) < n)
        #expect(old.filter { Int($0) >= n }.allSatisfy { score($0) >= score(left) })
        #expect((0..<Int32(n)).filter { !old.contains($0) }.allSatisfy { score($0) <= score(came) })
        for j in 0..<k {
            #expect(after.gate[token * k + j] == MoEShape(c).gateScale * score(new[j]))
        }
        // Positions before the edited token see nothing of it (causal attention).
        let seqStart = token - token % b.model.seqLen
        #expect(bits(Array(edited[(seqStart * v)..<(token * v)])) == bits(Array(ordinary[(seqStart * v)..<(token * v)])))
        #expect(bits(Array(edited[(token * v)..<((token + 1) * v)])) != bits(Array(ordinary[(token * v)..<((token + 1) * v)])))
        try b.model.setRoutingEdits([TokenRoutingEdit(token: token, edit: .experts(new.reversed()))], layer: layer)
        #expect(bits(logits(b)) == bits(edited))
    }

    /// Guards against a -1 edit that keeps the FFN count, and against edits that cannot apply
    /// (no FFN slot) changing the plan.
    @Test func minusEditRemovesOneFFNExpertOrNothing() throws {
        let b = TinyBatch(tinyConfig(), batch: 2, seqLen: 6)
        b.pass(train: false)
        let plan = b.model.saved[1].moe.plan
        let rows = 0..<plan.tokens
        let edits = rows.map { TokenRoutingEdit(token: $0, edit: .removeFFN) }
        try b.model.setRoutingEdits(edits, layer: 1)
        _ = logits(b, fromLayer: 1)
        let after = b.model.saved[1].moe.plan
        for t in rows {
            let expected = plan.canApply(.removeFFN, token: t) ? Int(plan.ffnCount[t]) - 1 : Int(plan.ffnCount[t])
            #expect(Int(after.ffnCount[t]) == expected)
            #expect(b.model.saved[1].moe.routingEditsChanged[t] == plan.canApply(.removeFFN, token: t))
        }
    }

    /// Guards against malformed edits reaching the MoE: a token twice, an explicit set of the
    /// wrong size or with repeats, a token outside the rows.
    @Test func badEditsAreRefused() {
        let b = TinyBatch(tinyConfig(), batch: 1, seqLen: 4)
        #expect(throws: RoutingError.self) {
            try b.model.setRoutingEdits([.init(token: 1, edit: .addFFN), .init(token: 1, edit: .removeFFN)], layer: 0)
        }
        #expect(throws: RoutingError.self) { try b.model.setRoutingEdits([.init(token: 0, edit: .experts([0]))], layer: 0) }
        #expect(throws: RoutingError.self) { try b.model.setRoutingEdits([.init(token: 0, edit: .experts([1, 1]))], layer: 0) }
        #expect(throws: RoutingError.self) { try b.model.setRoutingEdits([.init(token: 4, edit: .addFFN)], layer: 0) }
    }
}
