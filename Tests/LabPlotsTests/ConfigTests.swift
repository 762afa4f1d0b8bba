import Testing
@testable import LabPlots

/// The resolved-config reader that lets plots name runs without LabConfig.
@Suite("Run configs")
struct ConfigTests {
    @Test func readsTablesKeysQuotesAndComments() {
        let c = RunConfig(toml: """
            # resolved
            [model]
            moe_topk = 4
            name = "a # not a comment"   # a comment

            [controller]
            kind = "pid"
            target_ffn_experts = 0.0
            """)
        #expect(c.keys == ["model.moe_topk", "model.name", "controller.kind", "controller.target_ffn_experts"])
        #expect(c["model.name"] == "a # not a comment")
        #expect(c.controllerKind == "pid")
        #expect(c.topK == 4)
    }

    /// Guards against drawing the target at 0: target_ffn_experts = 0 means all K slots.
    @Test func zeroTargetMeansTopK() {
        #expect(RunConfig(toml: "[model]\nmoe_topk = 6\n[controller]\ntarget_ffn_experts = 0.0\n").targetFFNExperts == 6)
        #expect(RunConfig(toml: "[model]\nmoe_topk = 6\n[controller]\ntarget_ffn_experts = 2.5\n").targetFFNExperts == 2.5)
        #expect(RunConfig(toml: "[model]\nmoe_topk = 6\n").targetFFNExperts == nil)
    }

    @Test func distinguishingKeysAreThoseThatDiffer() {
        let a = RunConfig(toml: "[t]\nx = 1\ny = 2\n"), b = RunConfig(toml: "[t]\nx = 1\ny = 3\n"),
            c = RunConfig(toml: "[t]\nx = 1\ny = 2\nz = 1\n")
        #expect(distinguishingKeys([a, b]) == ["t.y"])
        #expect(distinguishingKeys([a, c]) == ["t.z"])
        #expect(distinguishingKeys([a]) == [])
    }

    /// Labels: keys when they tell runs apart; names for one run and for identical configs.
    @Test func runLabels() throws {
        let store = try Fixture.store()
        let two = try RunSet(names: ["pid-s1", "none-s1"], store: store)
        #expect(two.runs.map(\.label) == ["controller.kind=pid", "controller.kind=none"])
        #expect(two.folderName == "pid-s1-vs-none-s1")
        let three = try RunSet(names: ["pid-s1", "none-s1", "pid-s2"], store: store)
        #expect(three.runs.map(\.label) == ["train.seed=1, controller.kind=pid", "train.seed=1, controller.kind=none",
                                            "train.seed=2, controller.kind=pid"])
        #expect(try RunSet(names: ["pid-s1"], store: store).runs[0].label == "pid-s1")
        #expect(throws: PlotError.self) { try RunSet(names: ["pid-s1", "pid-s1"], store: store) }
    }
}

@Suite("Smoothing")
struct SmoothingTests {
    /// s_0 = x_0, s_t = w s_{t-1} + (1 - w) x_t, and a NaN leaves a gap without resetting.
    @Test func exponentialMovingAverage() {
        let s = movingAverage([1, 3, .nan, 5], weight: 0.5)
        #expect(s[0] == 1)
        #expect(s[1] == 2)
        #expect(s[2].isNaN)
        #expect(s[3] == 3.5)
        #expect(movingAverage([4, 8], weight: 0) == [4, 8])
    }
}
