import Foundation
import LabConfig
import LabRecords
import Testing
@testable import LabTraining

@Suite("Run report", .serialized)
struct TelemetryReportTests {
    /// Guards against a summary computed from the wrong rows: the report's window is the last
    /// 10% of steps, and its per-layer means equal those computed here from `layer_steps`.
    @Test func reportSummarisesTheLastTenthOfSteps() throws {
        var c = smallConfig(steps: 20)
        c.train.telemetryInterval = 5
        let o = temporaryOptions("report")
        _ = try Trainer(config: c, options: o).run()
        let store = try RecordStore(path: o.databasePath)
        let report = try RunReport.load(from: store, run: "report")
        // The final window: 10% of 20 steps is 2, but it holds at least 10.
        #expect(report.window == 10...19)
        #expect(report.earlyWindow == 0...9)
        #expect(report.targetFfnExperts == 1)
        #expect(report.run.status == .finished && report.summary.stepsRecorded == 20)
        let id = report.run.id
        for layer in 0..<c.model.numLayers {
            let late = try store.layerSteps(runID: id, layer: layer).filter { $0.step >= 10 }
            let mean = late.map(\.ffnExpertsMean).reduce(0, +) / Double(late.count)
            let w = try #require(report.layers.first { $0.layer == layer })
            #expect(w.steps == 10)
            #expect(abs(w.ffnMean - mean) < 1e-12)
            #expect(w.ffnMin <= w.ffnMean && w.ffnMean <= w.ffnMax)
        }
        #expect(report.telemetry.first?.step == 15)
        #expect(report.lastEval?.step == 19)
        #expect(report.checkpoints.map(\.step) == [10, 20])
        let text = report.text()
        for part in ["run report", "finished", "final losses (step 19)", "eval loss (step 19)", "target K_e = 1.00",
                     "MaxVio final", "final window steps 10-19", "telemetry (step 15)", "checkpoints:", "[controller]"] {
            #expect(text.contains(part), "missing '\(part)' in:\n\(text)")
        }
        #expect(!report.text(includeConfig: false).contains("[controller]"))
    }

    /// Guards against an unhelpful error for a mistyped run name: it names the database and
    /// suggests the close names.
    @Test func unknownRunListsCloseNames() throws {
        let message = unknownRunMessage("quikstart-1", among: ["quickstart-1", "quickstart-2", "bench"],
                                        database: "x.sqlite")
        #expect(message.contains("x.sqlite") && message.contains("no run named 'quikstart-1'"))
        #expect(message.contains("quickstart-1") && !message.contains("bench,"))
        let far = unknownRunMessage("zzz", among: ["alpha", "beta"], database: "x.sqlite")
        #expect(far.contains("newest runs: beta, alpha"))
        #expect(unknownRunMessage("a", among: [], database: "x.sqlite").contains("no runs"))
        let store = try RecordStore(path: temporaryOptions("none").databasePath)
        #expect(throws: RecordsError.self) { try RunReport.load(from: store, run: "missing") }
    }

    /// Guards against a run list that drops columns: every run's name, status, step count,
    /// last loss and eval loss appear under the header.
    @Test func runListShowsEveryRun() throws {
        let store = try RecordStore(path: temporaryOptions("list").databasePath)
        #expect(runListText(try store.runs()) == "no runs recorded yet")
        let a = try store.beginRun(RunInfo(name: "a-run", configTOML: "", configHash: "h", seed: 1, threads: 1))
        for step in 0..<12 {
            try store.record(StepRecord(runID: a, step: StepRow(
                step: step, tokensSeen: step, loss: 2.5, lmLoss: 2.5, balanceLoss: 0, zLoss: 0, mtpLoss: nil,
                lr: 0, gradNorm: 0, stepMs: 10, tokensPerS: 1234, evalLoss: step == 11 ? 2.75 : nil)))
        }
        try store.finishRun(a, status: .finished)
        let b = try store.beginRun(RunInfo(name: "b", configTOML: "", configHash: "h", seed: 1, threads: 1))
        try store.finishRun(b, status: .interrupted)
        let lines = runListText(try store.runs()).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("name") && lines[0].contains("tokens/s"))
        #expect(lines[1].contains("a-run") && lines[1].contains("finished") && lines[1].contains(" 12 ")
                && lines[1].contains("2.5000") && lines[1].contains("2.7500") && lines[1].contains("1234"))
        #expect(lines[2].hasPrefix("b ") && lines[2].contains("interrupted"))
    }
}
