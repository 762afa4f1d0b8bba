import Foundation
import LabConfig
import LabKernels
import Testing
@testable import LabModel

/// The variance probe measures what the model computed, never changes it, and the MLA scale
/// calibration and variance compensation behave as LONGCAT.md sections 2 and 6 say.
@Suite("Variance probe")
struct VarianceProbeTests {
    /// Largest |a - b| relative to the largest |b| (1 when b is all zeros).
    func relativeError(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Double {
        var worst = 0.0, scale = 1e-30
        for i in 0..<n {
            worst = max(worst, Double(abs(a[i] - b[i])))
            scale = max(scale, Double(abs(b[i])))
        }
        return worst / scale
    }

    func value(_ stats: [VarianceStatistic], _ layer: Int, _ module: String, _ statistic: String) throws -> Double {
        try #require(stats.first { $0.layer == layer && $0.module == module && $0.statistic == statistic },
                     "no \(module).\(statistic) at layer \(layer)").value
    }

    /// Guards against a recomputed split of the MoE output that drops slots, mixes up the
    /// expert-sorted rows or the gates: per layer, routed + zero + FFN_1 output equals what the
    /// layer added to h3, for both layouts and for identity and constant zero experts, after
    /// a forward pass and after a training pass (whose backward must leave what it read intact).
    @Test(arguments: [("scmoe", "identity"), ("sequential", "identity"), ("scmoe", "constant")], [false, true])
    func moePartsAndFFNOutputAddUpToTheLayer(kinds: (layout: String, zeroKind: String), train: Bool) {
        let b = TinyBatch(tinyConfig(layout: kinds.layout, zeroKind: kinds.zeroKind, mtp: 0))
        b.pass(train: train)
        let m = b.model, r = b.batch * m.seqLen, d = m.config.model.hiddenSize
        for l in 0..<m.config.model.numLayers {
            let parts = m.moeParts(layer: l, rows: r)
            let ffn1 = m.ffnOutput(layer: l, block: 1, rows: r)
            var added = [Float](repeating: 0, count: r * d), recomputed = added
            for i in 0..<(r * d) {
                added[i] = m.hidden[l + 1].ptr[i] - m.saved[l].h3.ptr[i]
                recomputed[i] = parts.routed.ptr[i] + parts.zero.ptr[i] + ffn1.ptr[i]
            }
            #expect(relativeError(recomputed, added, r * d) < 1e-5, "layer \(l)")
            let ffn0 = m.ffnOutput(layer: l, block: 0, rows: r)
            for i in 0..<(r * d) { added[i] = m.saved[l].h2.ptr[i] - m.saved[l].h1.ptr[i] }
            #expect(relativeError(ffn0.ptr, added, r * d) < 1e-5, "ffn.0 of layer \(l)")
        }
    }

    /// Guards against recomputed attention scores taken from the wrong head slices or rows:
    /// their log-sum-exp per (batch, head, query) equals the attention kernel's saved one.
    @Test func recomputedScoresMatchTheKernelsLogSumExp() {
        let b = TinyBatch(tinyConfig(mtp: 0), batch: 2, seqLen: 7)
        b.pass(train: false)
        let m = b.model, s = m.mlaShape
        let n = b.batch * s.heads * m.seqLen
        let lse = FloatBuffer(count: n)
        for l in 0..<m.config.model.numLayers {
            for i in 0..<2 {
                let stats = attentionScoreStatistics(saved: m.saved[l].attention[i], shape: s, batch: b.batch,
                                                     seqLen: m.seqLen, lse: lse.ptr)
                #expect(relativeError(lse.ptr, m.saved[l].attention[i].lse.ptr, n) < 1e-5)
                // Causal count: B * H * T(T+1)/2 scores; entropy between 0 and log T.
                #expect(stats.logits.count == b.batch * s.heads * m.seqLen * (m.seqLen + 1) / 2)
                #expect(stats.meanEntropy > 0 && stats.meanEntropy < log(Double(m.seqLen)))
            }
        }
    }

    /// Guards against a probe that writes into the model: parameters, gradients, saved
    /// activations and the next pass's losses are bit-identical with and without probing.
    @Test func probingChangesNothing() {
        let probed = TinyBatch(tinyConfig()), plain = TinyBatch(tinyConfig())
        let first = probed.pass(train: true)
        #expect(first == plain.pass(train: true))
        let stats = probed.model.activationStatistics() + probed.model.gradientStatistics()
        #expect(!stats.isEmpty && stats.allSatisfy { $0.value.isFinite })
        #expect(probed.model.grads.array == plain.model.grads.array)
        #expect(probed.model.params.array == plain.model.params.array)
        for l in 0..<probed.model.config.model.numLayers {
            #expect(probed.model.saved[l].moe.gu.array == plain.model.saved[l].moe.gu.array)
            #expect(probed.model.saved[l].attention[1].kv.array == plain.model.saved[l].attention[1].kv.array)
            #expect(probed.model.hidden[l + 1].array == plain.model.hidden[l + 1].array)
        }
        #expect(probed.pass(train: true) == plain.pass(train: true))
    }

