import Foundation
import LabKernels

// The MoE output of one layer split into its routed-expert and zero-expert parts, recomputed
// for the variance probe from what the last forward saved: the MoE input u, the routing plan
// and the experts' gate/up pre-activations. Letters as in MoEBuffers.swift: R rows, D width,
// F expert hidden, S FFN slots (expert-sorted), g = s * gamma * p the gates of the plan.
//
//   expert[p] = E_i(u_t) = W_down_i swiglu(gu[p])                      [S, D]  ungated
//   routed[t] = sum over t's FFN slots  of g * expert[row of slot]     [R, D]
//   zero[t]   = sum over t's zero slots of g * Z(u_t)                  [R, D]
//   MoE(u)    = routed + zero

/// The two parts of one layer's MoE output and the ungated expert outputs behind the first.
struct MoEParts {
    /// [R, D] the MoE input (u or v), recomputed.
    let input: FloatBuffer
    /// [R, D] the routed-expert part.
    let routed: FloatBuffer
    /// [R, D] the zero-expert part (identity: g * u; zero/drop: 0; constant: g * (a1 u + a2 v)).
    let zero: FloatBuffer
    /// [S, D] E_i(u) of every FFN slot before its gate, expert-sorted.
    let expertOutputs: FloatBuffer
    /// S.
    let ffnSlots: Int
}

extension LongCatModel {
    /// Recomputes layer `l`'s MoE output in two parts for the `rows` tokens of the last pass.
    func moeParts(layer l: Int, rows r: Int) -> MoEParts {
        let s = moeShape, d = s.d, f = s.hidden, k = s.topK
        let plan = saved[l].moe.plan
        let slots = plan.offsets[plan.routedExperts]
        let weights = MoEWeights(w: UnsafePointer(params.ptr), o: layout.layers[l].moe)
        let h = FloatBuffer(count: max(1, slots * f)), expertOut = FloatBuffer(count: max(1, slots * d))
        let hP = SendablePointer(h.ptr), outP = SendablePointer(expertOut.ptr)
        let offsets = plan.offsets
        let input = moeInputBuffer(layer: l, rows: r)
        let gu = moeGateUp(layer: l, input: input)
        withExtendedLifetime((h, gu)) {
            swigluForward(h: h.ptr, gu: gu.ptr, rows: slots, hidden: f)
            parallelFor(s.routed) { ex in
                let lo = offsets[ex], n = offsets[ex + 1] - lo
                if n == 0 { return }
                linearForward(y: outP.base + lo * d, x: hP.base + lo * f, w: weights.down(ex, s),
                              rows: n, inFeatures: f, outFeatures: d, serial: true)
            }
        }
        var rowOf = [Int32](repeating: -1, count: r * k)
        for p in 0..<slots { rowOf[Int(plan.sortedSlots[p])] = Int32(p) }
        let rowOfSlot = rowOf
        let routed = FloatBuffer(count: r * d), zero = FloatBuffer(count: r * d)
        let routedP = SendablePointer(routed.ptr), zeroP = SendablePointer(zero.ptr)
        let u = SendablePointer(input.ptr)
        let expert = plan.expert, gate = plan.gate, kind = s.zeroKind
        parallelRanges(r, costPerItem: k * d) { tokens in
            for t in tokens {
                let uRow = UnsafePointer(u.base + t * d)
                for j in 0..<k {
                    let slot = t * k + j, ex = Int(expert[slot]), g = gate[slot]
                    if ex < s.routed {
                        addInPlaceSerial(routedP.base + t * d, outP.base + Int(rowOfSlot[slot]) * d, d, scale: g)
                    } else if kind == .identity {
                        addInPlaceSerial(zeroP.base + t * d, uRow, d, scale: g)
                    } else if kind == .constant {
                        let z = ex - s.routed
                        let mix = weights.w + weights.o.constantMix + z * 2 * d
                        let (a1, a2) = constantExpertMix(u: uRow, mixWeights: mix, d: d)
                        addInPlaceSerial(zeroP.base + t * d, uRow, d, scale: g * a1)
                        addInPlaceSerial(zeroP.base + t * d, weights.w + weights.o.constantValue + z * d, d, scale: g * a2)
                    }
                }
            }
        }
        return withExtendedLifetime(input) {
            MoEParts(input: input, routed: routed, zero: zero, expertOutputs: expertOut, ffnSlots: slots)
        }
    }
}

/// (a1, a2) = softmax(W_c u) of one MoE++ constant expert, W_c [2, D].
private func constantExpertMix(u: UnsafePointer<Float>, mixWeights wc: UnsafePointer<Float>, d: Int) -> (Float, Float) {
    let l0 = dot(wc, u, d), l1 = dot(wc + d, u, d)
    let e1 = expf(l1 - max(l0, l1)), e0 = expf(l0 - max(l0, l1))
    return (e0 / (e0 + e1), e1 / (e0 + e1))
}
