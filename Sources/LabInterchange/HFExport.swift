import Foundation
import LabConfig
import LabModel
import LabSafetensors
import LabTraining

/// Writes a lab model as a directory that transformers' `LongcatFlashForCausalLM.from_pretrained`
/// loads with no code change: `config.json` (see `ConfigMapping`) and one float32
/// `model.safetensors` under the reference's tensor names and shapes, per-expert tensors, the
/// zero experts' unused gate/up weights as zeros, the routing biases as
/// `e_score_correction_bias` (LONGCAT.md section 9).
public enum HFExport {
    /// Writes `model` into `directory` (created if needed) and returns notes on what was left out
    /// (the MTP head) or folded (variance compensation). Throws, writing nothing, when the model
    /// has a setting the reference cannot express. `metadata` joins the file's `__metadata__`.
    @discardableResult
    public static func write(_ model: LongCatModel, to directory: String, metadata: [String: String] = [:]) throws -> [String] {
        let config = model.config
        let json = try ConfigMapping.configJSON(config)
        let fm = FileManager.default
        if fm.fileExists(atPath: directory + "/" + SafetensorsIndex.indexFileName) {
            throw InterchangeError("\(directory) holds a sharded checkpoint (\(SafetensorsIndex.indexFileName)), "
                                   + "which from_pretrained would read instead of the export; choose an empty directory")
        }
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw InterchangeError("\(directory): cannot create the directory (\(error.localizedDescription))")
        }
        // transformers refuses safetensors files whose metadata lacks format "pt".
        try Checkpoint.writeModel(withoutMTP(model), to: directory + "/" + SafetensorsIndex.singleFileName,
                                  metadata: metadata.merging(["format": "pt"]) { _, pt in pt })
        do {
            try json.write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        } catch {
            throw InterchangeError("\(directory)/config.json: cannot write (\(error.localizedDescription))")
        }
        return ConfigMapping.exportNotes(config)
    }

    /// `model` itself, or for a model with an MTP head (not part of the reference class) a copy
    /// of its main model: the same config with `mtp_loss_coef = 0`, every tensor copied by name.
    static func withoutMTP(_ model: LongCatModel) -> LongCatModel {
        guard model.layout.mtp != nil else { return model }
        var config = model.config
        config.model.mtpLossCoef = 0
        let main = LongCatModel(config: config, batch: 1, seqLen: 1)
        for s in main.layout.slices {
            guard let from = model.layout.slice(named: s.name), from.shape == s.shape else {
                preconditionFailure("MTP changed the main model's tensor \(s.name)")
            }
            (main.params.ptr + s.offset).update(from: model.params.ptr + from.offset, count: s.count)
        }
        for (to, from) in zip(main.bias, model.bias) { to.ptr.update(from: from.ptr, count: from.count) }
        return main
    }
}
