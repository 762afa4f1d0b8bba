import LabModel

/// Writes an `Evaluation` for comparison with another implementation: logits as `.npy` float32
/// `[B, T, V]`, the chosen experts as `.npy` int32 `[L, B*T, K]` (ascending ids per token), and
/// the loss as a small JSON file.
public enum LogitsOutput {
    public static func writeLogits(_ e: Evaluation, batch: Int, seqLen: Int, to path: String) throws {
        let vocab = e.logits.count / max(batch * seqLen, 1)
        try NPY.write(e.logits, shape: [batch, seqLen, vocab], to: path)
    }

    public static func writeRouting(_ e: Evaluation, batch: Int, seqLen: Int, to path: String) throws {
        let rows = batch * seqLen
        let k = e.routing.first.map { $0.count / max(rows, 1) } ?? 0
        try NPY.write(e.routing.flatMap { $0 }, shape: [e.routing.count, rows, k], to: path)
    }

    /// `{"loss": ..., "predicted_tokens": ...}`: the mean next-token cross-entropy in nats, as
    /// transformers' causal-LM loss defines it (labels = the input ids, shifted inside).
    public static func writeLoss(_ e: Evaluation, to path: String) throws {
        let text = JSONText.object([("loss", .double(e.losses.lm)), ("predicted_tokens", .int(e.predictedTokens))]).text
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw InterchangeError("\(path): cannot write (\(error.localizedDescription))")
        }
    }
}
