import Testing
import LabConfig

/// TOML files decode into the config structs through the key table, and every mistake in a
/// file is reported with file:line, the key path, and what would have been valid.
@Suite struct ConfigDecodingTests {
    static let full = """
        # every table, values that differ from the defaults
        [model]
        hidden_size = 96
        num_layers = 3
        q_lora_rank = 48
        qk_rope_head_dim = 4
        n_routed_experts = 12
        zero_expert_num = 4
        zero_expert_type = "constant"
        moe_topk = 6
        routed_scaling_factor = 6      # an integer literal for a float field
        mla_scale_q_lora = false
        rope_theta = 1e4
        layout = "sequential"

        [train]
        steps = 50
        learning_rate = 1e-3
        adam_eps = 1e-16
        schedule = "constant"
        warmup_steps = 5
        threads = 2

        [data]
        corpus = "text"
        path = 'corpora/notes.txt'
        validation_fraction = 0.25

        [init]
        std = 0.01
        variance_compensation = true
        fine_grain_factor = 6

        [controller]
        kind = "pid"
        target_ffn_experts = 4.5
        ki = 2e-3
        gain_schedule = "cosine"
        update_interval = 2

        [balance]
        alpha = 0.01
        groups = 4
        """

    @Test func fullConfigDecodes() throws {
        let c = try LabConfig.parse(text: Self.full, file: "full.toml", overrides: [])
        var expected = LabConfig()
        expected.model.hiddenSize = 96
        expected.model.numLayers = 3
        expected.model.qLoraRank = 48
        expected.model.qkRopeHeadDim = 4
        expected.model.nRoutedExperts = 12
        expected.model.zeroExpertNum = 4
        expected.model.zeroExpertType = .constant
        expected.model.moeTopk = 6
        expected.model.routedScalingFactor = 6.0
        expected.model.mlaScaleQLora = false
        expected.model.ropeTheta = 10_000
        expected.model.layout = .sequential
        expected.train.steps = 50
        expected.train.learningRate = 1e-3
        expected.train.adamEps = 1e-16
        expected.train.schedule = .constant
        expected.train.warmupSteps = 5
        expected.train.threads = 2
        expected.data.corpus = .text
        expected.data.path = "corpora/notes.txt"
        expected.data.validationFraction = 0.25
        expected.initialization.std = 0.01
        expected.initialization.varianceCompensation = true
        expected.initialization.fineGrainFactor = 6
        expected.controller.kind = .pid
        expected.controller.targetFfnExperts = 4.5
        expected.controller.ki = 2e-3
        expected.controller.gainSchedule = .cosine
        expected.controller.updateInterval = 2
        expected.balance.alpha = 0.01
        expected.balance.groups = 4
        #expect(c == expected)
    }

    @Test func emptyFileGivesDefaults() throws {
        #expect(try LabConfig.parse(text: "# nothing\n", file: "empty.toml", overrides: []) == LabConfig())
    }

    /// Guards against a key-table line pointing at the wrong field or a misspelt key: the keys of
    /// each table are exactly the snake_case field names, in declaration order.
    @Test func keysAreSnakeCaseOfFieldsInOrder() {
        var expected: [String] = []
        for table in Mirror(reflecting: LabConfig()).children {
            let tableName = table.label == "initialization" ? "init" : table.label!
            for field in Mirror(reflecting: table.value).children {
                expected.append("\(tableName).\(snakeCased(field.label!))")
            }
        }
        #expect(LabConfig.keyPaths == expected)
    }

    /// Guards against two keys writing one field: setting a key changes exactly the field of
    /// that name and no other.
    @Test func eachKeyWritesItsOwnField() throws {
        let base = LabConfig()
        for path in LabConfig.keyPaths {
            var c = base
            let newValue: TOMLValue
            switch base.tomlValue(forKey: path)! {
            case .integer(let i): newValue = .integer(i + 7)
            case .float(let x): newValue = .float(x + 0.5)
            case .boolean(let b): newValue = .boolean(!b)
            case .string(let s):
                guard let other = otherString(path, s, suffix: "x") else { #expect(fixedKeys.contains(path)); continue }
                newValue = other
            default: Issue.record("unexpected kind for \(path)"); continue
            }
            try c.set(path, newValue)
            #expect(c.tomlValue(forKey: path) == newValue)
            #expect(changedFields(base, c) == [path], "\(path)")
        }
    }

    @Test func unknownKeySuggestsCloseMatch() {
        guard let e = configError({ _ = try LabConfig.parse(text: "[model]\n\nmoe_top_k = 6", file: "exp.toml", overrides: []) }) else { return }
        #expect(e.problems.first?.keyPath == "model.moe_top_k")
        #expect(e.description.hasPrefix("exp.toml:3: unknown key model.moe_top_k; did you mean model.moe_topk?"), "\(e)")
        #expect(e.description.contains("Valid keys of [model]: vocab_size, hidden_size,"))
        #expect(e.description.contains("moe_topk"))
    }

    @Test func camelCaseKeySuggestsSnakeCase() {
        let e = configError { _ = try LabConfig.parse(text: "[model]\nhiddenSize = 64", file: "exp.toml", overrides: []) }
        #expect(e?.description.contains("did you mean model.hidden_size?") == true, "\(String(describing: e))")
    }

    @Test func abbreviationSuggestsFullKey() {
        let e = configError { _ = try LabConfig.parse(text: "[train]\nlr = 1e-3", file: "exp.toml", overrides: []) }
        #expect(e?.description.contains("unknown key train.lr; did you mean train.learning_rate?") == true, "\(String(describing: e))")
    }

    @Test func keyInWrongTableNamesItsTable() {
        let e = configError { _ = try LabConfig.parse(text: "[model]\nlearning_rate = 1e-3", file: "exp.toml", overrides: []) }
        #expect(e?.description.contains("exp.toml:2: unknown key model.learning_rate; learning_rate belongs in [train] (train.learning_rate)") == true,
                "\(String(describing: e))")
    }

