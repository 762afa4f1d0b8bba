import ArgumentParser
import Foundation
import LabData
import LabInterchange
import LabKernels
import LabModel
import LabRecords
import LabTraining

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Does compute go where it helps? Each sampled token's loss with one FFN expert more or fewer.",
        discussion: """
        Samples --tokens validation tokens (--per-sequence positions in each of ceil(tokens / per-sequence) windows of train.seq_len tokens, seeded by --seed) and, for each probed layer, measures the token's own next-token loss as the router routed it, with +1 (its lowest-scored zero-expert slot given to its best-scored unchosen FFN expert) and with -1 (its lowest-scored FFN slot given to its best-scored unchosen zero expert), gates s*p from the unbiased router probabilities as in routing. The edit applies at that layer only; all later layers are recomputed. An edited token also changes the hidden states of later tokens of its sequence through attention, so each forward pass edits one token per sequence; the loss reported is the edited token's own (which only earlier positions and itself affect).

        Cost per sampled token: 2 forward passes of its sequence per probed layer (+1 and -1, each from that layer on), plus 1/per-sequence of the unedited pass of its sequence; --batch sequences share a pass. Passes = ceil(sequences / batch) * (1 + 2 * per-sequence * layers), printed before it starts (a 2-layer quickstart: 264 passes of 16 x 128 tokens for 1024 tokens, about 20 s on 2 cores).

        Rows go to probe_tokens and summaries to probe_summaries (docs/RECORDS.md), replacing an earlier probe of the same checkpoint. Summaries: mean marginal benefit (benefit_plus = loss - loss(+1), benefit_minus = loss(-1) - loss) by FFN count, layer and label; Spearman's rho between FFN count and benefit_plus with a 95% bootstrap interval over sequences; the allocation gap: mean loss as routed against a greedy reallocation of the same number of FFN experts by measured one-step benefit (gap_greedy, an estimate of what a better router could gain at that budget) and against as many random one-expert moves (gap_random > 0: the router beats random).

        Examples:
          longcat-lab probe quickstart-1
          longcat-lab probe quickstart-1 --checkpoint 600 --tokens 1024 --layers 0
        """)

    @Argument(help: ArgumentHelp("Run name (recorded in --db).", valueName: "run"))
    var runName: String

    @Option(help: "Checkpoint step (default: the newest).")
    var checkpoint: Int?

    @Option(help: "Validation tokens to sample.")
    var tokens = 256

    @Option(help: "Sampled positions per sequence.")
    var perSequence = 8

    @Option(help: ArgumentHelp("Layers to probe, e.g. 0,1 (default: all).", valueName: "l,l,..."))
    var layers: String?

    @Option(help: "Sequences per forward pass.")
    var batch = 16

    @Option(help: "Seed of the sampled sequences and positions.")
    var seed = 0

    @Option(help: "Bootstrap resamples for the interval.")
    var resamples = 1000

    @Option(help: "Worker threads (0 = all cores).")
    var threads = 0

    @OptionGroup var records: RecordsOptions

    @OptionGroup var output: ResultsOptions

    @OptionGroup var progressOptions: ProgressOptions

    func validate() throws {
        guard tokens >= 1 else { throw ValidationError("--tokens \(tokens): must be at least 1") }
        guard perSequence >= 1 else { throw ValidationError("--per-sequence \(perSequence): must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch \(batch): must be at least 1") }
        guard resamples >= 1 else { throw ValidationError("--resamples \(resamples): must be at least 1") }
        _ = try layerList(numLayers: Int.max)
    }

    /// The --layers list checked against the model's layer count (nil: all).
    func layerList(numLayers: Int) throws -> [Int]? {
        guard let layers else { return nil }
        let parts = layers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let list = parts.compactMap { Int($0) }
        guard !parts.isEmpty, list.count == parts.count, list.allSatisfy({ $0 >= 0 && $0 < numLayers }) else {
            throw ValidationError("--layers \(layers): must be a comma-separated list of layers in 0..<\(numLayers)")
        }
        return Array(Set(list)).sorted()
    }

    func run() throws {
        LabThreads.set(threads)
        guard FileManager.default.fileExists(atPath: records.db) else {
            throw ValidationError("--db \(records.db): no records database there (train writes one; see --db of train)")
        }
        let store = try RecordStore(path: records.db)
        guard let runRow = try store.run(named: runName) else {
            throw ValidationError("--db \(records.db): no run named '\(runName)' (the probe stores its rows under the run)")
        }
        let source = try CheckpointSource.run(runName, step: checkpoint, database: records.db, results: output.results)
        let config = source.config, m = config.model, t = config.train.seqLen
        let step = source.step ?? 0
        let settings = ProbeSettings(tokens: tokens, perSequence: min(perSequence, t),
                                     layers: try layerList(numLayers: m.numLayers) ?? Array(0..<m.numLayers),
                                     batch: min(batch, (tokens + perSequence - 1) / perSequence), seed: seed)
        let corpus = try Corpus.load(config.data, seed: config.train.seed, vocabSize: m.vocabSize)
        try corpus.check(batch: 1, seqLen: t)
        let model = LongCatModel(config: config, batch: settings.batch, seqLen: t)
        try Checkpoint.readModel(model, from: source.modelPath)
        let sequences = sampleProbeSequences(corpus: corpus, seqLen: t, settings: settings)
        print("probe \(runName) step \(step): \(tokens) tokens in \(sequences.count) sequences of \(t), layers "
              + settings.layers.map(String.init).joined(separator: ",")
              + ", \(settings.batch) sequences per pass, at most \(settings.maxPasses) forward passes")
        let started = Date()
        var lastPrint = Date.distantPast
        let (rows, passes) = try runProbe(model: model, corpus: corpus, sequences: sequences, settings: settings,
                                          step: step) { done, total in
            guard !progressOptions.quiet else { return }
            let now = Date()
            guard now.timeIntervalSince(lastPrint) >= 2 || done == total else { return }
            lastPrint = now
            let elapsed = now.timeIntervalSince(started)
            print("pass \(done)/\(total) | \(formatDuration(elapsed)) | ETA "
                  + formatDuration(elapsed / Double(done) * Double(total - done)))
            fflush(nil)
        }
        let byTarget = config.data.corpus == .synthetic && config.data.tokenizer == .byte
        let summaries = probeSummaries(rows, step: step, targetLabels: byTarget, resamples: resamples)
        try store.recordProbe(runID: runRow.id, step: step, tokens: rows, summaries: summaries)
        let seconds = Date().timeIntervalSince(started)
        print(String(format: "%d forward passes in %.1f s (%.2f s per sampled token); %d rows -> probe_tokens, %d -> probe_summaries",
                     passes, seconds, seconds / Double(tokens), rows.count, summaries.count))
        for line in renderProbeSummaries(summaries, labelsBy: byTarget ? "predicted token's label" : "token's label") {
            print(line)
        }
    }
}

