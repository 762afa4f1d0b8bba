import Foundation
import LabConfig
import LabData
import LabRecords

// Who gets compute: FFN experts per token by difficulty label (synthetic corpora) or token
// class (text), per layer, from the `token_samples` rows of one evaluation step, with the rank
// correlation between difficulty and compute. L layers, K top-k slots.

/// Which label a token position is counted under.
public enum AllocationView: String, Sendable, CaseIterable {
    /// The routed token's own label (the paper's per-token view; the default for text).
    case token
    /// The label of the token its position predicts: the difficulty of the prediction its
    /// computation serves (the default for synthetic corpora, whose labels are difficulties).
    case target
}

/// One label's row of the report.
public struct LabelAllocation: Sendable {
    public var name: String
    /// Declared ordinal difficulty (the generator's, or `TokenClass.difficulty`).
    public var difficulty: Int
    /// Nats per token an ideal model reaches on this label, where known.
    public var achievableLoss: Double?
    /// Validation loss (nats per token) on tokens of this label, over all evaluation batches.
    public var measuredLoss: Double?
    /// Sampled tokens counted under this label.
    public var tokens: Int
    /// Mean FFN experts per token in each layer, then summed over layers (L + 1 values).
    public var meanExperts: [Double]
}

/// Rank correlations of one layer (or of all layers summed).
public struct AllocationCorrelation: Sendable {
    /// Nil for the sum over layers.
    public var layer: Int?
    /// Spearman's rho of the declared difficulty with FFN experts, 95% bootstrap interval.
    public var declared: Estimate
    /// The same with labels ranked by their measured loss; nil without loss records.
    public var byMeasuredLoss: Estimate?
}

/// The allocation of compute over labels at one evaluation step of a run.
public struct AllocationReport: Sendable {
    public var run: String
    public var corpus: String
    public var step: Int
    public var view: AllocationView
    public var layers: Int
    /// Evaluation sequences the samples come from (the bootstrap's resampling unit).
    public var sequences: Int
    public var resamples: Int
    /// Labels in id order; labels no sampled token carries are left out.
    public var labels: [LabelAllocation]
    /// Per layer, then the sum over layers.
    public var correlations: [AllocationCorrelation]
    /// Text with byte tokens: letters of function words against content words (always by
    /// the letter's own position); nil otherwise.
    public var words: WordAllocation?

    /// Tokens counted (positions without a label under `view` are dropped).
    public var tokens: Int { labels.reduce(0) { $0 + $1.tokens } }
}

public struct AllocationError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// Builds the report of run `run` from the records in `store`: the evaluation step `step`
/// (default: the last one with token samples), labels under `view` (default: target for
/// synthetic corpora, token for text), intervals from `resamples` bootstrap replicates.
public func allocationReport(store: RecordStore, run name: String, step: Int? = nil,
                             view: AllocationView? = nil, resamples: Int = 1000) throws -> AllocationReport {
    guard let run = try store.run(named: name) else {
        let known = try store.runs().map(\.name)
        throw AllocationError("\(store.path): no run named '\(name)'; runs: \(known.isEmpty ? "none" : known.joined(separator: ", "))")
    }
    let config = try LabConfig.parse(text: run.configTOML ?? "", file: "config of run '\(name)'", overrides: [])
    let sampled = try store.query("SELECT DISTINCT step FROM token_samples WHERE run_id = ?1 ORDER BY step", [.integer(run.id)])
        .compactMap { $0[0].int }
    guard let last = sampled.last else {
        throw AllocationError("run '\(name)' has no token samples: it evaluated before any were recorded, or ran with train.token_sample_batches = 0")
    }
    let chosen = step ?? last
    guard sampled.contains(chosen) else {
        throw AllocationError("run '\(name)' has no token samples at step \(chosen); steps with samples: "
            + sampled.map(String.init).joined(separator: ", "))
    }
    let scheme = try LabelScheme(config.data)
    let view = view ?? (scheme.byTokenClass ? .token : .target)
    let rows = try store.tokenSamples(runID: run.id, step: chosen)
    let losses = try store.evalByLabel(runID: run.id, step: chosen)
    let measured = Dictionary(losses.map { ($0.label, $0.loss) }, uniquingKeysWith: { a, _ in a })
    let samples = TokenObservations(rows: rows, layers: config.model.numLayers, scheme: scheme, view: view)
    var report = samples.report(run: name, corpus: scheme.corpus, step: chosen, view: view, scheme: scheme,
                                measured: measured, topK: config.model.moeTopk, resamples: resamples)
    if scheme.byTokenClass {
        report.words = WordAllocation.measure(rows: rows, layers: config.model.numLayers, resamples: resamples)
    }
    return report
}

