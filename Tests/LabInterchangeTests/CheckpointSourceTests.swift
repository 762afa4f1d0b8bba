import Foundation
import LabConfig
import LabInterchange
import LabRecords
import LabTraining
import Testing

@Suite("Finding checkpoints")
struct CheckpointSourceTests {
    /// A run directory with checkpoints of steps 1 and 2 (latest 2), as training leaves it.
    static func makeRun() throws -> (results: String, runDirectory: String, config: LabConfig) {
        let results = temporaryDirectory("runs")
        let runDirectory = results + "/runs/r1"
        let config = tinyExportConfig()
        for step in [1, 2] {
            let dir = Checkpoint.directory(runDirectory: runDirectory, step: step)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Checkpoint.writeModel(randomModel(config, seed: UInt64(step)), to: dir + "/model.safetensors", metadata: [:])
        }
        try config.resolvedTOML().write(toFile: runDirectory + "/config.toml", atomically: true, encoding: .utf8)
        try "step-000002\n".write(toFile: runDirectory + "/checkpoints/latest", atomically: true, encoding: .utf8)
        return (results, runDirectory, config)
    }

    /// Guards RUN resolution: a run directory, or a name under --results, gives the newest
    /// checkpoint unless a step is asked for; a missing step names the ones there are.
    @Test func runDirectoryAndNameResolve() throws {
        let (results, runDirectory, config) = try Self.makeRun()
        let db = results + "/none.sqlite"
        let latest = try CheckpointSource.run(runDirectory, step: nil, database: db, results: results)
        #expect(latest.step == 2 && latest.modelPath.hasSuffix("step-000002/model.safetensors"))
        #expect(latest.config == config)
        let byName = try CheckpointSource.run("r1", step: 1, database: db, results: results)
        #expect(byName.step == 1 && byName.modelPath.hasSuffix("step-000001/model.safetensors"))
        let error = #expect(throws: InterchangeError.self) {
            try CheckpointSource.run("r1", step: 5, database: db, results: results)
        }
        #expect(error?.description.contains("it has steps 1, 2") == true)
        #expect(throws: InterchangeError.self) { try CheckpointSource.run("nope", step: nil, database: db, results: results) }
        #expect(!FileManager.default.fileExists(atPath: db), "looking up a run must not create a database")
    }

    /// Guards the database route: a run's recorded config and checkpoint rows locate it.
    @Test func runNameResolvesThroughTheDatabase() throws {
        let (results, runDirectory, config) = try Self.makeRun()
        let db = results + "/lab.sqlite"
        let store = try RecordStore(path: db)
        let id = try store.beginRun(RunInfo(name: "db-run", configTOML: config.resolvedTOML(),
                                            configHash: config.configHash, seed: 1, threads: 1))
        for step in [1, 2] {
            try store.recordCheckpoint(runID: id, step: step, path: Checkpoint.directory(runDirectory: runDirectory, step: step))
        }
        let found = try CheckpointSource.run("db-run", step: nil, database: db, results: results)
        #expect(found.step == 2 && found.config == config)
        #expect(try CheckpointSource.run("db-run", step: 1, database: db, results: results).step == 1)
    }

    /// Guards CHECKPOINT resolution: a step directory or its file finds the run's config two
    /// folders up; a lone file without config.toml is refused with a hint.
    @Test func checkpointPathFindsItsConfig() throws {
        let (_, runDirectory, config) = try Self.makeRun()
        let step = Checkpoint.directory(runDirectory: runDirectory, step: 1)
        #expect(try CheckpointSource.path(step).config == config)
        #expect(try CheckpointSource.path(step + "/model.safetensors").modelPath == step + "/model.safetensors")
        let lone = temporaryDirectory("lone")
        try FileManager.default.copyItem(atPath: step + "/model.safetensors", toPath: lone + "/model.safetensors")
        let error = #expect(throws: InterchangeError.self) { try CheckpointSource.path(lone) }
        #expect(error?.description.contains("--config") == true)
    }
}
