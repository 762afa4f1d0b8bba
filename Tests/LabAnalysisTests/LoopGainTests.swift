import Foundation
import LabConfig
import LabRecords
import LabSimulation
import Testing
@testable import LabAnalysis

/// A deterministic stream of uniform numbers in [-1, 1) (a 64-bit LCG's top bits).
private struct Noise {
    var state: UInt64
    mutating func next() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(1 << 52) - 1
    }
}

/// The simulator with expert rows every step, a small batch (so that sampling noise moves the
/// loads) and the given pid gains; returns the finished simulation and its records.
private func simulate(ki: Double, loopGainTarget: Double = 0, steps: Int, seed: UInt64 = 1)
    throws -> (sim: ControllerSimulation, store: RecordStore, run: Int64) {
    var s = ControllerSimulationSettings()   // N 16, Z 8, K 4
    s.steps = steps
    s.batchTokens = 8_192
    s.distinctTokens = 1024
    s.features = 8
    s.drift = 0.002
    s.seed = seed
    s.controller.kind = .pid
    s.controller.ki = ki
    s.controller.loopGainTarget = loopGainTarget
    s.expertRowsEvery = 1
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loop-gain-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let store = try RecordStore(path: dir.appendingPathComponent("lab.sqlite").path)
    let run = try store.beginRun(RunInfo(name: "sim", configTOML: s.toml, configHash: s.hash, seed: 1, threads: 1,
                                         kind: .simulation))
    var sim = ControllerSimulation(settings: s)
    try sim.run(store: store, runID: run)
    return (sim, store, run)
}

/// The loop-gain estimate: on series with a known slope, and in the controller simulator, where
/// the router (hence the sensitivity) is known.
@Suite struct LoopGainTests {
    /// Guards against a sign or alignment error (bias(t) against share(t) instead of t + 1, or
    /// -d/db): shares that respond to the previous step's bias with slope +5, under a closed
    /// loop b += 0.1 * (target - share) driven by noise and a linear drift, give S = 5, and the
    /// effective gain read off the bias changes is the loop's 0.1.
    @Test func recoversAKnownSlopeInAClosedLoop() {
        var noise = Noise(state: 7)
        let N = 6, k = 0.1, S = 5.0
        var bias: [[Double]] = [], share: [[Double]] = []
        var b = [Double](repeating: 0, count: N)
        for t in 0..<400 {
            // share(t) = 1/N + drift + S * (bias routing step t, centred) + noise
            let mb = b.reduce(0, +) / Double(N)
            let s = (0..<N).map { i in
                1 / Double(N) + 1e-4 * Double(t) * Double(i - N / 2) / Double(N) + S * (b[i] - mb) + 0.01 * noise.next()
            }
            share.append(s)
            b = (0..<N).map { b[$0] + k * (1 / Double(N) - s[$0]) }
            bias.append(b)
        }
        let g = LoopGain(bias: bias, share: share, firstStep: 0)
        #expect(abs(g.sensitivity! / S - 1) < 0.05, "S = \(g.sensitivity!)")
        #expect(abs(g.effectiveGain! / k - 1) < 1e-9)
        #expect(abs(g.loopGain! - 0.5) < 0.03)
        #expect(g.regime == .monotone)
        #expect(g.samples == 399 * N)
    }

    /// Guards against reading a margin off the wrong thresholds: 1 and 2 are the borders.
    @Test func regimesFollowTheIntegratorMargins() {
        #expect(LoopGain.Regime(gain: 0.5) == .monotone)
        #expect(LoopGain.Regime(gain: 1.0) == .ringing)
        #expect(LoopGain.Regime(gain: 1.99) == .ringing)
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
        let g = LoopGain(bias: bias, share: share, firstStep: 0)
        #expect(g.sensitivity == nil && g.loopGain == nil && g.regime == .none)
    }

    /// Guards against an estimator confounded by the feedback (the load-change on bias-change
    /// regression read 3.5 times the true value here): in the simulator the records' estimate
    /// over the last 200 steps is within 20% of the sensitivity measured by perturbing one
    /// bias at a time on the simulator's own router, at ki = 0.3 (loop gain about 0.5), and the
    /// effective gain read off the records is the configured ki. Outside that range the fit
    /// and the perturbation part: at ki = 0.1 (g near 0.2) the router's drift, which the bias
    /// tracks, pulls the fit 60% low; at ki = 0.6 the loads swing over a range where the
    /// perturbed slope at the final bias is half the slope the swings see (fit 2.1x).
    @Test func recoversTheSimulatorsSensitivity() throws {
        let ki = 0.3
        let (sim, store, run) = try simulate(ki: ki, steps: 600)
        let last = try #require(LoopGain.windows(store, runID: run, windowSteps: 200, lastOnly: true)[0]?.last)
        let estimated = try #require(last.sensitivity)
        let truth = sim.ownBiasSensitivity(layer: 0, delta: 2e-3)
        print("ki \(ki): estimated sensitivity \(estimated) +- \(last.standardError ?? .nan), true \(truth), g \(last.loopGain ?? .nan)")
        #expect(truth > 0)
        #expect(abs(estimated / truth - 1) < 0.2)
        #expect(abs(try #require(last.effectiveGain) / ki - 1) < 1e-3)
    }

    /// Guards against an adaptive gain that does not hold its loop gain (a wrong sign, a
    /// confounded fit, the gain never applied): with loop_gain_target 0.5 the controller's final
    /// ki times the simulator's perturbed sensitivity is within 20% of 0.5, from a start at ki
    /// 0.05 that would leave it far below (the records' own estimate of it reads low, as the
    /// fit does at small loop gains, but well above the fixed start).
    @Test func adaptiveGainHoldsTheLoopGainInTheSimulator() throws {
        let (sim, store, run) = try simulate(ki: 0.05, loopGainTarget: 0.5, steps: 600)
        let controller = sim.controllers[0]
        let truth = sim.ownBiasSensitivity(layer: 0, delta: 2e-3)
        let held = controller.integralGain * truth
        let records = try #require(LoopGain.windows(store, runID: run, windowSteps: 200, lastOnly: true)[0]?.last)
        print("adaptive: ki \(controller.integralGain), true S \(truth), loop gain \(held), from the records \(records.loopGain ?? .nan)")
        #expect(abs(held / 0.5 - 1) < 0.2)
        #expect(0.05 * truth < 0.3)
        #expect(try #require(records.loopGain) > 0.25)
    }
}