/// Label names, declared difficulties and achievable losses of a run's corpus (token classes
/// for subword corpora, synthetic ones included).
struct LabelScheme {
    var corpus: String
    var names: [String]
    var difficulty: [Int]
    var achievable: [Double?]
    /// Labels are token classes (text, or any subword corpus), not a generator's.
    var byTokenClass: Bool

    init(_ data: DataConfig) throws {
        byTokenClass = data.corpus != .synthetic || data.tokenizer != .byte
        if !byTokenClass {
            let g = try SyntheticCorpora.generator(for: data)
            corpus = "synthetic:" + data.synthetic.rawValue
            names = g.labelNames
            difficulty = g.difficulty
            achievable = names.indices.map { g.analyticEntropy(label: $0) }
        } else if data.corpus == .mix {
            // The mix corpus labels each token with its document's domain, which has no
            // declared difficulty (every domain ranks the same).
            corpus = "mix" + (data.tokenizer == .byte ? "" : " (\(data.tokenizer.rawValue))")
            names = DataConfig.mixDomains
            difficulty = names.map { _ in 0 }
            achievable = names.map { _ in nil }
        } else {
            corpus = (data.corpus == .text ? "text:" + URL(fileURLWithPath: data.path).lastPathComponent : data.corpus.rawValue)
                + (data.tokenizer == .byte ? "" : " (\(data.tokenizer.rawValue))")
            names = TokenClass.labelNames
            difficulty = TokenClass.difficulty
            achievable = names.map { _ in nil }
        }
    }
}

/// The label names a run with `data` records in `token_samples` and `eval_by_label`, in id
/// order: the synthetic generator's labels, the mix corpus's domains, or token classes.
public func recordedLabelNames(_ data: DataConfig) throws -> [String] { try LabelScheme(data).names }

/// The sampled tokens of one step: label id and FFN experts per layer of each token, grouped
/// by evaluation sequence.
struct TokenObservations {
    /// sequences[s] = the tokens of sequence s as (label id, experts per layer).
    var sequences: [[(label: Int, experts: [Int])]] = []
    let layers: Int

