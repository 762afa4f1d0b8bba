import LabKernels

// The MoE output of one layer split into its routed-expert and zero-expert parts, recomputed
// for the variance probe from the last forward's routing plan and the recomputed MoE input u,
// through the same expert path as training. Letters as in MoEBuffers.swift: R rows, D width,
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
    /// [S, D] E_i(u) of every FFN slot before its gate, expert-sorted (in the MoE scratch's
    /// first S * D floats: valid until the next pass).
    let expertOutputs: FloatBuffer
    /// S.
    let ffnSlots: Int
}

extension LongCatModel {
    /// Recomputes layer `l`'s MoE output in two parts for the `rows` tokens of the last pass,
    /// through the training path (`expertsForward`, `combineForward`).
    ///
    /// The [S, D] expert outputs and [S, F] hidden activations go into the MoE scratch, which
    /// holds nothing between passes (forward fills it, backward recomputes it): at the medium
    /// bench's 8 x 512 tokens that is 78 MiB the probe would otherwise add to the peak.
    func moeParts(layer l: Int, rows r: Int) -> MoEParts {
        let s = moeShape, d = s.d, f = s.hidden
        let plan = saved[l].moe.plan
        let slots = plan.ffnSlots
        let weights = MoEWeights(w: UnsafePointer(params.ptr), o: layout.layers[l].moe)
        let input = moeInputBuffer(layer: l, rows: r)
        let expertOut = moeScratch.y, h = moeScratch.h  // [S, D], [S, F] of their R*K rows
        let gu = FloatBuffer(count: max(1, slots * 2 * f))
        let routed = FloatBuffer(count: r * d), zero = FloatBuffer(count: r * d)
        withExtendedLifetime((gu, h)) {
            expertsForward(out: expertOut.ptr, gu: gu.ptr, h: h.ptr, u: input.ptr, weights: weights, shape: s, plan: plan)
            combineForward(routed: routed.ptr, zero: zero.ptr, u: input.ptr, expertOutputs: expertOut.ptr,
                           weights: weights, shape: s, rows: r, plan: plan)
        }
        return MoEParts(input: input, routed: routed, zero: zero, expertOutputs: expertOut, ffnSlots: slots)
    }
}
