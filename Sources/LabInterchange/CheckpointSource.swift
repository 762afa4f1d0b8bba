import Foundation
import LabConfig
import LabRecords
import LabTraining

/// A lab checkpoint located on disk: its `model.safetensors` and the resolved config that
/// shapes the model.
public struct CheckpointSource: Sendable {
    /// The `model.safetensors` holding the tensors under reference names.
    public let modelPath: String
    public let config: LabConfig
    /// The training step, when known.
    public let step: Int?

    /// A run's checkpoint. `run` is a run directory (`<results>/runs/<name>`), or a run name:
    /// looked up in the records database (its resolved config and checkpoint rows), else under
    /// `<results>/runs/`. `step` nil means the newest checkpoint.
    public static func run(_ run: String, step: Int?, database: String, results: String) throws -> CheckpointSource {
        if isDirectory(run + "/checkpoints") {
            return try fromRunDirectory(run, step: step)
        }
        if FileManager.default.fileExists(atPath: database), let found = try fromDatabase(run, step: step, database: database) {
            return found
        }
        let directory = results + "/runs/" + run
        if isDirectory(directory + "/checkpoints") {
            return try fromRunDirectory(directory, step: step)
        }
        throw InterchangeError("no run '\(run)': not a run directory, not a run in \(database), and no \(directory)/checkpoints")
    }

    /// A checkpoint given by path: a step directory (holding `model.safetensors`) or the
    /// `model.safetensors` itself. The config is `configPath` when given, else the
    /// `config.toml` beside the file (written by `import-hf`), else the run's (two folders up).
    public static func path(_ path: String, configPath: String? = nil) throws -> CheckpointSource {
        let modelPath = isDirectory(path) ? path + "/model.safetensors" : path
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw InterchangeError("\(modelPath): no such checkpoint file (give a step directory or its model.safetensors)")
        }
        let folder = (modelPath as NSString).deletingLastPathComponent
        let candidates = configPath.map { [$0] }
            ?? [folder + "/config.toml", ((folder as NSString).appendingPathComponent("../..") as NSString).standardizingPath + "/config.toml"]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw InterchangeError("\(modelPath): no config.toml beside it or in its run directory "
                                   + "(\(candidates.joined(separator: ", "))); pass --config")
        }
        return CheckpointSource(modelPath: modelPath, config: try LabConfig.load(path: found), step: nil)
    }

    static func fromRunDirectory(_ directory: String, step: Int?) throws -> CheckpointSource {
        let config = try LabConfig.load(path: directory + "/config.toml")
        guard let chosen = step ?? Checkpoint.latestStep(runDirectory: directory) else {
            throw InterchangeError("\(directory): the run has no complete checkpoint (checkpoints/latest is missing)")
        }
        let modelPath = Checkpoint.directory(runDirectory: directory, step: chosen) + "/model.safetensors"
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw InterchangeError("\(directory): no checkpoint of step \(chosen); it has steps "
                                   + availableSteps(directory).map(String.init).joined(separator: ", "))
        }
        return CheckpointSource(modelPath: modelPath, config: config, step: chosen)
    }

    /// The run's config from its database row and the checkpoint of `step` (or the newest);
    /// nil when the database has no run of that name.
    static func fromDatabase(_ name: String, step: Int?, database: String) throws -> CheckpointSource? {
        let store = try RecordStore(path: database)
        guard let row = try store.run(named: name) else { return nil }
        guard let toml = row.configTOML else { throw InterchangeError("\(database): run '\(name)' has no recorded config") }
        let config = try LabConfig.parse(text: toml, file: "\(database) (run '\(name)')", overrides: [])
        let checkpoints = try store.checkpoints(runID: row.id)
        guard let chosen = step.map({ s in checkpoints.first { $0.step == s } }) ?? checkpoints.last else {
            let steps = checkpoints.map { String($0.step) }.joined(separator: ", ")
            throw InterchangeError("\(database): run '\(name)' has "
                                   + (checkpoints.isEmpty ? "no checkpoints" : "no checkpoint of step \(step!); it has steps \(steps)"))
        }
        let modelPath = chosen.path + "/model.safetensors"
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw InterchangeError("\(database): run '\(name)' step \(chosen.step) was saved to \(chosen.path), "
                                   + "which is not there from here; give the run directory instead")
        }
        return CheckpointSource(modelPath: modelPath, config: config, step: chosen.step)
    }

    static func availableSteps(_ runDirectory: String) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runDirectory + "/checkpoints")) ?? []
        return names.compactMap { $0.hasPrefix("step-") ? Int($0.dropFirst(5)) : nil }.sorted()
    }

    static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }
}
