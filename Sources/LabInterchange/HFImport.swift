import Foundation
import LabConfig
import LabModel
import LabSafetensors

/// Reads a reference checkpoint directory (`config.json` plus `model.safetensors`, or shards
/// listed by `model.safetensors.index.json`) into the lab: the config through `ConfigMapping`,
/// the tensors by their reference names into a `LongCatModel`. F32 is read as is; BF16, F16
/// (and F64) are converted to Float32; any other dtype is refused.
public enum HFImport {
    /// The directory's `config.json` as a lab config (`[model]` from the file, the rest from `base`).
    public static func config(directory: String, base: LabConfig = LabConfig()) throws -> LabConfig {
        let path = directory + "/config.json"
        return try ConfigMapping.labConfig(HFConfig.read(path: path), path: path, base: base)
    }

    /// Whether `directory` looks like a reference checkpoint (has a `config.json`).
    public static func isReferenceDirectory(_ directory: String) -> Bool {
        CheckpointSource.isDirectory(directory) && FileManager.default.fileExists(atPath: directory + "/config.json")
    }

    /// Loads every tensor `model` needs from the directory's safetensors. Throws, naming the
    /// tensor, for a missing tensor, a shape that differs from the config's, or a dtype that does
    /// not convert to Float32. Returns notes on tensors in the files that the lab does not use
    /// (the release's `model.mtp.*`, say), which are ignored.
    @discardableResult
    public static func loadWeights(into model: LongCatModel, directory: String) throws -> [String] {
        let index = try SafetensorsIndex(directory: directory)
        let wanted = model.layout.referenceTensors(model.config.model)
        var missing: [String] = []
        for t in wanted {
            guard let info = try index.info(t.name) else {
                if case .zeros = t.source { continue }
                missing.append(t.name)
                continue
            }
            if case .zeros = t.source { continue }   // the zero experts' unused gate/up weights
            guard info.shape == t.shape else {
                throw InterchangeError("\(directory): tensor \(t.name) has shape \(info.shape); config.json implies \(t.shape)")
            }
            guard [.f32, .bf16, .f16, .f64].contains(info.dtype) else {
                throw InterchangeError("\(directory): tensor \(t.name) has dtype \(info.dtype.rawValue); the lab reads "
                                       + "F32, BF16, F16 and F64 (converted to F32)")
            }
            switch t.source {
            case .parameters(let offset): try index.read(t.name, into: model.params.ptr + offset, count: t.count)
            case .bias(let layer): try index.read(t.name, into: model.bias[layer].ptr, count: t.count)
            case .zeros: break
            }
        }
        if !missing.isEmpty {
            throw InterchangeError("\(directory): \(missing.count) tensor(s) the config needs are missing: "
                                   + listed(missing))
        }
        let known = Set(wanted.map(\.name))
        let unused = index.names.filter { !known.contains($0) }
        return unused.isEmpty ? [] : ["ignored \(unused.count) tensor(s) the lab's model does not use: " + listed(unused)]
    }

    /// The first few names and how many more.
    static func listed(_ names: [String], limit: Int = 5) -> String {
        let shown = names.prefix(limit).joined(separator: ", ")
        return names.count > limit ? shown + ", ... (\(names.count - limit) more)" : shown
    }
}
