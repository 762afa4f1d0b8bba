import LabKernels
import LabRouting

// Forced routing in the forward pass: per layer, edits of the router's plan (RoutingEdit: +1,
// -1 or an explicit expert set) that the MoE applies between routing and the expert path, with
// gates s * p from the same unbiased probabilities. With no edits set, the forward pass is the
// ordinary one (the MoE checks one empty array). R = B*T rows, D width, V vocabulary.

extension MoESaved {
    /// Applies `routingEdits` to `plan` (routed from `probs` with `bias`); called by `moeForward`.
    func applyRoutingEdits(bias: UnsafePointer<Float>, gateScale: Float) {
        do {
            routingEditsChanged = try plan.apply(routingEdits, probs: probs.ptr, bias: bias, gateScale: gateScale)
        } catch {
            preconditionFailure("\(error)")   // setRoutingEdits validated them; only a smaller batch gets here
        }
    }
}

public extension LongCatModel {
    /// Makes layer `l`'s MoE apply `edits` on every forward pass until cleared (replacing
    /// earlier edits of that layer). Token indices are rows b*T + t of the batch.
    /// Throws `RoutingError` for a token outside the model's rows, a token edited twice, or an
    /// explicit set that is not K distinct ids in 0..<N+Z.
    func setRoutingEdits(_ edits: [TokenRoutingEdit], layer l: Int) throws {
        precondition(l >= 0 && l < saved.count, "layer \(l) outside 0..<\(saved.count)")
        let m = config.model
        try validateRoutingEdits(edits, tokens: maxBatch * seqLen, topK: m.moeTopk,
                                 experts: m.nRoutedExperts + m.zeroExpertNum)
        saved[l].moe.routingEdits = edits
        saved[l].moe.routingEditsChanged = []
    }

    /// Removes every layer's routing edits: the forward pass is the ordinary one again.
    func clearRoutingEdits() {
        for s in saved {
            s.moe.routingEdits = []
            s.moe.routingEditsChanged = []
        }
    }

    /// Inference up to the logits, `[batch*T, V]` (valid until the next pass): embeds `tokens`
    /// `[batch, T]` and runs every layer, or with `fromLayer` l > 0 starts from layer l's input
    /// as the last pass left it (the caller knows layers before l would compute the same) and
    /// recomputes layers l... No losses, nothing for backward.
    @discardableResult
    func forwardLogits(tokens: UnsafePointer<Int32>, batch: Int, fromLayer first: Int = 0) -> UnsafePointer<Float> {
        precondition(batch <= maxBatch, "batch \(batch) exceeds the model's activation memory (\(maxBatch))")
        let m = config.model, r = batch * seqLen
        precondition(first >= 0 && first < m.numLayers, "fromLayer \(first) outside 0..<\(m.numLayers)")
        if first == 0 {
            embeddingForward(out: hidden[0].ptr, tokens: tokens, table: params.ptr + layout.embedding, rows: r,
                             dim: m.hiddenSize)
        }
        for l in first..<m.numLayers {
            _ = layerForward(out: hidden[l + 1].ptr, x: hidden[l].ptr, context: context(layer: l, batch: batch),
                             saved: saved[l], scratch: layerScratch, mlaScratch: mlaScratch,
                             ffnScratch: ffnScratch, moeScratch: moeScratch)
        }
        logitsForward(rows: r)
        return UnsafePointer(logits.ptr)
    }
}
