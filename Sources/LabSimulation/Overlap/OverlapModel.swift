/// One decoding step or training micro-batch of every layer on one device of an
/// expert-parallel group, under a communication-overlap strategy.
///
/// A layer is a small graph of compute kernels and all-to-all messages (`LayerCosts`), laid
/// out on a `TwoStreamSchedule`; the layers run back to back (layer l + 1 starts from layer l's
/// outputs), training adds the backward pass in reverse layer order.
public enum OverlapStrategy: String, Sendable, CaseIterable {
    /// Conventional layer, nothing overlapped: every kernel and message waits for the last.
    case sequential
    /// Conventional layer (MoE beside the last dense FFN or the shared expert, input after the
    /// last attention block); that FFN / shared expert runs while the tokens are in flight.
    case sharedOverlap = "shared-overlap"
    /// Two micro-batches of the shared-overlap graph, each one's messages hidden behind the
    /// other's compute (TBO, DeepSeek-V3's decoding schedule).
    case twoBatch = "two-batch"
    /// ScMoE with single-batch overlap: dispatch right after the first attention block, hidden
    /// behind FFN_0 and the projections of MLA_1; combine hidden behind the rest of MLA_1 and FFN_1.
    case scmoe
}

/// What one strategy costs.
public struct OverlapResult: Sendable {
    public var architecture: String
    public var strategy: OverlapStrategy
    public var phase: ClusterAssumptions.Phase
    public var layers: Int
    /// Costs of one layer at the full per-device batch (what the paper tabulates).
    public var costs: LayerCosts
    /// Busiest device's load over the mean.
    public var loadFactor: Double
    /// Microseconds for all layers (forward, plus backward in training).
    public var stepTime: Double
    /// Communication time with the compute queue idle, microseconds.
    public var exposedCommunication: Double
    public var communicationBusy: Double
    /// Decode: tokens per sequence per step (1 + MTP acceptance).
    public var tokensPerStep: Double

    /// `stepTime / layers`.
    public var timePerLayer: Double { stepTime / Double(layers) }
    /// Share of the step spent in communication that nothing hides.
    public var exposedCommunicationShare: Double { stepTime > 0 ? exposedCommunication / stepTime : 0 }
    /// Decode: milliseconds per output token of one sequence.
    public var timePerOutputTokenMs: Double { stepTime / tokensPerStep / 1000 }
}

public enum OverlapModel {
    /// Runs `strategy` for `arch` under `assumptions`. Throws when the strategy does not fit
    /// the architecture (ScMoE needs two attention blocks and two dense FFNs; two-batch overlap
    /// is modelled for decoding only) or an assumption is out of range.
    public static func simulate(_ arch: MoEArchitecture, strategy: OverlapStrategy,
                                assumptions a: ClusterAssumptions) throws -> OverlapResult {
        try check(a)
        if strategy == .scmoe && !(arch.attentionBlocks == 2 && arch.denseFfns == 2) {
            throw SimulationError("strategy scmoe needs two attention blocks and two dense FFNs per layer; "
                + "\(arch.name) has \(arch.attentionBlocks) and \(arch.denseFfns)")
        }
        if strategy == .twoBatch && a.phase == .training {
            throw SimulationError("strategy two-batch is modelled for phase decode only")
        }
        guard [(2, 2), (1, 0), (1, 1)].contains(where: { $0 == (arch.attentionBlocks, arch.denseFfns) }) else {
            throw SimulationError("\(arch.name): \(arch.attentionBlocks) attention blocks with "
                + "\(arch.denseFfns) dense FFNs per layer is not a layout the model knows")
        }
        let factor = try a.expertLoad.busiestDeviceFactor(routedExperts: arch.model.nRoutedExperts,
                                                          expertParallel: a.expertParallel)
        let full = try LayerCosts(arch: arch, tokens: a.tokensPerDevice, assumptions: a, loadFactor: factor)
        var graph = LayerGraph(arch: arch, backwardFactor: a.backwardFactor)
        if strategy == .twoBatch {
            let first = a.tokensPerDevice / 2
            let halves = [try LayerCosts(arch: arch, tokens: first, assumptions: a, loadFactor: factor),
                          try LayerCosts(arch: arch, tokens: a.tokensPerDevice - first, assumptions: a, loadFactor: factor)]
            graph.forwardTwoBatch(halves)
        } else {
            graph.forward(strategy, full)
            if a.phase == .training { graph.backward(strategy, full) }
        }
        let schedule = graph.schedule
        return OverlapResult(
            architecture: arch.name, strategy: strategy, phase: a.phase, layers: arch.layers, costs: full,
            loadFactor: factor, stepTime: schedule.makespan, exposedCommunication: schedule.exposedCommunication,
            communicationBusy: schedule.busy(.communication),
            tokensPerStep: a.phase == .decode ? 1 + a.mtpAcceptance : 1)
    }

    static func check(_ a: ClusterAssumptions) throws {
        let positive: [(String, Double)] = [
            ("gemm_tflops", a.gemmTflops), ("attention_tflops", a.attentionTflops),
            ("memory_tbps", a.memoryTBps), ("link_gbps", a.linkGBps), ("weight_bytes", a.weightBytes),
            ("kv_cache_bytes", a.kvCacheBytes), ("dispatch_bytes", a.dispatchBytes),
            ("combine_bytes", a.combineBytes), ("backward_factor", a.backwardFactor),
        ]
        for (key, value) in positive where !(value.isFinite && value > 0) {
            throw SimulationError("\(key) = \(value) must be a finite number > 0")
        }
        for (key, value) in [("all_to_all_latency_us", a.allToAllLatencyUs), ("mtp_acceptance", a.mtpAcceptance)]
        where !(value.isFinite && value >= 0) {
            throw SimulationError("\(key) = \(value) must be a finite number >= 0")
        }
        if a.tokensPerDevice < (a.phase == .decode ? 2 : 1) {
            throw SimulationError("tokens_per_device = \(a.tokensPerDevice) must be at least 2 (decode) or 1")
        }
        if a.contextLength < 1 {
            throw SimulationError("context_length = \(a.contextLength) must be at least 1")
        }
    }
}
