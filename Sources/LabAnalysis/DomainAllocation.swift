import Foundation
import LabRecords

/// Compute and experts by domain for a run on the mix corpus (`allocation RUN --by domain`):
/// per domain, the sampled tokens, the validation loss, the mean FFN experts per token in each
/// layer and summed over layers, and per layer the expert x domain load matrix normalised per
/// domain (`ExpertLabelLoad`). Tokens count under their own document's domain.
public struct DomainAllocation: Sendable {
    public var specialisation: SpecialisationReport
    /// Validation loss (nats per token) of each domain's predicted tokens at the step, over all
    /// evaluation batches (`eval_by_label`); nil where none was recorded.
    public var validationLoss: [String: Double]
    /// Evaluation tokens of each domain behind `validationLoss`.
    public var validationTokens: [String: Int]

    public var domains: [String] { specialisation.labelNames }

    /// Reads run `name` at `step` (default: the last step with token samples) from `store`;
    /// `order` orders the domains. Throws an `AnalysisError` for a run not on the mix corpus.
    public init(store: RecordStore, run name: String, step: Int? = nil, order: [String] = []) throws {
        specialisation = try SpecialisationReport(store: store, run: name, step: step, labelOrder: order)
        guard specialisation.labels == .domain else {
            throw AnalysisError("--by domain: run '\(name)' is not on the mix corpus (its token samples are labelled by "
                + "\(specialisation.labels.noun)); domains exist for data.corpus = \"mix\" only. Use --by token or --by target")
        }
        let runID = try store.run(named: name)!.id
        let rows = try store.evalByLabel(runID: runID, step: specialisation.step)
        validationLoss = Dictionary(rows.map { ($0.label, $0.loss) }, uniquingKeysWith: { a, _ in a })
        validationTokens = Dictionary(rows.map { ($0.label, $0.tokens) }, uniquingKeysWith: { a, _ in a })
    }

    /// meanFFN[d][l]: mean FFN experts per token of domain d in layer l, then summed over layers (`[D, L + 1]`).
    public var meanFFNExperts: [[Double]] {
        domains.indices.map { d in
            let perLayer = specialisation.layers.map { $0.load.meanFFNExperts[d] }
            return perLayer + [perLayer.reduce(0, +)]
        }
    }

    /// The table the command prints.
    public func rendered() -> String {
        let s = specialisation
        let heads = s.layers.map { "layer \($0.layer)" } + ["all layers"]
        var lines = [
            "allocation of run \(s.run) by domain at step \(s.step): \(s.tokens) sampled tokens x \(s.layers.count) layers, "
                + "\(s.experts) routed experts",
            "",
            "| domain | tokens | validation loss | eval tokens | " + heads.map { "FFN " + $0 }.joined(separator: " | ") + " |",
            "|---|---|---|---|" + String(repeating: "---|", count: heads.count),
        ]
        let tokens = s.layers.first?.load.tokens ?? []
        for (d, name) in domains.enumerated() where tokens[d] > 0 {
            lines.append("| \(name) | \(tokens[d]) | \(validationLoss[name].map { fixed3($0) } ?? "-") | "
                + "\(validationTokens[name].map(String.init) ?? "-") | "
                + meanFFNExperts[d].map { String(format: "%.2f", $0) }.joined(separator: " | ") + " |")
        }
        lines.append("")
        lines.append("(validation loss: nats per predicted token of the domain over all evaluation batches; "
            + "FFN: mean FFN experts per sampled token, zero experts not counted)")
        for l in s.layers {
            let e = (0..<s.experts).map { "e\($0)" }
            lines += ["", "Expert x domain load, layer \(l.layer): % of each domain's FFN-expert slots served by each expert (rows sum to 100)", "",
                      "| domain | " + e.joined(separator: " | ") + " |", "|---|" + String(repeating: "---|", count: s.experts)]
            for (d, name) in domains.enumerated() where tokens[d] > 0 {
                lines.append("| \(name) | " + l.load.share[d].map { String(format: "%.1f", 100 * $0) }.joined(separator: " | ") + " |")
            }
        }
        lines.append("")
        lines.append("Mutual information between expert choice and domain: "
            + s.layers.map { "layer \($0.layer) \(String(format: "%.4f", $0.information.nats)) nats "
                + "(share \(String(format: "%.3f", $0.information.share)))" }.joined(separator: ", ")
            + " (see `longcat-lab specialisation \(s.run)`)")
        return lines.joined(separator: "\n")
    }

    private func fixed3(_ x: Double) -> String { String(format: "%.3f", x) }
}
