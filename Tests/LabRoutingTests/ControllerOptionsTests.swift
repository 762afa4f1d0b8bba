// controller.load_window and controller.loop_gain_target on hand-made loads and a linear plant.
import Foundation
import LabConfig
import Testing
import LabRouting

/// A pid controller with K = 1, Z = 0 (target share 1/N) and the given options.
private func pid(experts N: Int, ki: Double, window: Int = 1, loopGain: Double = 0, steps: Int = 100) throws -> BiasController {
    var c = ControllerConfig()
    c.kind = .pid; c.ki = ki; c.loadWindow = window; c.loopGainTarget = loopGain
    return try BiasController(config: c, routedExperts: N, zeroExperts: 0, topK: 1, totalSteps: steps)
}

private func feed(_ controller: inout BiasController, _ loads: [Int], step t: Int) {
    let tokens = loads.reduce(0, +)
    loads.withUnsafeBufferPointer { controller.observe(loads: $0.baseAddress!, tokens: tokens) }
    controller.step(t)
}

@Suite struct ControllerOptionsTests {
    /// Guards against a moving average that changes a steady state (a window that divides by
    /// W before it is full, or averages the wrong axis): constant loads give the same updates
    /// as W = 1.
    @Test func constantLoadsGiveTheSameUpdatesAsNoWindow() throws {
        var plain = try pid(experts: 4, ki: 0.1), windowed = try pid(experts: 4, ki: 0.1, window: 4)
        for t in 0..<12 {
            feed(&plain, [40, 30, 20, 10], step: t)
            feed(&windowed, [40, 30, 20, 10], step: t)
            for i in 0..<4 { #expect(abs(plain.state.integral[i] - windowed.state.integral[i]) < 1e-12) }
        }
    }

    /// Guards against a window that is not applied (or is the update interval in disguise): a
    /// period-2 load swing moves the bias every step with W = 1 and not at all after the first
    /// update with W = 2, which still updates every step.
    @Test func periodTwoLoadsAreDamped() throws {
        var plain = try pid(experts: 4, ki: 0.1), windowed = try pid(experts: 4, ki: 0.1, window: 2)
        var plainBias: [Float] = [], windowedBias: [Float] = []
        for t in 0..<20 {
            let loads = t % 2 == 0 ? [40, 10, 25, 25] : [10, 40, 25, 25]
            feed(&plain, loads, step: t); feed(&windowed, loads, step: t)
            if t >= 2 { plainBias.append(plain.bias[0]); windowedBias.append(windowed.bias[0]) }
        }
        let swing = { (b: [Float]) in Double(b.max()! - b.min()!) }
        #expect(swing(plainBias) > 0.01)             // ki * 0.15 per step
        #expect(swing(windowedBias) < 1e-6)
        #expect(abs(Double(windowed.bias[0]) + 0.1 * 0.15) < 1e-6)   // the first update, held
    }

    /// Guards against an adaptive gain that does not track the plant (a wrong sign, a fit
    /// confounded by the feedback, the bias taken from the wrong update): on a linear plant
    /// share_i = 1/N + noise + S(t) * (b_i - mean b) whose sensitivity S grows tenfold, the loop
    /// gain ki * S stays within 10% of the target on average and 30% at every update once the fit
    /// window is full (the fit lags a sensitivity that grows 28% per window), while a fixed
    /// ki lets it grow tenfold.
    @Test func adaptiveGainHoldsTheLoopGain() throws {
        let N = 8, steps = 600, tokens = 1_000_000, target = 0.5
        var adaptive = try pid(experts: N, ki: 0.01, loopGain: target, steps: steps)
        var fixed = try pid(experts: N, ki: 0.01, steps: steps)
        func sensitivity(_ t: Int) -> Double { 5 * pow(10, Double(t) / Double(steps)) }   // 5 -> 50
        var random: UInt64 = 12345
        func noise() -> Double {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(random >> 11) / Double(1 << 52) - 1   // [-1, 1)
        }
        func loads(_ c: BiasController, _ t: Int) -> [Int] {
            let b = c.bias.map(Double.init), mb = b.reduce(0, +) / Double(N)
            let d = (0..<N).map { _ in 0.01 * noise() }, md = d.reduce(0, +) / Double(N)
            return (0..<N).map { i in
                let share = 1 / Double(N) + d[i] - md + sensitivity(t) * (b[i] - mb)
                return Int((share * Double(tokens)).rounded())
            }
        }
        var ratios: [Double] = []
        for t in 0..<steps {
            feed(&adaptive, loads(adaptive, t), step: t)
            feed(&fixed, loads(fixed, t), step: t)
            if t >= 2 * BiasController.sensitivityWindow { ratios.append(adaptive.integralGain * sensitivity(t) / target) }
        }
        #expect(adaptive.sensitivityEstimate != nil)
        let mean = ratios.reduce(0, +) / Double(ratios.count)
        print("adaptive gain on a linear plant: loop gain / target mean \(mean), \(ratios.min()!)...\(ratios.max()!)")
        #expect(abs(mean - 1) < 0.1, "mean loop gain / target \(mean)")
        #expect(ratios.allSatisfy { abs($0 - 1) < 0.3 }, "loop gain / target: \(ratios.min()!)...\(ratios.max()!)")
        #expect(fixed.integralGain * sensitivity(steps - 1) > 4 * fixed.integralGain * sensitivity(200))
    }

    /// Guards against new options that change the paper's rule: the defaults keep every state
    /// field the options add at nil.
    @Test func defaultsLeaveTheNewStateEmpty() throws {
        var c = try pid(experts: 4, ki: 0.1)
        for t in 0..<5 { feed(&c, [40, 30, 20, 10], step: t) }
        #expect(c.state.shareHistory == nil && c.state.fitShares == nil && c.state.fitBiases == nil && c.state.sensitivity == nil)
    }
}
