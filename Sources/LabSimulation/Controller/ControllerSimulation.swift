import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LabConfig
import LabRecords
import LabRouting

/// The bias controllers without a model (LONGCAT.md section 4): synthetic tokens, a drifting
/// random router, LabRouting's own top-k (`route`) and controllers (`BiasController`), and the
/// same records a training run writes.
///
/// How it reaches tens of millions of routed tokens per second on one core: a step's B tokens
/// are drawn from C distinct tokens (`TokenPopulation`), and tokens with the same latent
/// features have the same router probabilities, hence, under one bias, the same top-k choice.
/// So each step routes the C distinct tokens once, with `route` itself (same kernel, same tie
/// rule), and counts each choice as many times as its token was drawn. Loads, FFN-expert counts
/// and gates are then exactly those of routing all B tokens one by one; only the cost differs.
/// The loads go to `BiasController.observe(loads:tokens:)` and `step(_:)` unchanged.
///
/// Dimension letters: B tokens per step, C distinct tokens, N FFN experts, Z zero experts,
/// E = N + Z, K top-k slots, L model layers, S simulated layers.
public struct ControllerSimulation {
    public let settings: ControllerSimulationSettings

    /// Per layer and step: mean and std over tokens of the FFN experts used, MaxVio over the FFN
    /// experts, share of zero-expert slots.
    public private(set) var ffnMean: [[Double]] = []
    public private(set) var ffnStd: [[Double]] = []
    public private(set) var maxVio: [[Double]] = []
    public private(set) var zeroShare: [[Double]] = []
    /// Per layer, the controllers after the last step.
    public private(set) var controllers: [BiasController] = []
    /// Per layer, `[E]` slots each expert received in the last step.
    public private(set) var lastLoads: [[Int]] = []
    /// The layers and the last step's draw, kept for `ownBiasSensitivity`.
    private var finalLayers: [Layer] = []
    private var finalTokens: TokenPopulation?
    private var finalDrawn: [Int32] = []
    private var finalCounts: [Int32] = []
    /// Seconds spent simulating (routing, controllers, statistics) and writing records, by the
    /// wall clock; and the CPU time of the simulating thread, which does not count the time
    /// other processes took the core from it.
    public private(set) var simulationSeconds = 0.0
    public private(set) var recordingSeconds = 0.0
    public private(set) var simulationCpuSeconds = 0.0

    public init(settings: ControllerSimulationSettings) {
        self.settings = settings
    }

    /// B * S * steps per second of one core: over the simulating thread's CPU time (recording
    /// excluded), so that a busy machine does not understate it.
    public var routedTokensPerSecond: Double {
        simulationCpuSeconds > 0 ? Double(settings.batchTokens * settings.layers * settings.steps) / simulationCpuSeconds : 0
    }

    /// Distinct tokens routed per call of `route`: small enough that a chunk's probabilities
    /// `[chunk, E]` stay in the L2 cache between being computed and being routed.
    static let chunk = 256

    /// One layer's router, controller and buffers.
    private struct Layer {
        var router: DriftingRouter
        var controller: BiasController
        var plan = RoutingPlan()
        var probs: [Float]     // [chunk, E]
        var entropy: [Float]   // [chunk]
        var loads: [Int]       // [E] slots this step
        var gateSums: [Double] // [E]

