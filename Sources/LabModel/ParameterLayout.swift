import LabConfig

/// One named tensor inside the model's single flat parameter buffer.
public struct ParameterSlice: Sendable, Equatable {
    /// The lab's own name (the reference checkpoint's name where one exists).
    public let name: String
    public let offset: Int
    public let shape: [Int]
    /// Weight decay applies to matrices only.
    public var decays: Bool { shape.count >= 2 }
    public var count: Int { shape.reduce(1, *) }
    public var range: Range<Int> { offset..<(offset + count) }
}

/// Offsets of one MLA block's weights (LONGCAT.md section 2), all [out, in].
public struct MLAOffsets: Sendable {
    public var qA = 0        // [rq, D]
    public var qANorm = 0    // [rq]
    public var qB = 0        // [H*(dn+dr), rq]
    public var kvA = 0       // [rkv+dr, D]: rows 0..<rkv give the latent, the last dr the rope key
    public var kvANorm = 0   // [rkv]
    public var kvB = 0       // [H*(dn+dv), rkv]: per head k_nope (dn) then v (dv)
    public var o = 0         // [D, H*dv]
}

/// Offsets of one dense SwiGLU FFN: gate and up stacked so one GEMM computes both.
public struct FFNOffsets: Sendable {
    public var gateUp = 0    // [2F, D]: rows 0..<F gate_proj, rows F..<2F up_proj
    public var down = 0      // [D, F]
}

/// Offsets of one MoE: router and the routed experts, stacked per expert.
public struct MoEOffsets: Sendable {
    public var router = 0    // [N+Z, D]
    public var gateUp = 0    // [N, 2F, D]
    public var down = 0      // [N, D, F]
    /// MoE++ constant zero experts only: per zero expert W_c [2, D] and v [D].
    public var constantMix = 0  // [Z, 2, D]
    public var constantValue = 0 // [Z, D]
}

/// One ScMoE layer: two MLA blocks, two dense FFNs, one MoE, four RMSNorms.
public struct LayerOffsets: Sendable {
    public var inputNorm = [0, 0]      // [D] each: input_layernorm.0/1
    public var postAttnNorm = [0, 0]   // [D] each: post_attention_layernorm.0/1
    public var attention = [MLAOffsets(), MLAOffsets()]
    public var ffn = [FFNOffsets(), FFNOffsets()]
    public var moe = MoEOffsets()
}

/// The multi-token-prediction head (LONGCAT.md section 7; our reading: it shares the token
/// embedding and the LM head with the main model, as DeepSeek-V3's does).
public struct MTPOffsets: Sendable {
    public var embedNorm = 0   // [D]
    public var hiddenNorm = 0  // [D]
    public var ehProj = 0      // [D, 2D]: W_eh [norm(embed(next)); norm(h)]
    public var inputNorm = 0   // [D]
    public var attention = MLAOffsets()
    public var postAttnNorm = 0 // [D]
    public var ffn = FFNOffsets()
    public var finalNorm = 0   // [D]
}

/// Where every tensor lives in the one flat parameter buffer (gradients and Adam moments use
/// the same layout). Built from the config alone.
public struct ParameterLayout: Sendable {
    public private(set) var slices: [ParameterSlice] = []
    public private(set) var count = 0
    public var embedding = 0      // [V, D]
    public var layers: [LayerOffsets] = []
    public var finalNorm = 0      // [D]
    public var lmHead = 0         // [V, D]
    public var mtp: MTPOffsets? = nil

    public init(_ c: ModelConfig) {
        let d = c.hiddenSize, h = c.numAttentionHeads
        embedding = add("model.embed_tokens.weight", [c.vocabSize, d])
        for l in 0..<c.numLayers {
            let p = "model.layers.\(l)."
            var layer = LayerOffsets()
            for i in 0..<2 {
                layer.attention[i] = addMLA(p + "self_attn.\(i).", c)
                layer.ffn[i] = addFFN(p + "mlps.\(i).", hidden: c.ffnHiddenSize, d: d)
                layer.inputNorm[i] = add(p + "input_layernorm.\(i).weight", [d])
                layer.postAttnNorm[i] = add(p + "post_attention_layernorm.\(i).weight", [d])
            }
            let n = c.nRoutedExperts, z = c.zeroExpertNum, f = c.expertFfnHiddenSize
            layer.moe.router = add(p + "mlp.router.classifier.weight", [n + z, d])
            layer.moe.gateUp = add(p + "mlp.experts.gate_up_proj", [n, 2 * f, d])
            layer.moe.down = add(p + "mlp.experts.down_proj", [n, d, f])
            if c.zeroExpertType == .constant && z > 0 {
                layer.moe.constantMix = add(p + "mlp.zero_experts.mix", [z, 2, d])
                layer.moe.constantValue = add(p + "mlp.zero_experts.value", [z, d])
            }
            layers.append(layer)
        }
        finalNorm = add("model.norm.weight", [d])
        lmHead = add("lm_head.weight", [c.vocabSize, d])
        if c.mtpLossCoef > 0 {
            var m = MTPOffsets()
            m.embedNorm = add("mtp.enorm.weight", [d])
            m.hiddenNorm = add("mtp.hnorm.weight", [d])
            m.ehProj = add("mtp.eh_proj.weight", [d, 2 * d])
            m.inputNorm = add("mtp.input_layernorm.weight", [d])
            m.attention = addMLA("mtp.self_attn.", c)
            m.postAttnNorm = add("mtp.post_attention_layernorm.weight", [d])
            m.ffn = addFFN("mtp.mlp.", hidden: c.ffnHiddenSize, d: d)
            m.finalNorm = add("mtp.norm.weight", [d])
            mtp = m
        }
        _ = h
    }

    /// Ranges that receive weight decay (matrices only).
    public var decayRanges: [Range<Int>] { slices.filter(\.decays).map(\.range) }

    /// Ranges holding RMSNorm weights (initialised to 1).
    public var normRanges: [Range<Int>] { slices.filter { $0.shape.count == 1 }.map(\.range) }

    public func slice(named name: String) -> ParameterSlice? { slices.first { $0.name == name } }

    private mutating func add(_ name: String, _ shape: [Int]) -> Int {
        let s = ParameterSlice(name: name, offset: count, shape: shape)
        slices.append(s)
        count += s.count
        return s.offset
    }

    private mutating func addMLA(_ p: String, _ c: ModelConfig) -> MLAOffsets {
        let d = c.hiddenSize, h = c.numAttentionHeads
        var m = MLAOffsets()
        m.qA = add(p + "q_a_proj.weight", [c.qLoraRank, d])
        m.qANorm = add(p + "q_a_layernorm.weight", [c.qLoraRank])
        m.qB = add(p + "q_b_proj.weight", [h * (c.qkNopeHeadDim + c.qkRopeHeadDim), c.qLoraRank])
        m.kvA = add(p + "kv_a_proj_with_mqa.weight", [c.kvLoraRank + c.qkRopeHeadDim, d])
        m.kvANorm = add(p + "kv_a_layernorm.weight", [c.kvLoraRank])
        m.kvB = add(p + "kv_b_proj.weight", [h * (c.qkNopeHeadDim + c.vHeadDim), c.kvLoraRank])
        m.o = add(p + "o_proj.weight", [d, h * c.vHeadDim])
        return m
    }

    private mutating func addFFN(_ p: String, hidden f: Int, d: Int) -> FFNOffsets {
        var m = FFNOffsets()
        m.gateUp = add(p + "gate_up_proj.weight", [2 * f, d])
        m.down = add(p + "down_proj.weight", [d, f])
        return m
    }
}
