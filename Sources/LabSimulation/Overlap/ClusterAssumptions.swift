import Foundation

/// Every assumption of the expert-parallel overlap model, printed beside each result.
///
/// Compute ops take `max(FLOPs / achieved throughput, bytes / memory bandwidth)` (a roofline
/// with achieved, not peak, rates); an all-to-all takes `bytes / link bandwidth + latency`,
/// where the bytes are those of the busiest device.
public struct ClusterAssumptions: Sendable, Equatable {
    /// What one step is.
    public enum Phase: String, Sendable, CaseIterable {
        /// One decoding step: every sequence of the batch produces one token (plus MTP drafts).
        case decode
        /// One training micro-batch, forward and backward.
        case training
    }

    public var phase: Phase
    /// Devices of one expert-parallel group; N must be a multiple of it.
    public var expertParallel: Int
    /// Tokens each device holds per step: sequences in decode, tokens of the micro-batch in training.
    public var tokensPerDevice: Int
    /// Decode: keys in each sequence's cache. Training: sequence length (causal, so the mean
    /// context is (seqLen + 1) / 2).
    public var contextLength: Int
    /// Achieved throughput of the GEMMs (dense FFNs, experts, attention projections), TFLOP/s.
    public var gemmTflops: Double
    /// Achieved throughput of the attention core (scores and values over the cache), TFLOP/s.
    public var attentionTflops: Double
    /// Memory bandwidth for weights and the KV cache, TB/s.
    public var memoryTBps: Double
    /// All-to-all bandwidth per device (what one device sends, or receives, per second), GB/s.
    public var linkGBps: Double
    /// Fixed start-up time of each all-to-all, microseconds.
    public var allToAllLatencyUs: Double
    /// Bytes per element of weights as read from memory (1 = FP8).
    public var weightBytes: Double
    /// Bytes per element of the KV cache (2 = BF16).
    public var kvCacheBytes: Double
    /// Bytes per element of a dispatched token (1 = FP8) and of a combined result (2 = BF16).
    public var dispatchBytes: Double
    public var combineBytes: Double
    /// Backward FLOPs as a multiple of forward (2: input and weight gradients).
    public var backwardFactor: Double
    /// Accepted MTP draft tokens per decoding step (0 without MTP): a step yields 1 + this many
    /// tokens per sequence. Decode only.
    public var mtpAcceptance: Double
    /// How expert load is spread over devices.
    public var expertLoad: ExpertLoadModel

    public init(phase: Phase, expertParallel: Int, tokensPerDevice: Int, contextLength: Int,
                gemmTflops: Double, attentionTflops: Double, memoryTBps: Double, linkGBps: Double,
                allToAllLatencyUs: Double = 0, weightBytes: Double, kvCacheBytes: Double,
                dispatchBytes: Double, combineBytes: Double, backwardFactor: Double = 2,
                mtpAcceptance: Double = 0, expertLoad: ExpertLoadModel = .uniform) {
        self.phase = phase; self.expertParallel = expertParallel; self.tokensPerDevice = tokensPerDevice
        self.contextLength = contextLength; self.gemmTflops = gemmTflops
        self.attentionTflops = attentionTflops; self.memoryTBps = memoryTBps; self.linkGBps = linkGBps
        self.allToAllLatencyUs = allToAllLatencyUs; self.weightBytes = weightBytes
        self.kvCacheBytes = kvCacheBytes; self.dispatchBytes = dispatchBytes
        self.combineBytes = combineBytes; self.backwardFactor = backwardFactor
        self.mtpAcceptance = mtpAcceptance; self.expertLoad = expertLoad
    }

    /// The paper's decoding setting before calibration (LONGCAT.md section 11): EP 128, 96
    /// sequences per device, FP8 weights and dispatch, BF16 combine and KV cache, H800 memory
    /// bandwidth 3.35 TB/s. Throughputs, link bandwidth and context length are placeholders
    /// that `OverlapCalibration` fits to the published per-layer times.
    public static var paperDecodeUncalibrated: ClusterAssumptions {
        ClusterAssumptions(phase: .decode, expertParallel: 128, tokensPerDevice: 96, contextLength: 4096,
                           gemmTflops: 1000, attentionTflops: 500, memoryTBps: 3.35, linkGBps: 20,
                           weightBytes: 1, kvCacheBytes: 2, dispatchBytes: 1, combineBytes: 2)
    }

    /// A training setting like the paper's (section 11: EP groups of 32): one 8192-token
    /// sequence per device per micro-batch, BF16 weights, activations and both all-to-alls,
    /// 400 TFLOP/s achieved on GEMMs (about 40% of an H800's dense BF16 peak) and 300 on
    /// attention. The link bandwidth is a placeholder: `OverlapCalibration.trainingLink` fits
    /// it to the paper's 25.3% exposed communication without the shortcut.
    public static var paperTrainingUncalibrated: ClusterAssumptions {
        ClusterAssumptions(phase: .training, expertParallel: 32, tokensPerDevice: 8192, contextLength: 8192,
                           gemmTflops: 400, attentionTflops: 300, memoryTBps: 3.35, linkGBps: 50,
                           weightBytes: 2, kvCacheBytes: 2, dispatchBytes: 2, combineBytes: 2)
    }

    /// Lines `key = value  # meaning`, printed beside every result.
    public var described: [String] {
        [
            "phase = \(phase.rawValue)",
            "expert_parallel = \(expertParallel)  # devices per EP group",
            "tokens_per_device = \(tokensPerDevice)  # " + (phase == .decode ? "sequences decoded per device" : "tokens per micro-batch per device"),
            "context_length = \(contextLength)  # " + (phase == .decode ? "keys per sequence in the KV cache" : "sequence length (causal)"),
            "gemm_tflops = \(format(gemmTflops, 1))  # achieved, GEMMs",
            "attention_tflops = \(format(attentionTflops, 1))  # achieved, attention core",
            "memory_tbps = \(format(memoryTBps, 2))  # weights and KV cache reads",
            "link_gbps = \(format(linkGBps, 2))  # all-to-all bandwidth per device",
            "all_to_all_latency_us = \(format(allToAllLatencyUs, 1))",
            "weight_bytes = \(format(weightBytes, 0)), kv_cache_bytes = \(format(kvCacheBytes, 0))",
            "dispatch_bytes = \(format(dispatchBytes, 0)), combine_bytes = \(format(combineBytes, 0))  # per element; zero-expert slots send nothing",
            "backward_factor = \(format(backwardFactor, 1))" + (phase == .training ? "" : "  # unused in decode"),
            "mtp_acceptance = \(format(mtpAcceptance, 3))  # extra tokens per decoding step",
            "expert_load = \(expertLoad.description)",
        ]
    }
}

/// Fixed-point text, e.g. `format(3.14159, 2)` = "3.14".
func format(_ x: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", x)
}
