import Foundation
import LabConfig
import Testing
@testable import LabAnalysis
@testable import LabPlots
@testable import LabSweeps
@testable import LabTraining

/// One run read by every report: `show`, `compare --baseline`, `sweep --report` and the
/// activated-parameter figure must give the same final-window numbers.
@Suite struct ConsistencyTests {
    /// 57 steps (final window: 10 steps, 47-56, where the three old definitions gave 6, 5 and
    /// 5 steps), activated-parameter mix and FFN experts changing every step, layer 1's loads
    /// swinging with period 2, layer 0's constant.
    static func fixture() throws -> RecordsFixture {
        let f = try RecordsFixture()
        var run = RecordsFixture.Run(name: "cons-s1", seed: 1, steps: 57, evalLoss: 1.875)
        run.ffn = { step, layer in 2 + 0.01 * Double((step * 7 + layer * 3) % 11) - 0.05 }
        run.tokensByCount = { step in [100 + step % 7, 200 - step % 5, 100 + (step * 3) % 13] }
        run.loads = { step, layer in layer == 0 ? [64, 64, 64, 64] : (step % 2 == 0 ? [120, 8, 120, 8] : [8, 120, 8, 120]) }
        try f.add(run)
        return f
    }

    /// Guards against `show`, `compare`, `sweep --report` and the figure each computing "the
    /// final tenth" their own way (issue: three definitions made them disagree on one run).
    @Test func everyReportGivesTheSameFinalWindowNumbers() throws {
        let f = try Self.fixture()
        let analysis = try #require(try RunAnalysis.load("cons-s1", from: f.store))
        #expect(analysis.window == 47...56)
        let activated = try #require(analysis.activatedParams), ffn = try #require(analysis.ffnExperts)

        // show
        let report = try RunReport.load(from: f.store, run: "cons-s1")
        #expect(report.window == 47...56)
        #expect(report.analysis?.activatedParams == activated && report.analysis?.ffnExperts == ffn)
        for (l, a) in zip(report.layers, analysis.layers) { #expect(l.ffnMean == a.ffnExperts && l.maxVio == a.maxVio) }
        let text = report.text(includeConfig: false)
        #expect(text.contains("final window steps 47-56 (last 10% of recorded steps (at least 10))"), "\(text)")
        #expect(text.contains(String(format: "activated params/token %.0f", activated)), "\(text)")

        // compare --baseline
        let compared = try ArmComparison.load(runs: ["cons-s1"], from: f.store, baseline: "cons")
        #expect(compared.rows[0].activatedParams?.mean == activated && compared.rows[0].ffnExperts?.mean == ffn)
        #expect(compared.rows[0].validationLoss?.mean == 1.875)

        // sweep --report
        var config = LabConfig()
        config.model.numLayers = 2
        let sweepRun = SweepRun(index: 0, name: "cons-s1", group: "cons", variant: nil, config: config, assignments: [], notes: [])
        let sweep = try SweepReport(title: "cons", runs: [sweepRun], store: f.store)
        #expect(sweep.metrics[0].activatedParams == activated && sweep.metrics[0].ffnExperts == ffn)
        #expect(sweep.metrics[0].evalLoss == 1.875)
        #expect(sweep.comparison?.rows[0].activatedParams?.mean == activated)
        #expect(sweep.markdown.contains("final window: last 10% of recorded steps (at least 10)"))

        // the activated-parameter figure: its window, its key's mean, and its bars' mean
        let context = FigureContext(store: f.store, runSet: try RunSet(names: ["cons-s1"], store: f.store),
                                    options: PlotOptions(outputDirectory: NSTemporaryDirectory()))
        let figure = try context.activatedParamsHistogram()
        #expect(figure.title.contains("steps 47-56"), "\(figure.title)")
        #expect(figure.body.contains("'mean " + ParamsUnit(largest: 1_500_000).format(activated) + "'"), "\(figure.body)")
        let bars = figure.data[0].text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
            .map { $0.split(separator: " ").compactMap { Double($0) } }
        let barMean = bars.reduce(0) { $0 + $1[1] * $1[3] } / 100
        #expect(abs(barMean / activated - 1) < 1e-5, "\(barMean) vs \(activated)")
    }

    /// Guards against the stability metrics not reaching `show`: layer 1's period-2 swing is
    /// measured from the records (period 2, flagged), layer 0's constant loads are not flagged.
    @Test func showPrintsTheStabilityOfEachLayer() throws {
        let f = try Self.fixture()
        let a = try #require(try RunAnalysis.load("cons-s1", from: f.store))
        let s0 = try #require(a.layers[0].stability), s1 = try #require(a.layers[1].stability)
        #expect(!s0.oscillating && s0.stepMaxVio == 0)
        #expect(s1.oscillating && s1.period == 2 && s1.steps == 10 && abs(s1.stepMaxVio - 56.0 / 64) < 1e-12)
        let text = try RunReport.load(from: f.store, run: "cons-s1").text(includeConfig: false)
        let line = try #require(text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("1 ") && $0.contains("oscillating") })
        #expect(line.contains("0.875"), "\(line)")
        #expect(text.contains("load stability") && text.contains("oscillating = per-step MaxVio >= 0.5"))
    }
}
