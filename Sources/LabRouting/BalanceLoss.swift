// Device-level load-balance loss (LONGCAT.md section 5) and the two diagnostics the paper
// pairs with it: the gradient-norm ratio R_g and router weight similarity.
//
// Dimension letters: T tokens, N FFN experts (ids 0..<N), Z zero experts (ids N..<N+Z),
// E = N + Z, K top-k slots, K_e target mean FFN experts per token, D expert-parallel groups.
//
// The N FFN experts form D groups of N/D consecutive ids (one per device); all zero experts
// form group D+1.
//
//   L_LB    = alpha * sum_{j=1}^{D+1} f_j * P_j
//   P_j     = (1/T) * sum_t sum_{i in group j} p_i(t)              unbiased router probs
//   f_j     = D / (K_e * T) * (selections of group j)             j <= D
//   f_{D+1} = 1 / ((K - K_e) * T) * (selections of zero experts)
//
// Selections are counted per slot (a token picking two experts of one group counts twice, our
// choice), so f_j = 1 for every group at the target split. f is a constant of the step: the
// gradient flows through P only, dL/dp_i(t) = alpha * f_{group(i)} / T for every token and
// every expert, chosen or not. When K_e = K (or Z = 0) the zero group has no target share and
// is left out (f_{D+1} = 0).

/// f_j of the D + 1 groups for a routed batch (the last entry is the zero-expert group).
///
/// - Parameters:
///   - groups: D, must divide N (`balance.groups`).
///   - targetFfnExperts: K_e, 0 < K_e <= K (0 means K, as in the config).
/// - Throws: `RoutingError` naming `balance.groups` or `controller.target_ffn_experts`.
public func balanceFactors(plan: RoutingPlan, groups D: Int, targetFfnExperts: Double) throws -> [Double] {
    var f = Array(repeating: 0.0, count: max(D, 0) + 1)
    try f.withUnsafeMutableBufferPointer { try fillBalanceFactors($0.baseAddress!, plan: plan, groups: D,
                                                                  targetFfnExperts: targetFfnExperts) }
    return f
}

/// Writes f_j `[D+1]` into `f` after validating D and K_e.
private func fillBalanceFactors(_ f: UnsafeMutablePointer<Double>, plan: RoutingPlan, groups D: Int,
                                targetFfnExperts: Double) throws {
    let N = plan.routedExperts, Z = plan.zeroExperts, K = plan.topK, T = plan.tokens
    guard D >= 1, N % D == 0 else {
        throw RoutingError("balance.groups = \(D) is out of range: it must be at least 1 and divide "
            + "model.n_routed_experts = \(N)")
    }
    let ke = try resolveTargetFfnExperts(targetFfnExperts, routedExperts: N, zeroExperts: Z, topK: K)
    let perGroup = N / D
    for j in 0..<D {
        let selections = plan.offsets[(j + 1) * perGroup] - plan.offsets[j * perGroup]
        f[j] = T > 0 ? Double(D) / (ke * Double(T)) * Double(selections) : 0
    }
    let zeroSelections = plan.offsets[N + Z] - plan.offsets[N]
    let zeroBudget = Double(K) - ke
    f[D] = T > 0 && zeroBudget > 0 ? 1 / (zeroBudget * Double(T)) * Double(zeroSelections) : 0
}

