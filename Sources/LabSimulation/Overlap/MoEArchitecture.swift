import LabConfig

/// The shape of one MoE layer as the overlap model sees it: what a device computes and sends
/// per token. LongCat layers come from a `ModelConfig`; DeepSeek-V3 (one MLA block, no dense
/// FFN, one shared expert per MoE layer) is a preset for the paper's comparison.
///
/// Dimension letters: D model width, H heads, N FFN experts, Z zero experts, K top-k slots,
/// K_e mean FFN experts per token, F expert hidden, Fd dense FFN hidden.
public struct MoEArchitecture: Sendable, Equatable {
    public var name: String
    /// Attention and expert dimensions (MLA ranks, head dims, D, F, Fd, N, Z, K).
    public var model: ModelConfig
    /// Layers of one forward pass, all modelled as MoE layers.
    public var layers: Int
    /// MLA blocks per layer: 2 for LongCat, 1 for DeepSeek-V3.
    public var attentionBlocks: Int
    /// Dense FFNs per layer (hidden `model.ffnHiddenSize`): 2 for LongCat, 0 for DeepSeek-V3.
    public var denseFfns: Int
    /// Shared experts (hidden F) every token passes through: 0 for LongCat, 1 for DeepSeek-V3.
    public var sharedExperts: Int
    /// K_e: mean FFN experts per token; zero-expert slots send nothing and compute nothing.
    public var ffnExpertsPerToken: Double
    /// Whether the layer has ScMoE's shortcut (the MoE reads the first attention block's output).
    public var hasShortcut: Bool

    public init(name: String, model: ModelConfig, layers: Int, attentionBlocks: Int, denseFfns: Int,
                sharedExperts: Int, ffnExpertsPerToken: Double, hasShortcut: Bool) {
        self.name = name; self.model = model; self.layers = layers
        self.attentionBlocks = attentionBlocks; self.denseFfns = denseFfns
        self.sharedExperts = sharedExperts; self.ffnExpertsPerToken = ffnExpertsPerToken
        self.hasShortcut = hasShortcut
    }

    /// A LongCat-style model: two MLA blocks and two dense FFNs per layer, the shortcut when
    /// `model.layout` is "scmoe", K_e FFN experts per token.
    public init(longcat model: ModelConfig, ffnExpertsPerToken: Double, name: String = "LongCat-Flash") {
        self.init(name: name, model: model, layers: model.numLayers, attentionBlocks: 2, denseFfns: 2,
                  sharedExperts: 0, ffnExpertsPerToken: ffnExpertsPerToken, hasShortcut: model.layout == .scmoe)
    }

    /// The release, K_e = 8 (the paper's "about 27B activated on average").
    public static var longcatFlash: MoEArchitecture {
        MoEArchitecture(longcat: .longcatFlash, ffnExpertsPerToken: 8)
    }

    /// DeepSeek-V3 as the paper compares it: 61 layers (all modelled as MoE layers), D 7168,
    /// 128 heads, rq 1536, rkv 512, dn 128, dr 64, dv 128, 256 routed experts of F 2048, top-8,
    /// one shared expert, no zero experts, no shortcut.
    public static var deepSeekV3: MoEArchitecture {
        var m = ModelConfig()
        m.vocabSize = 129_280
        m.hiddenSize = 7168
        m.numLayers = 61
        m.numAttentionHeads = 128
        m.qLoraRank = 1536
        m.kvLoraRank = 512
        m.qkNopeHeadDim = 128
        m.qkRopeHeadDim = 64
        m.vHeadDim = 128
        m.ffnHiddenSize = 18_432
        m.expertFfnHiddenSize = 2048
        m.nRoutedExperts = 256
        m.zeroExpertNum = 0
        m.moeTopk = 8
        m.layout = .sequential
        return MoEArchitecture(name: "DeepSeek-V3", model: m, layers: 61, attentionBlocks: 1, denseFfns: 0,
                               sharedExperts: 1, ffnExpertsPerToken: 8, hasShortcut: false)
    }

    /// Weights of one MLA block's matrices and of one expert, from the shared calculator.
    var counts: ParameterCount { ParameterCount(model: model, mtp: false) }
}
