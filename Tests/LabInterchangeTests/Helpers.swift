import Foundation
import LabConfig
import LabKernels
import LabModel

/// Helpers for the interchange tests: the committed reference fixture, tiny models with random
/// weights, temporary folders, a raw safetensors writer for any dtype, and an `.npy` reader.

/// The folder `scripts/reference/make_fixture.py` wrote (config.json, model.safetensors,
/// tokens.txt, expected.safetensors, metadata.json), shipped as a test resource.
let fixtureDirectory: String = {
    guard let url = Bundle.module.url(forResource: "reference", withExtension: nil) else {
        preconditionFailure("the test bundle lacks the reference fixture (Tests/LabInterchangeTests/Fixtures/reference)")
    }
    return url.path
}()

/// A fresh empty folder under the system's temporary directory.
func temporaryDirectory(_ label: String = "interchange") -> String {
    let dir = NSTemporaryDirectory() + "longcat-\(label)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A tiny exportable lab config: zero experts, both MLA scales, s != 1; `overrides` as with
/// `--set` (e.g. "model.layout=sequential").
func tinyExportConfig(_ overrides: String...) -> LabConfig {
    let text = """
        [model]
        vocab_size = 20
        hidden_size = 16
        num_attention_heads = 2
        q_lora_rank = 8
        kv_lora_rank = 6
        qk_nope_head_dim = 4
        qk_rope_head_dim = 4
        v_head_dim = 4
        ffn_hidden_size = 12
        expert_ffn_hidden_size = 6
        n_routed_experts = 4
        zero_expert_num = 2
        moe_topk = 3
        routed_scaling_factor = 1.5
        [train]
        seq_len = 8
        """
    return try! LabConfig.parse(text: text, file: "tiny-export.toml", overrides: overrides)
}

/// A model of `config` with random weights (seeded) and random non-zero routing biases.
func randomModel(_ config: LabConfig, seed: UInt64 = 7, batch: Int = 1, seqLen: Int = 1) -> LongCatModel {
    let model = LongCatModel(config: config, batch: batch, seqLen: seqLen)
    model.initializeWeights(seed: seed)
    var rng = LabRandom(seed: seed &+ 1)
    // Norm weights away from 1, so a swapped norm cannot go unnoticed.
    for s in model.layout.slices where s.shape.count == 1 {
        for i in s.range { model.params.ptr[i] = 1 + 0.1 * rng.nextNormal() }
    }
    for b in model.bias { rng.fillNormal(b.ptr, b.count, std: 0.05) }
    return model
}

/// Bit patterns of every parameter and bias of `model`.
func bits(_ model: LongCatModel) -> [UInt32] {
    var out = (0..<model.params.count).map { model.params.ptr[$0].bitPattern }
    for b in model.bias { out += (0..<b.count).map { b.ptr[$0].bitPattern } }
    return out
}

/// One tensor for `writeSafetensors`: raw little-endian bytes of any dtype.
struct RawTensor {
    var name: String
    var dtype: String
    var shape: [Int]
    var bytes: [UInt8]

    static func f32(_ name: String, _ shape: [Int], _ values: [Float]) -> RawTensor {
        RawTensor(name: name, dtype: "F32", shape: shape, bytes: values.flatMap { le($0.bitPattern) })
    }
    /// bfloat16: the top half of each float (exact for the values the tests use).
    static func bf16(_ name: String, _ shape: [Int], _ values: [Float]) -> RawTensor {
        RawTensor(name: name, dtype: "BF16", shape: shape, bytes: values.flatMap { le16(UInt16($0.bitPattern >> 16)) })
    }
    /// IEEE half precision for normal values and zero (exact for the values the tests use).
    static func f16(_ name: String, _ shape: [Int], _ values: [Float]) -> RawTensor {
        RawTensor(name: name, dtype: "F16", shape: shape, bytes: values.flatMap { le16(half($0)) })
    }

    static func half(_ x: Float) -> UInt16 {
        if x == 0 { return 0 }
        let b = x.bitPattern
        let sign = UInt16((b >> 16) & 0x8000)
        let exponent = Int((b >> 23) & 0xff) - 127 + 15
        precondition((1...30).contains(exponent), "\(x) is not a normal half")
        return sign | UInt16(exponent) << 10 | UInt16((b >> 13) & 0x3ff)
    }
    static func le(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24)] }
    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
}

/// Writes `tensors` as a safetensors file: 8-byte length, JSON header padded to 8, data.
func writeSafetensors(_ tensors: [RawTensor], to path: String) {
    var entries: [String] = ["\"__metadata__\":{\"format\":\"pt\"}"]
    var offset = 0
    for t in tensors {
        let shape = t.shape.map(String.init).joined(separator: ",")
        entries.append("\"\(t.name)\":{\"dtype\":\"\(t.dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + t.bytes.count)]}")
        offset += t.bytes.count
    }
    var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
    header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
    var file = RawTensor.le(UInt32(header.count)) + [0, 0, 0, 0] + header
    for t in tensors { file += t.bytes }
    _ = FileManager.default.createFile(atPath: path, contents: Data(file))
}

/// A parsed `.npy` file: its header dict text and the raw data bytes.
struct NPYFile {
    let header: String
    let data: [UInt8]
    let headerLength: Int

    init(path: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8), bytes[6] == 1, bytes[7] == 0 else {
            throw InterchangeTestError("\(path): not an NPY 1.0 file")
        }
        headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        data = Array(bytes[(10 + headerLength)...])
    }

    var floats: [Float] { stride(from: 0, to: data.count, by: 4).map { Float(bitPattern: word($0)) } }
    var int32s: [Int32] { stride(from: 0, to: data.count, by: 4).map { Int32(bitPattern: word($0)) } }

    private func word(_ i: Int) -> UInt32 {
        UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
    }
}

struct InterchangeTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
