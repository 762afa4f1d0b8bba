import Foundation
import LabAnalysis
import LabRecords

/// The final validation loss of a sweep's groups per domain (or any evaluation label: table
/// `eval_by_label`), and each group's paired difference over seeds against a baseline group per
/// domain (`sweep FILE --report --by domain`). Each finished run counts at its last evaluation;
/// unfinished runs and runs without per-label rows (a corpus without labels) are left out, and so
/// is a seed that a group lacks (the pairing is over the seeds both groups ran).
public struct DomainComparison: Sendable {
    /// One domain: its evaluation tokens (in the baseline's first run), each group's mean final
    /// loss over its seeds, and each other group's paired difference against the baseline.
    public struct Row: Sendable {
        public let label: String
        public let tokens: Int
        public let means: [String: Double]
        public let differences: [String: PairedDifference]
    }

    public let title: String
    public let baseline: String
    /// Every group with per-label rows, in the file's order (the baseline among them).
    public let groups: [String]
    /// Domains, most evaluation tokens first.
    public let rows: [Row]
    /// The evaluation steps the runs were read at (one step when every run finished alike).
    public let steps: [Int]
    /// Runs of the sweep left out because they are not recorded or not finished.
    public let unfinished: Int

    /// Reads the last evaluation of every run of `runs` found in `store`. Throws an
    /// `AnalysisError` when `baseline` names no group, or no run has per-label rows.
    public init(title: String, runs: [SweepRun], store: RecordStore, baseline: String? = nil) throws {
        self.title = title
        var order: [String] = []
        for r in runs where !order.contains(r.group) { order.append(r.group) }
        if let baseline, !order.contains(baseline) {
            throw AnalysisError("--baseline \(baseline): the sweep has no group of that name; its groups: " + order.joined(separator: ", "))
        }
        // loss[group][label][seed], tokens[group][label] of the group's first run.
        var loss: [String: [String: [Int: Double]]] = [:]
        var tokens: [String: [String: Int]] = [:]
        var steps = Set<Int>()
        var unfinished = 0
        for r in runs {
            guard let row = try store.run(named: r.name), row.status == .finished else { unfinished += 1; continue }
            let labelled = try store.evalByLabel(runID: row.id)
            guard let last = labelled.map(\.step).max() else { continue }
            steps.insert(last)
            for e in labelled where e.step == last {
                loss[r.group, default: [:]][e.label, default: [:]][r.config.train.seed] = e.loss
                if tokens[r.group]?[e.label] == nil { tokens[r.group, default: [:]][e.label] = e.tokens }
            }
        }
        groups = order.filter { loss[$0] != nil }
        guard let chosen = baseline ?? groups.first, let base = loss[chosen] else {
            throw AnalysisError(groups.isEmpty
                ? "--by domain: no run of sweep \(title) has per-domain evaluation rows (table eval_by_label); they exist for labelled corpora such as data.corpus = \"mix\", once a run has evaluated"
                : "--baseline \(baseline ?? ""): no finished run of that group has per-domain evaluation rows yet; groups with them: " + groups.joined(separator: ", "))
        }
        self.baseline = chosen
        self.steps = steps.sorted()
        self.unfinished = unfinished
        let labels = base.keys.sorted { (tokens[chosen]?[$0] ?? 0, $1) > (tokens[chosen]?[$1] ?? 0, $0) }
        rows = labels.map { label in
            var means: [String: Double] = [:], differences: [String: PairedDifference] = [:]
            for g in order {
                guard let values = loss[g]?[label], !values.isEmpty else { continue }
                means[g] = values.values.reduce(0, +) / Double(values.count)
                if g != chosen, let d = PairedDifference(values, minus: base[label] ?? [:]) { differences[g] = d }
            }
            return Row(label: label, tokens: tokens[chosen]?[label] ?? 0, means: means, differences: differences)
        }
    }

    /// The other groups, compared with the baseline.
    public var arms: [String] { groups.filter { $0 != baseline } }

    /// The table in `format`.
    public func rendered(_ format: TableFormat) -> String {
        switch format {
        case .md: return markdown
        case .csv: return csv
        case .json: return json
        }
    }

    private func interval(_ d: PairedDifference) -> String {
        guard let i = d.interval else { return String(format: "%+.4f (n = 1)", d.mean) }
        return String(format: "%+.4f [%+.4f, %+.4f]", d.mean, i.lowerBound, i.upperBound) + (d.isResolved ? " *" : "")
    }

    private var markdown: String {
        let stepText = steps.count == 1 ? "step \(steps[0])" : "steps " + steps.map(String.init).joined(separator: ", ")
        let out = "## \(title) by domain\n\nFinal validation loss per domain (nats per predicted token; each run's last evaluation, \(stepText)), "
            + "mean over seeds per group, and the paired difference against \(baseline) over matched seeds with its 95% Student-t "
            + "interval (mean +- t(0.975, n - 1) sd / sqrt(n)); * marks an interval that excludes 0."
            + (unfinished > 0 ? " \(unfinished) run(s) of the sweep not finished (or not recorded) are left out." : "") + "\n\n"
        var head = ["domain", "eval tokens"] + groups
        for a in arms { head += ["\(a) - \(baseline)", "n"] }
        var lines = ["| " + head.joined(separator: " | ") + " |", "|" + String(repeating: "---|", count: head.count)]
        for r in rows {
            var cells = [r.label, String(r.tokens)] + groups.map { g in r.means[g].map { String(format: "%.4f", $0) } ?? "" }
            for a in arms { cells += r.differences[a].map { [interval($0), String($0.n)] } ?? ["", ""] }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return out + lines.joined(separator: "\n") + "\n"
    }

    private var csv: String {
        var out = "domain,tokens,arm,mean,baseline,baseline_mean,diff,diff_lo,diff_hi,n,resolved\n"
        func number(_ v: Double?) -> String { v.map { String(format: "%.6f", $0) } ?? "" }
        for r in rows {
            for g in groups {
                let d = r.differences[g]
                out += [r.label, String(r.tokens), g, number(r.means[g]), baseline, number(r.means[baseline]),
                        number(d?.mean), number(d?.interval?.lowerBound), number(d?.interval?.upperBound),
                        d.map { String($0.n) } ?? "", d.map { $0.isResolved ? "yes" : "no" } ?? ""].joined(separator: ",") + "\n"
            }
        }
        return out
    }

    private struct JSONRow: Encodable {
        let domain: String, tokens: Int, arm: String, mean: Double?, baseline: String
        let diff: Double?, diff_lo: Double?, diff_hi: Double?, n: Int?, seeds: [Int]?, resolved: Bool?
    }

    private var json: String {
        let items = rows.flatMap { r in
            groups.map { g in
                let d = r.differences[g]
                return JSONRow(domain: r.label, tokens: r.tokens, arm: g, mean: r.means[g], baseline: baseline, diff: d?.mean,
                               diff_lo: d?.interval?.lowerBound, diff_hi: d?.interval?.upperBound, n: d?.n, seeds: d?.seeds,
                               resolved: d?.isResolved)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? String(decoding: encoder.encode(items), as: UTF8.self)).map { $0 + "\n" } ?? "[]\n"
    }
}