    init(rows: [TokenSampleRow], layers: Int, scheme: LabelScheme, view: AllocationView) {
        self.layers = layers
        let ids = Dictionary(scheme.names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        // rows come ordered by sample, position, layer.
        var bySample: [Int: [Int: (label: Int?, experts: [Int])]] = [:]
        for row in rows {
            var token = bySample[row.sample, default: [:]][row.position] ?? (row.label.flatMap { ids[$0] }, [Int](repeating: 0, count: layers))
            if row.layer < layers { token.experts[row.layer] = row.ffnExperts }
            bySample[row.sample, default: [:]][row.position] = token
        }
        for sample in bySample.keys.sorted() {
            let tokens = bySample[sample]!
            var kept: [(label: Int, experts: [Int])] = []
            for position in tokens.keys.sorted() {
                // Under `target` a position counts under the label of the next position.
                let source = view == .token ? position : position + 1
                guard let label = tokens[source]?.label else { continue }
                kept.append((label, tokens[position]!.experts))
            }
            sequences.append(kept)
        }
    }

    /// The report's rows and correlations.
    func report(run: String, corpus: String, step: Int, view: AllocationView, scheme: LabelScheme,
                measured: [String: Double], topK: Int, resamples: Int) -> AllocationReport {
        let labelCount = scheme.names.count
        var sums = [[Double]](repeating: [Double](repeating: 0, count: layers + 1), count: labelCount)
        var counts = [Int](repeating: 0, count: labelCount)
        for sequence in sequences {
            for token in sequence {
                counts[token.label] += 1
                for l in 0..<layers { sums[token.label][l] += Double(token.experts[l]) }
                sums[token.label][layers] += Double(token.experts.reduce(0, +))
            }
        }
        let labels = (0..<labelCount).filter { counts[$0] > 0 }.map { id in
            LabelAllocation(name: scheme.names[id], difficulty: scheme.difficulty[id], achievableLoss: scheme.achievable[id],
                            measuredLoss: measured[scheme.names[id]], tokens: counts[id],
                            meanExperts: sums[id].map { $0 / Double(counts[id]) })
        }
        // Labels ranked by measured loss (dense ranks), when every sampled label has one.
        let present = labels.map(\.name)
        var lossLevels: [Int]? = nil
        if present.allSatisfy({ measured[$0] != nil }) {
            let distinct = Array(Set(present.map { measured[$0]! })).sorted()
            lossLevels = scheme.names.map { measured[$0].flatMap { distinct.firstIndex(of: $0) } ?? 0 }
        }
        let correlations = (0...layers).map { l -> AllocationCorrelation in
            let columns = (l == layers ? layers : 1) * topK + 1
            func estimate(_ level: [Int]) -> Estimate {
                let tables = sequences.map { sequence -> ContingencyTable in
                    var t = ContingencyTable(levels: (level.max() ?? 0) + 1, columns: columns)
                    for token in sequence {
                        let experts = l == layers ? token.experts.reduce(0, +) : token.experts[l]
                        t.add(level: level[token.label], experts: min(experts, columns - 1))
                    }
                    return t
                }
                return bootstrapSpearman(tables, resamples: resamples)
            }
            return AllocationCorrelation(layer: l == layers ? nil : l, declared: estimate(scheme.difficulty),
                                         byMeasuredLoss: lossLevels.map(estimate))
        }
        return AllocationReport(run: run, corpus: corpus, step: step, view: view, layers: layers,
                                sequences: sequences.count, resamples: resamples, labels: labels,
                                correlations: correlations, words: nil)
    }
}

extension AllocationReport {
    /// The report as the `allocation` command prints it: a table of labels (difficulty,
    /// achievable and measured loss, tokens, mean FFN experts per layer and summed), then the
    /// rank correlations per layer with their intervals.
    public func rendered() -> String {
        let layerHeads = (0..<layers).map { "layer \($0)" } + ["all layers"]
        var lines = [
            "allocation of run \(run) (\(corpus)) at step \(step): \(tokens) tokens x \(layers) layers from \(sequences) evaluation sequences",
            "labels: " + (view == .target ? "of the predicted token (--by target)" : "of the routed token itself (--by token)"),
            "",
            row(["label", "difficulty", "achievable", "measured", "tokens"], layerHeads.map { "FFN " + $0 }),
        ]
        for l in labels {
            lines.append(row([l.name, String(l.difficulty), l.achievableLoss.map { fixed($0, 3) } ?? "-",
                              l.measuredLoss.map { fixed($0, 3) } ?? "-", String(l.tokens)],
                             l.meanExperts.map { fixed($0, 2) }))
        }
        let overall = (0...layers).map { i in
            labels.reduce(0.0) { $0 + $1.meanExperts[i] * Double($1.tokens) } / Double(max(tokens, 1))
        }
        lines.append(row(["all tokens", "", "", "", String(tokens)], overall.map { fixed($0, 2) }))
        lines.append("")
        lines.append("(achievable, measured: nats per token on tokens of the label as predicted tokens; "
            + "FFN: mean FFN experts per token, zero experts not counted)")
        lines.append("")
        lines.append("Spearman rank correlation of difficulty with FFN experts per token, 95% percentile "
            + "bootstrap over the \(sequences) sequences (\(resamples) resamples):")
        lines.append(pad("", 12) + pad("declared difficulty", 26) + "labels ranked by measured loss")
        for c in correlations {
            let name = c.layer.map { "layer \($0)" } ?? "all layers"
            lines.append(pad(name, 12) + pad(interval(c.declared), 26) + (c.byMeasuredLoss.map(interval) ?? "-"))
        }
        if let w = words {
            lines.append("")
            lines.append("letters of function words (the, and, of, thou, ...: \(w.functionLetters)) against content words "
                + "(\(w.contentLetters)), mean FFN experts per letter:")
            lines.append(pad("", 12) + pad("function", 12) + pad("content", 12) + "content - function (95% bootstrap)")
            for i in 0...layers {
                lines.append(pad(i < layers ? "layer \(i)" : "all layers", 12) + pad(fixed(w.functionWords[i], 2), 12)
                    + pad(fixed(w.contentWords[i], 2), 12) + interval(w.difference[i]))
            }
        }
        return lines.joined(separator: "\n")
    }

    private func row(_ head: [String], _ tail: [String]) -> String {
        let widths = [26, 11, 11, 10, 8]
        return zip(head, widths).map { pad($0, $1) }.joined() + tail.map { pad($0, 14) }.joined()
    }
}

/// `x` with `digits` decimals.
func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

/// `rho [low, high]` with signs, or "n/a" where rho is undefined (constant compute or a single level).
func interval(_ e: Estimate) -> String {
    guard !e.value.isNaN else { return "n/a" }
    let f = { (x: Double) in x.isNaN ? "?" : String(format: "%+.2f", x) }
    return "\(f(e.value)) [\(f(e.low)), \(f(e.high))]"
}

/// Left-aligns `s` in `width` characters (at least one space after it).
func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}
