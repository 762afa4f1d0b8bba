import Foundation

/// The output formats of a comparison table (`--format`).
public enum TableFormat: String, Sendable, CaseIterable {
    case md, csv, json

    /// Parses `--format`; the error lists the formats.
    public init(parsing text: String) throws {
        guard let f = TableFormat(rawValue: text.lowercased()) else {
            throw AnalysisError("--format \(text): must be one of " + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = f
    }
}

extension ArmComparison {
    /// The table in `format`.
    public func rendered(_ format: TableFormat) -> String {
        switch format {
        case .md: return markdown
        case .csv: return csv
        case .json: return json
        }
    }

    /// The lines above every table: the final window, the baseline, how differences and
    /// intervals are computed, the guards shown, the stability thresholds.
    public var notes: [String] {
        var out = ["final window: \(window.description); final validation loss = the last evaluation",
                   "baseline: \(baseline); difference = arm - baseline over matched seeds (n), 95% Student-t interval"
                       + " (bootstrap \(PairedDifference.bootstrapResamples) resamples, percentile, from n = \(PairedDifference.bootstrapMinimumSeeds));"
                       + " an interval containing 0 is not resolved",
                   "cells: mean over the arm's runs [95% t interval] (runs)",
                   "stability (worst layer, mean over runs): \(thresholds.description)"]
        for g in guardsShown { out.append("guard \(g.rawValue): \(g.meaning)") }
        return out
    }

    static let headers = ["arm", "runs", "val loss", "FFN experts/token", "activated params/token",
                          "val loss - baseline", "n", "bootstrap", "result", "budget err",
                          "step MaxVio", "window MaxVio", "oscillating", "guards"]

    /// The Markdown table, its notes above it.
    public var markdown: String {
        var table = [Self.headers]
        for r in self.rows { table.append(markdownCells(r)) }
        return notes.map { "- " + $0 }.joined(separator: "\n") + "\n\n" + markdownTable(table)
    }

    /// The Markdown cells of one row, in the order of `headers`.
    func markdownCells(_ r: Row) -> [String] {
        let d = r.difference
        var difference = ""
        if let d {
            difference = signed(d.mean, 4)
            if let i = d.interval { difference += " " + bracket(i) }
        }
        let bootstrap: String = d?.bootstrap.map(bracket) ?? ""
        let budget: String = r.budgetError.map { String(format: "%.2f%%", 100 * $0) } ?? ""
        let stepVio: String = r.stepMaxVio.map { String(format: "%.3f", $0) } ?? ""
        let windowVio: String = r.windowMaxVio.map { String(format: "%.3f", $0) } ?? ""
        let label = r.label + (r.isBaseline ? " (baseline)" : "")
        let n: String = d.map { String($0.n) } ?? ""
        let oscillating = r.runs.isEmpty ? "" : "\(r.oscillatingRuns) of \(r.runs.count)"
        return [label, String(r.runs.count), cell(r.validationLoss, 4), cell(r.ffnExperts, 3), cell(r.activatedParams, 0),
                difference, n, bootstrap, r.verdict ?? "", budget, stepVio, windowVio, oscillating, r.marks]
    }

    /// One header row and one row per arm; intervals as separate low/high columns.
    public var csv: String {
        let header = ["arm", "baseline", "runs", "val_loss", "val_loss_lo", "val_loss_hi", "ffn_experts", "ffn_experts_lo",
                      "ffn_experts_hi", "activated_params", "activated_params_lo", "activated_params_hi", "diff", "diff_lo",
                      "diff_hi", "n", "bootstrap_lo", "bootstrap_hi", "result", "budget_error", "step_max_vio",
                      "window_max_vio", "oscillating_runs", "guards", "final_window"]
        var lines = [header.joined(separator: ",")]
        for r in rows {
            let d = r.difference
            let fields: [String] = [
                r.label, r.isBaseline ? "1" : "0", String(r.runs.count),
                number(r.validationLoss?.mean), number(r.validationLoss?.interval?.lowerBound), number(r.validationLoss?.interval?.upperBound),
                number(r.ffnExperts?.mean), number(r.ffnExperts?.interval?.lowerBound), number(r.ffnExperts?.interval?.upperBound),
                number(r.activatedParams?.mean), number(r.activatedParams?.interval?.lowerBound), number(r.activatedParams?.interval?.upperBound),
                number(d?.mean), number(d?.interval?.lowerBound), number(d?.interval?.upperBound), d.map { String($0.n) } ?? "",
                number(d?.bootstrap?.lowerBound), number(d?.bootstrap?.upperBound), r.verdict ?? "", number(r.budgetError),
                number(r.stepMaxVio), number(r.windowMaxVio), String(r.oscillatingRuns), r.marks, window.description,
            ]
            lines.append(fields.map(csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A JSON object: the notes, the definitions and one object per arm.
    public var json: String {
        struct Arm: Encodable {
            var arm: String, baseline: Bool, runs: [String], seeds: [Int]
            var valLoss, ffnExperts, activatedParams: Estimate?
            var difference: PairedDifference?
            var result: String?, budgetError, stepMaxVio, windowMaxVio: Double?
            var oscillatingRuns: Int, guards: [String]
        }
        struct Table: Encodable {
            var finalWindow: String, baseline: String, stabilityThresholds: String, notes: [String], guards: [String: String], arms: [Arm]
        }
        let table = Table(
            finalWindow: window.description, baseline: baseline, stabilityThresholds: thresholds.description, notes: notes,
            guards: Dictionary(uniqueKeysWithValues: Guard.allCases.map { ($0.rawValue, $0.meaning) }),
            arms: rows.map { r in
                Arm(arm: r.label, baseline: r.isBaseline, runs: r.runs.map(\.name), seeds: r.runs.compactMap(\.seed),
                    valLoss: r.validationLoss, ffnExperts: r.ffnExperts, activatedParams: r.activatedParams,
                    difference: r.difference, result: r.verdict, budgetError: r.budgetError, stepMaxVio: r.stepMaxVio,
                    windowMaxVio: r.windowMaxVio, oscillatingRuns: r.oscillatingRuns, guards: r.guards.map(\.rawValue))
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: (try? encoder.encode(table)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }

}

/// "1.8546 [1.8401, 1.8690] (3)", or the mean alone for one run.
private func cell(_ e: ArmComparison.Estimate?, _ digits: Int) -> String {
    guard let e else { return "" }
    let f = "%.\(digits)f"
    var out = String(format: f, e.mean)
    if let i = e.interval { out += " [" + String(format: f, i.lowerBound) + ", " + String(format: f, i.upperBound) + "]" }
    return out + " (\(e.n))"
}

/// "[-0.0012, +0.0034]".
private func bracket(_ i: ClosedRange<Double>) -> String { "[\(signed(i.lowerBound, 4)), \(signed(i.upperBound, 4))]" }

private func signed(_ x: Double, _ digits: Int) -> String { String(format: "%+.\(digits)f", x) }

/// Full precision for CSV; empty for nil.
private func number(_ x: Double?) -> String { x.map { "\($0)" } ?? "" }

/// Quotes a CSV field holding a comma, quote or newline.
private func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// A Markdown table with aligned columns; the first row is the header.
public func markdownTable(_ rows: [[String]]) -> String {
    guard let header = rows.first else { return "" }
    let widths = header.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
    func line(_ cells: [String]) -> String {
        "| " + cells.enumerated().map { i, c in c + String(repeating: " ", count: widths[i] - c.count) }
            .joined(separator: " | ") + " |"
    }
    var out = line(header) + "\n"
    out += "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|\n"
    for r in rows.dropFirst() { out += line(r) + "\n" }
    return out
}
