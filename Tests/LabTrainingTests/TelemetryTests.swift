import Foundation
import LabConfig
import LabRecords
import Testing
@testable import LabTraining

/// Trains `config` under `name` in a fresh folder; returns the store and the run id.
private func trainAndOpen(_ config: LabConfig, _ name: String) throws -> (RecordStore, Int64, TrainSummary) {
    let o = temporaryOptions(name)
    let summary = try Trainer(config: config, options: o).run()
    let store = try RecordStore(path: o.databasePath)
    return (store, try #require(try store.runID(named: name)), summary)
}

@Suite("Telemetry", .serialized)
struct TelemetryTests {
    /// Guards against R_g or router similarity written on every step (cost) or never (a hook
    /// that lost its capture): they appear on steps 0, n, 2n, ... only, finite and in range.
    @Test func gradNormRatioIsRecordedOnTelemetryStepsOnly() throws {
        var c = smallConfig(steps: 8)
        c.train.telemetryInterval = 3
        c.balance.alpha = 0.01
        let (store, id, _) = try trainAndOpen(c, "telemetry-steps")
        let rows = try store.layerSteps(runID: id)
        #expect(rows.count == 8 * c.model.numLayers)
        for row in rows {
            let due = row.step % 3 == 0
            #expect((row.gradNormRatio != nil) == due, "step \(row.step): R_g \(String(describing: row.gradNormRatio))")
            #expect((row.routerSimilarity != nil) == due, "step \(row.step)")
            if let ratio = row.gradNormRatio { #expect(ratio.isFinite && ratio > 0) }
            if let s = row.routerSimilarity { #expect(s.isFinite && abs(s) <= 1) }
        }
    }

    /// Guards against R_g taken from the gradient after the balance term was added (or from a
    /// stale copy): at step 0 the forward pass and the last layer's LM gradient do not depend
    /// on alpha, so doubling alpha must exactly double that layer's R_g.
    @Test func gradNormRatioScalesWithAlphaAtTheFirstStep() throws {
        var c = smallConfig(steps: 1)
        c.train.telemetryInterval = 1
        c.train.evalInterval = 0
        c.balance.alpha = 0.01
        let (a, idA, _) = try trainAndOpen(c, "alpha-1")
        c.balance.alpha = 0.02
        let (b, idB, _) = try trainAndOpen(c, "alpha-2")
        let last = c.model.numLayers - 1
        let ra = try #require(try a.layerSteps(runID: idA, layer: last).first?.gradNormRatio)
        let rb = try #require(try b.layerSteps(runID: idB, layer: last).first?.gradNormRatio)
        #expect(ra > 0)
        #expect(abs(rb / ra - 2) < 1e-5, "R_g \(ra) at alpha 0.01, \(rb) at alpha 0.02")
    }

    /// Guards against telemetry that perturbs training: capturing router gradients on every
    /// step, with the balance loss on, gives the same losses as not recording at all.
    @Test func telemetryOnEveryStepNeverChangesTraining() throws {
        var c = smallConfig(steps: 6)
        c.train.telemetryInterval = 1
        c.balance.alpha = 0.01
        var off = temporaryOptions("quiet")
        off.record = false
        let on = try Trainer(config: c, options: temporaryOptions("loud")).run()
        let silent = try Trainer(config: c, options: off).run()
        #expect(on.losses == silent.losses)
        #expect(on.finalEvalLoss == silent.finalEvalLoss)
    }

    /// Guards against step records read after an evaluation pass has overwritten the routing:
    /// a step's layer and expert rows are the same whether or not the run evaluates after it.
    @Test func evaluationDoesNotLeakIntoStepRecords() throws {
        var c = smallConfig(steps: 6)
        c.train.evalInterval = 3
        let (evaluating, idE, _) = try trainAndOpen(c, "evaluating")
        c.train.evalInterval = 0
        let (plain, idP, _) = try trainAndOpen(c, "plain")
        let step = 2   // evaluated in the first run only
        #expect(try evaluating.steps(runID: idE)[step].evalLoss != nil)
        #expect(try plain.steps(runID: idP)[step].evalLoss == nil)
        #expect(try evaluating.layerSteps(runID: idE).filter { $0.step == step }
                == plain.layerSteps(runID: idP).filter { $0.step == step })
        #expect(try evaluating.expertSteps(runID: idE, step: step) == plain.expertSteps(runID: idP, step: step))
    }

    /// Guards against an unmeasured recording cost: every step row carries record_ms > 0.
    @Test func recordingCostIsMeasuredOnEveryStep() throws {
        let (store, id, _) = try trainAndOpen(smallConfig(steps: 4), "cost")
        let steps = try store.steps(runID: id)
        #expect(steps.count == 4)
        for s in steps {
            let ms = try #require(s.recordMs)
            #expect(ms > 0 && ms < s.stepMs * 10, "step \(s.step): record \(ms) ms, step \(s.stepMs) ms")
        }
    }
}
