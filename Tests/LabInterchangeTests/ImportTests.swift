import Foundation
import LabConfig
import LabInterchange
import LabKernels
import LabModel
import Testing

@Suite("Import")
struct ImportTests {
    /// A model whose every value is k/64 for k in -64...64: exact in BF16, F16 and F32.
    static func representableModel() -> LongCatModel {
        let model = randomModel(tinyExportConfig())
        var rng = LabRandom(seed: 11)
        for i in 0..<model.params.count { model.params.ptr[i] = Float(Int(rng.nextUInt64() % 129) - 64) / 64 }
        for b in model.bias { for i in 0..<b.count { b.ptr[i] = Float(Int(rng.nextUInt64() % 129) - 64) / 64 } }
        return model
    }

    /// The model's tensors as raw tensors: the i-th in BF16, F16 or F32 by i % 3 (`dtype`
    /// overrides), with the values `ReferenceTensor` says.
    static func rawTensors(_ model: LongCatModel, dtype: ((Int, ReferenceTensor) -> String)? = nil) -> [RawTensor] {
        model.layout.referenceTensors(model.config.model).enumerated().map { i, t in
            let values: [Float]
            switch t.source {
            case .parameters(let offset): values = Array(UnsafeBufferPointer(start: model.params.ptr + offset, count: t.count))
            case .bias(let layer): values = Array(UnsafeBufferPointer(start: model.bias[layer].ptr, count: t.count))
            case .zeros: values = [Float](repeating: 0, count: t.count)
            }
            switch dtype?(i, t) ?? ["BF16", "F16", "F32"][i % 3] {
            case "BF16": return .bf16(t.name, t.shape, values)
            case "F16": return .f16(t.name, t.shape, values)
            default: return .f32(t.name, t.shape, values)
            }
        }
    }

    /// Writes config.json and the tensors as `shards` files with an index.
    static func writeDirectory(_ model: LongCatModel, tensors: [RawTensor], shards: Int) throws -> String {
        let dir = temporaryDirectory("import")
        try ConfigMapping.configJSON(model.config).write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        var map: [String] = []
        for s in 0..<shards {
            let name = String(format: "model-%05d-of-%05d.safetensors", s + 1, shards)
            let part = tensors.enumerated().filter { $0.offset % shards == s }.map(\.element)
            writeSafetensors(part, to: dir + "/" + name)
            map += part.map { "\"\($0.name)\": \"\(name)\"" }
        }
        let index = "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {" + map.joined(separator: ", ") + "}}"
        try index.write(toFile: dir + "/model.safetensors.index.json", atomically: true, encoding: .utf8)
        return dir
    }

    static func load(_ dir: String) throws -> (LongCatModel, [String]) {
        let model = LongCatModel(config: try HFImport.config(directory: dir), batch: 1, seqLen: 1)
        let notes = try HFImport.loadWeights(into: model, directory: dir)
        return (model, notes)
    }

    /// Guards the sharded path and the dtype conversions: tensors spread over three shards in
    /// BF16, F16 and F32 arrive exactly.
    @Test func importReadsShardsAndConvertsHalfPrecision() throws {
        let model = Self.representableModel()
        let dir = try Self.writeDirectory(model, tensors: Self.rawTensors(model), shards: 3)
        let (back, notes) = try Self.load(dir)
        #expect(notes.isEmpty)
        #expect(bits(back) == bits(model))
    }

    /// Guards against silently using tensors the lab does not know (the release's `model.mtp.*`):
    /// they are ignored with a note naming them.
    @Test func unusedTensorsAreIgnoredWithANote() throws {
        let model = Self.representableModel()
        let extra = RawTensor.f32("model.mtp.layers.0.eh_proj.weight", [2], [1, 2])
        let dir = try Self.writeDirectory(model, tensors: Self.rawTensors(model) + [extra], shards: 2)
        let (back, notes) = try Self.load(dir)
        #expect(bits(back) == bits(model))
        #expect(notes.count == 1 && notes[0].contains("model.mtp.layers.0.eh_proj.weight"))
    }

    /// A missing tensor is named, never zero-filled.
    @Test func missingTensorIsNamed() throws {
        let model = Self.representableModel()
        let name = "model.layers.1.self_attn.0.kv_b_proj.weight"
        let dir = try Self.writeDirectory(model, tensors: Self.rawTensors(model).filter { $0.name != name }, shards: 1)
        let error = #expect(throws: InterchangeError.self) { try Self.load(dir) }
        #expect(error?.description.contains(name) == true)
    }

    /// A shape that disagrees with config.json is named with both shapes, never reshaped.
    @Test func shapeMismatchIsNamed() throws {
        let model = Self.representableModel()
        var tensors = Self.rawTensors(model, dtype: { _, _ in "F32" })
        let i = try #require(tensors.firstIndex { $0.name == "model.layers.0.mlp.router.classifier.weight" })
        tensors[i].shape = [tensors[i].shape[1], tensors[i].shape[0]]   // transposed
        let dir = try Self.writeDirectory(model, tensors: tensors, shards: 1)
        let error = #expect(throws: InterchangeError.self) { try Self.load(dir) }
        #expect(error?.description.contains("classifier.weight has shape [16, 6]") == true)
    }

    /// An integer (or other non-float) tensor is refused, naming its dtype.
    @Test func unsupportedDtypeIsNamed() throws {
        let model = Self.representableModel()
        var tensors = Self.rawTensors(model, dtype: { _, _ in "F32" })
        let i = try #require(tensors.firstIndex { $0.name == "model.norm.weight" })
        tensors[i].dtype = "I32"
        let dir = try Self.writeDirectory(model, tensors: tensors, shards: 1)
        let error = #expect(throws: (any Error).self) { try Self.load(dir) }
        #expect(String(describing: error!).contains("I32"))
    }

    /// An index that names a shard which is not there is reported, not a crash.
    @Test func missingShardIsReported() throws {
        let model = Self.representableModel()
        let dir = try Self.writeDirectory(model, tensors: Self.rawTensors(model), shards: 2)
        try FileManager.default.removeItem(atPath: dir + "/model-00002-of-00002.safetensors")
        let error = #expect(throws: (any Error).self) { try Self.load(dir) }
        #expect(String(describing: error!).contains("model-00002-of-00002.safetensors"))
    }
}
