import Foundation
import LabRecords

/// Hand-made runs in a temporary records database, each with 2 MoE layers of 4 FFN experts;
/// every number is chosen by the test that writes it. Runs named `ARM-sSEED` carry
/// `fixture.arm = "ARM"` in their config, so arms differ by config as real arms do.
struct RecordsFixture {
    let path: String
    let store: RecordStore

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lab-analysis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        path = dir.appendingPathComponent("lab.sqlite").path
        store = try RecordStore(path: path)
    }

    /// What one run records.
    struct Run {
        var name: String
        var seed: Int
        var controller = "pid"
        var zeroExperts = 2
        var topK = 4
        /// controller.target_ffn_experts (0 = K).
        var target = 2.0
        var steps = 20
        /// Validation loss recorded at every 5th step and the last; the last is `evalLoss`.
        var evalLoss = 2.0
        /// FFN experts per token of layer l at step s.
        var ffn: (_ step: Int, _ layer: Int) -> Double = { _, _ in 2.0 }
        /// Activated parameters per token of a token that uses c FFN experts (over both layers).
        var paramsPerExpert = 100_000
        var denseParams = 1_000_000
        /// Tokens per step using 3, 4 and 5 FFN experts (over both layers) at step s.
        var tokensByCount: (_ step: Int) -> [Int] = { _ in [100, 200, 100] }
        /// Loads of the 4 FFN experts of layer l at step s.
        var loads: (_ step: Int, _ layer: Int) -> [Int] = { _, _ in [64, 64, 64, 64] }
        /// A step whose loss is NaN.
        var nanStep: Int? = nil
    }

    func add(_ r: Run) throws {
        let toml = """
            [model]
            num_layers = 2
            n_routed_experts = 4
            zero_expert_num = \(r.zeroExperts)
            moe_topk = \(r.topK)

            [train]
            seed = \(r.seed)

            [controller]
            kind = "\(r.controller)"
            target_ffn_experts = \(r.target)

            [fixture]
            arm = "\(r.name.split(separator: "-").first!)"
            """
        let id = try store.beginRun(RunInfo(name: r.name, configTOML: toml, configHash: r.name, seed: r.seed, threads: 1))
        for step in 0..<r.steps {
            let loss = step == r.nanStep ? Double.nan : 3 - Double(step) / Double(r.steps)
            let isEval = step % 5 == 4 || step == r.steps - 1
            let row = StepRow(step: step, tokensSeen: 256 * (step + 1), loss: loss, lmLoss: loss, balanceLoss: 0, zLoss: 0,
                              mtpLoss: nil, lr: 1e-3, gradNorm: 1, stepMs: 10, tokensPerS: 1000,
                              evalLoss: isEval ? (step == r.steps - 1 ? r.evalLoss : r.evalLoss + 0.5) : nil)
            var record = StepRecord(runID: id, step: row)
            for layer in 0..<2 {
                let mean = r.ffn(step, layer)
                record.layers.append(LayerStepRow(step: step, layer: layer, zeroExpertShare: 1 - mean / Double(r.topK),
                                                  ffnExpertsMean: mean, ffnExpertsStd: 0.5, maxVio: 0.1 * Double(layer + 1),
                                                  routerEntropy: 1, balanceLoss: 0))
                let loads = r.loads(step, layer)
                let total = Double(loads.reduce(0, +))
                for (e, tokens) in loads.enumerated() {
                    record.experts.append(ExpertStepRow(step: step, layer: layer, expert: e, isZero: false, tokens: tokens,
                                                        loadShare: Double(tokens) / total, bias: 0, pTerm: 0, iTerm: 0,
                                                        dTerm: 0, meanGate: 0.5))
                }
                record.experts.append(ExpertStepRow(step: step, layer: layer, expert: 4, isZero: true, tokens: 10,
                                                    loadShare: 0, bias: 0, pTerm: 0, iTerm: 0, dTerm: 0, meanGate: 0.5))
            }
            for (i, tokens) in r.tokensByCount(step).enumerated() where tokens > 0 {
                let c = 3 + i
                record.activatedParams.append(ActivatedParamsRow(step: step, ffnExperts: c, tokens: tokens,
                                                                 activatedParams: r.denseParams + c * r.paramsPerExpert))
            }
            try store.record(record)
        }
        try store.finishRun(id, status: .finished)
    }
}
