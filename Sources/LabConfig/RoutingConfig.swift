/// `[routing]`: which experts a token may choose (controls that isolate the paper's adaptive
/// allocation, LONGCAT.md section 3). Each field's meaning and allowed values are in its row of
/// `LabConfig.routingFields` below.
public struct RoutingConfig: Sendable, Equatable {
    public var mode = RoutingMode.adaptive
    public init() {}
}

extension LabConfig {
    static let routingFields: [ConfigField] = [
        ConfigField("routing.mode", \.routing.mode,
                    doc: "adaptive (LongCat: top-K over all N+Z experts), fixed_split (exactly K_e = "
                        + "controller.target_ffn_experts FFN experts and K - K_e zero experts per token) or "
                        + "no_zero_selection (exactly K FFN experts; zero experts only in the softmax). "
                        + "Gates always come from the softmax over N+Z."),
    ]
}

public extension LabConfig {
    /// FFN experts every token must take, or nil when the split adapts (`routing.mode`):
    /// K_e for fixed_split (validated integral), K for no_zero_selection.
    var fixedFfnSlots: Int? {
        switch routing.mode {
        case .adaptive: nil
        case .fixedSplit: Int(effectiveTargetFfnExperts)
        case .noZeroSelection: model.moeTopk
        }
    }
}
