import ArgumentParser
import Foundation
import LabConfig
import LabInterchange
import LabModel
import LabTraining

struct ImportHFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-hf",
        abstract: "Read a transformers LongcatFlashForCausalLM directory into a lab checkpoint.",
        discussion: """
        DIR holds config.json and model.safetensors, or shards listed by model.safetensors.index.json. BF16 and F16 tensors are converted to float32. The checkpoint gets model.safetensors and config.toml (the resolved lab config: [model] from config.json, every other table from --base or the defaults), which `logits` and `train --set` style work can use.

        Examples:
          longcat-lab import-hf exports/qs --out imported/qs
          longcat-lab import-hf exports/qs --out qs.safetensors --base quickstart.toml
        """)

    @Argument(help: "Directory with config.json and safetensors.")
    var directory: String

    @Option(help: "Checkpoint to write: a directory, or a path ending in .safetensors (config.toml goes beside it).")
    var out: String

    @Option(help: "Lab config supplying everything but [model] (training, data, controller).")
    var base: String?

    func run() throws {
        let baseConfig = try base.map { try LabConfig.load(path: $0) } ?? LabConfig()
        let config = try HFImport.config(directory: directory, base: baseConfig)
        let model = LongCatModel(config: config, batch: 1, seqLen: 1)
        let notes = try HFImport.loadWeights(into: model, directory: directory)
        for note in notes { print("note: \(note)") }
        let isFile = out.hasSuffix(".safetensors")
        let folder = isFile ? (out as NSString).deletingLastPathComponent : out
        try FileManager.default.createDirectory(atPath: folder.isEmpty ? "." : folder, withIntermediateDirectories: true)
        let modelPath = isFile ? out : out + "/model.safetensors"
        let configPath = (folder.isEmpty ? "." : folder) + "/config.toml"
        try Checkpoint.writeModel(model, to: modelPath,
                                  metadata: ["format": "longcat-lab checkpoint 1", "imported_from": directory])
        try config.resolvedTOML().write(toFile: configPath, atomically: true, encoding: .utf8)
        print("imported \(directory) to \(modelPath) (config \(configPath))")
    }
}
