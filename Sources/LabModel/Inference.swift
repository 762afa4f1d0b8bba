import LabConfig

// Read access to what the last forward pass computed, for comparisons with other
// implementations (logits, routing). R = B*T rows, V vocabulary, K slots per token.

/// One evaluation pass over a token batch: losses, logits and the experts each token chose.
public struct Evaluation: Sendable {
    /// Losses of the pass (`lm` is the mean next-token cross-entropy over predicted tokens).
    public var losses: Losses
    /// Tokens that had a next token to predict (the last of each sequence has none).
    public var predictedTokens: Int
    /// `[B*T, V]` logits, row-major.
    public var logits: [Float]
    /// Per layer `[B*T, K]`: chosen expert ids, ascending within each token.
    public var routing: [[Int32]]
    /// Per layer `[B*T]`: K-th minus (K+1)-th best biased score of each token (near ties are small).
    public var margins: [[Float]]
}

public extension LongCatModel {
    /// `[rows, V]` logits of the last pass. Valid only after `pass(..., train: false)`: a
    /// training pass overwrites them with their gradient.
    func lastLogits(rows: Int) -> [Float] {
        precondition(rows <= maxBatch * seqLen, "rows \(rows) exceed the model's activation memory")
        return Array(UnsafeBufferPointer(start: logits.ptr, count: rows * config.model.vocabSize))
    }

    /// Runs the forward pass (no gradients) on `tokens` `[batch, seqLen]`, predicting each next
    /// token of a sequence (and the one after it for the MTP head), and copies out what it computed.
    func evaluate(tokens: [Int32], batch: Int) -> Evaluation {
        let t = seqLen, r = batch * t
        precondition(tokens.count == r, "tokens must hold batch * seqLen = \(r) ids, got \(tokens.count)")
        var targets = [Int32](repeating: -1, count: r), mtpTargets = targets
        for b in 0..<batch {
            for i in 0..<t {
                if i + 1 < t { targets[b * t + i] = tokens[b * t + i + 1] }
                if i + 2 < t { mtpTargets[b * t + i] = tokens[b * t + i + 2] }
            }
        }
        let losses = tokens.withUnsafeBufferPointer { tok in
            targets.withUnsafeBufferPointer { tgt in
                mtpTargets.withUnsafeBufferPointer { mtp in
                    pass(tokens: tok.baseAddress!, targets: tgt.baseAddress!, mtpTargets: mtp.baseAddress!,
                         batch: batch, train: false)
                }
            }
        }
        let k = config.model.moeTopk
        return Evaluation(losses: losses, predictedTokens: batch * max(t - 1, 0), logits: lastLogits(rows: r),
                          routing: saved.map { Array($0.moe.plan.expert.prefix(r * k)) },
                          margins: saved.map { Array($0.moe.plan.margin.prefix(r)) })
    }
}
