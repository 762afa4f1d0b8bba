import Foundation
import LabConfig
import LabKernels
import LabRouting
@testable import LabModel

// A plain per-token MoE in Double, the oracle for the sorted, chunked expert path: for each
// token, loop over its chosen experts, run the expert FFN on that token's row directly, add the
// zero-expert term; backward by hand in the same loop. It takes the routing (chosen ids) from
// the fast path's plan and recomputes everything else (router probabilities, gates) itself.
// Letters: R rows, D width, N routed experts, Z zero experts, E = N+Z, K slots, F expert hidden.

/// One MoE layer's inputs for the oracle and the fast path: u [R, D], the layer's weights and
/// the config's shape.
struct MoEProblem {
    let config: LabConfig
    let shape: MoEShape
    let offsets: MoEOffsets
    /// Every parameter of a tiny model (only layer 0's MoE slices are used).
    var params: [Float]
    /// [R, D] the MoE input.
    var u: [Float]
    /// [E] routing bias.
    var bias: [Float]
    let rows: Int

    init(zeroKind: String, rows r: Int, balance: Double = 0, seed: UInt64 = 5) {
        let c = tinyConfig(zeroKind: zeroKind, balance: balance)
        config = c
        shape = MoEShape(c)
        let model = LongCatModel(config: c, batch: 1, seqLen: 1)
        model.initializeWeights(seed: seed)
        offsets = model.layout.layers[0].moe
        params = model.params.array
        var rng = LabRandom(seed: seed + 11)
        u = (0..<(r * shape.d)).map { _ in rng.nextNormal() }
        bias = (0..<shape.experts).map { _ in 0.02 * rng.nextNormal() }
        rows = r
    }

    /// The fast path: y = MoE(u) (+ balance loss), its saved state, and (when `dy` is given)
    /// du and the parameter gradients of L = <y, dy> + balance.
    func fast(dy: [Float]? = nil) -> (y: [Float], balance: Double, plan: RoutingPlan, du: [Float], grads: [Float]) {
        let saved = MoESaved(shape, rows: rows), scratch = MoEScratch(shape, rows: rows)
        var y = [Float](repeating: 0, count: rows * shape.d)
        var du = y, grads = [Float](repeating: 0, count: params.count)
        var balance = 0.0
        params.withUnsafeBufferPointer { w in
            u.withUnsafeBufferPointer { u in
                bias.withUnsafeBufferPointer { b in
                    let weights = MoEWeights(w: w.baseAddress!, o: offsets)
                    y.withUnsafeMutableBufferPointer { yp in
                        balance = moeForward(y: yp.baseAddress!, u: u.baseAddress!, weights: weights, bias: b.baseAddress!,
                                             shape: shape, rows: rows, saved: saved, scratch: scratch)
                    }
                    guard let dy else { return }
                    dy.withUnsafeBufferPointer { dyp in
                        du.withUnsafeMutableBufferPointer { dup in
                            grads.withUnsafeMutableBufferPointer { gp in
                                moeBackward(du: dup.baseAddress!, dWeights: gp.baseAddress!, dy: dyp.baseAddress!,
                                            u: u.baseAddress!, weights: weights, shape: shape, rows: rows,
                                            saved: saved, scratch: scratch)
                            }
                        }
                    }
                }
            }
        }
        return (y, balance, saved.plan, du, grads)
    }

