import Foundation

/// The fields of a reference `config.json` (transformers' `LongcatFlashConfig`, model_type
/// `longcat_flash`) that decide the model's computation. Every field is optional when read:
/// `ConfigMapping` decides which may be absent (and then takes transformers' default) and which
/// must be there. Unknown fields are ignored.
public struct HFConfig: Decodable, Equatable, Sendable {
    /// `rope_parameters` (transformers 5.x) or the older `rope_scaling`.
    public struct RopeParameters: Decodable, Equatable, Sendable {
        public var ropeType: String?
        /// `type`: the older spelling of `rope_type` inside `rope_scaling`.
        public var type: String?
        public var ropeTheta: Double?
        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type", type, ropeTheta = "rope_theta"
        }
        public init(ropeType: String? = nil, ropeTheta: Double? = nil) {
            self.ropeType = ropeType; self.ropeTheta = ropeTheta
        }
    }

    public var modelType: String?
    public var vocabSize: Int?
    public var hiddenSize: Int?
    /// L: LongCat layers (each with two attention sublayers).
    public var numLayers: Int?
    /// 2L in transformers' convention; used only when `num_layers` is absent.
    public var numHiddenLayers: Int?
    public var numAttentionHeads: Int?
    public var numKeyValueHeads: Int?
    public var qLoraRank: Int?
    public var kvLoraRank: Int?
    public var qkNopeHeadDim: Int?
    public var qkRopeHeadDim: Int?
    /// Sizes transformers' RoPE table; must equal `qk_rope_head_dim` (default 64 there).
    public var headDim: Int?
    public var qkHeadDim: Int?
    public var vHeadDim: Int?
    public var ffnHiddenSize: Int?
    public var expertFfnHiddenSize: Int?
    public var nRoutedExperts: Int?
    public var zeroExpertNum: Int?
    public var zeroExpertType: String?
    public var moeTopk: Int?
    public var routedScalingFactor: Double?
    public var rmsNormEps: Double?
    public var ropeParameters: RopeParameters?
    public var ropeScaling: RopeParameters?
    /// Top-level `rope_theta` of configs written before `rope_parameters`.
    public var ropeTheta: Double?
    public var maxPositionEmbeddings: Int?
    public var initializerRange: Double?
    public var tieWordEmbeddings: Bool?
    public var mlaScaleQLora: Bool?
    public var mlaScaleKvLora: Bool?
    public var attentionBias: Bool?
    public var routerBias: Bool?
    public var hiddenAct: String?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", vocabSize = "vocab_size", hiddenSize = "hidden_size"
        case numLayers = "num_layers", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", numKeyValueHeads = "num_key_value_heads"
        case qLoraRank = "q_lora_rank", kvLoraRank = "kv_lora_rank"
        case qkNopeHeadDim = "qk_nope_head_dim", qkRopeHeadDim = "qk_rope_head_dim", headDim = "head_dim"
        case qkHeadDim = "qk_head_dim", vHeadDim = "v_head_dim"
        case ffnHiddenSize = "ffn_hidden_size", expertFfnHiddenSize = "expert_ffn_hidden_size"
        case nRoutedExperts = "n_routed_experts", zeroExpertNum = "zero_expert_num", zeroExpertType = "zero_expert_type"
        case moeTopk = "moe_topk", routedScalingFactor = "routed_scaling_factor", rmsNormEps = "rms_norm_eps"
        case ropeParameters = "rope_parameters", ropeScaling = "rope_scaling", ropeTheta = "rope_theta"
        case maxPositionEmbeddings = "max_position_embeddings", initializerRange = "initializer_range"
        case tieWordEmbeddings = "tie_word_embeddings"
        case mlaScaleQLora = "mla_scale_q_lora", mlaScaleKvLora = "mla_scale_kv_lora"
        case attentionBias = "attention_bias", routerBias = "router_bias", hiddenAct = "hidden_act"
    }

    public init() {}

    /// Reads and decodes `path`; a wrong type names the key.
    public static func read(path: String) throws -> HFConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InterchangeError("\(path): cannot read the file (missing or unreadable)")
        }
        return try decode(data, path: path)
    }

    /// Decodes config.json text; `path` names it in errors.
    public static func decode(_ data: Data, path: String) throws -> HFConfig {
        do {
            return try JSONDecoder().decode(HFConfig.self, from: data)
        } catch let DecodingError.typeMismatch(type, context) {
            throw InterchangeError("\(path): '\(keyPath(context))' must be \(describe(type))")
        } catch {
            // A fraction or an out-of-range number where an integer belongs surfaces as corrupt
            // data without a key; find the key.
            if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                for key in integerKeys {
                    guard let value = object[key.rawValue], let number = value as? NSNumber else { continue }
                    if Int(exactly: number) == nil {
                        throw InterchangeError("\(path): '\(key.rawValue)' must be an integer, got \(value)")
                    }
                }
            }
            throw InterchangeError("\(path): not a JSON object of config fields (\(error))")
        }
    }

    /// The fields that hold integers.
    static let integerKeys: [CodingKeys] = [
        .vocabSize, .hiddenSize, .numLayers, .numHiddenLayers, .numAttentionHeads, .numKeyValueHeads, .qLoraRank,
        .kvLoraRank, .qkNopeHeadDim, .qkRopeHeadDim, .headDim, .qkHeadDim, .vHeadDim, .ffnHiddenSize,
        .expertFfnHiddenSize, .nRoutedExperts, .zeroExpertNum, .moeTopk, .maxPositionEmbeddings,
    ]

    private static func keyPath(_ c: DecodingError.Context) -> String {
        c.codingPath.map(\.stringValue).joined(separator: ".")
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        default: return "an object"
        }
    }
}