/// The printed report of a probe's summary rows.
func renderProbeSummaries(_ rows: [ProbeSummaryRow], labelsBy: String) -> [String] {
    func f(_ x: Double) -> String { x.isNaN ? "   n/a" : String(format: "%+.4f", x) }
    var lines: [String] = []
    let layers = Array(Set(rows.map(\.layer))).sorted()
    let name = { (l: Int) in l < 0 ? "all" : "layer \(l)" }
    lines.append("mean marginal benefit (nats): plus = loss - loss(+1), minus = loss(-1) - loss; groups by FFN count and \(labelsBy)")
    for l in layers {
        let groups = rows.filter { $0.layer == l && $0.statistic.hasPrefix("benefit_") }
        var seen: [String] = []
        for g in groups.map(\.grouping) where !seen.contains(g) { seen.append(g) }
        for g in seen {
            let plus = groups.first { $0.grouping == g && $0.statistic == "benefit_plus" }
            let minus = groups.first { $0.grouping == g && $0.statistic == "benefit_minus" }
            lines.append("  \(name(l).padding(toLength: 8, withPad: " ", startingAt: 0)) \(g.padding(toLength: 26, withPad: " ", startingAt: 0))"
                + " plus \(plus.map { f($0.value) } ?? "   n/a") (n \(plus?.count ?? 0))"
                + "  minus \(minus.map { f($0.value) } ?? "   n/a") (n \(minus?.count ?? 0))")
        }
    }
    lines.append("Spearman rho, FFN count vs benefit_plus (95% bootstrap over sequences); allocation gap (mean loss, nats)")
    for l in layers {
        let get = { (s: String) in rows.first { $0.layer == l && $0.statistic == s } }
        if let rho = get("spearman_ffn_benefit_plus") {
            lines.append("  \(name(l)): rho \(f(rho.value)) [\(f(rho.low ?? .nan)), \(f(rho.high ?? .nan))] over \(rho.count) tokens")
        }
        if let router = get("loss_router"), let greedy = get("loss_greedy"), let random = get("loss_random") {
            lines.append(String(format: "  %@: router %.4f, greedy %.4f (gap %.4f, %d moves), random %.4f (gap %.4f)",
                                name(l), router.value, greedy.value, router.value - greedy.value,
                                Int(get("greedy_moves")?.value ?? 0), random.value, random.value - router.value))
        }
    }
    return lines
}
