import Foundation
import LabConfig
import LabRecords
import LabRouting
import Testing
@testable import LabSimulation

/// The controller simulator: its fast path against routing every token, the paper's rule on
/// it, and the rows it records.
@Suite struct ControllerSimulationTests {
    /// A small router shape that runs in well under a second in debug builds.
    static func small(steps: Int = 200) -> ControllerSimulationSettings {
        var s = ControllerSimulationSettings()   // N 16, Z 8, K 4, K_e = 4 * 16 / 24
        s.steps = steps
        s.batchTokens = 4096
        s.distinctTokens = 256
        s.features = 8
        s.controller.ki = 0.3
        return s
    }

    /// The polynomial exp against the C library, and the fused softmax against a plain Double
    /// softmax (the plain loop is the oracle), entropy included, for a length with a tail.
    @Test func softmaxMatchesThePlainLoop() {
        var random = SimulationRandom(seed: 3)
        for x in stride(from: -80.0, through: 80.0, by: 0.37) {
            let input = Float(x)
            let v = exp8(SIMD8(repeating: input))[0]
            #expect(abs(Double(v) / exp(Double(input)) - 1) < 5e-7, "exp(\(input))")
        }
        let E = 27
        var logits = (0..<E).map { _ in Float(random.normal() * 3) }
        let plain = logits.map(Double.init)
        let top = plain.max()!
        let z = plain.map { exp($0 - top) }.reduce(0, +)
        let p = plain.map { exp($0 - top) / z }
        let entropy = -p.map { $0 * log($0) }.reduce(0, +)
        let h = logits.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress!, count: E) }
        for e in 0..<E { #expect(abs(Double(logits[e]) - p[e]) < 1e-6) }
        #expect(abs(Double(h) - entropy) < 1e-5)
    }

    /// The fast path (route each distinct token once, count its choice as often as it was
    /// drawn) gives exactly the loads of routing all B tokens one by one with `route`.
    @Test func distinctTokenRoutingEqualsRoutingEveryToken() throws {
        var s = Self.small(steps: 1)
        s.controller.kind = .none
        var sim = ControllerSimulation(settings: s)
        try sim.run()

        // Replay the simulator's random stream: tokens, router, then the step's draw and drift.
        var random = SimulationRandom(seed: s.seed)
        let tokens = try TokenPopulation(distinct: s.distinctTokens, features: s.features, zipfExponent: s.zipfExponent,
                                         random: &random)
        let m = s.model, E = m.nRoutedExperts + m.zeroExpertNum
        var router = DriftingRouter(routedExperts: m.nRoutedExperts, zeroExperts: m.zeroExpertNum, features: s.features,
                                    sigma: s.routerScale, drift: s.drift, random: &random)
        var counts = [Int32](repeating: 0, count: s.distinctTokens)
        tokens.sample(s.batchTokens, into: &counts, random: &random)
        router.advance(zeroOffset: s.zeroOffsetStart, random: &random)
        // Every token of the batch, one row each.
        let ids = counts.indices.flatMap { c in Array(repeating: Int32(c), count: Int(counts[c])) }
        #expect(ids.count == s.batchTokens)
        var probs = [Float](repeating: 0, count: ids.count * E), entropy = [Float](repeating: 0, count: ids.count)
        ids.withUnsafeBufferPointer { i in
            probs.withUnsafeMutableBufferPointer { p in
                entropy.withUnsafeMutableBufferPointer { h in
                    router.probabilities(tokens, ids: i, probs: p.baseAddress!, entropy: h.baseAddress!)
                }
            }
        }
        var plan = RoutingPlan()
        try route(probs: probs, bias: [Float](repeating: 0, count: E), tokens: ids.count, routedExperts: m.nRoutedExperts,
                  zeroExperts: m.zeroExpertNum, topK: m.moeTopk, gateScale: 1, into: &plan)
        #expect((0..<E).map { plan.load(expert: $0) } == sim.lastLoads[0])
        let ffn = plan.ffnCount.map(Double.init).reduce(0, +) / Double(ids.count)
        #expect(abs(ffn - sim.ffnMean[0][0]) < 1e-12)
    }

    /// The paper's rule (kp 0, ki = mu, kd 0) brings the mean number of FFN experts per token
    /// from far below K_e (the router prefers zero experts) to K_e, and holds it there.
    @Test func paperRuleSettlesFfnExpertsPerTokenAtTarget() throws {
        let s = Self.small()
        var sim = ControllerSimulation(settings: s)
        try sim.run()
        let summary = ControllerSummary(sim)
        let target = 4.0 * 16 / 24
        #expect(summary.target == target)
        #expect(summary.initialMean < 0.6 * target)
        #expect(summary.settlingStep != nil)
        #expect(abs(summary.tailMean / target - 1) < 0.01)
        #expect(summary.tailMaxDeviation < 0.05)
    }

    /// Without a controller the same router stays far from K_e: the settling above is the
    /// controller's doing.
    @Test func withoutControllerTheBudgetIsMissed() throws {
        var s = Self.small(steps: 50)
        s.controller.kind = .none
        var sim = ControllerSimulation(settings: s)
        try sim.run()
        let summary = ControllerSummary(sim)
        #expect(summary.settlingStep == nil)
        #expect(summary.tailMean < 0.7 * summary.target)
    }

    /// The controller never moves a zero expert's bias (LONGCAT.md section 4): after a whole
    /// run every zero expert's bias, P, I and D term is exactly 0.
    @Test func zeroExpertBiasStaysZero() throws {
        var s = Self.small(steps: 60)
        s.controller.kp = 0.5
        s.controller.kd = 0.5
        var sim = ControllerSimulation(settings: s)
        try sim.run()
        #expect(ControllerSummary(sim).zeroExpertBiasMax == 0)
        let c = sim.controllers[0]
        for e in c.routedExperts..<c.experts {
            #expect(c.bias[e] == 0 && c.pTerm[e] == 0 && c.iTerm[e] == 0 && c.dTerm[e] == 0)
        }
        #expect(c.bias[0..<c.routedExperts].contains { $0 != 0 })
    }

    /// A simulation writes the tables a training run writes: a 'simulation' run, one
    /// layer_steps row per step and layer, expert_steps at the chosen interval (zero experts
    /// flagged), and activated_params whose tokens sum to the batch and whose parameter counts
    /// come from `ParameterCount` (each simulated layer standing for L / S model layers).
    @Test func recordsTheTablesOfATrainingRun() throws {
        var s = Self.small(steps: 12)
        s.layers = 2
        s.model.numLayers = 4
        s.expertRowsEvery = 5
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("controller-sim-\(getpid()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try RecordStore(path: path)
        let run = try store.beginRun(RunInfo(name: "sim", configTOML: s.toml, configHash: s.hash, seed: 1, threads: 1,
                                             kind: .simulation))
        var sim = ControllerSimulation(settings: s)
        try sim.run(store: store, runID: run)
        try store.finishRun(run, status: .finished)

        #expect(try store.run(named: "sim")?.kind == .simulation)
        let layers = try store.layerSteps(runID: run)
        #expect(layers.count == 12 * 2)
        #expect(layers.filter { $0.layer == 1 }.map(\.ffnExpertsMean) == sim.ffnMean[1])
        let experts = try store.expertSteps(runID: run, step: 10)
        #expect(experts.count == 2 * 24)
        #expect(experts.filter(\.isZero).map(\.expert) == Array(16..<24) + Array(16..<24))
        #expect(try store.expertSteps(runID: run, step: 11).count == 2 * 24)   // the last step
        #expect(try store.expertSteps(runID: run, step: 3).isEmpty)
        let activated = try store.activatedParams(runID: run, steps: 7...7)
        #expect(activated.map(\.tokens).reduce(0, +) == s.batchTokens)
        let count = ParameterCount(model: s.model)
        for row in activated {
            #expect(row.ffnExperts % 2 == 0)   // 2 model layers per simulated layer
            #expect(row.activatedParams == count.activatedParameters(ffnExperts: row.ffnExperts))
        }
    }

    /// Bad simulation settings are errors naming the key.
    @Test func badSettingsAreNamedErrors() throws {
        var s = ControllerSimulationSettings()
        #expect(throws: SimulationError.self) { try s.apply(simKey: "steps", value: "0") }
        #expect(throws: SimulationError.self) { try s.apply(simKey: "drift", value: "fast") }
        #expect(throws: SimulationError.self) { try s.apply(simKey: "nonsense", value: "1") }
        s.layers = 3   // does not divide the default 2 layers
        var sim = ControllerSimulation(settings: s)
        #expect(throws: SimulationError.self) { try sim.run() }
        var bad = Self.small(steps: 1)
        bad.model.moeTopk = bad.model.nRoutedExperts + bad.model.zeroExpertNum + 1   // no router has this shape
        var other = ControllerSimulation(settings: bad)
        #expect(throws: (any Error).self) { try other.run() }
    }
}