        /// Training step t of this layer: moves the router, routes the drawn distinct tokens
        /// `ids` with the current bias, chunk by chunk, counts each choice `counts[id]` times,
        /// then lets the controller observe the B tokens' loads and update. Adds each token's FFN
        /// experts to `totalFfn`.
        mutating func step(_ t: Int, _ tokens: TokenPopulation, ids: [Int32], counts: [Int32], batchTokens B: Int,
                           totalFfn: inout [Int32], zeroOffset: Double, gateScale: Float,
                           random: inout SimulationRandom) -> StepStats {
            router.advance(zeroOffset: zeroOffset, random: &random)
            let (N, Z, K) = (controller.routedExperts, controller.zeroExperts, controller.topK)
            for e in loads.indices { loads[e] = 0; gateSums[e] = 0 }
            var sums = StepSums()
            for start in stride(from: 0, to: ids.count, by: ControllerSimulation.chunk) {
                let n = min(ControllerSimulation.chunk, ids.count - start)
                ids.withUnsafeBufferPointer { all in
                    probs.withUnsafeMutableBufferPointer { p in
                        entropy.withUnsafeMutableBufferPointer { h in
                            router.probabilities(tokens, ids: UnsafeBufferPointer(rebasing: all[start..<start + n]),
                                                 probs: p.baseAddress!, entropy: h.baseAddress!)
                        }
                    }
                }
                probs.withUnsafeBufferPointer { p in
                    controller.bias.withUnsafeBufferPointer { b in
                        LabRouting.route(probs: p.baseAddress!, bias: b.baseAddress!, tokens: n, routedExperts: N,
                                         zeroExperts: Z, topK: K, gateScale: gateScale, into: &plan)
                    }
                }
                for r in 0..<n {
                    let id = Int(ids[start + r]), weight = Int(counts[id])
                    for j in 0..<K {
                        let e = Int(plan.expert[r * K + j])
                        loads[e] += weight
                        gateSums[e] += Double(weight) * Double(plan.gate[r * K + j])
                    }
                    let f = Int(plan.ffnCount[r])
                    totalFfn[id] += Int32(f)
                    sums.add(ffnExperts: f, weight: weight, entropy: Double(entropy[r]))
                }
            }
            loads.withUnsafeBufferPointer { controller.observe(loads: $0.baseAddress!, tokens: B) }
            controller.step(t)
            return sums.stats(loads: loads, routedExperts: N, topK: K)
        }
    }

    /// What `progress` receives every tenth of the run.
    public struct Progress: Sendable {
        public var step: Int
        public var ffnExpertsMean: Double
        public var maxVio: Double
        public var routedTokensPerSecond: Double
    }

