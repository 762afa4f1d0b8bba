/// The parameter groups whose gradient RMS the variance probe reports (LONGCAT.md section 7
/// compares Adam's epsilon against it).
public enum ParameterGroup: String, Sendable, CaseIterable {
    case embedding, mla, denseFFN = "dense_ffn", router, experts
    /// MoE++ constant zero experts' mix weights and values.
    case zeroExperts = "zero_experts"
    /// Every RMSNorm weight (layer, latent, final and MTP norms).
    case norms
    case lmHead = "lm_head"
    /// The multi-token-prediction layer's matrices (its norms count as norms).
    case mtp
    /// Anything the names above do not cover (a tensor added later).
    case other
}

public extension ParameterSlice {
    /// The slice's group, and its ScMoE layer (-1 outside the layers), read from its name.
    var group: (group: ParameterGroup, layer: Int) {
        let layer = layerIndex
        if shape.count == 1 { return (.norms, layer) }
        if name.hasPrefix("mtp.") { return (.mtp, -1) }
        if name == "model.embed_tokens.weight" { return (.embedding, -1) }
        if name == "lm_head.weight" { return (.lmHead, -1) }
        if name.contains(".self_attn.") { return (.mla, layer) }
        if name.contains(".mlps.") { return (.denseFFN, layer) }
        if name.contains(".mlp.router.") { return (.router, layer) }
        if name.contains(".mlp.zero_experts.") { return (.zeroExperts, layer) }
        if name.contains(".mlp.experts.") { return (.experts, layer) }
        return (.other, layer)
    }

    /// l of `model.layers.<l>.`, or -1.
    private var layerIndex: Int {
        let prefix = "model.layers."
        guard name.hasPrefix(prefix) else { return -1 }
        return Int(name.dropFirst(prefix.count).prefix { $0.isNumber }) ?? -1
    }
}