    /// The oracle, with the chosen experts of `plan`: y [R, D], the gates it recomputed [R*K],
    /// and for L = <y, dy> (no balance term) du [R, D] and the parameter gradients.
    func oracle(plan: RoutingPlan, dy: [Float]) -> (y: [Double], gate: [Double], du: [Double], grads: [Double]) {
        let d = shape.d, f = shape.hidden, n = shape.routed, e = shape.experts, k = shape.topK, o = offsets
        let w = params.map(Double.init)
        var y = [Double](repeating: 0, count: rows * d), du = y
        var gates = [Double](repeating: 0, count: rows * k)
        var g = [Double](repeating: 0, count: params.count)
        func silu(_ x: Double) -> Double { x / (1 + exp(-x)) }
        for t in 0..<rows {
            let ut = (0..<d).map { Double(u[t * d + $0]) }, dyt = (0..<d).map { Double(dy[t * d + $0]) }
            // Router: p = softmax(W_r u).
            let logits = (0..<e).map { i in (0..<d).reduce(0.0) { $0 + w[o.router + i * d + $1] * ut[$1] } }
            let mx = logits.max()!, ex = logits.map { exp($0 - mx) }, sum = ex.reduce(0, +)
            let p = ex.map { $0 / sum }
            var dp = [Double](repeating: 0, count: e)
            for j in 0..<k {
                let i = Int(plan.expert[t * k + j]), gate = Double(shape.gateScale) * p[i]
                gates[t * k + j] = gate
                var out = [Double](repeating: 0, count: d)   // E_i(u_t), ungated
                if i < n {
                    let gu = o.gateUp + i * 2 * f * d, dn = o.down + i * d * f
                    let a = (0..<f).map { r in (0..<d).reduce(0.0) { $0 + w[gu + r * d + $1] * ut[$1] } }
                    let b = (0..<f).map { r in (0..<d).reduce(0.0) { $0 + w[gu + (f + r) * d + $1] * ut[$1] } }
                    let h = (0..<f).map { silu(a[$0]) * b[$0] }
                    for c in 0..<d { out[c] = (0..<f).reduce(0.0) { $0 + w[dn + c * f + $1] * h[$1] } }
                    // Backward: dOut = g dy; dh = W_down^T dOut; SwiGLU; W_gateUp^T.
                    let dOut = dyt.map { gate * $0 }
                    var dh = [Double](repeating: 0, count: f)
                    for c in 0..<d {
                        for r in 0..<f { g[dn + c * f + r] += dOut[c] * h[r]; dh[r] += w[dn + c * f + r] * dOut[c] }
                    }
                    for r in 0..<f {
                        let sig = 1 / (1 + exp(-a[r]))
                        let da = dh[r] * b[r] * sig * (1 + a[r] * (1 - sig)), db = dh[r] * silu(a[r])
                        for c in 0..<d {
                            g[gu + r * d + c] += da * ut[c]; g[gu + (f + r) * d + c] += db * ut[c]
                            du[t * d + c] += w[gu + r * d + c] * da + w[gu + (f + r) * d + c] * db
                        }
                    }
                } else {
                    let z = i - n
                    switch shape.zeroKind {
                    case .identity:
                        out = ut
                        for c in 0..<d { du[t * d + c] += gate * dyt[c] }
                    case .zero, .drop:
                        break
                    case .constant:
                        let wc = o.constantMix + z * 2 * d, v = o.constantValue + z * d
                        let l0 = (0..<d).reduce(0.0) { $0 + w[wc + $1] * ut[$1] }
                        let l1 = (0..<d).reduce(0.0) { $0 + w[wc + d + $1] * ut[$1] }
                        let a1 = 1 / (1 + exp(l1 - l0)), a2 = 1 - a1
                        for c in 0..<d { out[c] = a1 * ut[c] + a2 * w[v + c] }
                        let dyu = (0..<d).reduce(0.0) { $0 + dyt[$1] * ut[$1] }
                        let dyv = (0..<d).reduce(0.0) { $0 + dyt[$1] * w[v + $1] }
                        let da1 = gate * dyu, da2 = gate * dyv, mean = a1 * da1 + a2 * da2
                        let dl0 = a1 * (da1 - mean), dl1 = a2 * (da2 - mean)
                        for c in 0..<d {
                            du[t * d + c] += gate * a1 * dyt[c] + dl0 * w[wc + c] + dl1 * w[wc + d + c]
                            g[wc + c] += dl0 * ut[c]; g[wc + d + c] += dl1 * ut[c]
                            g[v + c] += gate * a2 * dyt[c]
                        }
                    }
                }
                for c in 0..<d { y[t * d + c] += gate * out[c] }
                dp[i] = Double(shape.gateScale) * (0..<d).reduce(0.0) { $0 + dyt[$1] * out[$1] }
            }
            // Softmax and router backward.
            let pdp = (0..<e).reduce(0.0) { $0 + p[$1] * dp[$1] }
            for i in 0..<e {
                let dl = p[i] * (dp[i] - pdp)
                for c in 0..<d { g[o.router + i * d + c] += dl * ut[c]; du[t * d + c] += w[o.router + i * d + c] * dl }
            }
        }
        return (y, gates, du, g)
    }

    /// Offsets and counts of this MoE's parameter tensors, by name.
    var tensors: [(name: String, offset: Int, count: Int)] {
        let s = shape, d = s.d
        var out = [("router", offsets.router, s.experts * d), ("gate_up", offsets.gateUp, s.routed * 2 * s.hidden * d),
                   ("down", offsets.down, s.routed * d * s.hidden)]
        if s.zeroKind == .constant {
            out += [("constant_mix", offsets.constantMix, s.zero * 2 * d), ("constant_value", offsets.constantValue, s.zero * d)]
        }
        return out
    }
}

/// max |a - b| / max(|b|, floor) over two equally long sequences.
func worstRelativeError(_ a: [Float], _ b: [Double], floor: Double) -> Double {
    zip(a, b).map { abs(Double($0) - $1) / max(abs($1), floor) }.max() ?? 0
}