/// L_LB for a routed batch, adding dL_LB/dp into `dProbs` when given.
///
/// - Parameters:
///   - dProbs: `[T, E]` (+=) gradient with respect to the router probabilities, or nil.
///   - probs: `[T, E]` the unbiased probabilities the plan was routed from.
///   - plan: the batch's routing (its loads give f).
///   - groups: D, must divide N.
///   - targetFfnExperts: K_e (0 means K).
///   - alpha: the loss coefficient (`balance.alpha`).
/// - Returns: L_LB (alpha included), accumulated in Double.
/// - Throws: `RoutingError` when D does not divide N or K_e is out of range.
@discardableResult
public func deviceBalanceLoss(dProbs: UnsafeMutablePointer<Float>?, probs: UnsafePointer<Float>,
                              plan: RoutingPlan, groups D: Int, targetFfnExperts: Double,
                              alpha: Float) throws -> Double {
    let T = plan.tokens, N = plan.routedExperts, E = plan.experts
    return try withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * (max(D, 0) + 1)) { buffer in
        let f = buffer.baseAddress!
        try fillBalanceFactors(f, plan: plan, groups: D, targetFfnExperts: targetFfnExperts)
        let mass = f + (D + 1)   // [D+1] sum_t sum_{i in group j} p_i(t)
        let perGroup = N / D
        for j in 0...D { mass[j] = 0 }
        for t in 0..<T {
            let row = probs + t * E
            for j in 0..<D {
                var s: Float = 0
                for i in j * perGroup ..< (j + 1) * perGroup { s += row[i] }
                mass[j] += Double(s)
            }
            var s: Float = 0
            for i in N..<E { s += row[i] }
            mass[D] += Double(s)
        }
        var loss = 0.0
        for j in 0...D { loss += f[j] * mass[j] }
        loss *= Double(alpha) / Double(max(T, 1))
        if let dProbs, T > 0 {
            for t in 0..<T {
                let row = dProbs + t * E
                for i in 0..<E {
                    let j = i < N ? i / perGroup : D
                    row[i] += Float(Double(alpha) * f[j] / Double(T))
                }
            }
        }
        return loss
    }
}

/// R_g = ||grad_pbar (alpha L_LB)|| / ||grad_pbar L_LM||, the paper's guideline ratio (keep
/// below about 0.1).
///
/// Both gradients are taken with respect to the batch-mean probability vector
/// pbar_i = (1/T) sum_t p_i(t). Shifting pbar_i by delta (each token's deviation
/// p_i(t) - pbar_i held fixed) shifts every p_i(t) by delta, so by the chain rule
/// dL/dpbar_i = sum_t dL/dp_i(t): the column sums of the per-token gradients. For the balance
/// loss that is alpha * f_{group(i)} exactly. Norms are Euclidean over the E experts.
///
/// - Parameters:
///   - lmGradient: `[T, E]` dL_LM/dp (zero outside the chosen experts in a top-k MoE).
///   - balanceGradient: `[T, E]` what `deviceBalanceLoss` added to a zeroed buffer (alpha
///     included).
/// - Returns: the ratio; 0 when both are zero, +infinity when only the LM gradient is zero.
public func gradientNormRatio(lmGradient: UnsafePointer<Float>, balanceGradient: UnsafePointer<Float>,
                              tokens T: Int, experts E: Int) -> Double {
    var lm = Array(repeating: 0.0, count: E), lb = Array(repeating: 0.0, count: E)
    for t in 0..<T {
        for i in 0..<E {
            lm[i] += Double(lmGradient[t * E + i])
            lb[i] += Double(balanceGradient[t * E + i])
        }
    }
    let lmNorm = lm.reduce(0) { $0 + $1 * $1 }.squareRoot()
    let lbNorm = lb.reduce(0) { $0 + $1 * $1 }.squareRoot()
    if lmNorm == 0 { return lbNorm == 0 ? 0 : .infinity }
    return lbNorm / lmNorm
}

/// Mean pairwise cosine similarity of the N FFN experts' router rows (a rise toward 1 warns of
/// router collapse). Rows N..<N+Z (zero experts) are ignored; a zero row counts as cosine 0.
///
/// - Parameters:
///   - weights: `[N+Z, dim]` router weight (`router.classifier.weight`), row-major.
///   - experts: N.
///   - dim: the model width.
/// - Returns: the mean over the N(N-1)/2 pairs; 0 when N < 2.
public func routerWeightSimilarity(weights: UnsafePointer<Float>, experts N: Int, dim: Int) -> Double {
    if N < 2 { return 0 }
    var norms = Array(repeating: 0.0, count: N)
    for i in 0..<N {
        var s = 0.0
        for k in 0..<dim { s += Double(weights[i * dim + k]) * Double(weights[i * dim + k]) }
        norms[i] = s.squareRoot()
    }
    var total = 0.0
    for i in 0..<N {
        for j in (i + 1)..<N where norms[i] > 0 && norms[j] > 0 {
            var dot = 0.0
            for k in 0..<dim { dot += Double(weights[i * dim + k]) * Double(weights[j * dim + k]) }
            total += dot / (norms[i] * norms[j])
        }
    }
    return total / Double(N * (N - 1) / 2)
}
