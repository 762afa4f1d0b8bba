import LabKernels

// Telemetry hook of the MoE backward: a copy of the gradient with respect to the router
// probabilities taken before the layer's balance-loss gradient is added, so that the
// gradient-norm ratio R_g (LONGCAT.md section 5) can compare the two.
//
// Letters: R rows (tokens), E = N + Z experts.

/// A copy of dL/dp `[R, E]` of one MoE layer, taken in its backward when armed.
///
/// The copy holds the gradient of every loss except this layer's own balance term: the LM
/// loss, the z-loss, MTP, and (through the residual stream) the balance terms of later layers,
/// whose share is tiny at useful alphas. It is a copy; arming never changes the training result.
public final class RouterGradientCapture: @unchecked Sendable {
    /// `[R, E]` dL/dp of the last backward pass that ran while armed (rows `rows`).
    public let gradient: FloatBuffer
    /// Copy in the next backward passes (until disarmed).
    public var isArmed = false
    /// Rows written by the last capture; 0 before the first.
    public internal(set) var rows = 0
    /// Incremented on every capture, so a reader can tell a fresh copy from an old one.
    public internal(set) var generation = 0

    init(capacity: Int) { gradient = FloatBuffer(count: capacity) }
}

extension LongCatModel {
    /// Arms (or disarms) the router-gradient capture of every MoE layer for the coming passes.
    public func captureRouterGradients(_ armed: Bool) {
        for s in saved { s.moe.routerGradientCapture.isArmed = armed }
    }
}
