import Foundation
import LabRecords
@testable import LabPlots

/// A small records database with every table filled, built once per test process:
///
/// - `pid-s1`, `pid-s2`: controller pid, seeds 1 and 2 (a seed group); unlabelled token samples
///   (byte classes); variance at steps 0 and 20.
/// - `none-s1`: controller none, seed 1; token samples labelled easy / hard; variance at step 0.
/// - `one-step`: controller pid, a single recorded step (step 0) with every table filled.
/// - `sim`: a controller-simulator run: steps without losses (NULL), expert rows every 5th
///   step and the last, no token or variance rows.
/// - `bare`: steps only (no layer, expert, activated-parameter, token, variance or probe rows).
///
/// Every run but `sim` and `bare` has probe rows (`probe_tokens`) of its last step.
///
/// 2 MoE layers, 6 routed + 2 zero experts, top-4, K_e = 2; 40 steps. Values are smooth
/// functions of step, layer and expert plus a deterministic wobble, so every figure has shape.
enum Fixture {
    static let steps = 40
    static let layers = 2
    static let routed = 6
    static let zero = 2
    static let topK = 4

    static let path: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lab-plots-fixture-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("lab.sqlite").path
        let store = try! RecordStore(path: path)
        try! fill(store, name: "pid-s1", kind: "pid", seed: 1, labels: false, varianceSteps: [0, 20])
        try! fill(store, name: "none-s1", kind: "none", seed: 1, labels: true, varianceSteps: [0])
        try! fill(store, name: "pid-s2", kind: "pid", seed: 2, labels: false, varianceSteps: [0, 20])
        try! fill(store, name: "one-step", kind: "pid", seed: 4, labels: false, varianceSteps: [0], count: 1)
        try! fill(store, name: "sim", kind: "pid", seed: 5, labels: false, varianceSteps: [], simulation: true)
        try! fillBare(store)
        store.close()
        return path
    }()

    /// A store on the fixture database (each test opens its own).
    static func store() throws -> RecordStore { try RecordStore(path: path) }

    /// A fresh output folder.
    static func outputDirectory(_ label: String = "out") -> String {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("lab-plots-\(label)-\(UUID().uuidString)").path
        return dir
    }

    static func config(kind: String, seed: Int) -> String {
        """
        [model]
        num_layers = \(layers)
        n_routed_experts = \(routed)
        zero_expert_num = \(zero)
        moe_topk = \(topK)
        layout = "scmoe"

        [train]
        steps = \(steps)
        seed = \(seed)

        [controller]
        kind = "\(kind)"   # a comment
        target_ffn_experts = 2.0
        ki = 0.01
        """
    }

    /// Deterministic wobble in [-1, 1].
    static func wobble(_ a: Int, _ b: Int = 0, _ c: Int = 0) -> Double {
        var x = UInt64(truncatingIfNeeded: a &* 73_856_093 ^ b &* 19_349_663 ^ c &* 83_492_791) &+ 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double(x >> 11) / Double(1 << 53) * 2 - 1
    }

    /// The FFN-expert mean of a run's layer at a step: the pid runs settle at K_e = 2, the
    /// uncontrolled run stays near 3.
    static func ffnMean(kind: String, seed: Int, step: Int, layer: Int) -> Double {
        let settle = kind == "pid" ? 2.0 : 3.0
        return settle + 1.5 * exp(-Double(step) / 8) + 0.1 * wobble(seed, step, layer)
    }

    static let text = Array("To be, or not to be: 42 questions!".utf8)

    static func fill(_ store: RecordStore, name: String, kind: String, seed: Int, labels: Bool, varianceSteps: [Int],
                     count: Int = steps, simulation: Bool = false) throws {
        let id = try store.beginRun(RunInfo(name: name, configTOML: config(kind: kind, seed: seed),
                                            configHash: "\(kind)-\(seed)", seed: seed, threads: 2,
                                            kind: simulation ? .simulation : .train))
        let tokensPerStep = 512
        for step in 0..<count {
            let s = Double(step)
            let loss = simulation ? .nan : 2 + 3.5 * exp(-s / 6) + 0.05 * wobble(seed, step) + (kind == "none" ? 0.02 : 0)
            let row = StepRow(step: step, tokensSeen: (step + 1) * tokensPerStep, loss: loss, lmLoss: loss - 0.01,
                              balanceLoss: 0.01, zLoss: 0, mtpLoss: nil, lr: 1e-3, gradNorm: 1 + 0.1 * wobble(step),
                              stepMs: 200, tokensPerS: 2500 + 200 * wobble(seed, step, 7),
                              evalLoss: step % 10 == 9 ? loss + 0.05 : nil)
            var record = StepRecord(runID: id, step: row)
            var totalFFN = 0.0
            for layer in 0..<layers {
                let mean = ffnMean(kind: kind, seed: seed, step: step, layer: layer)
                totalFFN += mean
                record.layers.append(LayerStepRow(
                    step: step, layer: layer, zeroExpertShare: 1 - mean / Double(topK), ffnExpertsMean: mean,
                    ffnExpertsStd: 0.8 + 0.1 * wobble(step, layer), maxVio: (kind == "pid" ? 0.3 : 1.2) + 0.1 * wobble(seed, step, layer + 3),
                    routerEntropy: 2.5, balanceLoss: 0.005, loadCV: 0.2 + 0.05 * wobble(step, layer, 5)))
                let slots = Double(tokensPerStep * topK)
                let zeroShare = 1 - mean / Double(topK)
                for e in 0..<(routed + zero) {
                    let isZero = e >= routed
                    let share = isZero ? zeroShare / Double(zero)
                        : (1 - zeroShare) / Double(routed) * (1 + 0.3 * wobble(seed, e, step / 5))
                    let bias = kind == "pid" && !isZero ? -0.002 * s * (1 + 0.2 * wobble(e, layer)) : 0
                    record.experts.append(ExpertStepRow(
                        step: step, layer: layer, expert: e, isZero: isZero, tokens: Int(share * slots), loadShare: share,
                        bias: bias, pTerm: 0, iTerm: bias, dTerm: 0, meanGate: 0.25))
                }
            }
            // Activated parameters: tokens spread around the mean count over both layers.
            let center = totalFFN
            for c in 0...(layers * topK) {
                let weight = exp(-pow(Double(c) - center, 2) / 2)
                let tokens = Int((weight * 200).rounded())
                if tokens > 0 {
                    record.activatedParams.append(ActivatedParamsRow(step: step, ffnExperts: c, tokens: tokens,
                                                                     activatedParams: 500_000 + 25_000 * c))
                }
            }
            if simulation {
                record.step.evalLoss = nil
                record.tokenSamples = []
                if step % 5 != 0 && step != count - 1 { record.experts = [] }
            }
            if (step % 10 == 9 || count == 1) && !simulation {
                for sample in 0..<2 {
                    for position in 0..<16 {
                        let token = Int(text[(sample * 16 + position) % text.count])
                        for layer in 0..<layers {
                            let hard = position % 3 == 0
                            let ffn = max(0, min(topK, Int((ffnMean(kind: kind, seed: seed, step: step, layer: layer)
                                                              + (hard ? 1 : -0.5) + wobble(sample, position, layer)).rounded())))
                            record.tokenSamples.append(TokenSampleRow(
                                step: step, sample: sample, position: position, layer: layer, token: token,
                                label: labels ? (hard ? "hard" : "easy") : nil, ffnExperts: ffn,
                                experts: Array(0..<ffn)))
                            // The same tokens traced at every evaluation, their FFN experts drifting with the step.
                            let traced = max(topK - zero, ffn)
                            record.routingTraces.append(RoutingTraceRow(
                                step: step, sequence: sample, position: position, layer: layer, token: token, ffnExperts: traced,
                                experts: (0..<traced).map { (sample + position + step / 10 + $0) % routed }.sorted()
                                    + (0..<(topK - traced)).map { routed + $0 },
                                gates: [Float](repeating: 0.25, count: topK), loss: 2 - 0.01 * s + 0.1 * wobble(sample, position)))
                        }
                    }
                }
            }
            if varianceSteps.contains(step) {
                if labels {  // the trainer's per-label evaluation rows, written at the same steps
                    for (label, loss) in [("easy", 1.1), ("hard", 2.3)] {
                        record.evalByLabel.append(EvalLabelRow(step: step, label: label, loss: loss, tokens: 64))
                    }
                }
                for layer in -1..<layers {
                    // The module names the trainer records: two-run figures then carry as many
                    // curves as real runs do (40), which once overflowed gnuplot's key.
                    for module in layer < 0 ? ["residual.embedding", "final_hidden"]
                        : ["mla.0", "mla.1", "ffn.0", "ffn.1", "moe", "residual.mla.0", "residual.mla.1",
                           "residual.ffn.0", "residual.layer"] {
                        let compensation = kind == "none" ? 1.0 : 4.0
                        record.variance.append(VarianceRow(step: step, layer: layer, module: module, statistic: "variance",
                                                           value: compensation * (1 + Double(layer + 1) * 0.5) * (1 + s / 40)))
                        record.variance.append(VarianceRow(step: step, layer: layer, module: module, statistic: "grad_rms",
                                                           value: 1e-3 * (1 + Double(layer + 1))))
                    }
                }
            }
            try store.record(record)
        }
        if !simulation { try fillProbe(store, runID: id, step: count - 1, seed: seed) }
        try store.finishRun(id, status: .finished)
    }

    /// Probe rows of the checkpoint at `step` (what `longcat-lab probe` writes): 2 sequences x
    /// 8 positions x every layer; a token's FFN count is its position mod 4 (+1 impossible at
    /// K = 4, -1 at 0), the benefit of +1 shrinking with the count.
    static func fillProbe(_ store: RecordStore, runID: Int64, step: Int, seed: Int) throws {
        var rows: [ProbeTokenRow] = []
        for sequence in 0..<2 {
            for position in 0..<8 {
                for layer in 0..<layers {
                    let ffn = position % 4
                    let loss = 3 + 0.2 * wobble(seed, sequence * 8 + position, layer)
                    rows.append(ProbeTokenRow(step: step, sequence: sequence, position: position, layer: layer,
                                              token: Int(text[position]), label: nil, targetLabel: nil, ffnExperts: ffn,
                                              loss: loss, lossPlus: ffn < topK ? loss - 0.04 * Double(topK - ffn) : nil,
                                              lossMinus: ffn > 0 ? loss + 0.03 * Double(topK + 1 - ffn) : nil))
                }
            }
        }
        try store.recordProbe(runID: runID, step: step, tokens: rows, summaries: [])
    }

    static func fillBare(_ store: RecordStore) throws {
        let id = try store.beginRun(RunInfo(name: "bare", configTOML: config(kind: "pid", seed: 3), configHash: "bare",
                                            seed: 3, threads: 2))
        for step in 0..<5 {
            try store.record(StepRecord(runID: id, step: StepRow(
                step: step, tokensSeen: step * 10, loss: 3, lmLoss: 3, balanceLoss: 0, zLoss: 0, mtpLoss: nil, lr: 1e-3,
                gradNorm: 1, stepMs: 100, tokensPerS: 1000)))
        }
        try store.finishRun(id, status: .finished)
    }
}

/// The PNG signature and the image size from the IHDR chunk, or nil when not a PNG.
func pngSize(_ path: String) -> (width: Int, height: Int)? {
    guard let d = FileManager.default.contents(atPath: path), d.count > 24,
          Array(d.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
    func be32(_ o: Int) -> Int { d[o..<o + 4].reduce(0) { $0 << 8 | Int($1) } }
    return (be32(16), be32(20))
}

/// The numeric rows of block `index` of a gnuplot data file (comment lines skipped).
func dataBlock(_ path: String, index: Int) throws -> [[Double]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let blocks = text.components(separatedBy: "\n\n\n")
    guard index < blocks.count else { return [] }
    return blocks[index].split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        .map { $0.split(separator: " ").map { Double($0) ?? .nan } }
}
