import Foundation
import LabRecords
import LabSimulation
import Testing
@testable import LabAnalysis

/// The loop-gain estimate: on series with a known slope, and in the controller simulator, where
/// the router (hence the sensitivity) is known.
@Suite struct LoopGainTests {
    /// Guards against a sign or alignment error (Δb(t) against Δs(t), or the slope's sign):
    /// shares that respond to the previous step's bias with slope -5 give sensitivity 5.
    @Test func recoversAKnownSlopeOnHandMadeSeries() {
        var bias: [[Double]] = [], share: [[Double]] = []
        var b = [0.01, -0.02, 0.005, 0.0]
        for t in 0..<40 {
            // share(t) = 0.25 - 5 * bias(t - 1) (bias after step t-1's update routes step t)
            share.append(b.map { 0.25 - 5 * $0 })
            b = b.enumerated().map { i, x in x + 0.001 * sin(Double(t * (i + 1))) }
            bias.append(b)
        }
        let g = LoopGain(bias: bias, share: share, firstStep: 0, effectiveGain: 0.3)
        #expect(abs(g.sensitivity! - 5) < 1e-9)
        #expect(g.standardError! < 1e-9)
        #expect(abs(g.loopGain! - 1.5) < 1e-9)
        #expect(g.regime == .oscillating)
        #expect(g.samples == 38 * 4)
    }

    /// Guards against reading a margin off the wrong thresholds: 1 and 2 are the borders.
    @Test func regimesFollowTheIntegratorMargins() {
        #expect(LoopGain.Regime(gain: 0.5) == .monotone)
        #expect(LoopGain.Regime(gain: 1.0) == .oscillating)
        #expect(LoopGain.Regime(gain: 1.99) == .oscillating)
        #expect(LoopGain.Regime(gain: 2.5) == .unstable)
        #expect(LoopGain.Regime(gain: -1) == .none)
        #expect(LoopGain.Regime(gain: .nan) == .none)
    }

    /// Guards against an estimate that fits noise: a bias that never changes gives no sensitivity.
    @Test func constantBiasGivesNoEstimate() {
        let bias = Array(repeating: [0.0, 0.0], count: 10)
        let share: [[Double]] = (0..<10).map { (t: Int) -> [Double] in
            let d: Double = t % 2 == 0 ? 0 : 0.01
            return [0.5 + d, 0.5 - d]
        }
        let g = LoopGain(bias: bias, share: share, firstStep: 0, effectiveGain: 1)
        #expect(g.sensitivity == nil && g.loopGain == nil && g.regime == .none)
    }

    /// Guards against an estimator that does not measure the plant: in the simulator the
    /// records' estimate over the last window is within 20% of the sensitivity measured by
    /// perturbing one bias at a time on the simulator's own router.
    @Test func recoversTheSimulatorsSensitivity() throws {
        var s = ControllerSimulationSettings()   // N 16, Z 8, K 4
        s.steps = 160
        s.batchTokens = 16_384
        s.distinctTokens = 1024
        s.features = 8
        s.drift = 0.002
        s.controller.kind = .pid
        s.controller.ki = 0.05
        s.expertRowsEvery = 1
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loop-gain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try RecordStore(path: dir.appendingPathComponent("lab.sqlite").path)
        let run = try store.beginRun(RunInfo(name: "sim", configTOML: s.toml, configHash: s.hash, seed: 1, threads: 1,
                                             kind: .simulation))
        var sim = ControllerSimulation(settings: s)
        try sim.run(store: store, runID: run)
        let windows = try LoopGain.windows(store, runID: run, windowSteps: 80) { _ in s.controller.ki }
        let last = try #require(windows[0]?.last)
        let estimated = try #require(last.sensitivity)
        let truth = sim.ownBiasSensitivity(layer: 0, delta: 2e-3)
        print("loop gain: estimated sensitivity \(estimated) +- \(last.standardError ?? .nan), true \(truth), g \(last.loopGain ?? .nan)")
        #expect(truth > 0)
        #expect(abs(estimated / truth - 1) < 0.2)
    }
}
