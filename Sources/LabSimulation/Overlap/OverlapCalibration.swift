/// Fits the overlap model's free rates to the paper's published numbers (LONGCAT.md section 11)
/// and says how well the fitted model reproduces the numbers it was not fitted to.
public enum OverlapCalibration {
    /// The paper's theoretical per-layer decoding times (microseconds) at EP 128 and 96
    /// sequences per device, and its time per output token.
    public struct PublishedDecode: Sendable {
        public var attention: Double, dispatch: Double, moe: Double, combine: Double
        public var strategy: OverlapStrategy
        public var timePerOutputTokenMs: Double
    }

    public static let longcatFlashDecode = PublishedDecode(attention: 264, dispatch: 236, moe: 60, combine: 472,
                                                           strategy: .scmoe, timePerOutputTokenMs: 16)
    public static let deepSeekV3Decode = PublishedDecode(attention: 471, dispatch: 275, moe: 77, combine: 551,
                                                         strategy: .twoBatch, timePerOutputTokenMs: 30)
    /// Non-overlapped dispatch/combine share of training time without and with the shortcut.
    public static let trainingExposedShare = (conventional: 0.253, scmoe: 0.084)
    /// MTP draft acceptance: LongCat-Flash's reported 92.1%; DeepSeek-V3 reports 85-90% for its
    /// second token, 0.875 is the middle.
    public static let mtpAcceptance = (longcat: 0.921, deepSeek: 0.875)

    /// The fitted decoding assumptions and how they were found.
    public struct Decode: Sendable {
        /// Fitted assumptions (MTP acceptance 0; set per model).
        public var assumptions: ClusterAssumptions
        /// How each rate was fitted, one line each.
        public var notes: [String]
    }

    /// Fits, in order:
    /// 1. `gemmTflops` so that LongCat's 4 local experts take the published MoE time for
    ///    96 * K_e rows (checked to be compute-bound);
    /// 2. `linkGBps` so that LongCat's dispatch (FP8) takes the published time;
    /// 3. `contextLength` and `attentionTflops` jointly so that one LongCat MLA block (64 heads)
    ///    and DeepSeek-V3's MLA (128 heads) take the published attention times: LongCat's block
    ///    comes out bound by reading the KV cache, DeepSeek-V3's by FLOPs. The published
    ///    attention time is read as one MLA block, since LongCat's 64-head block does about half
    ///    the work of DeepSeek-V3's 128-head one (264 vs 471 microseconds).
    /// Everything else (LongCat's combine, DeepSeek-V3's MoE, dispatch and combine, and both
    /// times per token) is then a prediction.
    public static func calibrateDecode(base: ClusterAssumptions = .paperDecodeUncalibrated) throws -> Decode {
        var a = base
        a.phase = .decode
        a.mtpAcceptance = 0
        let lc = MoEArchitecture.longcatFlash, ds = MoEArchitecture.deepSeekV3
        let lcPaper = longcatFlashDecode, dsPaper = deepSeekV3Decode
        func costs(_ arch: MoEArchitecture) throws -> LayerCosts {
            try LayerCosts(arch: arch, tokens: a.tokensPerDevice, assumptions: a, loadFactor: 1)
        }
        // 1. Expert GEMM throughput: LayerCosts is proportional to 1 / gemmTflops when compute-bound.
        a.gemmTflops = 1
        a.gemmTflops = try costs(lc).routedExperts / lcPaper.moe
        // 2. Link bandwidth: dispatch time is bytes / bandwidth + latency.
        a.linkGBps = 1
        a.linkGBps = (try costs(lc).dispatch - a.allToAllLatencyUs) / (lcPaper.dispatch - a.allToAllLatencyUs)
        // 3. Context and attention throughput, alternating two monotone one-dimensional solves.
        a.attentionTflops = 1e6
        for _ in 0..<20 {
            a.contextLength = Int(try bisect(1, 1_000_000, integer: true) { c in
                var t = a
                t.contextLength = Int(c)
                return try LayerCosts(arch: lc, tokens: t.tokensPerDevice, assumptions: t, loadFactor: 1).attentionBlock
                    < lcPaper.attention
            })
            // DeepSeek-V3's block gets faster as attention throughput grows.
            a.attentionTflops = try bisect(1, 100_000) { rate in
                var t = a
                t.attentionTflops = rate
                return try LayerCosts(arch: ds, tokens: t.tokensPerDevice, assumptions: t, loadFactor: 1).attentionBlock
                    > dsPaper.attention
            }
        }
        let lcCosts = try costs(lc), dsCosts = try costs(ds)
        let notes = [
            "gemm_tflops fitted to LongCat-Flash MoE = \(format(lcPaper.moe, 0)) us (memory-bound time would be "
                + "\(format(memoryTime(lc, a), 1)) us, so compute-bound)",
            "link_gbps fitted to LongCat-Flash dispatch = \(format(lcPaper.dispatch, 0)) us",
            "context_length and attention_tflops fitted to one MLA block: LongCat-Flash \(format(lcPaper.attention, 0)) us "
                + "(model \(format(lcCosts.attentionBlock, 1))), DeepSeek-V3 \(format(dsPaper.attention, 0)) us "
                + "(model \(format(dsCosts.attentionBlock, 1)))",
        ]
        return Decode(assumptions: a, notes: notes)
    }

    /// Fits `linkGBps` so that `strategy` (the conventional layer) exposes `share` of the
    /// training step as communication. Throws when no bandwidth in 0.01-10000 GB/s reaches it.
    public static func trainingLink(_ arch: MoEArchitecture, base: ClusterAssumptions,
                                    strategy: OverlapStrategy = .sequential,
                                    share: Double = trainingExposedShare.conventional) throws -> ClusterAssumptions {
        var a = base
        a.phase = .training
        func exposed(_ gbps: Double) throws -> Double {
            var t = a
            t.linkGBps = gbps
            return try OverlapModel.simulate(arch, strategy: strategy, assumptions: t).exposedCommunicationShare
        }
        guard try exposed(0.01) > share, try exposed(10_000) < share else {
            throw SimulationError("no link bandwidth in 0.01-10000 GB/s gives \(arch.name) an exposed share of \(share)")
        }
        // The exposed share falls as bandwidth grows.
        a.linkGBps = try bisect(0.01, 10_000) { try exposed($0) > share }
        return a
    }

    /// Weight-reading time of LongCat's local experts, to show the MoE fit is compute-bound.
    static func memoryTime(_ arch: MoEArchitecture, _ a: ClusterAssumptions) -> Double {
        let local = Double(arch.model.nRoutedExperts / a.expertParallel)
        return local * Double(arch.counts.expert) * a.weightBytes / (a.memoryTBps * 1e12) * 1e6
    }

    /// The boundary between `lo` (where `below` holds) and `hi` (where it does not), found by
    /// geometric bisection; with `integer`, the largest whole number where it still holds.
    /// `below` must be monotone.
    static func bisect(_ lo: Double, _ hi: Double, integer: Bool = false, _ below: (Double) throws -> Bool) throws -> Double {
        var lo = lo, hi = hi
        for _ in 0..<200 {
            if integer ? hi - lo <= 1 : hi / lo < 1 + 1e-12 { break }
            let mid = integer ? ((lo + hi) / 2).rounded(.down) : (lo * hi).squareRoot()
            if try below(mid) { lo = mid } else { hi = mid }
        }
        return lo
    }
}
