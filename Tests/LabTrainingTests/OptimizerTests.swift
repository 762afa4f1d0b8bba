import Foundation
import Testing
import LabConfig
@testable import LabTraining

/// PyTorch's AdamW written out per element in Double, independent of the optimiser's code.
struct ReferenceAdamW {
    var m: [Double]
    var v: [Double]
    var t = 0
    let beta1: Double, beta2: Double, eps: Double, weightDecay: Double

    init(count: Int, config: TrainConfig) {
        m = Array(repeating: 0, count: count)
        v = Array(repeating: 0, count: count)
        beta1 = config.beta1
        beta2 = config.beta2
        eps = config.adamEps
        weightDecay = config.weightDecay
    }

    mutating func step(_ p: inout [Double], _ g: [Double], lr: Double, decays: [Bool]) {
        t += 1
        let correction1 = 1 - pow(beta1, Double(t)), correction2 = 1 - pow(beta2, Double(t))
        for i in p.indices {
            if decays[i] { p[i] *= 1 - lr * weightDecay }
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            let denominator = v[i].squareRoot() / correction2.squareRoot() + eps
            p[i] -= (lr / correction1) * m[i] / denominator
        }
    }
}

/// |a - b| <= relative * max(|b|, scale): relative closeness, measured against `scale` for
/// values that may cancel to near zero.
func isClose(_ a: Float, _ b: Double, relative: Double = 1e-6, scale: Double = 0) -> Bool {
    abs(Double(a) - b) <= relative * max(abs(b), scale)
}

func trainConfig(lr: Double = 0.01, weightDecay: Double = 0.1, eps: Double = 1e-8) -> TrainConfig {
    var config = TrainConfig()
    config.learningRate = lr
    config.weightDecay = weightDecay
    config.adamEps = eps
    config.beta1 = 0.9
    config.beta2 = 0.95
    return config
}

@Suite("AdamW and gradient clipping")
struct OptimizerTests {
    /// Guards against formula slips (bias correction, epsilon placement, coupled instead of
    /// decoupled decay, decay outside the mask) in both the serial and the parallel path.
    @Test(arguments: [37, 20_011])
    func matchesPyTorchAdamWReference(count: Int) {
        // eps large enough that putting it inside the square root would show.
        let config = trainConfig(eps: 1e-6)
        let mask = [0..<10, 20..<30, 25..<33, count - 5..<count]
        let decays = (0..<count).map { i in mask.contains { $0.contains(i) } }
        var generator = SplitMix64(state: 11)
        var params = (0..<count).map { _ in Float.random(in: 0.5...2, using: &generator) * (Bool.random(using: &generator) ? 1 : -1) }
        var reference = params.map(Double.init)
        var referenceOptimizer = ReferenceAdamW(count: count, config: config)
        let optimizer = AdamW(parameterCount: count, config: config, decayMask: mask)

        for (step, lr) in [0.01, 0.02, 0.015, 0.005, 0.01, 0.001].enumerated() {
            let grads = (0..<count).map { i in Float.random(in: -1...1, using: &generator) * (step == 2 && i % 7 == 0 ? 0 : 1) }
            optimizer.update(params: &params, grads: grads, learningRate: Float(lr))
            referenceOptimizer.step(&reference, grads.map(Double.init), lr: Double(Float(lr)), decays: decays)
        }
        #expect(optimizer.step == 6)
        let state = optimizer.exportState()
        let badParams = (0..<count).filter { !isClose(params[$0], reference[$0]) }
        // m can cancel towards 0; its rounding error scales with the gradients, of order 1.
        let badM = (0..<count).filter { !isClose(state.m[$0], referenceOptimizer.m[$0], scale: 1) }
        let badV = (0..<count).filter { !isClose(state.v[$0], referenceOptimizer.v[$0]) }
        #expect(badParams.isEmpty, "params differ at \(badParams.prefix(5)): \(badParams.prefix(5).map { (params[$0], reference[$0]) })")
        #expect(badM.isEmpty, "m differs at \(badM.prefix(5))")
        #expect(badV.isEmpty, "v differs at \(badV.prefix(5))")
    }

