import Testing
@testable import LabConfig

/// The calculator against the paper's published figures and against hand counts.
@Suite struct ParameterCountTests {
    let release = ParameterCount(model: .longcatFlash)

    /// A config small enough to count by hand: D 8, L 2, H 2, rq 4, rkv 3, dn 2, dr 2, dv 3,
    /// Fd 5, F 3, N 4, Z 2, K 3, V 10.
    static var tiny: ModelConfig {
        var m = ModelConfig()
        m.vocabSize = 10; m.hiddenSize = 8; m.numLayers = 2; m.numAttentionHeads = 2
        m.qLoraRank = 4; m.kvLoraRank = 3; m.qkNopeHeadDim = 2; m.qkRopeHeadDim = 2; m.vHeadDim = 3
        m.ffnHiddenSize = 5; m.expertFfnHiddenSize = 3; m.nRoutedExperts = 4; m.zeroExpertNum = 2
        m.moeTopk = 3
        return m
    }

    /// Guards against a miscounted component (e.g. a latent norm or the router left out):
    /// LONGCAT.md section 8 lists these sizes for the release.
    @Test func releaseComponentsMatchThePublishedBreakdown() {
        #expect(release.expert == 37_748_736)
        #expect(release.mlaBlock == 90_572_800)
        #expect(release.denseFfn == 226_492_416)
        #expect(release.router == 6144 * 768)
        #expect(abs(Double(release.layerWithoutExperts) / 1e6 - 638.87) < 0.005)
    }

    /// The release reproduces 560.66B total from its config alone.
    @Test func releaseTotalIs560_66B() {
        #expect(abs(Double(release.totalParameters) / 1e9 - 560.66) < 0.01)
    }

    /// The release reproduces 18.69B activated with no FFN expert and 31.38B with all twelve in
    /// every layer, one vocabulary matrix counted.
    @Test func releaseActivatedRangeIs18_69To31_38B() {
        let low = Double(release.activatedParameters(ffnExperts: 0)) / 1e9
        let high = Double(release.activatedParameters(ffnExperts: 28 * 12)) / 1e9
        #expect(abs(low - 18.69) < 0.01)
        #expect(abs(high - 31.38) < 0.01)
        #expect(release.minFfnExpertsPerToken == 0 && release.maxFfnExpertsPerToken == 336)
    }

    /// About 27B at K_e = 8, the paper's average.
    @Test func releaseActivatedAtKe8IsAbout27B() {
        let mean = release.activatedParameters(meanFfnExperts: 8) / 1e9
        #expect(abs(mean - 27) < 0.5)
        #expect(mean == Double(release.activatedParameters(ffnExperts: 8 * 28)) / 1e9)
    }

    /// A tiny config counted by hand, weight by weight, so that every term of every formula is
    /// checked (a wrong head dimension or a swapped rank shows here, not only at release size).
    @Test func tinyConfigMatchesAHandCount() {
        let p = ParameterCount(model: Self.tiny, mtp: false)
        // MLA: qa 8*4=32, q norm 4, qb 4*2*(2+2)=32, kva 8*(3+2)=40, kv norm 3, kvb 3*2*(2+3)=30,
        // o 2*3*8=48 -> 189.
        #expect(p.mlaBlock == 189)
        #expect(p.denseFfn == 3 * 8 * 5)          // 120
        #expect(p.router == 8 * 6)                // 48
        #expect(p.expert == 3 * 8 * 3)            // 72
        // Layer without experts: 2*189 + 2*120 + 48 + 4*8 = 698; experts 4*72 = 288.
        #expect(p.layerWithoutExperts == 698)
        // Total: 2*(698+288) + embedding 80 + final norm 8 + head 80 = 2140.
        #expect(p.totalParameters == 2140)
        // Activated with c FFN experts over both layers: 2*698 + 80 + 8 + 72c.
        #expect(p.activatedParameters(ffnExperts: 2) == 1484 + 2 * 72)
        #expect(p.activatedParameters(ffnExperts: 6) == 1484 + 6 * 72)
        // K = 3, Z = 2: each layer must use at least one FFN expert.
        #expect(p.minFfnExpertsPerToken == 2 && p.maxFfnExpertsPerToken == 6)
    }

