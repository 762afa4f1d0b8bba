import Foundation
import LabConfig

/// Everything a controller simulation depends on: the router shape and controller from the
/// lab's config, plus the `[sim]` settings of the synthetic tokens and router.
public struct ControllerSimulationSettings: Sendable, Equatable {
    /// N, Z, K, the routed scaling factor, and L (each simulated layer stands for
    /// L / `layers` layers of this model in `activated_params`).
    public var model: ModelConfig
    /// The controller under study (LabRouting's `BiasController`).
    public var controller: ControllerConfig
    /// Training steps (controller updates at `controller.update_interval`).
    public var steps = 2000
    /// B: tokens routed per step and layer (the global batch).
    public var batchTokens = 65_536
    /// C: distinct tokens; each step's B tokens are drawn from them with Zipf frequencies.
    public var distinctTokens = 16_384
    /// f: latent features per token.
    public var features = 16
    /// s in frequency ~ rank^-s. A distinct token stands for a cluster of similar router inputs
    /// (hidden states are contextual), so no cluster should hold a large share of the batch:
    /// with s = 0.5 and C = 16384 the largest holds 0.4%, below a release FFN expert's 1.6%.
    public var zipfExponent = 0.5
    /// sigma: standard deviation of the router logits at the start.
    public var routerScale = 1.0
    /// Random-walk step of the router projection per training step, in units of sigma.
    public var drift = 0.01
    /// Logit offset of every zero expert at the first and at the last step (linear between):
    /// positive means the router prefers zero experts.
    public var zeroOffsetStart = 1.0
    public var zeroOffsetEnd = 1.0
    /// Simulated MoE layers, each with its own router and controller; must divide L.
    public var layers = 1
    public var seed: UInt64 = 1
    /// Write `expert_steps` rows every this many steps (and at the last); 0 = never.
    public var expertRowsEvery = 10
    /// Settled = |mean FFN experts per token - K_e| <= this * K_e from then on.
    public var settleTolerance = 0.01

    /// The lab's default router shape with the paper's rule (kp 0, ki = mu 0.1, kd 0) and
    /// K_e = K * N / (N + Z).
    public init(model: ModelConfig = ModelConfig()) {
        self.model = model
        controller = ControllerConfig()
        controller.kind = .pid
        controller.kp = 0
        controller.ki = 0.1
        controller.kd = 0
        controller.targetFfnExperts = Double(model.moeTopk * model.nRoutedExperts)
            / Double(model.nRoutedExperts + model.zeroExpertNum)
    }

    /// The release's router (N 512, Z 256, K 12, K_e 8, L 28) with a global batch of 2^20
    /// tokens per step.
    public static var longcatFlash: ControllerSimulationSettings {
        var s = ControllerSimulationSettings(model: .longcatFlash)
        s.controller.targetFfnExperts = 8
        s.batchTokens = 1 << 20
        return s
    }

    /// `sim.KEY` names accepted by `apply`.
    public static let keys = [
        "steps", "batch_tokens", "distinct_tokens", "features", "zipf_exponent", "router_scale", "drift",
        "zero_offset_start", "zero_offset_end", "layers", "seed", "expert_rows_every", "settle_tolerance",
    ]

    /// Applies `sim.KEY=VALUE`; throws naming the key and value when either is wrong.
    public mutating func apply(simKey key: String, value: String) throws {
        func int(_ minimum: Int) throws -> Int {
            guard let v = Int(value), v >= minimum else {
                throw SimulationError("--set sim.\(key) = \(value): expected a whole number >= \(minimum)")
            }
            return v
        }
        func number(_ minimum: Double?) throws -> Double {
            guard let v = Double(value), v.isFinite, minimum.map({ v >= $0 }) ?? true else {
                throw SimulationError("--set sim.\(key) = \(value): expected a number" + (minimum.map { " >= \($0)" } ?? ""))
            }
            return v
        }
        switch key {
        case "steps": steps = try int(1)
        case "batch_tokens": batchTokens = try int(1)
        case "distinct_tokens": distinctTokens = try int(1)
        case "features": features = try int(1)
        case "zipf_exponent": zipfExponent = try number(0)
        case "router_scale": routerScale = try number(0)
        case "drift": drift = try number(0)
        case "zero_offset_start": zeroOffsetStart = try number(nil)
        case "zero_offset_end": zeroOffsetEnd = try number(nil)
        case "layers": layers = try int(1)
        case "seed":
            guard let v = UInt64(value) else { throw SimulationError("--set sim.seed = \(value): expected a whole number >= 0") }
            seed = v
        case "expert_rows_every": expertRowsEvery = try int(0)
        case "settle_tolerance": settleTolerance = try number(0)
        default:
            throw SimulationError("--set sim.\(key): unknown key; allowed: " + Self.keys.map { "sim." + $0 }.joined(separator: ", "))
        }
    }

    /// Checks what the simulator needs beyond the routing layer's own checks.
    func validate() throws {
        guard model.numLayers % layers == 0 else {
            throw SimulationError("sim.layers = \(layers) must divide model.num_layers = \(model.numLayers)")
        }
        guard batchTokens <= Int(Int32.max) else {
            throw SimulationError("sim.batch_tokens = \(batchTokens) must be below 2^31")
        }
    }

    /// The settings as TOML, stored with the run (`runs.config_toml`).
    public var toml: String {
        let m = model, c = controller
        return """
            [model]
            num_layers = \(m.numLayers)
            n_routed_experts = \(m.nRoutedExperts)
            zero_expert_num = \(m.zeroExpertNum)
            moe_topk = \(m.moeTopk)
            routed_scaling_factor = \(m.routedScalingFactor)

            [controller]
            kind = "\(c.kind)"
            target_ffn_experts = \(c.targetFfnExperts)
            kp = \(c.kp)
            ki = \(c.ki)
            kd = \(c.kd)
            gamma = \(c.gamma)
            gain_schedule = "\(c.gainSchedule)"
            gain_final_ratio = \(c.gainFinalRatio)
            update_interval = \(c.updateInterval)
            integral_clamp = \(c.integralClamp)
            budget_gain_ratio = \(c.budgetGainRatio)

            [sim]
            steps = \(steps)
            batch_tokens = \(batchTokens)
            distinct_tokens = \(distinctTokens)
            features = \(features)
            zipf_exponent = \(zipfExponent)
            router_scale = \(routerScale)
            drift = \(drift)
            zero_offset_start = \(zeroOffsetStart)
            zero_offset_end = \(zeroOffsetEnd)
            layers = \(layers)
            seed = \(seed)
            expert_rows_every = \(expertRowsEvery)
            settle_tolerance = \(settleTolerance)

            """
    }

    /// FNV-1a of `toml`, as 16 hex digits.
    public var hash: String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in toml.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
