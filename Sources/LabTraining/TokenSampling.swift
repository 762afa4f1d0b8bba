import Foundation
import LabData
import LabModel
import LabRecords

// Who gets compute, token by token: at each evaluation the trainer samples the routing of the
// first `train.token_sample_batches` evaluation batches into `token_samples` rows, one per
// token and layer, and measures the loss per label over all evaluation batches.
//
// Dimension letters: B batch, T sequence length, R = B*T tokens, L layers, K top-k slots,
// N routed (FFN) experts, V vocabulary.

/// What one evaluation sampled, waiting for the recorder of its step.
struct TokenSampleBatch {
    /// Rows of the sampled batches, their `step` still 0.
    var rows: [TokenSampleRow] = []
    /// Sum of per-token losses (nats) and token count per label id of the predicted token.
    var lossSum: [Double] = []
    var tokens: [Int] = []
    var labelNames: [String] = []
    /// Routing trace rows of the traced tokens (RoutingTracing.swift), their `step` still 0.
    var traces: [RoutingTraceRow] = []
}

/// The samples of the latest evaluation, waiting for the recorder of its step. The trainer
/// owns one and hands it to its recorder: `Trainer.sampleTokens(evaluationBatch:)` fills it,
/// `TokenSampling.take(from:into:)` empties it. Bounded by one evaluation (batch 0 starts it
/// afresh). Used from the training thread only.
final class PendingTokenSamples {
    var batch: TokenSampleBatch?

    /// Runs `body` on the pending samples in place; `fresh` drops what an earlier evaluation left.
    func update(fresh: Bool, _ body: (inout TokenSampleBatch) -> Void) {
        if fresh || batch == nil { batch = TokenSampleBatch() }
        body(&batch!)
    }
}

/// The move of pending samples into a step record.
enum TokenSampling {
    /// Moves the pending samples into `record` (token rows and per-label evaluation rows,
    /// stamped with the record's step); does nothing when there are none.
    static func take(from pending: PendingTokenSamples, into record: inout StepRecord) {
        guard let b = pending.batch else { return }
        pending.batch = nil
        let step = record.step.step
        record.tokenSamples += b.rows.map { var row = $0; row.step = step; return row }
        record.routingTraces += b.traces.map { var row = $0; row.step = step; return row }
        for (id, name) in b.labelNames.enumerated() where b.tokens[id] > 0 {
            record.evalByLabel.append(EvalLabelRow(step: step, label: name, loss: b.lossSum[id] / Double(b.tokens[id]),
                                                   tokens: b.tokens[id]))
        }
    }
}

extension Trainer {
    /// Called by `evaluate()` right after the forward pass of evaluation batch `index`: adds
    /// the batch's per-label losses and, for the first `train.token_sample_batches` batches,
    /// one row per token and layer, and the routing traces of the batch's traced tokens. Reads
    /// the model, never writes it, so training is the same with sampling on or off. Does
    /// nothing when the run records nothing.
    func sampleTokens(evaluationBatch index: Int) {
        guard options.record else { return }
        let t = config.train, m = config.model
        let rows = t.batchSize * t.seqLen
        let sampler = BatchSampler(corpus: corpus, split: .validation, batch: t.batchSize, seqLen: t.seqLen, seed: t.seed)
        let starts = index < t.tokenSampleBatches ? sampler.evaluationWindowStarts(index: index, of: t.evalBatches) : []
        let losses = tokenLosses(rows: rows, vocab: m.vocabSize)
        let traces = routingTraces(evaluationBatch: index, losses: losses)
        pendingSamples.update(fresh: index == 0) { batch in
            batch.traces += traces
            let names = corpus.labelNames
            if batch.labelNames != names {
                batch.labelNames = names
                batch.lossSum = [Double](repeating: 0, count: names.count)
                batch.tokens = [Int](repeating: 0, count: names.count)
            }
            for r in 0..<rows where targets[r] >= 0 {
                batch.lossSum[Int(labels[r])] += losses[r]
                batch.tokens[Int(labels[r])] += 1
            }
            for (b, start) in starts.enumerated() {
                for position in 0..<t.seqLen {
                    let r = b * t.seqLen + position
                    let label = names[Int(corpus.label(at: start + position))]
                    for l in 0..<m.numLayers {
                        let plan = model.saved[l].moe.plan
                        let experts = plan.expert[(r * plan.topK)..<((r + 1) * plan.topK)]
                            .filter { Int($0) < plan.routedExperts }.map { Int($0) }
                        batch.rows.append(TokenSampleRow(step: 0, sample: index * t.batchSize + b, position: position,
                                                         layer: l, token: Int(tokens[r]), label: label,
                                                         ffnExperts: Int(plan.ffnCount[r]), experts: experts))
                    }
                }
            }
        }
    }

    /// Cross-entropy (nats) of each of the `rows` tokens of the last evaluation pass, from
    /// the model's logits `[R, V]`; 0 where the target is ignored.
    func tokenLosses(rows: Int, vocab v: Int) -> [Double] {
        let logits = model.lastLogits
        return (0..<rows).map { r in
            let target = Int(targets[r])
            guard target >= 0 else { return 0 }
            return crossEntropy(logits: logits + r * v, vocab: v, target: target)
        }
    }
}

/// Cross-entropy (nats) of one row of logits `[V]` against `target`, in double precision.
func crossEntropy(logits z: UnsafePointer<Float>, vocab v: Int, target: Int) -> Double {
    var peak = -Float.infinity
    for j in 0..<v { peak = max(peak, z[j]) }
    var sum = 0.0
    for j in 0..<v { sum += exp(Double(z[j] - peak)) }
    return log(sum) - Double(z[target] - peak)
}