    @Test func unknownTableSuggestsCloseMatch() {
        let e = configError { _ = try LabConfig.parse(text: "\n[modle]\nhidden_size = 64", file: "exp.toml", overrides: []) }
        #expect(e?.description.hasPrefix("exp.toml:2: unknown table [modle]; did you mean [model]? Valid tables: [model], [train], [data], [init], [controller], [balance]") == true,
                "\(String(describing: e))")
    }

    @Test func topLevelKeyOutsideItsTable() {
        let e = configError { _ = try LabConfig.parse(text: "moe_topk = 4", file: "exp.toml", overrides: []) }
        #expect(e?.description.contains("exp.toml:1: unknown top-level key moe_topk; moe_topk belongs in [model] (model.moe_topk)") == true,
                "\(String(describing: e))")
    }

    @Test func subTableOfConfigTableIsUnknownKey() {
        let e = configError { _ = try LabConfig.parse(text: "[model.extra]\nx = 1", file: "exp.toml", overrides: []) }
        #expect(e?.description.contains("unknown key model.extra") == true, "\(String(describing: e))")
    }

    @Test func tableGivenAsValue() {
        let e = configError { _ = try LabConfig.parse(text: "model = 3", file: "exp.toml", overrides: []) }
        #expect(e?.description.contains("exp.toml:1: model = 3: expected the table [model], got an integer") == true, "\(String(describing: e))")
    }

    static let typeErrors: [(String, String)] = [
        ("[model]\nmoe_topk = 4.0", "exp.toml:2: model.moe_topk = 4.0: expected an integer, got a float (write 4)"),
        ("[model]\nmoe_topk = 4.5", "exp.toml:2: model.moe_topk = 4.5: expected an integer, got a float"),
        ("[model]\nmoe_topk = \"4\"", "model.moe_topk = \"4\": expected an integer, got a string"),
        ("[model]\nmla_scale_q_lora = 1", "model.mla_scale_q_lora = 1: expected a boolean (true or false), got an integer"),
        ("[model]\nlayout = 1", "model.layout = 1: expected a string, got an integer (quote it: \"1\")"),
        ("[train]\nlearning_rate = true", "train.learning_rate = true: expected a number, got a boolean"),
        ("[train]\nlearning_rate = inf", "train.learning_rate = inf: expected a finite number"),
        ("[train]\nsteps = [1, 2]", "train.steps = [1, 2]: expected an integer, got an array"),
        ("[controller]\nkind = { a = 1 }", "controller.kind = { a = 1 }: expected a string, got a table"),
        ("[model]\nlayout = \"parallel\"", #"model.layout = "parallel": must be one of "scmoe", "sequential""#),
        ("[data]\nsynthetic = \"\"", #"data.synthetic = "": must be one of "copy", "mixture", "#),
    ]

    @Test(arguments: typeErrors)
    func wrongTypeNamesExpectedType(text: String, message: String) {
        let e = configError { _ = try LabConfig.parse(text: text, file: "exp.toml", overrides: []) }
        #expect(e?.description.contains(message) == true, "\(String(describing: e))")
        #expect(e?.description.hasPrefix("exp.toml:2: ") == true)
    }

    /// All decoding problems of a file come back together, each with its own line.
    @Test func allDecodingProblemsReportedTogether() {
        let text = "[model]\nhiden_size = 1\nmoe_topk = 2.5\n[trian]\nsteps = 1"
        guard let e = configError({ _ = try LabConfig.parse(text: text, file: "exp.toml", overrides: []) }) else { return }
        #expect(e.problems.map(\.source) == [2, 3, 4].map { ConfigSource.file("exp.toml", line: $0) })
        #expect(e.description.split(separator: "\n").count == 3)
    }
}

/// Key paths whose values differ between two configs (through the public accessors).
func changedFields(_ a: LabConfig, _ b: LabConfig) -> [String] {
    var changed: [String] = []
    for (ta, tb) in zip(Mirror(reflecting: a).children, Mirror(reflecting: b).children) {
        let tableName = ta.label == "initialization" ? "init" : ta.label!
        for (fa, fb) in zip(Mirror(reflecting: ta.value).children, Mirror(reflecting: tb.value).children)
        where String(describing: fa.value) != String(describing: fb.value) {
            changed.append("\(tableName).\(snakeCased(fa.label!))")
        }
    }
    return changed
}
