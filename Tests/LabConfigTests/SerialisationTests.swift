import Foundation
import Testing
import LabConfig

/// The resolved config saved with each run reads back to the same config, hashes stably, and
/// differences name exactly the keys that changed.
@Suite struct SerialisationTests {
    /// A valid config with awkward floats and strings in every table.
    static var awkward: LabConfig {
        var c = LabConfig()
        c.model.routedScalingFactor = 0.1 + 0.2
        c.model.rmsNormEps = 1e-6
        c.model.ropeTheta = 1e7
        c.model.zeroExpertType = .constant
        c.train.learningRate = 1.0 / 3.0 * 1e-2
        c.train.adamEps = 1e-16
        c.train.beta2 = 0.999
        c.data.corpus = .text
        c.data.path = "dir with space/\"quoted\" \\ é.txt"
        c.initialization.varianceCompensation = true
        c.controller.targetFfnExperts = 2.75
        c.controller.ki = Double.leastNonzeroMagnitude * 1e10
        c.balance.alpha = 1e-4
        return c
    }

    @Test func resolvedTOMLRoundTrips() throws {
        let c = Self.awkward
        try validate(c)
        #expect(try LabConfig.parse(text: c.resolvedTOML(), file: "resolved.toml", overrides: []) == c)
        #expect(try LabConfig.parse(text: LabConfig().resolvedTOML(), file: "resolved.toml", overrides: []) == LabConfig())
    }

    /// Guards against a key left out of the saved config: every key appears once, in key order,
    /// under its table.
    @Test func resolvedTOMLListsEveryKeyInOrder() throws {
        let document = try parseTOML(LabConfig().resolvedTOML(), file: "resolved.toml")
        #expect(document.keys == ["model", "train", "data", "init", "controller", "balance", "routing"])
        var paths: [String] = []
        for (table, value) in document.entries {
            guard case .table(let t) = value else { Issue.record("\(table) is not a table"); continue }
            paths += t.keys.map { "\(table).\($0)" }
        }
        #expect(paths == LabConfig.keyPaths)
    }

    @Test func resolvedTOMLReadsLikeAConfig() {
        let text = LabConfig().resolvedTOML()
        #expect(text.hasPrefix("[model]\nvocab_size = 256\nhidden_size = 128\n"))
        #expect(text.contains("\nrouted_scaling_factor = 1.0\n"))
        #expect(text.contains("\nadam_eps = 1e-16\n"))
        #expect(text.contains("\nzero_expert_type = \"identity\"\n"))
        #expect(text.contains("\n\n[init]\nstd = 0.02\n"))
    }

    @Test func hashIsSixteenHexDigitsAndStableAcrossLoads() throws {
        let dir = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try write("[model]\nmoe_topk = 6\n[train]\nlearning_rate = 1e-3", to: "exp.toml", in: dir)
        let first = try LabConfig.load(path: path), second = try LabConfig.load(path: path)
        #expect(first.configHash == second.configHash)
        #expect(first.configHash.count == 16)
        #expect(first.configHash.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(first.configHash != LabConfig().configHash)
    }

    /// Guards against a key missing from the hashed text: changing any single key changes the
    /// hash, and all those hashes differ from each other.
    @Test func hashChangesWithEveryKey() throws {
        let base = LabConfig()
        var hashes: Set<String> = [base.configHash]
        for path in LabConfig.keyPaths {
            var c = base
            switch base.tomlValue(forKey: path)! {
            case .integer(let i): try c.set(path, .integer(i + 1))
            case .float(let x): try c.set(path, .float(x.nextUp))
            case .boolean(let b): try c.set(path, .boolean(!b))
            case .string(let s):
                guard let other = otherString(path, s, suffix: "_") else { #expect(fixedKeys.contains(path)); continue }
                try c.set(path, other)
            default: Issue.record("unexpected kind for \(path)")
            }
            #expect(hashes.insert(c.configHash).inserted, "\(path) did not change the hash")
        }
        #expect(hashes.count == LabConfig.keyPaths.count - fixedKeys.count + 1)
    }

    @Test func differencesNameChangedKeysInOrder() throws {
        var mine = LabConfig()
        try mine.set("controller.kind", .string("pid"))
        try mine.set("model.moe_topk", .integer(6))
        try mine.set("train.learning_rate", .integer(1))
        let d = mine.differences(from: LabConfig())
        #expect(d.map(\.key) == ["model.moe_topk", "train.learning_rate", "controller.kind"])
        #expect(d.map(\.mine) == ["6", "1.0", "pid"])
        #expect(d.map(\.theirs) == ["4", "0.003", "none"])
        #expect(mine.differences(from: mine).isEmpty)
    }

    @Test func valueForKey() {
        let c = LabConfig()
        #expect(c.value(forKey: "model.moe_topk") == "4")
        #expect(c.value(forKey: "train.adam_eps") == "1e-16")
        #expect(c.value(forKey: "model.mla_scale_q_lora") == "true")
        #expect(c.value(forKey: "controller.kind") == "none")
        #expect(c.value(forKey: "init.fine_grain_factor") == "1")
        #expect(c.value(forKey: "model.nope") == nil)
        #expect(c.value(forKey: "initialization.std") == nil)
    }

    @Test func setRejectsUnknownKeyAndWrongType() {
        var c = LabConfig()
        let unknown = configError { try c.set("controller.kindd", .string("pid")) }
        #expect(unknown?.description.hasPrefix("unknown key controller.kindd; did you mean controller.kind?") == true,
                "\(String(describing: unknown))")
        let wrong = configError { try c.set("balance.groups", .float(2.5)) }
        #expect(wrong?.description == "balance.groups = 2.5: expected an integer, got a float")
        #expect(c == LabConfig())
    }
}
