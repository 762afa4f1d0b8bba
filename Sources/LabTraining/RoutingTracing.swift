import LabKernels
import LabRecords

// Routing traces over training: `train.trace_tokens` validation tokens, drawn once per run
// from the evaluation batches with the run's seed, have their routing (all K expert ids and
// gates per layer) and loss recorded into `routing_traces` at every evaluation. The evaluation
// batches are the same at every evaluation, so the same tokens are traced each time.
//
// Dimension letters: B batch, T sequence length, R = B*T tokens of one evaluation batch,
// K top-k slots.

/// Which evaluation tokens are traced.
enum TraceSelection {
    /// The traced tokens of each of the `evalBatches` evaluation batches: `[evalBatches][<= R]`
    /// row indices b*T + position, ascending. `count` distinct tokens in all, drawn uniformly
    /// from the evalBatches * R evaluation tokens by a partial Fisher-Yates shuffle with a
    /// generator of its own (seeded from `seed`), so training's random streams are untouched.
    static func rows(count: Int, evalBatches: Int, rowsPerBatch r: Int, seed: Int) -> [[Int]] {
        let total = evalBatches * r, n = min(max(count, 0), total)
        var random = LabRandom(seed: UInt64(bitPattern: Int64(seed)) &+ 0x7261_6365_5472_6163)   // "raceTrac"
        var pool = Array(0..<total)
        for i in 0..<n { pool.swapAt(i, i + random.nextInt(below: total - i)) }
        var byBatch = [[Int]](repeating: [], count: evalBatches)
        for index in pool.prefix(n).sorted() { byBatch[index / r].append(index % r) }
        return byBatch
    }
}

extension Trainer {
    /// Trace rows (step still 0) of the traced tokens of evaluation batch `index`, read from the
    /// routing of its forward pass and the per-token `losses` `[R]`. Reads the model, never
    /// writes it.
    func routingTraces(evaluationBatch index: Int, losses: [Double]) -> [RoutingTraceRow] {
        let t = config.train
        guard t.traceTokens > 0 else { return [] }
        let selected = TraceSelection.rows(count: t.traceTokens, evalBatches: t.evalBatches,
                                           rowsPerBatch: t.batchSize * t.seqLen, seed: t.seed)[index]
        var rows: [RoutingTraceRow] = []
        rows.reserveCapacity(selected.count * config.model.numLayers)
        for r in selected {
            for l in 0..<config.model.numLayers {
                let plan = model.saved[l].moe.plan
                let slots = (r * plan.topK)..<((r + 1) * plan.topK)
                rows.append(RoutingTraceRow(step: 0, sequence: index * t.batchSize + r / t.seqLen,
                                            position: r % t.seqLen, layer: l, token: Int(tokens[r]),
                                            ffnExperts: Int(plan.ffnCount[r]), experts: slots.map { Int(plan.expert[$0]) },
                                            gates: slots.map { plan.gate[$0] }, loss: losses[r]))
            }
        }
        return rows
    }
}
