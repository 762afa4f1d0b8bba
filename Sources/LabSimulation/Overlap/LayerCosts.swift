/// Time of every operation of one layer on one device for a given number of tokens, from
/// FLOPs and bytes under `ClusterAssumptions` (microseconds).
///
/// Decode uses MLA in its absorbed form, as inference engines run it: W_kvb's key half is
/// folded into the query and its value half into the output, and attention runs over the
/// cached latent (rkv + dr per key). Training uses the plain form of the lab's model.
///
/// Dimension letters: b tokens on the device, C context, D width, H heads, rq/rkv ranks,
/// dn/dr/dv head dims, F expert hidden, Fd dense FFN hidden, K_e FFN experts per token.
public struct LayerCosts: Sendable, Equatable {
    /// First part of an MLA block: the projections that make q, the latent and the rope key.
    public var attentionProjections: Double
    /// Second part: attention over the context, then the output projection.
    public var attentionCore: Double
    /// One dense SwiGLU FFN.
    public var denseFfn: Double
    /// The routed experts of the busiest device (grouped GEMM).
    public var routedExperts: Double
    /// The shared experts (0 without).
    public var sharedExperts: Double
    /// Routed and shared experts run as one grouped GEMM.
    public var allExperts: Double
    /// All-to-all sending tokens to their experts, and bringing results back.
    public var dispatch: Double
    public var combine: Double

    /// Costs of `tokens` tokens of `arch` on one device.
    public init(arch: MoEArchitecture, tokens b: Int, assumptions a: ClusterAssumptions,
                loadFactor: Double) throws {
        let m = arch.model, p = arch.counts
        let D = Double(m.hiddenSize), H = Double(m.numAttentionHeads)
        let rq = Double(m.qLoraRank), rkv = Double(m.kvLoraRank)
        let dn = Double(m.qkNopeHeadDim), dr = Double(m.qkRopeHeadDim), dv = Double(m.vHeadDim)
        let tokens = Double(b)
        guard m.nRoutedExperts % a.expertParallel == 0 else {
            throw SimulationError("expert_parallel = \(a.expertParallel) must divide the "
                + "\(m.nRoutedExperts) routed experts of \(arch.name)")
        }
        let gemm = a.gemmTflops * 1e12, attention = a.attentionTflops * 1e12
        let memory = a.memoryTBps * 1e12
        /// Roofline time in microseconds of `flops` at `rate` and `bytes` from memory.
        func time(_ flops: Double, _ rate: Double, bytes: Double) -> Double {
            max(flops / rate, bytes / memory) * 1e6
        }

        let qa = D * rq, qb = rq * H * (dn + dr), kva = D * (rkv + dr), o = H * dv * D
        let keyUp = rkv * H * dn, valueUp = rkv * H * dv   // the two halves of W_kvb
        switch a.phase {
        case .decode:
            let C = Double(a.contextLength)
            let projectionWeights = qa + qb + kva + keyUp
            attentionProjections = time(2 * tokens * projectionWeights, gemm, bytes: projectionWeights * a.weightBytes)
            // Scores over rkv + dr per key and head, values over rkv; then W_uv and W_o.
            let coreFlops = 2 * tokens * H * (2 * rkv + dr) * C
            let cacheBytes = tokens * C * (rkv + dr) * a.kvCacheBytes
            let outputWeights = valueUp + o
            attentionCore = time(coreFlops, attention, bytes: cacheBytes)
                + time(2 * tokens * outputWeights, gemm, bytes: outputWeights * a.weightBytes)
        case .training:
            let meanContext = (Double(a.contextLength) + 1) / 2
            let projectionWeights = qa + qb + kva + keyUp + valueUp
            attentionProjections = time(2 * tokens * projectionWeights, gemm, bytes: projectionWeights * a.weightBytes)
            let coreFlops = 2 * tokens * H * (dn + dr + dv) * meanContext
            attentionCore = time(coreFlops, attention, bytes: 0) + time(2 * tokens * o, gemm, bytes: o * a.weightBytes)
        }

        let ffnWeights = Double(p.denseFfn), expertWeights = Double(p.expert)
        denseFfn = time(2 * tokens * ffnWeights, gemm, bytes: ffnWeights * a.weightBytes)
        // Rows arriving at the busiest device: b * K_e on average (every device sends b * K_e
        // rows and receives as many), stretched by the load factor.
        let rows = tokens * arch.ffnExpertsPerToken * loadFactor
        let localExperts = Double(m.nRoutedExperts / a.expertParallel)
        let shared = Double(arch.sharedExperts)
        routedExperts = time(2 * rows * expertWeights, gemm, bytes: localExperts * expertWeights * a.weightBytes)
        sharedExperts = shared > 0
            ? time(2 * tokens * shared * expertWeights, gemm, bytes: shared * expertWeights * a.weightBytes) : 0
        allExperts = time(2 * (rows + tokens * shared) * expertWeights, gemm,
                          bytes: (localExperts + shared) * expertWeights * a.weightBytes)

        // Each FFN-expert slot moves one D-vector; rows for experts on the same device stay.
        let remote = Double(a.expertParallel - 1) / Double(a.expertParallel)
        let elements = tokens * arch.ffnExpertsPerToken * D * remote * loadFactor
        let link = a.linkGBps * 1e9
        dispatch = elements * a.dispatchBytes / link * 1e6 + a.allToAllLatencyUs
        combine = elements * a.combineBytes / link * 1e6 + a.allToAllLatencyUs
    }

    /// One whole MLA block.
    public var attentionBlock: Double { attentionProjections + attentionCore }
}