    /// Runs every step; writes `steps`, `layer_steps`, `expert_steps` and `activated_params`
    /// rows of run `runID` into `store` when given. Throws on a bad setting or a failed write.
    public mutating func run(store: RecordStore? = nil, runID: Int64? = nil,
                             progress: ((Progress) -> Void)? = nil) throws {
        let s = settings
        try s.validate()
        let m = s.model, N = m.nRoutedExperts, Z = m.zeroExpertNum, K = m.moeTopk, E = N + Z
        let B = s.batchTokens, C = s.distinctTokens, S = s.layers
        let layersPerSimulated = m.numLayers / S
        let activated = ParameterCount(model: m)
        var random = SimulationRandom(seed: s.seed)
        let tokens = try TokenPopulation(distinct: C, features: s.features, zipfExponent: s.zipfExponent, random: &random)
        var layers: [Layer] = []
        for _ in 0..<S {
            let router = DriftingRouter(routedExperts: N, zeroExperts: Z, features: s.features, sigma: s.routerScale,
                                        drift: s.drift, random: &random)
            let controller = try BiasController(config: s.controller, routedExperts: N, zeroExperts: Z, topK: K,
                                                totalSteps: s.steps)
            layers.append(Layer(router: router, controller: controller, probs: Array(repeating: 0, count: Self.chunk * E),
                                entropy: Array(repeating: 0, count: Self.chunk), loads: Array(repeating: 0, count: E),
                                gateSums: Array(repeating: 0, count: E)))
        }
        ffnMean = Array(repeating: [], count: S); ffnStd = ffnMean; maxVio = ffnMean; zeroShare = ffnMean
        var counts = [Int32](repeating: 0, count: C)
        var totalFfn = [Int32](repeating: 0, count: C)   // FFN experts over the simulated layers
        var drawn: [Int32] = []                           // distinct tokens drawn this step
        simulationSeconds = 0
        recordingSeconds = 0
        simulationCpuSeconds = 0
        let gateScale = Float(m.routedScalingFactor)

        for t in 0..<s.steps {
            let start = DispatchTime.now().uptimeNanoseconds, cpuStart = threadCpuSeconds()
            tokens.sample(B, into: &counts, random: &random)
            drawn.removeAll(keepingCapacity: true)
            for c in 0..<C where counts[c] > 0 {
                drawn.append(Int32(c))
                totalFfn[c] = 0
            }
            let fraction = s.steps > 1 ? Double(t) / Double(s.steps - 1) : 0
            let zeroOffset = s.zeroOffsetStart + (s.zeroOffsetEnd - s.zeroOffsetStart) * fraction
            var layerRows: [LayerStepRow] = []
            for l in 0..<S {
                let stats = layers[l].step(t, tokens, ids: drawn, counts: counts, batchTokens: B, totalFfn: &totalFfn,
                                           zeroOffset: zeroOffset, gateScale: gateScale, random: &random)
                ffnMean[l].append(stats.mean); ffnStd[l].append(stats.std)
                maxVio[l].append(stats.maxVio); zeroShare[l].append(stats.zeroShare)
                layerRows.append(LayerStepRow(step: t, layer: l, zeroExpertShare: stats.zeroShare, ffnExpertsMean: stats.mean,
                                              ffnExpertsStd: stats.std, maxVio: stats.maxVio, routerEntropy: stats.entropy,
                                              balanceLoss: .nan))
            }
            let stepNs = DispatchTime.now().uptimeNanoseconds - start
            simulationSeconds += Double(stepNs) / 1e9
            simulationCpuSeconds += threadCpuSeconds() - cpuStart

            if let store, let runID {
                let recordStart = DispatchTime.now().uptimeNanoseconds
                let stepMs = Double(stepNs) / 1e6
                let row = StepRow(step: t, tokensSeen: B * (t + 1), loss: .nan, lmLoss: .nan, balanceLoss: .nan,
                                  zLoss: .nan, mtpLoss: nil, lr: .nan, gradNorm: .nan, stepMs: stepMs,
                                  tokensPerS: Double(B) / (stepMs / 1000))
                let writeExperts = s.expertRowsEvery > 0 && (t % s.expertRowsEvery == 0 || t == s.steps - 1)
                let expertRows = writeExperts ? (0..<S).flatMap { Self.expertRows(layers[$0], step: t, layer: $0, tokens: B) } : []
                var histogram: [Int: Int] = [:]
                for c in drawn.map(Int.init) { histogram[Int(totalFfn[c]) * layersPerSimulated, default: 0] += Int(counts[c]) }
                let activatedRows = histogram.keys.sorted().map { k in
                    ActivatedParamsRow(step: t, ffnExperts: k, tokens: histogram[k]!,
                                       activatedParams: activated.activatedParameters(ffnExperts: k))
                }
                try store.record(StepRecord(runID: runID, step: row, layers: layerRows, experts: expertRows,
                                            activatedParams: activatedRows))
                recordingSeconds += Double(DispatchTime.now().uptimeNanoseconds - recordStart) / 1e9
            }
            if let progress, (t + 1) % max(1, s.steps / 10) == 0 || t == s.steps - 1 {
                progress(Progress(step: t, ffnExpertsMean: ffnMean[0][t], maxVio: maxVio[0][t],
                                  routedTokensPerSecond: Double(B * S * (t + 1)) / simulationCpuSeconds))
            }
        }
        controllers = layers.map(\.controller)
        lastLoads = layers.map(\.loads)
        finalLayers = layers; finalTokens = tokens; finalDrawn = drawn; finalCounts = counts
    }

