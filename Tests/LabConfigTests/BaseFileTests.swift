import Foundation
import Testing
import LabConfig

/// `base = "other.toml"` chains presets: the base is applied first, relative to the including
/// file, and cycles are reported instead of recursing forever.
@Suite struct BaseFileTests {
    @Test func chainAppliesBasesFirst() throws {
        let dir = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("[model]\nhidden_size = 64\nmoe_topk = 2\n[train]\nsteps = 10", to: "a.toml", in: dir)
        try write("base = \"a.toml\"\n[model]\nmoe_topk = 3", to: "b.toml", in: dir)
        let c = try write("base = \"../b.toml\"\n[train]\nsteps = 50", to: "sub/c.toml", in: dir)
        let config = try LabConfig.load(path: c)
        var expected = LabConfig()
        expected.model.hiddenSize = 64
        expected.model.moeTopk = 3
        expected.train.steps = 50
        #expect(config == expected)
    }

    @Test func parseResolvesBaseRelativeToFile() throws {
        let dir = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("[model]\nnum_layers = 5", to: "base.toml", in: dir)
        let file = dir.appendingPathComponent("exp.toml").path
        let c = try LabConfig.parse(text: "base = 'base.toml'\n[train]\nseed = 7", file: file, overrides: [])
        #expect(c.model.numLayers == 5)
        #expect(c.train.seed == 7)
    }

    @Test func cycleIsDetected() throws {
        let dir = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = try write("base = \"y.toml\"", to: "x.toml", in: dir)
        try write("# comment\nbase = \"x.toml\"", to: "y.toml", in: dir)
        guard let e = configError({ _ = try LabConfig.load(path: x) }) else { return }
        let y = dir.appendingPathComponent("y.toml").path
        #expect(e.problems.first?.source == .file(y, line: 2))
        #expect(e.description.contains("base files form a cycle: \(x) -> \(y) -> \(x)"), "\(e)")
    }

    @Test func selfBaseIsACycle() throws {
        let dir = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = try write("base = \"./x.toml\"", to: "x.toml", in: dir)
        let e = configError { _ = try LabConfig.load(path: x) }
        #expect(e?.description.contains("cycle") == true, "\(String(describing: e))")
    }

    @Test func missingBaseNamesIncludingLine() throws {
        let dir = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let x = try write("\nbase = \"nope.toml\"", to: "x.toml", in: dir)
        guard let e = configError({ _ = try LabConfig.load(path: x) }) else { return }
        #expect(e.description.hasPrefix("\(x):2: base = "), "\(e)")
        #expect(e.description.contains("cannot read config file \(dir.appendingPathComponent("nope.toml").path) (no such file)"), "\(e)")
    }

    @Test func missingFileIsAnError() {
        let e = configError { _ = try LabConfig.load(path: "/nonexistent/exp.toml") }
        #expect(e?.description == "/nonexistent/exp.toml: cannot read config file /nonexistent/exp.toml (no such file)")
    }

    @Test func baseMustBeAString() {
        let e = configError { _ = try LabConfig.parse(text: "base = 3", file: "exp.toml", overrides: []) }
        #expect(e?.description.hasPrefix("exp.toml:1: base = 3: expected a file name") == true, "\(String(describing: e))")
    }

    /// An error inside a base file names the base file and its line, not the including file.
    @Test func errorInBaseNamesBaseFile() throws {
        let dir = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try write("[model]\n\nbogus = 1", to: "a.toml", in: dir)
        let b = try write("base = \"a.toml\"", to: "b.toml", in: dir)
        let e = configError { _ = try LabConfig.load(path: b) }
        #expect(e?.problems.first?.source == .file(a, line: 3))
    }
}
