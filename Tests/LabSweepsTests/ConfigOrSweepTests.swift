import Foundation
import LabConfig
import Testing
@testable import LabSweeps

@Suite("Config or sweep file")
struct ConfigOrSweepTests {
    /// Writes `text` to a fresh temporary file and returns its path.
    func file(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "config-or-sweep-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A sweep file given to `train` stands for its base config with the `--set` overrides and
    /// no variant applied (guards `train RUNG.toml` rejecting the [sweep] table, or quietly
    /// training a variant).
    @Test func sweepFileGivesItsBaseConfig() throws {
        let path = try file(smallConfig + """
            [train]
            steps = 500
            warmup_steps = 5

            [sweep]
            seeds = [1, 2]

            [variants.zero]

            [variants.wide]
            "model.hidden_size" = 96
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = try ConfigOrSweep.load(path: path, overrides: ["train.steps=20"])
        #expect(loaded.config.train.steps == 20)
        #expect(loaded.config.model.hiddenSize == LabConfig().model.hiddenSize)
        #expect(loaded.sweep?.runs == 4)
        #expect(loaded.note?.contains("4 runs") == true)
    }

    /// A plain config loads exactly as `LabConfig.load` does, with no note.
    @Test func plainConfigIsUnchanged() throws {
        let path = try file(smallConfig + "[train]\nsteps = 300\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = try ConfigOrSweep.load(path: path)
        #expect(loaded.config == (try LabConfig.load(path: path)))
        #expect(loaded.sweep == nil && loaded.note == nil)
    }

    /// Bad input in a sweep file still fails with the key named (guards the sweep tables
    /// hiding a config error).
    @Test func sweepFileErrorsNameTheKey() throws {
        let path = try file(smallConfig + "[train]\nwarmup_steps = 50\n\n[sweep]\nseeds = [1]\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ConfigError.self) { try ConfigOrSweep.load(path: path, overrides: ["train.steps=20"]) }
        do {
            _ = try ConfigOrSweep.load(path: path, overrides: ["train.steps=20"])
        } catch {
            #expect("\(error)".contains("train.warmup_steps"))
        }
    }
}
