import Foundation
import LabConfig
import LabModel
import LabRouting
import LabSafetensors

/// A training checkpoint: a directory `step-NNNNNN/` holding `model.safetensors` (the model
/// under the reference checkpoint's tensor names and shapes, routing biases included) and
/// `state.safetensors` (Adam moments, controller state, step), plus `latest` in the run's
/// checkpoint folder naming the newest complete one. Each file is written atomically and
/// `latest` last, so a crash at any moment leaves the previous checkpoint usable.
public enum Checkpoint {
    public static func directory(runDirectory: String, step: Int) -> String {
        runDirectory + "/checkpoints/" + String(format: "step-%06d", step)
    }

    /// Writes the model tensors under the reference names (used by checkpoints and exports).
    public static func writeModel(_ model: LongCatModel, to path: String, metadata: [String: String]) throws {
        var w = SafetensorsWriter()
        w.metadata = metadata
        for t in model.layout.referenceTensors(model.config.model) {
            switch t.source {
            case .parameters(let offset):
                w.add(name: t.name, shape: t.shape, data: UnsafeBufferPointer(start: model.params.ptr + offset, count: t.count))
            case .bias(let layer):
                w.add(name: t.name, shape: t.shape, data: UnsafeBufferPointer(start: model.bias[layer].ptr, count: t.count))
            case .zeros:
                w.add(name: t.name, shape: t.shape, floats: [Float](repeating: 0, count: t.count))
            }
        }
        try w.write(to: path)
    }

    /// Reads model tensors written by `writeModel` (or an imported reference checkpoint) into
    /// `model`; every tensor must be present with its shape.
    public static func readModel(_ model: LongCatModel, from path: String) throws {
        let file = try SafetensorsFile(path: path)
        for t in model.layout.referenceTensors(model.config.model) {
            guard let info = file.info(t.name) else {
                if case .zeros = t.source { continue }
                throw CheckpointError("\(path): tensor \(t.name) is missing")
            }
            guard info.shape == t.shape else {
                throw CheckpointError("\(path): tensor \(t.name) has shape \(info.shape), the config needs \(t.shape)")
            }
            switch t.source {
            case .parameters(let offset): try file.read(t.name, into: model.params.ptr + offset, count: t.count)
            case .bias(let layer): try file.read(t.name, into: model.bias[layer].ptr, count: t.count)
            case .zeros: break
            }
        }
    }

    /// Writes a complete checkpoint and then points `latest` at it.
    public static func save(runDirectory: String, step: Int, model: LongCatModel, optimizer: AdamW,
                            controllers: [BiasController], configHash: String) throws {
        let dir = directory(runDirectory: runDirectory, step: step)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let meta = ["step": String(step), "config_hash": configHash, "format": "longcat-lab checkpoint 1"]
        try writeModel(model, to: dir + "/model.safetensors", metadata: meta)
        var s = SafetensorsWriter()
        s.metadata = meta
        for (l, c) in controllers.enumerated() { s.metadata["controller.\(l)"] = try controllerJSON(c.state) }
        let state = optimizer.exportState()
        s.add(name: "optimizer.exp_avg", shape: [state.m.count], floats: state.m)
        s.add(name: "optimizer.exp_avg_sq", shape: [state.v.count], floats: state.v)
        s.add(name: "optimizer.step", shape: [1], floats: [Float(state.step)])
        try s.write(to: dir + "/state.safetensors")
        try writeAtomically(String(format: "step-%06d\n", step), to: runDirectory + "/checkpoints/latest")
    }

    /// Deletes the run's older checkpoints so that the newest `keep` remain, plus those of the
    /// `pinned` steps; `keep = 0` keeps all. Call only after the newest checkpoint is complete
    /// (`latest` names it): that one and every newer folder always stay, so a crash mid-save
    /// never leaves a run without a usable checkpoint. Returns the steps deleted.
    @discardableResult
    public static func prune(runDirectory: String, keep: Int, pinned: Set<Int>) throws -> [Int] {
        guard keep > 0, let latest = latestStep(runDirectory: runDirectory) else { return [] }
        let folder = runDirectory + "/checkpoints"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let steps = names.compactMap { name -> Int? in
            guard name.hasPrefix("step-"), name.count == 11 else { return nil }
            return Int(name.dropFirst(5))
        }.filter { $0 <= latest }.sorted(by: >)
        var deleted: [Int] = []
        for step in steps.dropFirst(keep) where !pinned.contains(step) {
            do { try FileManager.default.removeItem(atPath: directory(runDirectory: runDirectory, step: step)) } catch {
                throw CheckpointError("\(folder): cannot delete the checkpoint of step \(step) (\(error.localizedDescription))")
            }
            deleted.append(step)
        }
        return deleted.sorted()
    }

    /// The step of the newest complete checkpoint of a run, if any.
    public static func latestStep(runDirectory: String) -> Int? {
        guard let text = try? String(contentsOfFile: runDirectory + "/checkpoints/latest", encoding: .utf8) else { return nil }
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.hasPrefix("step-"), let step = Int(name.dropFirst(5)) else { return nil }
        return step
    }

    /// Restores model, optimizer and controllers from the checkpoint of `step`.
    public static func load(runDirectory: String, step: Int, model: LongCatModel, optimizer: AdamW,
                            controllers: inout [BiasController]) throws {
        let dir = directory(runDirectory: runDirectory, step: step)
        try readModel(model, from: dir + "/model.safetensors")
        let s = try SafetensorsFile(path: dir + "/state.safetensors")
        let m = try s.floats("optimizer.exp_avg"), v = try s.floats("optimizer.exp_avg_sq")
        let t = try s.floats("optimizer.step")
        try optimizer.importState(m: m, v: v, step: Int(t.first ?? 0))
        for l in controllers.indices {
            guard let json = s.metadata["controller.\(l)"] else {
                throw CheckpointError("\(dir)/state.safetensors: controller state of layer \(l) is missing")
            }
            try controllers[l].restore(controllerState(json, path: dir + "/state.safetensors"))
        }
    }
}

public struct CheckpointError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Writes a small text file atomically (temporary file, then rename).
func writeAtomically(_ text: String, to path: String) throws {
    let tmp = path + ".tmp-\(getpid())"
    do {
        try text.write(toFile: tmp, atomically: false, encoding: .utf8)
        if rename(tmp, path) != 0 { throw CheckpointError("\(path): rename failed (\(String(cString: strerror(errno))))") }
    } catch let e as CheckpointError {
        throw e
    } catch {
        unlink(tmp)
        throw CheckpointError("\(path): could not write (\(error.localizedDescription))")
    }
}

/// A bias controller's state as JSON for the checkpoint's metadata: every field of
/// `BiasController.State`, floats as bit patterns (`@BitExact`), so a resumed run continues
/// bit-identically. The layout is the one checkpoints have always had (bias, integral and
/// previous error as bit patterns, loads, tokens, last update step), so older ones still load.
func controllerJSON(_ state: BiasController.State) throws -> String {
    String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
}

/// Reads `controllerJSON`'s text; throws naming the file when it is not a controller state.
func controllerState(_ json: String, path: String) throws -> BiasController.State {
    do { return try JSONDecoder().decode(BiasController.State.self, from: Data(json.utf8)) } catch {
        throw CheckpointError("\(path): unreadable controller state (\(error))")
    }
}
