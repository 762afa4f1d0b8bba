import Foundation

/// Output formats of the `specialisation` command.
public enum SpecialisationFormat: String, Sendable, CaseIterable {
    /// Markdown tables: information per layer, then each layer's load and co-activation matrices.
    case md
    /// One value per line: `measure,layer,row,column,value` (long format, for pandas or R).
    case csv
    /// One object with the same content (NaN written as null).
    case json
}

extension SpecialisationReport {
    /// The report in `format`.
    public func rendered(_ format: SpecialisationFormat) -> String {
        switch format {
        case .md: return markdown()
        case .csv: return csv()
        case .json: return json()
        }
    }

    func markdown() -> String {
        let e = (0..<experts).map { "e\($0)" }
        var lines = [
            "Expert specialisation of run \(run) at step \(step), by \(labels.noun): \(tokens) sampled tokens per layer, "
                + "\(experts) routed experts, \(labelNames.count) labels" + (unlabelled > 0 ? " (\(unlabelled) unlabelled rows left out)" : ""),
            "",
            "Mutual information I(E; C) between the chosen FFN expert E and the \(labels.noun) C, over (token, chosen FFN expert) pairs:",
            "",
            "| layer | I (nats) | I (bits) | share of log #labels | H(C) (nats) | bias (Miller-Madow, nats) | labels | pairs |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for l in layers {
            let i = l.information
            lines.append("| \(l.layer) | \(f(i.nats, 4)) | \(f(i.bits, 4)) | \(f(i.share, 3)) | \(f(i.labelEntropy, 3)) | \(f(i.bias, 4)) | \(i.labels) | \(i.pairs) |")
        }
        lines.append("")
        lines.append("(share: I / log #labels, 0 = expert choice says nothing about the label, 1 = each label has experts of its own; "
            + "bias: the plug-in estimate's expected excess on this sample, I - bias corrects it)")
        for l in layers {
            lines += ["", "Expert x \(labels.noun) load, layer \(l.layer): % of each label's FFN-expert slots served by each expert (rows sum to 100)", "",
                      "| label | tokens | FFN/token | " + e.joined(separator: " | ") + " |",
                      "|---|---|---|" + String(repeating: "---|", count: experts)]
            for (c, name) in l.load.labels.enumerated() where l.load.tokens[c] > 0 {
                lines.append("| \(name) | \(l.load.tokens[c]) | \(f(l.load.meanFFNExperts[c], 2)) | "
                    + l.load.share[c].map { f(100 * $0, 1) }.joined(separator: " | ") + " |")
            }
        }
        for l in layers {
            let a = l.coActivation
            lines += ["", "Co-activation, layer \(l.layer): % of the \(a.tokens) tokens that chose both experts (diagonal: chose the expert)", "",
                      "| | " + e.joined(separator: " | ") + " |", "|---|" + String(repeating: "---|", count: experts)]
            for i in 0..<experts {
                lines.append("| e\(i) | " + (0..<experts).map { f(100 * a.share(i, $0), 1) }.joined(separator: " | ") + " |")
            }
        }
        return lines.joined(separator: "\n")
    }

    func csv() -> String {
        var lines = ["measure,layer,row,column,value"]
        for l in layers {
            let i = l.information
            for (m, v) in [("mi_nats", i.nats), ("mi_bits", i.bits), ("mi_share", i.share), ("label_entropy_nats", i.labelEntropy),
                           ("mi_bias_nats", i.bias), ("pairs", Double(i.pairs)), ("tokens", Double(i.tokens))] {
                lines.append("\(m),\(l.layer),,,\(g(v))")
            }
            for (c, name) in l.load.labels.enumerated() {
                lines.append("label_tokens,\(l.layer),\(name),,\(l.load.tokens[c])")
                for (x, share) in l.load.share[c].enumerated() { lines.append("load_share,\(l.layer),\(name),\(x),\(g(share))") }
            }
            for a in 0..<experts {
                for b in 0..<experts {
                    lines.append("coactivation_tokens,\(l.layer),\(a),\(b),\(l.coActivation.counts[a][b])")
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        func number(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
        let object: [String: Any] = [
            "run": run, "step": step, "labels": labels.rawValue, "label_names": labelNames, "experts": experts,
            "tokens_per_layer": tokens, "unlabelled_rows": unlabelled,
            "layers": layers.map { l -> [String: Any] in
                let i = l.information
                return [
                    "layer": l.layer,
                    "information": ["nats": number(i.nats), "bits": number(i.bits), "share": number(i.share),
                                    "label_entropy_nats": number(i.labelEntropy), "bias_nats": number(i.bias),
                                    "labels": i.labels, "pairs": i.pairs, "tokens": i.tokens] as [String: Any],
                    "load_share": l.load.share.map { $0.map(number) },
                    "label_tokens": l.load.tokens,
                    "mean_ffn_experts": l.load.meanFFNExperts.map(number),
                    "coactivation_tokens": l.coActivation.counts,
                ]
            },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private func f(_ x: Double, _ digits: Int) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "-" }

    private func g(_ x: Double) -> String { x.isFinite ? "\(x)" : "" }
}