    /// Guards against the vector body and the scalar tail of the kernel computing differently
    /// (which would make results depend on where chunks split): equal inputs, equal bits.
    @Test func everyPositionGetsIdenticalArithmetic() {
        let count = 8 * 3 + 5
        let optimizer = AdamW(parameterCount: count, config: trainConfig(), decayMask: [0..<count])
        var params = [Float](repeating: 0.731, count: count)
        for (step, grad) in [Float(0.37), -1.3e-4, 2.9].enumerated() {
            optimizer.update(params: &params, grads: [Float](repeating: grad, count: count), learningRate: 0.01 * Float(step + 1))
        }
        #expect(Set(params.map(\.bitPattern)).count == 1)
        #expect(Set(optimizer.exportState().v.map(\.bitPattern)).count == 1)
    }

    /// Guards against decay leaking onto unmasked parameters (norms, biases) or being skipped on
    /// masked ones: with zero gradients only decay moves a parameter.
    @Test func weightDecayTouchesOnlyMaskedRanges() {
        let config = trainConfig(weightDecay: 0.1)
        let optimizer = AdamW(parameterCount: 8, config: config, decayMask: [2..<4, 6..<7])
        var params: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        let before = params
        optimizer.update(params: &params, grads: [Float](repeating: 0, count: 8), learningRate: 0.5)
        let factor: Float = 1 - 0.5 * 0.1
        for i in 0..<8 {
            let expected = [2, 3, 6].contains(i) ? before[i] * factor : before[i]
            #expect(params[i] == expected, "parameter \(i)")
        }
    }

    /// Guards against NaN from the paper's epsilon of 1e-16 when a gradient is exactly zero
    /// (epsilon must be added after the square root, where it is representable).
    @Test func tinyEpsilonWithZeroGradientsStaysFinite() {
        let config = trainConfig(weightDecay: 0, eps: 1e-16)
        let optimizer = AdamW(parameterCount: 4, config: config, decayMask: [])
        var params: [Float] = [1, -1, 0.5, 0]
        for _ in 0..<3 {
            optimizer.update(params: &params, grads: [0, 0, 1e-30, 1e-3], learningRate: 0.01)
        }
        #expect(params.allSatisfy { $0.isFinite })
        #expect(params[0] == 1 && params[1] == -1)
        // 1e-30 squared underflows to 0 in Float (as in PyTorch's float32): m / eps stays tiny.
        #expect(abs(params[2] - 0.5) < 1e-6)
        // A steady gradient takes full Adam steps of size lr: 3 * 0.01.
        #expect(abs(params[3] + 0.03) < 1e-6)
    }

