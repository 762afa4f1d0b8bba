import Foundation
import LabConfig
import Testing
@testable import LabSweeps

/// A small valid config body used by the sweep files of these tests.
let smallConfig = """
    [model]
    zero_expert_num = 8
    moe_topk = 4

    [controller]
    kind = "pid"
    target_ffn_experts = 2.0

    """

/// Parses `text` as `test.toml` in memory.
func sweep(_ text: String, overrides: [String] = []) throws -> SweepFile {
    try SweepFile.parse(text: text, file: "test.toml", overrides: overrides)
}

/// The `ConfigError` that parsing and expanding `text` throws; records an issue otherwise.
func sweepError(_ text: String, overrides: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
    do {
        _ = try sweep(text, overrides: overrides).expand()
        Issue.record("expected a ConfigError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ConfigError {
        return error
    } catch {
        Issue.record("expected a ConfigError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

@Suite("Sweep files")
struct SweepFileTests {
    @Test func gridTimesSeedsExpandsInFileOrderWithNamesFromWhatDiffers() throws {
        let s = try sweep(smallConfig + """
            [sweep]
            "controller.kind" = ["none", "sign", "pid"]
            "model.zero_expert_num" = [8, 16]
            seeds = [1, 2]
            """)
        let runs = try s.expand()
        #expect(runs.count == 12)
        #expect(runs.map(\.index) == Array(0..<12))
        #expect(runs[0].name == "test-none-z8-s1")
        #expect(runs[1].name == "test-none-z8-s2")
        #expect(runs[3].name == "test-none-z16-s2")
        #expect(runs[11].name == "test-pid-z16-s2")
        #expect(runs[11].group == "test-pid-z16")
        #expect(runs[11].config.controller.kind == .pid)
        #expect(runs[11].config.model.zeroExpertNum == 16)
        #expect(runs[11].config.train.seed == 2)
        #expect(Set(runs.map(\.name)).count == 12)
    }

    /// Guards against names that change between two expansions of the same file (a resumed
    /// sweep would then start every run again).
    @Test func namesAreStableAcrossExpansions() throws {
        let text = smallConfig + "[sweep]\n\"balance.alpha\" = [0.0, 0.001, 1e-16]\nprefix = \"bal\"\n"
        let a = try sweep(text).expand(), b = try sweep(text).expand()
        #expect(a == b)
        #expect(a.map(\.name) == ["bal-a0", "bal-a0.001", "bal-a1e-16"])
    }

    @Test func singleValuedEntriesAddNothingToTheName() throws {
        let runs = try sweep(smallConfig + "[sweep]\n\"model.layout\" = [\"scmoe\"]\nseeds = [1, 2]\nprefix = \"\"\n").expand()
        #expect(runs.map(\.name) == ["s1", "s2"])
        #expect(runs.allSatisfy { $0.config.model.layout == .scmoe })
    }

    @Test func booleansAndUnknownTagsNameReadably() throws {
        let runs = try sweep(smallConfig + """
            [sweep]
            "init.variance_compensation" = [false, true]
            "model.expert_ffn_hidden_size" = [16, 32]
            """).expand()
        #expect(runs.map(\.name) == ["test-novc-f16", "test-novc-f32", "test-vc-f16", "test-vc-f32"])
    }

    @Test func variantsCrossTheGridAndApplyTheirSettings() throws {
        let runs = try sweep(smallConfig + """
            [sweep]
            seeds = [3, 4]

            [variants.scmoe]
            "model.layout" = "scmoe"

            [variants.sequential]
            model.layout = "sequential"
            """).expand()
        #expect(runs.map(\.name) == ["test-scmoe-s3", "test-scmoe-s4", "test-sequential-s3", "test-sequential-s4"])
        #expect(runs[2].config.model.layout == .sequential && runs[2].variant == "sequential")
        #expect(runs[3].group == "test-sequential")
    }

    @Test func setOverridesApplyToEveryRun() throws {
        let runs = try sweep(smallConfig + "[sweep]\nseeds = [1, 2]\n", overrides: ["train.steps=70"]).expand()
        #expect(runs.allSatisfy { $0.config.train.steps == 70 })
    }

    @Test func baseChainIsReadRelativeToTheSweepFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sweeps-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "[model]\nhidden_size = 48\n".write(to: dir.appendingPathComponent("base.toml"), atomically: true, encoding: .utf8)
        let path = dir.appendingPathComponent("grid.toml").path
        try "base = \"base.toml\"\n[sweep]\nseeds = [1, 2]\n".write(toFile: path, atomically: true, encoding: .utf8)
        let s = try SweepFile.load(path: path)
        #expect(s.base.model.hiddenSize == 48)
        #expect(s.stem == "grid")
    }

    @Test func equalComputeVariantDerivesTheBaselineAndNotesTheResidual() throws {
        let runs = try sweep(smallConfig + """
            [sweep]
            seeds = [1]
            [variants.zero]
            [variants.topk]
            derive = "equal-compute-baseline"
            """).expand()
        #expect(runs.map(\.name) == ["test-zero", "test-topk"])
        let topk = runs[1].config
        #expect(topk.model.zeroExpertNum == 0 && topk.model.moeTopk == 2 && topk.controller.targetFfnExperts == 0)
        #expect(runs[1].notes.count == 1 && runs[1].notes[0].contains("residual"))
        #expect(runs[0].config.model.zeroExpertNum == 8)
    }

    /// The config part keeps its line numbers, so LabConfig's errors point at the right line.
    @Test func configErrorsKeepTheirLineNumbers() throws {
        let error = sweepError("[sweep]\nseeds = [1, 2]\n\n[model]\nmoe_topk = 99\n")
        #expect(error?.description.contains("test.toml") == true)
        #expect(error?.problems.first?.keyPath == "model.moe_topk")
        let unknown = sweepError("[sweep]\nseeds = [1]\n[model]\nmoe_top_k = 2\n")
        #expect(unknown?.description.contains("test.toml:4") == true, "\(String(describing: unknown))")
    }
}

@Suite("Sweep file rejections")
struct SweepRejectionTests {
    @Test func unknownGridKeyIsNamedWithASuggestion() {
        let e = sweepError(smallConfig + "[sweep]\n\"model.moe_top_k\" = [2, 4]\n")
        #expect(e?.problems.first?.keyPath == "model.moe_top_k")
        #expect(e?.description.contains("did you mean model.moe_topk") == true, "\(String(describing: e))")
        #expect(e?.description.contains("test.toml:") == true)
    }

    @Test func unknownVariantKeyIsNamed() {
        let e = sweepError(smallConfig + "[variants.a]\n\"controler.kind\" = \"pid\"\n")
        #expect(e?.description.contains("variants.a") == true && e?.description.contains("controler") == true, "\(String(describing: e))")
    }

    @Test func emptyGridIsRejected() {
        let e = sweepError(smallConfig + "[sweep]\n\"controller.kind\" = []\n")
        #expect(e?.description.contains("controller.kind") == true && e?.description.contains("empty") == true)
        let noAxes = sweepError(smallConfig + "[sweep]\n")
        #expect(noAxes?.description.contains("[sweep] is empty") == true)
        let nothing = sweepError(smallConfig)
        #expect(nothing?.description.contains("nothing to sweep") == true)
        let noSeeds = sweepError(smallConfig + "[sweep]\nseeds = []\n")
        #expect(noSeeds?.description.contains("sweep.seeds is empty") == true)
    }

    @Test func malformedGridEntriesAreRejected() {
        let scalar = sweepError(smallConfig + "[sweep]\n\"controller.kind\" = \"pid\"\n")
        #expect(scalar?.description.contains("expected an array") == true)
        let wrongType = sweepError(smallConfig + "[sweep]\n\"model.zero_expert_num\" = [8, \"16\"]\n")
        #expect(wrongType?.problems.first?.keyPath == "model.zero_expert_num")
        let twice = sweepError(smallConfig + "[sweep]\n\"model.zero_expert_num\" = [8, 8]\n")
        #expect(twice?.description.contains("twice") == true)
        let badDerive = sweepError(smallConfig + "[variants.b]\nderive = \"cheaper\"\n")
        #expect(badDerive?.description.contains("equal-compute-baseline") == true)
        let inline = sweepError(smallConfig + "sweep = { seeds = [1] }\n")
        #expect(inline != nil)
    }

    @Test func conflictingSettingsAreRejectedNamingBoth() {
        let gridAndVariant = sweepError(smallConfig + """
            [sweep]
            "model.layout" = ["scmoe", "sequential"]
            [variants.a]
            "model.layout" = "scmoe"
            """)
        #expect(gridAndVariant?.description.contains("variants.a sets model.layout, which [sweep] also varies") == true)
        let seedTwice = sweepError(smallConfig + "[sweep]\n\"train.seed\" = [1, 2]\nseeds = [3]\n")
        #expect(seedTwice?.description.contains("train.seed") == true)
        let setOnGrid = sweepError(smallConfig + "[sweep]\n\"model.layout\" = [\"scmoe\", \"sequential\"]\n",
                                   overrides: ["model.layout=scmoe"])
        #expect(setOnGrid?.description.contains("--set model.layout=scmoe") == true)
        let deriveAndSet = sweepError(smallConfig + "[variants.b]\nderive = \"equal-compute-baseline\"\n\"model.moe_topk\" = 3\n")
        #expect(deriveAndSet?.description.contains("model.moe_topk") == true)
        let threads = sweepError(smallConfig + "[sweep]\n\"train.threads\" = [1, 2]\n")
        #expect(threads?.description.contains("train.threads") == true)
    }

    @Test func invalidCombinationIsRejectedNamingTheRun() {
        // K_e = 2 below K = 4 needs zero experts; the z0 run has none.
        let e = sweepError(smallConfig + "[sweep]\n\"model.zero_expert_num\" = [0, 8]\n")
        #expect(e?.description.contains("run test-z0") == true, "\(String(describing: e))")
        #expect(e?.problems.first?.keyPath == "controller.target_ffn_experts")
    }

    @Test func identicalRunsAreRejected() {
        let e = sweepError(smallConfig + "[variants.a]\n\"model.layout\" = \"scmoe\"\n[variants.b]\n")
        #expect(e?.description.contains("identical configs") == true, "\(String(describing: e))")
    }
}
