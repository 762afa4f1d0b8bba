import Foundation
import LabRecords

// Expert specialisation of a run at one evaluation step, from its `token_samples` rows: per
// layer, the mutual information between expert choice and label, the expert x label load
// matrix and the expert co-activation matrix. L layers, N routed experts, C labels.

/// What a run's token samples are labelled by; fixed by its corpus (the `label` column holds
/// whichever the corpus provides).
public enum SpecialisationLabels: String, Sendable, CaseIterable {
    /// Token class (`LabData/TokenClass.swift`): text corpora and any subword corpus but the mix.
    case `class`
    /// The generator's label of a synthetic byte corpus (its difficulty or generator).
    case label
    /// The document's domain of the mix corpus (c, python, docs, bible, shakespeare).
    case domain

    /// The kind a run with this resolved config records.
    public init(config: RunConfig) {
        switch config["data.corpus"] ?? "" {
        case "mix": self = .domain
        case "synthetic" where (config["data.tokenizer"] ?? "byte") == "byte": self = .label
        default: self = .class
        }
    }

    /// How a report names it.
    public var noun: String {
        switch self {
        case .class: return "token class"
        case .label: return "generator label"
        case .domain: return "domain"
        }
    }
}

/// One layer's three measures.
public struct LayerSpecialisation: Sendable {
    public var layer: Int
    public var information: ExpertLabelInformation
    public var load: ExpertLabelLoad
    public var coActivation: ExpertCoActivation
}

/// Expert specialisation of a run at one evaluation step.
public struct SpecialisationReport: Sendable {
    public var run: String
    public var step: Int
    public var labels: SpecialisationLabels
    /// Label names (the rows of the load matrices).
    public var labelNames: [String]
    public var experts: Int
    public var layers: [LayerSpecialisation]
    /// Sampled token-layer rows without a label (left out).
    public var unlabelled: Int

    /// Tokens per layer (the same in every layer).
    public var tokens: Int { layers.first?.information.tokens ?? 0 }

    /// The report of `rows` (one step's token samples) of a run with `layers` MoE layers and
    /// `experts` routed experts. Throws an `AnalysisError` for rows out of range.
    public init(run: String, step: Int, labels: SpecialisationLabels, rows: [TokenSampleRow], layers: Int,
                experts: Int?, labelOrder: [String] = []) throws {
        self.run = run; self.step = step; self.labels = labels
        let perLayer = try RoutedTokens.byLayer(rows, layers: layers, experts: experts, labelOrder: labelOrder)
        labelNames = perLayer.first?.labels ?? []
        self.experts = perLayer.first?.experts ?? 0
        self.layers = perLayer.enumerated().map { l, tokens in
            LayerSpecialisation(layer: l, information: ExpertLabelInformation(tokens), load: ExpertLabelLoad(tokens),
                                coActivation: ExpertCoActivation(tokens))
        }
        unlabelled = rows.filter { $0.label == nil }.count
    }
}

extension SpecialisationReport {
    /// Reads run `name`'s token samples at `step` (default: the last sampled step) from
    /// `store`. `by`, when given, must be what the run's corpus records; `labelOrder` orders
    /// the labels (others follow sorted). Throws an `AnalysisError` naming what exists.
    public init(store: RecordStore, run name: String, step: Int? = nil, by: SpecialisationLabels? = nil,
                labelOrder: [String] = []) throws {
        guard let run = try store.run(named: name) else {
            let known = try store.runs().map(\.name)
            throw AnalysisError("\(store.path): no run named '\(name)'; runs: \(known.isEmpty ? "none" : known.joined(separator: ", "))")
        }
        let config = RunConfig(toml: run.configTOML ?? "")
        let recorded = SpecialisationLabels(config: config)
        if let by, by != recorded {
            throw AnalysisError("--by \(by.rawValue): run '\(name)' (data.corpus = \(config["data.corpus"] ?? "?")) labels its "
                + "token samples by \(recorded.noun); use --by \(recorded.rawValue)")
        }
        let steps = try store.query("SELECT DISTINCT step FROM token_samples WHERE run_id = ?1 ORDER BY step", [.integer(run.id)])
            .compactMap { $0[0].int }
        guard let last = steps.last else {
            throw AnalysisError("run '\(name)' has no token samples (table token_samples): it ran with "
                + "train.token_sample_batches = 0, with --no-record, or stopped before its first evaluation")
        }
        let chosen = step ?? last
        guard steps.contains(chosen) else {
            throw AnalysisError("run '\(name)' has no token samples at step \(chosen); sampled steps: "
                + steps.map(String.init).joined(separator: ", "))
        }
        let rows = try store.tokenSamples(runID: run.id, step: chosen)
        let layers = config.layers ?? ((rows.map(\.layer).max() ?? -1) + 1)
        try self.init(run: name, step: chosen, labels: recorded, rows: rows, layers: layers, experts: config.routedExperts,
                  labelOrder: labelOrder)
        guard layers > 0, tokens > 0 else {
            throw AnalysisError("run '\(name)' has no labelled token samples at step \(chosen) (\(unlabelled) unlabelled rows)")
        }
    }
}
