import Foundation

// Reading the ladder's differences file and writing the trend table (md, csv, json).

extension ScaleTrend {
    /// The columns of a differences file (scripts/ladder.sh writes it from the rungs' summaries).
    public static let columns = ["rung", "question", "activated_params", "diff", "lo", "hi", "n", "result"]

    /// The points of every question in `text` (tab-separated, `columns`, lines starting with # skipped),
    /// questions in their first-appearance order; errors name `path`, the line and the column.
    public static func readPoints(tsv text: String, path: String) throws -> [(question: String, points: [TrendPoint])] {
        var order: [String] = [], byQuestion: [String: [TrendPoint]] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = raw.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= columns.count else {
                throw AnalysisError("\(path) line \(index + 1): expected \(columns.count) tab-separated columns (\(columns.joined(separator: ", "))), got \(fields.count)")
            }
            func number(_ column: Int) throws -> Double {
                guard let v = Double(fields[column]), v.isFinite else {
                    throw AnalysisError("\(path) line \(index + 1): column \(columns[column]) is \"\(fields[column])\", not a number")
                }
                return v
            }
            let lo = try number(4), hi = try number(5), n = try number(6)
            guard lo <= hi else { throw AnalysisError("\(path) line \(index + 1): lo \(lo) is above hi \(hi)") }
            guard n >= 1, n == n.rounded() else { throw AnalysisError("\(path) line \(index + 1): n is \(fields[6]); must be a whole number >= 1") }
            let question = fields[1]
            if byQuestion[question] == nil { order.append(question) }
            byQuestion[question, default: []].append(
                TrendPoint(label: fields[0], activatedParams: try number(2), difference: try number(3), interval: lo...hi, seeds: Int(n)))
        }
        return order.map { ($0, byQuestion[$0]!) }
    }
}

/// Activated parameters as 0.44M, 6.9M, 120M.
func formatParams(_ p: Double?) -> String {
    guard let p else { return "never" }
    if p >= 1e12 { return String(format: "%.2g", p) }
    let m = p / 1e6
    return m >= 100 ? String(format: "%.0fM", m) : (m >= 10 ? String(format: "%.1fM", m) : String(format: "%.2gM", m))
}

extension Array where Element == ScaleTrend {
    /// The trend table in `format`.
    public func rendered(_ format: TableFormat) -> String {
        switch format {
        case .md: return markdown
        case .csv: return csv
        case .json: return json
        }
    }

    private var markdown: String {
        var out = "| question | rungs | slope per 10x activated params [95% of draws] | draws with the fit's sign | fitted at the largest rung | reaches 0 at (fit) | reaches 0 at: 2.5% / 50% / 97.5% of draws | chi-square (df) |\n"
        out += "|---|---|---|---|---|---|---|---|\n"
        for t in self {
            let c = t.crossingPercentiles
            out += "| \(t.question) | \(t.points.count) (\(formatParams(t.points.map(\.activatedParams).min())) to \(formatParams(t.largest.activatedParams))) "
            out += String(format: "| %+.4f [%+.4f, %+.4f] | %.1f%% | %+.4f ", t.line.slope, t.slopeInterval.lowerBound,
                          t.slopeInterval.upperBound, 100 * t.slopeSignShare, t.line.difference(atParams: t.largest.activatedParams))
            out += "| \(formatParams(t.crossing)) | \(formatParams(c.lower)) / \(formatParams(c.median)) / \(formatParams(c.upper)) "
            out += String(format: "| %.2f (%d) |\n", t.chiSquare, t.points.count - 2)
        }
        out += "\nFit: d = intercept + slope * log10(activated params per token), each rung weighted by 1/se^2 "
        out += "(se = half its 95% t interval / t(0.975, n - 1)); draws: \(first?.draws ?? ScaleTrend.standardDraws) parametric bootstrap refits, "
        out += "each rung moved by se times a t(n - 1) variate. \"Reaches 0 at\" is the size above the smallest rung "
        out += "where the line crosses 0; a size inside the ladder's range means it has crossed already. \"never\": the line "
        out += "heads away from 0 above the smallest rung (for a percentile: at least that share of the draws never reach 0).\n"
        return out
    }

    private var csv: String {
        var out = "question,rungs,intercept,slope,slope_lo,slope_hi,slope_sign_share,largest_params,fitted_at_largest,"
        out += "crossing,crossing_lo,crossing_median,crossing_hi,chi_square,df\n"
        func cell(_ v: Double?) -> String { v.map { String($0) } ?? "" }
        for t in self {
            let c = t.crossingPercentiles
            out += [t.question, String(t.points.count), cell(t.line.intercept), cell(t.line.slope), cell(t.slopeInterval.lowerBound),
                    cell(t.slopeInterval.upperBound), cell(t.slopeSignShare), cell(t.largest.activatedParams),
                    cell(t.line.difference(atParams: t.largest.activatedParams)), cell(t.crossing), cell(c.lower),
                    cell(c.median), cell(c.upper), cell(t.chiSquare), String(t.points.count - 2)].joined(separator: ",") + "\n"
        }
        return out
    }

    private var json: String {
        let rows = map { t in
            TrendRow(question: t.question, rungs: t.points.map(\.label), activatedParams: t.points.map(\.activatedParams),
                intercept: t.line.intercept, slope: t.line.slope, slopeInterval: [t.slopeInterval.lowerBound, t.slopeInterval.upperBound],
                slopeSignShare: t.slopeSignShare, largestParams: t.largest.activatedParams,
                fittedAtLargest: t.line.difference(atParams: t.largest.activatedParams), crossing: t.crossing,
                crossingPercentiles: [t.crossingPercentiles.lower, t.crossingPercentiles.median, t.crossingPercentiles.upper],
                chiSquare: t.chiSquare, df: t.points.count - 2, draws: t.draws)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(rows)) ?? Data("[]".utf8), as: UTF8.self) + "\n"
    }
}

/// One question's trend as JSON writes it.
private struct TrendRow: Encodable {
    var question: String, rungs: [String], activatedParams: [Double], intercept, slope: Double
    var slopeInterval: [Double], slopeSignShare, largestParams, fittedAtLargest: Double
    var crossing: Double?, crossingPercentiles: [Double?], chiSquare: Double, df, draws: Int
}
