import ArgumentParser
import Foundation
import LabAnalysis

struct TrendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trend",
        abstract: "Fit each question's paired difference against model size over the scale ladder's rungs, with bootstrap intervals.",
        discussion: """
        Reads a differences file (tab-separated: rung, question, activated_params, diff, lo, hi, n, result; \
        scripts/ladder.sh writes docs/results/ladder/differences.tsv from the rungs' summaries) and, per question, \
        fits d = intercept + slope * log10(activated params per token), each rung weighted by 1/se^2 (se from its 95% \
        t interval and its n seeds). A parametric bootstrap (each rung moved by se times a Student-t variate with \
        n - 1 degrees of freedom, then refitted) gives the slope's 95% interval, the share of draws whose slope has \
        the fit's sign, and the percentiles of the size at which the line reaches 0 above the smallest rung ("never": \
        the line heads away from 0 there; a size inside the ladder means it has crossed already). The chi-square of the fit against its degrees of freedom says whether the rungs lie on \
        a line at all. An extrapolated crossing is a direction, not a measurement: read it with its interval.

        Examples:
          longcat-lab trend docs/results/ladder/differences.tsv
          longcat-lab trend docs/results/ladder/differences.tsv --format csv --draws 20000
        """)

    @Argument(help: ArgumentHelp("Differences file (tab-separated).", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Output: md, csv or json.", valueName: "md|csv|json"))
    var format = "md"

    @Option(help: "Bootstrap draws.")
    var draws = ScaleTrend.standardDraws

    @Option(help: "Only this question (as in the file's question column).")
    var question: String?

    func validate() throws {
        guard draws >= 100 else { throw ValidationError("--draws \(draws): must be at least 100") }
        _ = try TableFormat(parsing: format)
    }

    func run() throws {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ValidationError("\(file): cannot read it (missing or not UTF-8 text)")
        }
        var groups = try ScaleTrend.readPoints(tsv: text, path: file)
        if let question {
            let all = groups.map(\.question)
            groups = groups.filter { $0.question == question }
            guard !groups.isEmpty else {
                throw ValidationError("--question \(question): not in \(file); its questions: " + all.joined(separator: ", "))
            }
        }
        guard !groups.isEmpty else { throw ValidationError("\(file): no rows (expected \(ScaleTrend.columns.joined(separator: ", ")))") }
        let trends = try groups.map { try ScaleTrend(question: $0.question, points: $0.points, draws: draws) }
        print(trends.rendered(try TableFormat(parsing: format)), terminator: "")
    }
}
