import Testing
import LabConfig

/// `--set key=value` overrides: applied after the file, values read as TOML (bare words are
/// strings), and mistakes reported like file mistakes but marked "(from --set)".
@Suite struct OverrideTests {
    @Test func overridesOfEveryKind() throws {
        let c = try LabConfig.parse(text: "[model]\nmoe_topk = 2", file: "exp.toml", overrides: [
            "model.moe_topk=6",
            "train.learning_rate=1e-3",
            "controller.kind=pid",
            "model.mla_scale_q_lora=false",
            "data.corpus = \"text\"",
            "data.path=/tmp/my corpus.txt",
            "model.routed_scaling_factor=2",
        ])
        #expect(c.model.moeTopk == 6)
        #expect(c.train.learningRate == 1e-3)
        #expect(c.controller.kind == .pid)
        #expect(c.model.mlaScaleQLora == false)
        #expect(c.data.corpus == .text)
        #expect(c.data.path == "/tmp/my corpus.txt")
        #expect(c.model.routedScalingFactor == 2.0)
    }

    @Test func laterOverrideWins() throws {
        let c = try LabConfig.parse(text: "", file: "exp.toml", overrides: ["train.steps=100", "train.steps=200"])
        #expect(c.train.steps == 200)
    }

    @Test func unknownKeyIsRejectedLikeInAFile() {
        guard let e = configError({ _ = try LabConfig.parse(text: "", file: "exp.toml", overrides: ["model.moe_top_k=6"]) }) else { return }
        #expect(e.problems.first?.source == .commandLine)
        #expect(e.description.hasPrefix("unknown key model.moe_top_k; did you mean model.moe_topk? Valid keys of [model]:"), "\(e)")
        #expect(e.description.hasSuffix("(from --set)"))
        #expect(!e.description.contains("exp.toml"))
    }

    @Test func unknownTableAndMissingTable() {
        let table = configError { _ = try LabConfig.parse(text: "", file: "x.toml", overrides: ["trian.steps=3"]) }
        #expect(table?.description.contains("unknown table [trian]; did you mean [train]?") == true, "\(String(describing: table))")
        let bare = configError { _ = try LabConfig.parse(text: "", file: "x.toml", overrides: ["moe_topk=3"]) }
        #expect(bare?.description.contains("did you mean model.moe_topk?") == true, "\(String(describing: bare))")
    }

    @Test func badTypeIsRejected() {
        let e = configError { _ = try LabConfig.parse(text: "", file: "x.toml", overrides: ["model.moe_topk=4.5", "model.mla_scale_q_lora=yes"]) }
        #expect(e?.description == """
            model.moe_topk = 4.5: expected an integer, got a float (from --set)
            model.mla_scale_q_lora = "yes": expected a boolean (true or false), got a string (from --set)
            """, "\(String(describing: e))")
    }

    @Test func missingEqualsSign() {
        let e = configError { _ = try LabConfig.parse(text: "", file: "x.toml", overrides: ["model.moe_topk"]) }
        #expect(e?.description == "model.moe_topk: expected key=value, e.g. model.moe_topk=6 (from --set)")
    }

    /// A value out of range that came from --set is blamed on --set, not on the file or default.
    @Test func validationBlamesTheSource() {
        guard let e = configError({
            _ = try LabConfig.parse(text: "[train]\nsteps = 10\nwarmup_steps = 20", file: "exp.toml", overrides: ["model.moe_topk=99"])
        }) else { return }
        #expect(e.description == """
            model.moe_topk = 99: must be in 1...24 (n_routed_experts + zero_expert_num = 16 + 8) (from --set)
            exp.toml:3: train.warmup_steps = 20: must be in 0...10 (train.steps)
            """, "\(e)")
    }

    @Test func invalidDefaultIsMarkedDefault() {
        let e = configError { _ = try LabConfig.parse(text: "[model]\nn_routed_experts = 2\nzero_expert_num = 1", file: "exp.toml", overrides: []) }
        #expect(e?.description.contains("model.moe_topk = 4: must be in 1...3 (n_routed_experts + zero_expert_num = 2 + 1) (default value)") == true,
                "\(String(describing: e))")
    }

    /// `--set key=\(value(forKey: key))` reproduces every value, so run names and diffs can be
    /// replayed on the command line.
    @Test func valueForKeyIsAValidOverride() throws {
        var changed = LabConfig()
        changed.model.zeroExpertType = .drop
        changed.train.learningRate = 1.0 / 3.0
        changed.train.adamEps = 1e-12
        changed.model.mlaScaleKvLora = false
        changed.controller.kind = .sign
        changed.data.corpus = .synthetic
        changed.balance.groups = 8
        let overrides = LabConfig.keyPaths.map { "\($0)=\(changed.value(forKey: $0)!)" }
        #expect(try LabConfig.parse(text: "", file: "x.toml", overrides: overrides) == changed)
    }
}
