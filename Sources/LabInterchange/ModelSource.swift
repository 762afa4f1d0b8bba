import LabConfig
import LabModel
import LabTraining

/// Any checkpoint the lab can run, opened up to the point where its config is known: a
/// reference directory (`config.json` + safetensors, read through `HFImport`) or a lab checkpoint
/// (see `CheckpointSource.path`). The model itself is built later, once the batch shape is known.
public struct ModelSource {
    public let config: LabConfig
    /// What was opened, for messages.
    public let description: String
    private let loadWeights: (LongCatModel) throws -> [String]

    /// Opens `path`; `configPath` overrides the config of a lab checkpoint (not of a reference
    /// directory, whose config.json decides the model).
    public static func open(_ path: String, configPath: String? = nil) throws -> ModelSource {
        if HFImport.isReferenceDirectory(path) {
            return ModelSource(config: try HFImport.config(directory: path), description: "reference checkpoint \(path)") {
                try HFImport.loadWeights(into: $0, directory: path)
            }
        }
        let source = try CheckpointSource.path(path, configPath: configPath)
        return ModelSource(config: source.config, description: "lab checkpoint \(source.modelPath)") {
            try Checkpoint.readModel($0, from: source.modelPath)
            return []
        }
    }

    /// A model for `batch` sequences of `seqLen` tokens with the checkpoint's weights, and notes
    /// on tensors that were ignored.
    public func makeModel(batch: Int, seqLen: Int) throws -> (model: LongCatModel, notes: [String]) {
        let model = LongCatModel(config: config, batch: batch, seqLen: seqLen)
        let notes = try loadWeights(model)
        return (model, notes)
    }
}
