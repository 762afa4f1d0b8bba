import Foundation
import LabData
import LabKernels
import LabModel
import LabRecords
import LabRouting

// Does compute go where it helps? For sampled validation tokens and each probed layer, the
// token's own next-token loss as routed, with one FFN expert more (+1) and one fewer (-1) in
// that layer (forced routing, ForcedRouting.swift), all later layers recomputed.
//
// One edit per sequence per pass: an edited token changes the hidden states of the later
// tokens of its sequence through attention, so two edited tokens of one sequence would
// disturb each other. A pass runs B sequences, each with one edited token; the edited token's
// own loss depends only on positions up to it, so it is measured cleanly. Passes that edit
// layer l start from layer l's input of the unedited pass (layers are probed last to first,
// so that input is never overwritten).
//
// Letters: B sequences per pass, T sequence length, P sampled positions per sequence, L probed layers.

/// What to probe.
public struct ProbeSettings: Sendable {
    /// Sampled tokens in all (spread over ceil(tokens / perSequence) sequences).
    public var tokens: Int
    /// P: sampled positions per sequence.
    public var perSequence: Int
    /// Layers to probe (ascending, distinct).
    public var layers: [Int]
    /// B: sequences per forward pass.
    public var batch: Int
    /// Seeds the sequences and positions.
    public var seed: Int

    public init(tokens: Int, perSequence: Int, layers: [Int], batch: Int, seed: Int) {
        self.tokens = tokens; self.perSequence = perSequence; self.layers = layers; self.batch = batch
        self.seed = seed
    }

    /// Sequences sampled.
    public var sequences: Int { (tokens + perSequence - 1) / perSequence }

    /// Forward passes the probe runs at most: per group of B sequences, one unedited pass and
    /// two (+1, -1) per position index and probed layer (fewer where no token of a group can
    /// take an edit).
    public var maxPasses: Int {
        let groups = (sequences + batch - 1) / batch
        return groups * (1 + 2 * min(perSequence, tokens) * layers.count)
    }
}

/// One sampled validation window and the positions probed in it.
public struct ProbeSequence: Sendable, Equatable {
    /// Corpus-wide index of the window's first token (the window holds T + 1 tokens).
    public var start: Int
    /// Positions 0..<T, ascending, distinct.
    public var positions: [Int]
}

/// Samples `settings.sequences` windows of T + 1 tokens uniformly from the validation split
/// and P distinct positions in each (fewer in the last, so the total is `settings.tokens`).
public func sampleProbeSequences(corpus: Corpus, seqLen t: Int, settings: ProbeSettings) -> [ProbeSequence] {
    var random = LabRandom(seed: UInt64(bitPattern: Int64(settings.seed)) &+ 0x9E37_79B9_7F4A_7C15)
    let range = corpus.range(.validation), span = range.count - t   // starts lowerBound ..< upperBound - t
    precondition(span >= 1, "the validation split holds fewer than T + 1 tokens")
    var left = settings.tokens
    return (0..<settings.sequences).map { _ in
        let start = range.lowerBound + random.nextInt(below: span)
        var pool = Array(0..<t)
        let count = min(left, settings.perSequence, t)
        left -= count
        for i in 0..<count { pool.swapAt(i, i + random.nextInt(below: t - i)) }
        return ProbeSequence(start: start, positions: pool.prefix(count).sorted())
    }
}

/// Runs the probe on `model` (built for at least `settings.batch` sequences of T tokens, with
/// the checkpoint's weights): rows for every sampled token and probed layer, stamped with
/// `step`. `progress(done, total)` is called after each forward pass.
public func runProbe(model: LongCatModel, corpus: Corpus, sequences: [ProbeSequence], settings: ProbeSettings,
                     step: Int, progress: (Int, Int) -> Void = { _, _ in }) throws -> (rows: [ProbeTokenRow], passes: Int) {
    let t = model.seqLen, v = model.config.model.vocabSize
    precondition(settings.batch <= model.maxBatch, "the model holds \(model.maxBatch) sequences, the probe needs \(settings.batch)")
    let names = corpus.labelNames
    var rows: [ProbeTokenRow] = []
    var passes = 0
    let total = ((sequences.count + settings.batch - 1) / settings.batch)
        * (1 + 2 * (sequences.map(\.positions.count).max() ?? 0) * settings.layers.count)
    var done = 0
    var tokens = [Int32](repeating: 0, count: settings.batch * t), targets = tokens
    for groupStart in stride(from: 0, to: sequences.count, by: settings.batch) {
        let group = Array(sequences[groupStart..<min(groupStart + settings.batch, sequences.count)])
        let b = group.count
        for (i, s) in group.enumerated() {
            for p in 0..<t {
                tokens[i * t + p] = corpus.token(at: s.start + p)
                targets[i * t + p] = corpus.token(at: s.start + p + 1)
            }
        }
        let lossAt = { (logits: UnsafePointer<Float>, row: Int) -> Double in
            crossEntropy(logits: logits + row * v, vocab: v, target: Int(targets[row]))
        }
        model.clearRoutingEdits()
        let base = tokens.withUnsafeBufferPointer { model.forwardLogits(tokens: $0.baseAddress!, batch: b) }
        passes += 1; done += 1; progress(done, total)
        // Rows of this group, indexed [sequence][position index][layer index].
        var groupRows: [[[ProbeTokenRow]]] = group.enumerated().map { i, s in
            s.positions.map { p in
                let row = i * t + p, loss = lossAt(base, row)
                return settings.layers.map { l in
                    ProbeTokenRow(step: step, sequence: groupStart + i, position: p, layer: l,
                                  token: Int(tokens[row]), label: names[Int(corpus.label(at: s.start + p))],
                                  targetLabel: names[Int(corpus.label(at: s.start + p + 1))],
                                  ffnExperts: Int(model.saved[l].moe.plan.ffnCount[row]), loss: loss,
                                  lossPlus: nil, lossMinus: nil)
                }
            }
        }
        let basePlans = settings.layers.map { model.saved[$0].moe.plan }   // copies: later passes reroute
        let positionsMax = group.map(\.positions.count).max() ?? 0
        for (li, l) in settings.layers.enumerated().reversed() {
            for pi in 0..<positionsMax {
                for edit in [RoutingEdit.addFFN, .removeFFN] {
                    let edits = group.indices.compactMap { i -> TokenRoutingEdit? in
                        guard pi < group[i].positions.count else { return nil }
                        let row = i * t + group[i].positions[pi]
                        return basePlans[li].canApply(edit, token: row) ? TokenRoutingEdit(token: row, edit: edit) : nil
                    }
                    done += 1
                    defer { progress(done, total) }
                    if edits.isEmpty { continue }
                    try model.setRoutingEdits(edits, layer: l)
                    let logits = tokens.withUnsafeBufferPointer {
                        model.forwardLogits(tokens: $0.baseAddress!, batch: b, fromLayer: l)
                    }
                    passes += 1
                    for e in edits {
                        let i = e.token / t
                        let loss = lossAt(logits, e.token)
                        if edit == .addFFN { groupRows[i][pi][li].lossPlus = loss } else { groupRows[i][pi][li].lossMinus = loss }
                    }
                }
            }
            model.clearRoutingEdits()
        }
        rows += groupRows.flatMap { $0.flatMap { $0 } }
    }
    return (rows, passes)
}