    /// The true sensitivity of an FFN expert's load share to its own bias after the last step,
    /// by perturbing the router it has: for each FFN expert i, the last step's tokens are routed
    /// again with b_i +- delta (the other biases as the controller left them) and
    /// (share_i(b_i + delta) - share_i(b_i - delta)) / (2 delta) is averaged over i (positive:
    /// raising an expert's bias raises its load); share is
    /// slots / (B * K) as the controller's error uses. Requires a finished `run`.
    public func ownBiasSensitivity(layer l: Int, delta: Double) -> Double {
        guard let tokens = finalTokens, l < finalLayers.count else { preconditionFailure("ownBiasSensitivity: run first") }
        let layer = finalLayers[l], c = layer.controller
        let (N, Z, K, E) = (c.routedExperts, c.zeroExperts, c.topK, c.experts)
        var probs = [Float](repeating: 0, count: finalDrawn.count * E)   // [drawn, E]
        var entropy = [Float](repeating: 0, count: finalDrawn.count)
        finalDrawn.withUnsafeBufferPointer { ids in
            layer.router.probabilities(tokens, ids: ids, probs: &probs, entropy: &entropy)
        }
        let slots = Double(finalCounts.reduce(0) { $0 + Int($1) } * K)
        var plan = RoutingPlan()
        func share(_ i: Int, bias: [Float]) -> Double {
            try! LabRouting.route(probs: probs, bias: bias, tokens: finalDrawn.count, routedExperts: N, zeroExperts: Z,
                             topK: K, gateScale: 1, into: &plan)
            var load = 0
            for r in 0..<finalDrawn.count {
                for j in 0..<K where Int(plan.expert[r * K + j]) == i { load += Int(finalCounts[Int(finalDrawn[r])]) }
            }
            return Double(load) / slots
        }
        var sum = 0.0
        for i in 0..<N {
            var up = c.bias, down = c.bias
            up[i] += Float(delta); down[i] -= Float(delta)
            sum += (share(i, bias: up) - share(i, bias: down)) / (2 * delta)
        }
        return sum / Double(N)
    }

    /// Per-step statistics of one layer.
    struct StepStats {
        var mean = 0.0, std = 0.0, maxVio = 0.0, zeroShare = 0.0, entropy = 0.0
    }

    /// Token-weighted sums over a step's routing decisions.
    struct StepSums {
        var tokens = 0, ffnSum = 0, ffnSquares = 0, entropy = 0.0

        mutating func add(ffnExperts f: Int, weight n: Int, entropy h: Double) {
            tokens += n; ffnSum += n * f; ffnSquares += n * f * f
            entropy += Double(n) * h
        }

        /// Mean and std of FFN experts per token, zero-slot share, entropy, MaxVio over FFN experts.
        func stats(loads: [Int], routedExperts N: Int, topK K: Int) -> StepStats {
            var s = StepStats()
            let T = Double(tokens)
            s.mean = Double(ffnSum) / T
            s.std = max(Double(ffnSquares) / T - s.mean * s.mean, 0).squareRoot()
            s.entropy = entropy / T
            s.zeroShare = Double(tokens * K - ffnSum) / (T * Double(K))
            let ffnMeanLoad = Double(ffnSum) / Double(N)
            s.maxVio = ffnMeanLoad > 0 ? (Double(loads[0..<N].max() ?? 0) - ffnMeanLoad) / ffnMeanLoad : 0
            return s
        }
    }

    /// `expert_steps` rows of one layer: loads, bias after this step's update, P/I/D terms.
    private static func expertRows(_ layer: Layer, step: Int, layer index: Int, tokens B: Int) -> [ExpertStepRow] {
        let c = layer.controller, slots = Double(B * c.topK)
        return (0..<c.experts).map { e in
            let load = layer.loads[e]
            return ExpertStepRow(step: step, layer: index, expert: e, isZero: e >= c.routedExperts, tokens: load,
                                 loadShare: Double(load) / slots, bias: Double(c.bias[e]), pTerm: Double(c.pTerm[e]),
                                 iTerm: Double(c.iTerm[e]), dTerm: Double(c.dTerm[e]),
                                 meanGate: load > 0 ? layer.gateSums[e] / Double(load) : 0)
        }
    }
}

/// CPU time of the calling thread, in seconds.
func threadCpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}