    /// The constant zero expert (MoE++) carries W_c [2, D] and v [D]; the identity kind carries
    /// nothing. Guards against counting weights a kind does not have.
    @Test func constantZeroExpertsCountTheirWeightsOnlyWhenChosen() {
        var m = ModelConfig()
        m.zeroExpertType = .constant
        let constant = ParameterCount(model: m, mtp: false)
        m.zeroExpertType = .identity
        let identity = ParameterCount(model: m, mtp: false)
        let D = m.hiddenSize, L = m.numLayers, Z = m.zeroExpertNum, K = m.moeTopk
        #expect(constant.totalParameters - identity.totalParameters == L * Z * 3 * D)
        // A token with c FFN experts chose L*K - c zero experts.
        let c = L * 2
        #expect(constant.activatedParameters(ffnExperts: c) - identity.activatedParameters(ffnExperts: c)
                == (L * K - c) * 3 * D)
    }

    /// The MTP layer: W_eh 2D*D, 5 norms of D, one MLA block and one dense FFN, no vocabulary
    /// matrix of its own; it is dense, so every token activates it.
    @Test func mtpLayerAddsOneDenseLayerWithoutVocabulary() {
        var m = ModelConfig()
        m.mtpLossCoef = 0.1
        let with = ParameterCount(model: m)
        let without = ParameterCount(model: m, mtp: false)
        let D = m.hiddenSize
        let layer = 2 * D * D + 5 * D + without.mlaBlock + without.denseFfn
        #expect(with.mtp && with.mtpLayer == layer)
        #expect(with.totalParameters - without.totalParameters == layer)
        #expect(with.activatedParameters(ffnExperts: 3) - without.activatedParameters(ffnExperts: 3) == layer)
    }

    /// Training FLOPs are 6 per multiplied weight plus 3x the forward attention over the mean
    /// causal context; inference 2 per weight plus attention over the cache. Checked on the
    /// tiny hand-counted config.
    @Test func flopsFollowSixNPlusAttention() {
        let p = ParameterCount(model: Self.tiny, mtp: false)
        // Matmul weights with 2 experts per layer: 2*(2*182 + 2*120 + 48 + 2*72) + 80 = 1672.
        #expect(p.matmulParameters(meanFfnExperts: 2) == 1672)
        // Attention per key per block: 2 * H*(dn+dr+dv) = 2*2*7 = 28 FLOPs; 4 blocks.
        #expect(p.attentionFlopsPerToken(context: 1) == 4 * 28)
        // seqLen 7: mean causal context 4.
        #expect(p.trainingFlopsPerToken(meanFfnExperts: 2, seqLen: 7) == 6 * 1672 + 3 * 4 * 28 * 4)
        #expect(p.inferenceFlopsPerToken(meanFfnExperts: 2, contextLength: 5) == 2 * 1672 + 4 * 28 * 5)
    }

    /// The release at K_e = 8: about 2 * 27B FLOPs per generated token before attention, i.e.
    /// the dense parts are multiplied once per token and experts only when chosen.
    @Test func releaseInferenceFlopsAreTwiceActivatedMatmulWeights() {
        let matmul = release.matmulParameters(meanFfnExperts: 8)
        // Activated minus what is not multiplied: norms (4 per layer, 2 latent per block, final).
        let norms = Double(28 * (4 * 6144 + 2 * (1536 + 512)) + 6144)
        #expect(abs(matmul - (release.activatedParameters(meanFfnExperts: 8) - norms)) < 1)
        #expect(release.inferenceFlopsPerToken(meanFfnExperts: 8, contextLength: 0) == 2 * matmul)
    }
}
