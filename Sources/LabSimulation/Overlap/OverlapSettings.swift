import Foundation

/// `--set` overrides of `longcat-lab simulate overlap`: `decode.KEY=VALUE` changes the fitted
/// decoding assumptions, `training.KEY=VALUE` the training ones, `model.ffn_experts_per_token`
/// the architecture's K_e. Unknown keys and bad values are errors that name them.
public struct OverlapSettings: Sendable {
    public var decode: [(key: String, value: String)] = []
    public var training: [(key: String, value: String)] = []
    public var ffnExpertsPerToken: Double?

    /// Keys of `ClusterAssumptions` that `decode.` and `training.` accept.
    public static let keys = [
        "expert_parallel", "tokens_per_device", "context_length", "gemm_tflops", "attention_tflops",
        "memory_tbps", "link_gbps", "all_to_all_latency_us", "weight_bytes", "kv_cache_bytes",
        "dispatch_bytes", "combine_bytes", "backward_factor", "mtp_acceptance", "expert_load",
    ]

    public init(overrides: [String]) throws {
        for text in overrides {
            guard let eq = text.firstIndex(of: "=") else {
                throw SimulationError("--set \(text): expected KEY=VALUE, e.g. decode.link_gbps=40")
            }
            let key = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
            let value = String(text[text.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            if key == "model.ffn_experts_per_token" {
                guard let v = Double(value), v.isFinite, v >= 0 else {
                    throw SimulationError("--set \(key) = \(value): expected a number >= 0")
                }
                ffnExpertsPerToken = v
            } else if parts.count == 2, ["decode", "training"].contains(parts[0]), Self.keys.contains(parts[1]) {
                // Parse now so that a bad value fails before anything runs.
                var probe = ClusterAssumptions.paperDecodeUncalibrated
                try Self.apply(parts[1], value, to: &probe)
                if parts[0] == "decode" { decode.append((parts[1], value)) } else { training.append((parts[1], value)) }
            } else {
                throw SimulationError("--set \(key): unknown key; allowed: model.ffn_experts_per_token, "
                    + "decode.KEY or training.KEY with KEY one of " + Self.keys.joined(separator: ", "))
            }
        }
    }

    /// Whether the training link bandwidth was given (then it is not fitted to the paper).
    public var trainingLinkGiven: Bool { training.contains { $0.key == "link_gbps" } }

    public func applyDecode(to a: inout ClusterAssumptions) throws {
        for (key, value) in decode { try Self.apply(key, value, to: &a) }
    }

    public func applyTraining(to a: inout ClusterAssumptions) throws {
        for (key, value) in training { try Self.apply(key, value, to: &a) }
    }

    static func apply(_ key: String, _ value: String, to a: inout ClusterAssumptions) throws {
        func int() throws -> Int {
            guard let v = Int(value), v >= 1 else { throw SimulationError("--set \(key) = \(value): expected a whole number >= 1") }
            return v
        }
        func number() throws -> Double {
            guard let v = Double(value), v.isFinite, v >= 0 else {
                throw SimulationError("--set \(key) = \(value): expected a number >= 0")
            }
            return v
        }
        switch key {
        case "expert_parallel": a.expertParallel = try int()
        case "tokens_per_device": a.tokensPerDevice = try int()
        case "context_length": a.contextLength = try int()
        case "gemm_tflops": a.gemmTflops = try number()
        case "attention_tflops": a.attentionTflops = try number()
        case "memory_tbps": a.memoryTBps = try number()
        case "link_gbps": a.linkGBps = try number()
        case "all_to_all_latency_us": a.allToAllLatencyUs = try number()
        case "weight_bytes": a.weightBytes = try number()
        case "kv_cache_bytes": a.kvCacheBytes = try number()
        case "dispatch_bytes": a.dispatchBytes = try number()
        case "combine_bytes": a.combineBytes = try number()
        case "backward_factor": a.backwardFactor = try number()
        case "mtp_acceptance": a.mtpAcceptance = try number()
        case "expert_load": a.expertLoad = try parseLoad(key, value)
        default: throw SimulationError("--set \(key): unknown key")
        }
    }

    /// `uniform` or `lognormal:CV[:SEED]`.
    static func parseLoad(_ key: String, _ value: String) throws -> ExpertLoadModel {
        let parts = value.split(separator: ":").map(String.init)
        if parts == ["uniform"] { return .uniform }
        if parts.first == "lognormal", (2...3).contains(parts.count), let cv = Double(parts[1]), cv.isFinite, cv >= 0 {
            let seed = parts.count == 3 ? UInt64(parts[2]) : 1
            if let seed { return .lognormal(cv: cv, seed: seed) }
        }
        throw SimulationError("--set \(key) = \(value): expected uniform or lognormal:CV[:SEED] (CV >= 0), "
            + "e.g. lognormal:0.3; recorded loads come from --loads-from")
    }
}