    /// Guards against resumed runs drifting: exporting and importing the state midway must give
    /// the same bits as never stopping.
    @Test func exportImportContinuesBitIdentically() throws {
        let count = 50
        let config = trainConfig()
        let mask = [0..<30]
        var generator = SplitMix64(state: 5)
        let gradients = (0..<6).map { _ in (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
        let start = (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }

        let straight = AdamW(parameterCount: count, config: config, decayMask: mask)
        var straightParams = start
        for g in gradients { straight.update(params: &straightParams, grads: g, learningRate: 0.01) }

        let first = AdamW(parameterCount: count, config: config, decayMask: mask)
        var resumedParams = start
        for g in gradients[..<3] { first.update(params: &resumedParams, grads: g, learningRate: 0.01) }
        let saved = first.exportState()
        #expect(saved.step == 3)
        let second = AdamW(parameterCount: count, config: config, decayMask: mask)
        try second.importState(m: saved.m, v: saved.v, step: saved.step)
        for g in gradients[3...] { second.update(params: &resumedParams, grads: g, learningRate: 0.01) }

        #expect(resumedParams.map(\.bitPattern) == straightParams.map(\.bitPattern))
        #expect(second.exportState().m.map(\.bitPattern) == straight.exportState().m.map(\.bitPattern))
        #expect(second.exportState().v.map(\.bitPattern) == straight.exportState().v.map(\.bitPattern))
        #expect(second.step == 6)
    }

    /// Guards against loading optimiser state from a differently sized model.
    @Test func importRejectsWrongSizes() {
        let optimizer = AdamW(parameterCount: 4, config: trainConfig(), decayMask: [])
        #expect(throws: OptimizerError.self) { try optimizer.importState(m: [0, 0, 0], v: [0, 0, 0, 0], step: 1) }
        do {
            try optimizer.importState(m: [0, 0, 0, 0], v: [0, 0], step: 1)
        } catch let error as OptimizerError {
            #expect(error.message.contains("4 first-moment and 2 second-moment") && error.message.contains("4 parameters"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(throws: OptimizerError.self) { try optimizer.importState(m: [0, 0, 0, 0], v: [0, 0, 0, 0], step: -1) }
        #expect(optimizer.step == 0)
    }

    /// Guards against a wrong norm or a wrong factor: [3, 4] has norm 5 and clips to norm 1;
    /// below the limit, with clipping off, or with a non-finite norm, the factor is 1.
    @Test func clippingFactorScalesToMaxNorm() {
        let clip = gradientClip([3, 4], count: 2, maxNorm: 1)
        #expect(clip.norm == 5)
        #expect(clip.scale == Float(1.0 / (5.0 + 1e-6)))

        let smallNorm = (Double(Float(0.3)) * Double(Float(0.3)) + Double(Float(0.4)) * Double(Float(0.4))).squareRoot()
        let small = gradientClip([0.3, -0.4], count: 2, maxNorm: 1)
        #expect(small.norm == Float(smallNorm) && small.scale == 1)

        let off = gradientClip([30, 40], count: 2, maxNorm: 0)
        #expect(off.norm == 50 && off.scale == 1)

        let broken = gradientClip([1, .infinity, 2], count: 3, maxNorm: 1)
        #expect(broken.norm == .infinity && broken.scale == 1)
    }

    /// Guards against the fused clip drifting from clipping first: AdamW with `gradScale` gives
    /// the bits of AdamW on gradients scaled beforehand (the product each element would have
    /// stored), over the lanes and the tail, with and without decay, and leaves `grads` as they
    /// were.
    @Test(arguments: [Float(1), Float(1.0 / (5.0 + 1e-6)), Float(0.0123)])
    func fusedClipMatchesScaledGradients(scale: Float) {
        let count = 1_003
        let config = trainConfig(eps: 1e-8)
        let mask = [0..<500, 990..<1_003]
        var generator = SplitMix64(state: 21)
        let start = (0..<count).map { _ in Float.random(in: -2...2, using: &generator) }
        var fusedParams = start, scaledParams = start
        let fused = AdamW(parameterCount: count, config: config, decayMask: mask)
        let scaled = AdamW(parameterCount: count, config: config, decayMask: mask)
        let unscaled = AdamW(parameterCount: count, config: config, decayMask: mask)
        var unscaledParams = start
        for step in 0..<3 {
            let grads = (0..<count).map { _ in Float.random(in: -3...3, using: &generator) }
            let before = grads
            fused.update(params: &fusedParams, grads: grads, learningRate: 0.01 * Float(step + 1), gradScale: scale)
            scaled.update(params: &scaledParams, grads: grads.map { $0 * scale }, learningRate: 0.01 * Float(step + 1))
            unscaled.update(params: &unscaledParams, grads: grads, learningRate: 0.01 * Float(step + 1))
            #expect(grads == before)
        }
        #expect(fusedParams.map(\.bitPattern) == scaledParams.map(\.bitPattern))
        #expect(fused.exportState().m.map(\.bitPattern) == scaled.exportState().m.map(\.bitPattern))
        #expect(fused.exportState().v.map(\.bitPattern) == scaled.exportState().v.map(\.bitPattern))
        // The factor is applied: the first moment follows the scaled gradients, not the raw ones.
        #expect((fused.exportState().m == unscaled.exportState().m) == (scale == 1))
    }

    /// Guards against a norm that loses precision (Float accumulation) or changes between
    /// calls: over 100k elements it matches a plain Double loop and repeats bit for bit.
    @Test func normIsAccurateAndRepeatable() {
        var generator = SplitMix64(state: 3)
        let grads = (0..<100_003).map { _ in Float.random(in: -1e-3...1e-3, using: &generator) }
        let plain = grads.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let first = gradientClip(grads, count: grads.count, maxNorm: 0).norm
        let second = gradientClip(grads, count: grads.count, maxNorm: 0).norm
        #expect(first.bitPattern == second.bitPattern)
        #expect(isClose(first, plain, relative: 1e-6))
        let scale = gradientClip(grads, count: grads.count, maxNorm: Float(plain / 2)).scale
        let after = grads.reduce(0.0) { $0 + Double($1 * scale) * Double($1 * scale) }.squareRoot()
        #expect(abs(after - plain / 2) < 1e-5 * plain)
    }
}

@Suite("Learning-rate and decay schedules")
struct ScheduleTests {
    func config(_ kind: TrainSchedule, steps: Int = 110, warmup: Int = 10) -> TrainConfig {
        var config = TrainConfig()
        config.schedule = kind
        config.steps = steps
        config.warmupSteps = warmup
        config.learningRate = 1e-3
        config.minLrRatio = 0.1
        return config
    }

    /// Guards against off-by-one warm-up (a wasted step at lr 0, or peak reached late) and a
    /// cosine that misses its end points.
    @Test func cosineScheduleHitsWarmupPeakMiddleAndEnd() throws {
        let schedule = try LearningRateSchedule(config(.cosine))
        #expect(schedule.rate(atStep: 0) == Float(1e-3 * 1 / 10))
        #expect(schedule.rate(atStep: 4) == Float(1e-3 * 5 / 10))
        #expect(schedule.rate(atStep: 9) == Float(1e-3))
        #expect(schedule.rate(atStep: 10) == Float(1e-3))
        // Cosine over steps 10...109: the middle is step 59.5; the mean of 59 and 60 is close.
        let middle = (Double(schedule.rate(atStep: 59)) + Double(schedule.rate(atStep: 60))) / 2
        #expect(abs(middle - 1e-3 * 0.55) < 1e-7)
        #expect(abs(Double(schedule.rate(atStep: 109)) - 1e-4) < 1e-10)
        #expect(schedule.rate(atStep: 500) == schedule.rate(atStep: 109))
        for step in 10..<109 { #expect(schedule.rate(atStep: step + 1) <= schedule.rate(atStep: step)) }
    }

    /// Guards against the constant schedule decaying.
    @Test func constantScheduleStaysAtPeakAfterWarmup() throws {
        let schedule = try LearningRateSchedule(config(.constant, warmup: 4))
        #expect(schedule.rate(atStep: 1) == Float(1e-3 * 2 / 4))
        #expect([4, 50, 109, 1000].map { schedule.rate(atStep: $0) } == [Float](repeating: Float(1e-3), count: 4))
        let noWarmup = try LearningRateSchedule(config(.cosine, warmup: 0))
        #expect(noWarmup.rate(atStep: 0) == Float(1e-3))
    }

    /// Guards against a misspelt schedule silently training with some default (a learning-rate
    /// schedule is a `TrainSchedule`, checked when the config is read).
    @Test func unknownScheduleIsRejectedWithItsName() throws {
        var c = LabConfig()
        let error = #expect(throws: ConfigError.self) { try c.set("train.schedule", .string("linear")) }
        #expect(error?.description.contains(#"train.schedule = "linear": must be one of "cosine", "constant""#) == true)
        #expect(throws: ScheduleError.self) { _ = try decay(kind: "exponential", step: 0, totalSteps: 10, finalRatio: 0.1) }
    }

    /// Guards against decay factors that do not run from 1 to the final ratio.
    @Test func decayRunsFromOneToFinalRatio() throws {
        for kind in DecayKind.allCases {
            let final = kind == .constant ? 1 : 0.2
            #expect(decay(kind: kind, step: 0, totalSteps: 11, finalRatio: 0.2) == 1)
            #expect(abs(decay(kind: kind, step: 10, totalSteps: 11, finalRatio: 0.2) - final) < 1e-12)
            #expect(abs(decay(kind: kind, step: 99, totalSteps: 11, finalRatio: 0.2) - final) < 1e-12)
        }
        #expect(abs(decay(kind: .linear, step: 5, totalSteps: 11, finalRatio: 0.2) - 0.6) < 1e-12)
        #expect(abs(decay(kind: .cosine, step: 5, totalSteps: 11, finalRatio: 0.2) - 0.6) < 1e-12)
        #expect(decay(kind: .cosine, step: 2, totalSteps: 11, finalRatio: 0.2) > decay(kind: .linear, step: 2, totalSteps: 11, finalRatio: 0.2))
        #expect(try decay(kind: "linear", step: 5, totalSteps: 11, finalRatio: 0.2) == decay(kind: .linear, step: 5, totalSteps: 11, finalRatio: 0.2))
    }
}

/// A seeded generator, so that random tests replay exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
