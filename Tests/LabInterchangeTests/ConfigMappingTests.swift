import Foundation
import LabConfig
import LabInterchange
import Testing

@Suite("Config mapping")
struct ConfigMappingTests {
    /// config.json of the tiny export config, as a mutable JSON object.
    static func referenceJSON() throws -> [String: Any] {
        let text = try ConfigMapping.configJSON(tinyExportConfig())
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Imports `json` (after `change`) and returns the config, or the error's message.
    static func importing(_ change: (inout [String: Any]) -> Void) throws -> Result<LabConfig, InterchangeError> {
        var json = try referenceJSON()
        change(&json)
        let data = try JSONSerialization.data(withJSONObject: json)
        do {
            return .success(try ConfigMapping.labConfig(HFConfig.decode(data, path: "t/config.json"), path: "t/config.json"))
        } catch let e as InterchangeError {
            return .failure(e)
        }
    }

    static func refusal(_ change: (inout [String: Any]) -> Void) throws -> String {
        switch try importing(change) {
        case .success: return "accepted"
        case .failure(let e): return e.description
        }
    }

    /// Guards each lab setting without a reference equivalent: export refuses it, naming the key.
    @Test(arguments: [
        ("model.layout=sequential", "model.layout"),
        ("model.zero_expert_type=zero", "model.zero_expert_type"),
        ("model.zero_expert_type=constant", "model.zero_expert_type"),
        ("model.mla_scale_q_lora=false", "model.mla_scale_q_lora"),
        ("model.mla_scale_kv_lora=false", "model.mla_scale_kv_lora"),
    ])
    func exportRefusesSettingsWithoutReferenceEquivalent(setting: String, key: String) throws {
        let config = tinyExportConfig(setting)
        #expect(ConfigMapping.exportProblems(config).count == 1)
        let error = #expect(throws: InterchangeError.self) { try ConfigMapping.configJSON(config) }
        #expect(error?.description.contains(key) == true)
    }

    /// Guards the controls transformers has no equivalent for (a fixed split, undiluted top-K,
    /// gamma on the FFN experts only): export refuses each, naming its key; import resets them.
    @Test(arguments: ["fixed_split", "no_zero_selection", "routed"])
    func exportRefusesRoutingControls(control: String) throws {
        var config = tinyExportConfig()
        let key: String
        if control == "routed" {
            config.initialization.varianceCompensation = true
            config.initialization.fineGrainFactor = 2
            config.initialization.varianceCompensationScope = .routed
            key = "init.variance_compensation_scope"
        } else {
            config.routing.mode = RoutingMode(rawValue: control)!
            config.controller.targetFfnExperts = control == "fixed_split" ? 1 : 0
            key = "routing.mode"
        }
        try validate(config)
        #expect(ConfigMapping.exportProblems(config).count == 1)
        let error = #expect(throws: InterchangeError.self) { try ConfigMapping.configJSON(config) }
        #expect(error?.description.contains(key) == true)
        let json = Data(try ConfigMapping.configJSON(tinyExportConfig()).utf8)
        let back = try ConfigMapping.labConfig(HFConfig.decode(json, path: "c"), path: "c", base: config)
        #expect(back.routing.mode == .adaptive && back.initialization.varianceCompensationScope == .all)
    }

    /// Guards the gate scale: the reference's one routed_scaling_factor is the lab's s * gamma,
    /// and it comes back as the same gate scale.
    @Test func varianceCompensationFoldsIntoRoutedScalingFactor() throws {
        var config = tinyExportConfig("model.routed_scaling_factor=1.25")
        config.initialization.varianceCompensation = true
        config.initialization.fineGrainFactor = 6
        let json = try #require(try JSONSerialization.jsonObject(with: Data(ConfigMapping.configJSON(config).utf8)) as? [String: Any])
        #expect(json["routed_scaling_factor"] as? Double == 7.5)
        let back = try ConfigMapping.labConfig(HFConfig.decode(Data(ConfigMapping.configJSON(config).utf8), path: "c"), path: "c")
        #expect(back.moeOutputScale == config.moeOutputScale)
        #expect(!back.initialization.varianceCompensation && back.model.routedScalingFactor == 7.5)
    }

    /// Guards the import of what export writes: the `[model]` table comes back unchanged.
    @Test func importOfExportedConfigGivesTheSameModel() throws {
        let config = tinyExportConfig("model.rope_theta=12345.5", "model.rms_norm_eps=2e-6")
        let back = try ConfigMapping.labConfig(HFConfig.decode(Data(ConfigMapping.configJSON(config).utf8), path: "c"), path: "c")
        #expect(back.model == config.model)
    }

    /// Guards each reference setting the lab cannot compute: import refuses it, naming the field.
    @Test func importRefusesWhatTheLabCannotCompute() throws {
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("model_type", { $0["model_type"] = "deepseek_v3" }),
            ("head_dim = 8", { $0["head_dim"] = 8 }),
            ("head_dim = 64 (transformers' default)", { $0["head_dim"] = nil }),
            ("num_key_value_heads = 1", { $0["num_key_value_heads"] = 1 }),
            ("qk_head_dim = 9", { $0["qk_head_dim"] = 9 }),
            ("tie_word_embeddings = true", { $0["tie_word_embeddings"] = true }),
            ("mla_scale_q_lora = false", { $0["mla_scale_q_lora"] = false }),
            ("mla_scale_kv_lora = false", { $0["mla_scale_kv_lora"] = false }),
            ("attention_bias = true", { $0["attention_bias"] = true }),
            ("hidden_act = \"gelu\"", { $0["hidden_act"] = "gelu" }),
            ("zero_expert_type = \"drop\"", { $0["zero_expert_type"] = "drop" }),
            ("rope_parameters.rope_type = \"yarn\"", { $0["rope_parameters"] = ["rope_type": "yarn", "rope_theta": 1e4] }),
            ("rope_scaling.rope_type = \"linear\"", { $0["rope_scaling"] = ["type": "linear"] }),
            ("missing (or null) size fields: hidden_size, moe_topk", { $0["hidden_size"] = nil; $0["moe_topk"] = NSNull() }),
            ("'hidden_size' must be an integer", { $0["hidden_size"] = "16" }),
            ("'num_layers' must be an integer, got 2.5", { $0["num_layers"] = 2.5 }),
            ("'vocab_size' must be an integer, got 1e+30", { $0["vocab_size"] = 1e30 }),
            ("'rms_norm_eps' must be a number", { $0["rms_norm_eps"] = [1] }),
            ("n_routed_experts = -3", { $0["n_routed_experts"] = -3 }),
            ("GiB in float32", { $0["vocab_size"] = 1 << 24; $0["hidden_size"] = 1 << 12 }),
            ("model.moe_topk", { $0["moe_topk"] = 9 }),
            ("model.qk_rope_head_dim", { $0["qk_rope_head_dim"] = 3; $0["head_dim"] = 3; $0["qk_head_dim"] = 7 }),
        ]
        for (expected, change) in cases {
            let message = try Self.refusal(change)
            #expect(message.contains(expected), "expected '\(expected)' in: \(message)")
            #expect(message == "accepted" || message.contains("t/config.json"))
        }
    }

    /// Guards the defaults: where config.json is silent, the lab takes transformers' values,
    /// and older spellings (rope_theta, num_hidden_layers) are understood.
    @Test func absentFieldsTakeTransformersDefaults() throws {
        let result = try Self.importing {
            $0["routed_scaling_factor"] = nil; $0["rms_norm_eps"] = nil; $0["rope_parameters"] = nil
            $0["num_layers"] = nil; $0["num_hidden_layers"] = 6; $0["rope_theta"] = 5e5
        }
        let c = try result.get()
        #expect(c.model.routedScalingFactor == 6.0 && c.model.rmsNormEps == 1e-5)
        #expect(c.model.ropeTheta == 5e5 && c.model.numLayers == 3)
        let noTheta = try Self.importing { $0["rope_parameters"] = nil }.get()
        #expect(noTheta.model.ropeTheta == 1e7)
    }
}