    /// Guards against a probe row missing or a statistic measured on the wrong tensor: the
    /// latent variances are exactly alpha^2 (an RMSNorm output with unit weight has mean square
    /// 1), and gradient RMS per group matches the flat gradient buffer.
    @Test func latentVarianceIsAlphaSquaredAndGradientGroupsCoverEveryParameter() throws {
        let b = TinyBatch(tinyConfig(mtp: 0))
        b.pass(train: true)
        let m = b.model, c = m.config.model
        let stats = m.activationStatistics()
        for l in 0..<c.numLayers {
            for i in 0..<2 {
                let q = try value(stats, l, "mla.\(i)", "var_q_latent"), kv = try value(stats, l, "mla.\(i)", "var_kv_latent")
                // variance = mean square - mean^2; the mean of a few random rows is small but not 0.
                #expect(q <= c.mlaScaleQ * c.mlaScaleQ * 1.0001 && q > 0.8 * c.mlaScaleQ * c.mlaScaleQ)
                #expect(kv <= c.mlaScaleKV * c.mlaScaleKV * 1.0001 && kv > 0.8 * c.mlaScaleKV * c.mlaScaleKV)
            }
        }
        #expect(!m.layout.slices.contains { $0.group.group == .other })
        let grads = m.gradientStatistics()
        var all = 0.0
        for i in 0..<m.layout.count { all += Double(m.grads.ptr[i]) * Double(m.grads.ptr[i]) }
        let expected = (all / Double(m.layout.count)).squareRoot()
        #expect(abs(try value(grads, -1, "grad.all", "rms") - expected) <= 1e-6 * expected)
        let router = try #require(m.layout.slice(named: "model.layers.1.mlp.router.classifier.weight"))
        #expect(router.group.group == .router && router.group.layer == 1)
        var routerSquares = 0.0
        for i in router.range { routerSquares += Double(m.grads.ptr[i]) * Double(m.grads.ptr[i]) }
        let routerRMS = (routerSquares / Double(router.count)).squareRoot()
        #expect(abs(try value(grads, 1, "grad.router", "rms") - routerRMS) <= 1e-6 * routerRMS)
    }

    /// Guards against gamma applied to only one part of the MoE output (or not at all): with
    /// compensation on, layer 0's routing is unchanged and both parts' variances grow by m^2.
    @Test func compensationScalesBothMoEPartsByGammaSquared() throws {
        var off = tinyConfig(mtp: 0)
        off.initialization.fineGrainFactor = 3
        var on = off
        on.initialization.varianceCompensation = true
        let a = TinyBatch(off), b = TinyBatch(on)
        a.pass(train: false); b.pass(train: false)
        #expect(a.model.saved[0].moe.plan.expert == b.model.saved[0].moe.plan.expert)
        let sa = a.model.activationStatistics(), sb = b.model.activationStatistics()
        for statistic in ["var_routed", "var_zero", "var_output"] {
            let ratio = try value(sb, 0, "moe", statistic) / value(sa, 0, "moe", statistic)
            #expect(abs(ratio - 9) < 1e-3, "\(statistic): ratio \(ratio)")
        }
        #expect(abs(try value(sb, 0, "moe", "var_expert_output") - value(sa, 0, "moe", "var_expert_output")) < 1e-9)
    }

    /// Guards against the scale calibration missing from a path (LONGCAT.md section 2): at the
    /// release's ratios d/rq = 4, d/rkv = 12, with alpha on q_nope, q_rope and k_nope come within
    /// a factor of 2 of the rope key's variance; off, they fall to about rq/d and rkv/d of it.
    @Test(arguments: [true, false])
    func scaleCalibrationAlignsTheLatentPaths(scaled: Bool) throws {
        var c = tinyConfig(mtp: 0, zLoss: 0, balance: 0)
        c.model.hiddenSize = 96; c.model.qLoraRank = 24; c.model.kvLoraRank = 8
        c.model.numAttentionHeads = 2; c.model.qkNopeHeadDim = 8; c.model.qkRopeHeadDim = 8; c.model.vHeadDim = 8
        c.model.mlaScaleQLora = scaled; c.model.mlaScaleKvLora = scaled
        c.initialization.std = 0.02
        let b = TinyBatch(c, batch: 2, seqLen: 16)
        b.pass(train: false)
        let stats = b.model.activationStatistics()
        for l in 0..<c.model.numLayers {
            for i in 0..<2 {
                let m = "mla.\(i)", rope = try value(stats, l, m, "var_k_rope")
                let q = try value(stats, l, m, "var_q_nope") / rope, qr = try value(stats, l, m, "var_q_rope") / rope
                let k = try value(stats, l, m, "var_k_nope") / rope
                if scaled {
                    for (name, x) in [("q_nope", q), ("q_rope", qr), ("k_nope", k)] {
                        #expect(x > 0.5 && x < 2, "\(m) layer \(l): var(\(name)) / var(k_rope) = \(x)")
                    }
                } else {
                    #expect(q > 0.25 / 2 && q < 0.25 * 2, "q_nope: \(q)")
                    #expect(k > 1.0 / 12 / 2 && k < 1.0 / 12 * 2, "k_nope: \(k)")
                }
            }
        }
    }

    /// Guards against a split that changes the compute per token or cannot be undone:
    /// N*F, K*F and Z/N stay, the factor composes, and the reference comes back.
    @Test func expertSplitKeepsComputeAndInverts() throws {
        var c = tinyConfig()
        c.model.expertFfnHiddenSize = 8
        let split = try c.splittingExperts(by: 4)
        #expect(split.model.nRoutedExperts * split.model.expertFfnHiddenSize == c.model.nRoutedExperts * 8)
        #expect(split.model.moeTopk * split.model.expertFfnHiddenSize == c.model.moeTopk * 8)
        #expect(split.model.zeroExpertNum * c.model.nRoutedExperts == c.model.zeroExpertNum * split.model.nRoutedExperts)
        #expect(split.controller.targetFfnExperts == 4 * c.controller.targetFfnExperts)
        #expect(split.initialization.fineGrainFactor == 4)
        #expect(try split.splittingExperts(by: 2).initialization.fineGrainFactor == 8)
        #expect(try split.unsplitReference() == c)
        #expect(throws: ConfigError.self) { try c.splittingExperts(by: 3) }
    }
}
