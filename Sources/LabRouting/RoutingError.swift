// Errors a user can cause in the routing layer, and the shape checks shared by its entry points.
//
// Dimension letters: T tokens, N routed (FFN) experts, Z zero experts, K top-k slots per token.

/// A bad routing setting or input, with a message that names the key, the value and the
/// allowed range.
public struct RoutingError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Checks the model dimensions the router depends on: N >= 1, Z >= 0, 1 <= K <= N + Z.
public func validateRoutingShape(routedExperts N: Int, zeroExperts Z: Int, topK K: Int) throws {
    if N < 1 {
        throw RoutingError("model.n_routed_experts = \(N) is out of range: it must be at least 1")
    }
    if Z < 0 {
        throw RoutingError("model.zero_expert_num = \(Z) is out of range: it must be 0 or more")
    }
    if K < 1 || K > N + Z {
        throw RoutingError("model.moe_topk = \(K) is out of range: it must satisfy "
            + "1 <= moe_topk <= n_routed_experts + zero_expert_num = \(N + Z)")
    }
}

/// Resolves and checks K_e, the target mean number of FFN experts per token.
///
/// `target` 0 means K (no budget: every slot may go to an FFN expert). Allowed:
/// 0 < K_e <= K, K_e <= N (a token picks distinct experts, so at most N FFN ones) and
/// K - K_e <= Z (the remaining slots need distinct zero experts); with Z = 0 only K_e = K is
/// reachable.
public func resolveTargetFfnExperts(_ target: Double, routedExperts N: Int, zeroExperts Z: Int,
                                    topK K: Int) throws -> Double {
    if target.isNaN || target < 0 || target > Double(K) {
        throw RoutingError("controller.target_ffn_experts = \(target) is out of range: "
            + "it must satisfy 0 < K_e <= K = model.moe_topk = \(K) (0 means K)")
    }
    let ke = target == 0 ? Double(K) : target
    if Z == 0 && ke < Double(K) {
        throw RoutingError("controller.target_ffn_experts = \(target) is below "
            + "model.moe_topk = \(K) but model.zero_expert_num = 0: without zero experts every "
            + "token uses exactly K FFN experts, so the budget is unreachable; set "
            + "zero_expert_num > 0 or target_ffn_experts = 0")
    }
    if ke > Double(N) {
        throw RoutingError("controller.target_ffn_experts = \(ke) exceeds "
            + "model.n_routed_experts = \(N): a token picks distinct experts, so it can use at "
            + "most N FFN experts")
    }
    if Double(K) - ke > Double(Z) {
        throw RoutingError("controller.target_ffn_experts = \(ke) leaves K - K_e = "
            + "\(Double(K) - ke) zero slots per token but model.zero_expert_num = \(Z): a token "
            + "picks distinct experts, so it can fill at most Z zero slots")
    }
    return ke
}
