/// Batches of token windows: B rows of T input tokens and the T next tokens as targets.
///
/// Dimension letters: B batch (rows), T sequence length. Every output buffer is `[B, T]`
/// row-major. A row is a window of T + 1 consecutive model tokens (bytes, or subwords) of one
/// split: tokens are its first T, targets its last T.
public struct BatchSampler: Sendable {
    public let corpus: Corpus
    public let split: Split
    /// B.
    public let batchSize: Int
    /// T.
    public let seqLen: Int
    public let seed: Int
    /// Corpus-wide indices of the split.
    private let range: Range<Int>

    /// The split must hold at least T + 1 tokens (`corpus.check(batch:seqLen:)` says so with a
    /// user-facing error; here it is a precondition).
    public init(corpus: Corpus, split: Split, batch: Int, seqLen: Int, seed: Int) {
        precondition(batch >= 1 && seqLen >= 1, "batch and seqLen must be positive")
        range = corpus.range(split)
        precondition(range.count >= seqLen + 1,
                     "the \(split) split of '\(corpus.name)' holds \(range.count) tokens, fewer than seqLen + 1; call corpus.check first")
        self.corpus = corpus
        self.split = split
        self.batchSize = batch
        self.seqLen = seqLen
        self.seed = seed
    }

    /// Last corpus-wide index at which a window of T + 1 tokens can start.
    private var lastStart: Int { range.upperBound - seqLen - 1 }

    /// Corpus-wide start of each row's window at `step`: uniform over the split, a pure
    /// function of (seed, step), so a resumed run sees exactly the batches it would have seen.
    /// On a multi-domain corpus's train split, each row first draws a domain by the weights of
    /// its spans (those long enough for a window), then a window inside that span, so no window
    /// mixes two domains.
    public func windowStarts(step: Int) -> [Int] {
        let stream = DataRandom.derive(UInt64(bitPattern: Int64(seed)), UInt64(bitPattern: Int64(step)))
        var random = DataRandom(seed: stream)
        let spans = split == .train
            ? corpus.segments.filter { $0.split == .train && $0.weight > 0 && $0.range.count > seqLen } : []
        if !spans.isEmpty {
            let total = spans.reduce(0) { $0 + $1.weight }
            var running = 0.0
            let cumulative = spans.map { running += $0.weight; return running / total }
            return (0..<batchSize).map { _ in
                let span = spans[random.pick(cumulative: cumulative)].range
                return span.lowerBound + random.below(span.count - seqLen)
            }
        }
        return (0..<batchSize).map { _ in range.lowerBound + random.below(lastStart - range.lowerBound + 1) }
    }

    /// Fills the training batch of `step`. tokens, targets: `[B, T]`; labels (optional) `[B, T]`:
    /// the label of each target token (the token being predicted).
    public func batch(atStep step: Int, into tokens: UnsafeMutablePointer<Int32>,
                      targets: UnsafeMutablePointer<Int32>, labels: UnsafeMutablePointer<UInt8>?) {
        fill(starts: windowStarts(step: step), tokens: tokens, targets: targets, labels: labels)
    }

    /// Corpus-wide window starts of evaluation batch `index` of `count`: the `count * B` windows
    /// are spread evenly from the split's first byte to its last, whatever the seed, so every
    /// evaluation of a run (and of runs with other seeds) scores the same bytes.
    public func evaluationWindowStarts(index: Int, of count: Int) -> [Int] {
        precondition(count >= 1 && (0..<count).contains(index), "evaluation batch \(index) of \(count)")
        let windows = count * batchSize
        let span = lastStart - range.lowerBound
        return (0..<batchSize).map { row in
            let w = index * batchSize + row
            return range.lowerBound + (windows == 1 ? 0 : span * w / (windows - 1))
        }
    }

    /// Fills evaluation batch `index` of `count` (same buffers and shapes as `batch`).
    public func evaluationBatch(index: Int, of count: Int, into tokens: UnsafeMutablePointer<Int32>,
                                targets: UnsafeMutablePointer<Int32>, labels: UnsafeMutablePointer<UInt8>?) {
        fill(starts: evaluationWindowStarts(index: index, of: count), tokens: tokens, targets: targets, labels: labels)
    }

    /// Copies each row's window of model tokens x: tokens[b, t] = x[s + t],
    /// targets[b, t] = x[s + t + 1], labels[b, t] = label(s + t + 1).
    private func fill(starts: [Int], tokens: UnsafeMutablePointer<Int32>,
                      targets: UnsafeMutablePointer<Int32>, labels: UnsafeMutablePointer<UInt8>?) {
        for (b, s) in starts.enumerated() {
            let row = b * seqLen
            for t in 0..<seqLen {
                tokens[row + t] = corpus.token(at: s + t)
                targets[row + t] = corpus.token(at: s + t + 1)
            }
            if let labels {
                for t in 0..<seqLen { labels[row + t] = corpus.label(at: s + t + 1) }
            }
        }
    }

    /// Targets of the multi-token-prediction head: mtp[b, t] = token t + 2 of the window =
    /// targets[b, t + 1], and -1 (ignore) at t = T - 1, whose t + 2 lies past the window.
    /// targets, mtp: `[B, T]`.
    public static func mtpTargets(from targets: UnsafePointer<Int32>, into mtp: UnsafeMutablePointer<Int32>,
                                  batch: Int, seqLen: Int) {
        for b in 0..<batch {
            let row = b * seqLen
            for t in 0..<seqLen { mtp[row + t] = t + 1 < seqLen ? targets[row + t + 1] : -1 }
        }
    }
}
