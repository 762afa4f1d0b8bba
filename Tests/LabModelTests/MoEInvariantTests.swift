import LabConfig
import LabKernels
import Testing
@testable import LabModel

/// Invariants of the MoE with zero-computation experts, checked on the real model code.
@Suite("MoE invariants")
struct MoEInvariantTests {
    /// Runs one MoE forward of layer 0 of `b` on random u and returns (y, u, saved).
    func moeOnce(_ b: TinyBatch, biasZero: Float) -> (y: [Float], u: [Float], saved: MoESaved) {
        let c = b.model.config, r = 6, d = c.model.hiddenSize
        let shape = MoEShape(c)
        let saved = MoESaved(shape, rows: r), scratch = MoEScratch(shape, rows: r)
        var rng = LabRandom(seed: 3)
        var u = (0..<(r * d)).map { _ in rng.nextNormal() }
        var y = [Float](repeating: 0, count: r * d)
        var bias = [Float](repeating: 0, count: shape.experts)
        for z in shape.routed..<shape.experts { bias[z] = biasZero }
        _ = u.withUnsafeMutableBufferPointer { up in
            y.withUnsafeMutableBufferPointer { yp in
                bias.withUnsafeBufferPointer { bp in
                    moeForward(y: yp.baseAddress!, u: up.baseAddress!, weights: MoEWeights(w: b.model.params.ptr, o: b.model.layout.layers[0].moe),
                               bias: bp.baseAddress!, shape: shape, rows: r, saved: saved, scratch: scratch)
                }
            }
        }
        return (y, u, saved)
    }

    /// Guards against a zero expert given the wrong gate or computing anything but its input:
    /// with every slot on zero (identity) experts, MoE(u) = sum_j g_j u with g_j = s * p_j.
    @Test func zeroExpertReturnsGateTimesInput() {
        let b = TinyBatch(tinyConfig())
        let (y, u, saved) = moeOnce(b, biasZero: 50)
        let c = b.model.config, d = c.model.hiddenSize, k = c.model.moeTopk, e = c.model.nRoutedExperts + c.model.zeroExpertNum
        let plan = saved.plan
        for t in 0..<6 {
            var gateSum: Float = 0
            for j in 0..<k {
                let ex = Int(plan.expert[t * k + j])
                #expect(ex >= c.model.nRoutedExperts, "slot \(j) of token \(t) went to FFN expert \(ex)")
                let expected = Float(c.model.routedScalingFactor) * saved.probs[t * e + ex]
                #expect(abs(plan.gate[t * k + j] - expected) <= 1e-6 * max(1, abs(expected)))
                gateSum += plan.gate[t * k + j]
            }
            for i in 0..<d {
                #expect(abs(y[t * d + i] - gateSum * u[t * d + i]) <= 1e-5 * max(1, abs(y[t * d + i])))
            }
        }
    }

    /// Guards against a crash or NaN when a step routes no token to any FFN expert: the
    /// experts get exactly zero gradient, the router still learns.
    @Test func stepWithNoFFNExpertWorks() {
        let b = TinyBatch(tinyConfig())
        let c = b.model.config
        for l in 0..<c.model.numLayers {
            for z in c.model.nRoutedExperts..<(c.model.nRoutedExperts + c.model.zeroExpertNum) { b.model.bias[l][z] = 50 }
        }
        let losses = b.pass(train: true)
        #expect(losses.total.isFinite)
        for l in 0..<c.model.numLayers {
            #expect(b.model.saved[l].moe.plan.offsets[c.model.nRoutedExperts] == 0)
            let o = b.model.layout.layers[l].moe
            let expertParams = c.model.nRoutedExperts * 3 * c.model.expertFfnHiddenSize * c.model.hiddenSize
            let g = b.model.grads.ptr
            let expertGradNonZero = (0..<expertParams).contains { i in
                i < c.model.nRoutedExperts * 2 * c.model.expertFfnHiddenSize * c.model.hiddenSize
                    ? g[o.gateUp + i] != 0 : g[o.down + i - c.model.nRoutedExperts * 2 * c.model.expertFfnHiddenSize * c.model.hiddenSize] != 0
            }
            #expect(!expertGradNonZero)
            let routerCount = (c.model.nRoutedExperts + c.model.zeroExpertNum) * c.model.hiddenSize
            #expect((0..<routerCount).contains { g[o.router + $0] != 0 })
        }
    }

    /// Guards against "zero"/"drop" experts leaking their input: with every slot on them the
    /// MoE adds nothing.
    @Test func dropZeroExpertsOutputNothing() {
        let b = TinyBatch(tinyConfig(zeroKind: "drop"))
        let (y, _, _) = moeOnce(b, biasZero: 50)
        #expect(y.allSatisfy { $0 == 0 })
    }

    /// Guards against nondeterminism from parallel loops: two passes give identical bits.
    @Test func passesAreDeterministic() {
        let b = TinyBatch(tinyConfig())
        let first = b.pass(train: true)
        let g1 = Array(UnsafeBufferPointer(start: b.model.grads.ptr, count: b.model.layout.count))
        let second = b.pass(train: true)
        let g2 = Array(UnsafeBufferPointer(start: b.model.grads.ptr, count: b.model.layout.count))
        #expect(first == second)
        #expect(g1 == g2)
    }

    /// Guards against a checkpoint that misses or double-writes part of the parameters: the
    /// reference tensors cover every parameter exactly once, plus one bias per layer.
    @Test func referenceTensorsCoverEveryParameterOnce() {
        let c = tinyConfig()
        let layout = ParameterLayout(c.model)
        var covered = [Int](repeating: 0, count: layout.count)
        var biases = 0, zeros = 0
        for t in layout.referenceTensors(c.model) {
            switch t.source {
            case .parameters(let offset): for i in offset..<(offset + t.count) { covered[i] += 1 }
            case .bias: biases += 1; #expect(t.shape == [c.model.nRoutedExperts + c.model.zeroExpertNum])
            case .zeros: zeros += 1
            }
        }
        #expect(covered.allSatisfy { $0 == 1 })
        #expect(biases == c.model.numLayers)
        #expect(zeros == 2 * c.model.zeroExpertNum * c.model.numLayers)
        let names = layout.referenceTensors(c.model).map(\.name)
        #expect(names.contains("model.layers.1.mlp.experts.3.down_proj.weight"))
        #expect(names.contains("model.layers.0.mlps.1.up_proj.weight"))
        #expect(names.contains("model.layers.0.self_attn.1.kv_a_proj_with_mqa.weight"))
        #expect(Set(names).count == names.count)
    }
}
