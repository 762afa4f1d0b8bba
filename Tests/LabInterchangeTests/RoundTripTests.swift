import Foundation
import LabConfig
import LabInterchange
import LabModel
import LabSafetensors
import Testing

@Suite("Export and import")
struct RoundTripTests {
    /// Exports `model` into a fresh folder and imports it back into a new model.
    static func roundTrip(_ model: LongCatModel) throws -> (directory: String, notes: [String], back: LongCatModel) {
        let dir = temporaryDirectory("roundtrip")
        let notes = try HFExport.write(model, to: dir)
        let back = LongCatModel(config: try HFImport.config(directory: dir), batch: 1, seqLen: 1)
        try HFImport.loadWeights(into: back, directory: dir)
        return (dir, notes, back)
    }

    /// Guards against any loss on the way out and back: a dropped or reordered tensor, a bias
    /// left behind, a float rounded, or a config field that does not come back.
    @Test func exportThenImportIsBitIdentical() throws {
        let model = randomModel(tinyExportConfig())
        let (_, notes, back) = try Self.roundTrip(model)
        #expect(notes.isEmpty)
        #expect(back.config.model == model.config.model)
        #expect(back.config.initialization.std == model.config.initialization.std)
        #expect(bits(back) == bits(model))
    }

    /// Guards the MTP decision: the head is left out with a note, the main model's tensors and
    /// biases come back bit-identical, and gamma is folded into the routed scaling factor.
    @Test func exportLeavesOutTheMTPHeadAndFoldsGamma() throws {
        var config = tinyExportConfig("model.mtp_loss_coef=0.3", "model.routed_scaling_factor=1.25")
        config.initialization.varianceCompensation = true
        config.initialization.fineGrainFactor = 2
        let model = randomModel(config)
        let (dir, notes, back) = try Self.roundTrip(model)
        #expect(notes.contains { $0.contains("MTP head") })
        #expect(notes.contains { $0.contains("routed_scaling_factor = 2.5") })
        let file = try SafetensorsFile(path: dir + "/model.safetensors")
        #expect(!file.names.contains { $0.contains("mtp") })
        #expect(back.layout.mtp == nil)
        #expect(back.config.moeOutputScale == model.config.moeOutputScale)
        #expect(back.config.model.routedScalingFactor == 2.5 && !back.config.initialization.varianceCompensation)
        for s in back.layout.slices {
            let from = try #require(model.layout.slice(named: s.name))
            let same = (0..<s.count).allSatisfy { back.params.ptr[s.offset + $0].bitPattern == model.params.ptr[from.offset + $0].bitPattern }
            #expect(same, "\(s.name)")
        }
        #expect(zip(back.bias, model.bias).allSatisfy { b, m in (0..<b.count).allSatisfy { b.ptr[$0] == m.ptr[$0] } })
    }

    /// Guards the file layout against transformers' own `save_pretrained` (the fixture's
    /// model.safetensors): the same tensor names and shapes, float32, metadata format "pt", and
    /// the zero experts' unused gate/up weights present as zeros.
    @Test func exportWritesTheReferenceFileLayout() throws {
        let config = try HFImport.config(directory: fixtureDirectory)
        let model = randomModel(config)
        let dir = temporaryDirectory("layout")
        try HFExport.write(model, to: dir)
        let mine = try SafetensorsFile(path: dir + "/model.safetensors")
        let reference = try SafetensorsFile(path: fixtureDirectory + "/model.safetensors")
        #expect(mine.names.sorted() == reference.names.sorted())
        for name in reference.names {
            #expect(mine.info(name)?.shape == reference.info(name)?.shape, "\(name)")
            #expect(mine.info(name)?.dtype == .f32, "\(name)")
        }
        #expect(mine.metadata["format"] == "pt")
        let n = config.model.nRoutedExperts
        for e in n..<(n + config.model.zeroExpertNum) {
            for projection in ["gate_proj", "up_proj"] {
                let values = try mine.floats("model.layers.0.mlp.experts.\(e).\(projection).weight")
                #expect(!values.isEmpty && values.allSatisfy { $0 == 0 })
            }
        }
    }

    /// Guards config.json against what transformers itself writes for the same model (the
    /// fixture's config.json): every field it wrote that shapes the computation has the same
    /// value in ours, and the fields section 9 names are all there.
    @Test func exportedConfigAgreesWithTransformersOwn() throws {
        let config = try HFImport.config(directory: fixtureDirectory)
        let dir = temporaryDirectory("config")
        try HFExport.write(randomModel(config), to: dir)
        let ours = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as? [String: Any])
        let theirs = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixtureDirectory + "/config.json"))) as? [String: Any])
        // Informational fields (or ones the lab does not track) may differ.
        let informational: Set = ["transformers_version", "output_router_logits", "max_position_embeddings", "initializer_range"]
        for (key, value) in theirs where !informational.contains(key) {
            let mine = try #require(ours[key], "config.json lacks \(key)")
            #expect(canonical(mine) == canonical(value), "\(key): ours \(mine), transformers \(value)")
        }
        for key in ["model_type", "head_dim", "mla_scale_q_lora", "mla_scale_kv_lora", "rope_parameters",
                    "routed_scaling_factor", "tie_word_embeddings", "num_key_value_heads", "zero_expert_num"] {
            #expect(ours[key] != nil, "config.json lacks \(key)")
        }
        #expect(ours["head_dim"] as? Int == config.model.qkRopeHeadDim)
    }

    /// Guards against a half-written export: a model the reference cannot express leaves the
    /// target folder empty.
    @Test func refusedExportWritesNothing() throws {
        let model = randomModel(tinyExportConfig("model.layout=sequential"))
        let dir = temporaryDirectory("refused")
        #expect(throws: InterchangeError.self) { try HFExport.write(model, to: dir) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}

/// A JSON value as text with object keys sorted, so equal values compare equal.
func canonical(_ value: Any) -> String {
    if let object = value as? [String: Any] {
        return "{" + object.keys.sorted().map { "\($0):" + canonical(object[$0]!) }.joined(separator: ",") + "}"
    }
    if let array = value as? [Any] { return "[" + array.map(canonical).joined(separator: ",") + "]" }
    return String(describing: value)
}
