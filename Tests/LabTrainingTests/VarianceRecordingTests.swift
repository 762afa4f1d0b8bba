import Foundation
import LabConfig
import LabModel
import LabRecords
import Testing
@testable import LabTraining

/// Variance statistics in training runs (recorded on probe steps, never changing training)
/// and at initialisation over seeds (`longcat-lab variance`).
@Suite("Variance recording", .serialized)
struct VarianceRecordingTests {
    /// Guards against a probe that perturbs training or records the wrong steps: losses are
    /// identical with the probe on and off, and rows exist exactly at steps 0, 3 and 6.
    @Test func probingNeverChangesTrainingAndRecordsProbeSteps() throws {
        var probed = smallConfig(steps: 8)
        probed.train.varianceInterval = 3
        var plain = probed
        plain.train.varianceInterval = 0
        let on = temporaryOptions("probed"), off = temporaryOptions("plain")
        let a = try Trainer(config: probed, options: on).run()
        let b = try Trainer(config: plain, options: off).run()
        #expect(a.losses == b.losses)
        let store = try RecordStore(path: on.databasePath)
        let rows = try store.varianceStats(runID: try #require(try store.runID(named: "probed")))
        #expect(Set(rows.map(\.step)) == [0, 3, 6])
        #expect(rows.allSatisfy { $0.value.isFinite })
        #expect(rows.contains { $0.step == 3 && $0.layer == 0 && $0.module == "moe" && $0.statistic == "var_routed" })
        #expect(rows.contains { $0.step == 6 && $0.layer == -1 && $0.module == "grad.all" })
        let plainStore = try RecordStore(path: off.databasePath)
        #expect(try plainStore.varianceStats(runID: try #require(try plainStore.runID(named: "plain"))).isEmpty)
    }

    /// Guards against the step-0 probe running after the first update (or on clipped
    /// gradients): the rows of step 0 equal a fresh measurement of the initial model on the
    /// same batch, which never updates.
    @Test func stepZeroRowsMeasureTheModelBeforeAnyUpdate() throws {
        var c = smallConfig(steps: 2)
        c.train.varianceInterval = 1
        c.train.gradClip = 1e-3     // clipping certainly scales the gradients
        let o = temporaryOptions("initial")
        _ = try Trainer(config: c, options: o).run()
        let store = try RecordStore(path: o.databasePath)
        let recorded = try store.varianceStats(runID: try #require(try store.runID(named: "initial"))).filter { $0.step == 0 }
        let fresh = try measureInitialVariance(config: c, seeds: [c.train.seed], batch: c.train.batchSize)
        let expected = varianceRows(step: 0, statistics: fresh.perSeed[0])
        #expect(recorded.count == expected.count)
        let byKey = Dictionary(uniqueKeysWithValues: expected.map { ("\($0.layer)/\($0.module)/\($0.statistic)", $0.value) })
        for row in recorded {
            let want = try #require(byKey["\(row.layer)/\(row.module)/\(row.statistic)"])
            #expect(abs(row.value - want) <= 1e-9 * max(abs(want), 1e-12), "\(row.module).\(row.statistic) layer \(row.layer)")
        }
    }

    /// Guards against wrong aggregation in the `variance` table: layers are averaged per seed
    /// before the mean and sample standard deviation over seeds; model-wide rows stay apart.
    @Test func summaryAveragesLayersThenSeeds() {
        func stat(_ layer: Int, _ value: Double) -> VarianceStatistic {
            VarianceStatistic(layer: layer, module: layer < 0 ? "grad.all" : "moe", statistic: "v", value: value)
        }
        let m = VarianceMeasurement(config: LabConfig(), seeds: [1, 2],
                                    perSeed: [[stat(0, 1), stat(1, 3), stat(-1, 10)], [stat(0, 5), stat(1, 7), stat(-1, 20)]])
        let rows = m.summary(perLayer: false)
        #expect(rows.map(\.key) == ["*/moe/v", "-1/grad.all/v"])
        #expect(rows[0].mean == 4 && abs(rows[0].sd - 8.0.squareRoot()) < 1e-12)   // per seed 2 and 6
        #expect(rows[1].mean == 15 && abs(rows[1].sd - 50.0.squareRoot()) < 1e-12)
        let perLayer = m.summary(perLayer: true)
        #expect(perLayer.map(\.key) == ["0/moe/v", "1/moe/v", "-1/grad.all/v"])
        #expect(perLayer[1].mean == 5)
    }

    /// The paper's argument (LONGCAT.md section 6) at a small shape, over seeds: splitting
    /// experts by m = 4 shrinks the routed part of the MoE output by about m^2 without
    /// compensation and keeps it within a factor of 2 with gamma = m; the zero-expert part does
    /// not depend on m without compensation and grows by m^2 with it; with
    /// `init.variance_compensation_scope = "routed"` it stays where it was without compensation
    /// (guards against a scope that still multiplies the identity path, as `variance` shows).
    @Test func splitShrinksRoutedVarianceUnlessCompensated() throws {
        var reference = smallConfig(steps: 4)
        reference.model.expertFfnHiddenSize = 32
        reference.model.zeroExpertNum = 4
        reference.train.seqLen = 32
        let seeds = [1, 2, 3]
        func routedAndZero(_ c: LabConfig) throws -> (Double, Double) {
            let rows = try measureInitialVariance(config: c, seeds: seeds, batch: 4).summary(perLayer: false)
            let routed = try #require(rows.first { $0.module == "moe" && $0.statistic == "var_routed" })
            let zero = try #require(rows.first { $0.module == "moe" && $0.statistic == "var_zero" })
            return (routed.mean, zero.mean)
        }
        let (r1, z1) = try routedAndZero(reference)
        var split = try reference.splittingExperts(by: 4)
        let (rOff, zOff) = try routedAndZero(split)
        split.initialization.varianceCompensation = true
        let (rOn, zOn) = try routedAndZero(split)
        #expect(rOff / r1 > 1.0 / 16 / 2.5 && rOff / r1 < 1.0 / 16 * 2.5, "routed, m = 4, off: \(rOff / r1)")
        #expect(rOn / r1 > 0.5 && rOn / r1 < 2, "routed, m = 4, on: \(rOn / r1)")
        #expect(zOff / z1 > 0.5 && zOff / z1 < 2, "zero, m = 4, off: \(zOff / z1)")
        #expect(abs(zOn / zOff - 16) < 1e-3 * 16, "zero, on / off: \(zOn / zOff)")

        // Scope "routed": gamma reaches the FFN experts only, so layer 0's identity path (whose
        // input nothing upstream of gamma changes) has exactly the uncompensated variance and its
        // routed part the compensated one; layer 1 sees a slightly different input.
        func layer0(_ c: LabConfig, _ statistic: String) throws -> Double {
            let rows = try measureInitialVariance(config: c, seeds: seeds, batch: 4).summary(perLayer: true)
            return try #require(rows.first { $0.layer == 0 && $0.module == "moe" && $0.statistic == statistic }).mean
        }
        var routedScope = split
        routedScope.initialization.varianceCompensationScope = .routed
        var off = split
        off.initialization.varianceCompensation = false
        let zRouted = try layer0(routedScope, "var_zero"), zOff0 = try layer0(off, "var_zero")
        #expect(abs(zRouted / zOff0 - 1) < 1e-6, "zero, layer 0, routed scope / off: \(zRouted / zOff0)")
        let rRouted = try layer0(routedScope, "var_routed"), rAll0 = try layer0(split, "var_routed")
        #expect(abs(rRouted / rAll0 - 1) < 1e-6, "routed, layer 0, routed scope / all: \(rRouted / rAll0)")
    }
}
