import Foundation
import LabRecords
import Testing
@testable import LabPlots

@Suite("Comparison")
struct ComparisonTests {
    /// Final metrics average the final window (last 10% of the recorded steps, at least 10:
    /// here steps 30...39 of 40), computed here independently from the stored rows.
    @Test func finalMetricsAverageTheFinalWindow() throws {
        let store = try Fixture.store()
        let c = try Comparison(store: store, runs: ["pid-s1", "none-s1"])
        let id = try #require(try store.runID(named: "none-s1"))
        let steps = try store.steps(runID: id).filter { $0.step >= 30 }
        let layers = try store.layerSteps(runID: id).filter { $0.step >= 30 }
        let f = c.finals[1]
        #expect(f.run == "none-s1")
        #expect(abs(f.finalLoss - steps.map(\.loss).reduce(0, +) / 10) < 1e-9)
        #expect(abs(f.ffnExperts! - layers.map(\.ffnExpertsMean).reduce(0, +) / 20) < 1e-9)
        #expect(abs(f.maxVio! - layers.map(\.maxVio).reduce(0, +) / 20) < 1e-9)
        #expect(f.finalEvalLoss == steps.last { $0.evalLoss != nil }?.evalLoss)
        #expect(f.targetFFNExperts == 2)
    }

    @Test func tableShowsDifferingKeysAndMetrics() throws {
        let c = try Comparison(store: Fixture.store(), runs: ["pid-s1", "none-s1"])
        let lines = c.table().split(separator: "\n").map(String.init)
        #expect(lines[0].contains("controller.kind") && lines[0].contains("MaxVio") && lines[0].contains("tokens/s"))
        #expect(!lines[0].contains("train.seed"))
        #expect(lines[2].hasPrefix("pid-s1") && lines[2].contains("pid"))
        #expect(lines[3].hasPrefix("none-s1") && lines[3].contains("none"))
        #expect(lines[2].contains(String(format: "%.4f", c.finals[0].finalLoss)))
    }

    /// Runs that differ only by seed form one group; another key splits groups.
    @Test func runsDifferingOnlyBySeedAreGrouped() throws {
        let c = try Comparison(store: Fixture.store(), runs: ["pid-s1", "none-s1", "pid-s2"])
        let groups = c.groups(by: nil)
        #expect(groups.map { $0.runs.map(\.name) } == [["pid-s1", "pid-s2"], ["none-s1"]])
        #expect(groups[0].label == "controller.kind=pid")
        #expect(c.table().contains("group controller.kind=pid (2 seeds)"))
        let bySeed = c.groups(by: "train.seed")
        #expect(bySeed.map { $0.runs.map(\.name) } == [["pid-s1", "none-s1"], ["pid-s2"]])
    }

    /// A group's curve is the mean of its runs at each step and its band their range.
    @Test func groupCurveIsTheMeanWithTheRangeShaded() throws {
        let store = try Fixture.store()
        let c = try Comparison(store: store, runs: ["pid-s1", "none-s1", "pid-s2"])
        var options = PlotOptions(outputDirectory: Fixture.outputDirectory("cmp"))
        options.smoothing = 0
        let figures = try c.overlays(metrics: [.loss, .ffnExperts], options: options)
        #expect(figures.map(\.name) == ["compare-loss", "compare-ffn-experts"])
        for f in figures { #expect(pngSize(f.image) != nil) }
        let a = try store.steps(runID: #require(try store.runID(named: "pid-s1")))
        let b = try store.steps(runID: #require(try store.runID(named: "pid-s2")))
        let rows = try dataBlock(figures[0].dataFiles[0], index: 0)
        #expect(rows.count == Fixture.steps)
        for (i, r) in rows.enumerated() {
            #expect(abs(r[1] - (a[i].loss + b[i].loss) / 2) < 1e-5)
            #expect(abs(r[3] - min(a[i].loss, b[i].loss)) < 1e-5 && abs(r[4] - max(a[i].loss, b[i].loss)) < 1e-5)
        }
        let script = try String(contentsOfFile: figures[1].script, encoding: .utf8)
        #expect(script.contains("target K_e = 2"))
    }

    @Test func unknownMetricListsTheMetrics() {
        let error = #expect(throws: PlotError.self) { try CompareMetric(parsing: "perplexity") }
        #expect(error?.message.contains("max-vio") == true)
    }

    @Test func evalLossOfARunWithoutEvaluationsIsAClearError() throws {
        let c = try Comparison(store: Fixture.store(), runs: ["pid-s1", "bare"])
        let error = #expect(throws: PlotError.self) {
            try c.overlays(metrics: [.evalLoss], options: PlotOptions(outputDirectory: Fixture.outputDirectory()))
        }
        #expect(error?.message.contains("'bare' has no evaluation loss") == true, "\(error?.message ?? "")")
    }
}
