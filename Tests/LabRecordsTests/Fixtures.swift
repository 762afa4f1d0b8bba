import Foundation
import LabRecords

/// Runs `body` with a fresh temporary directory, removed afterwards.
func withTempDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lab-records-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// A run description with a recognisable config.
func runInfo(_ name: String, hash: String = "hash-1") -> RunInfo {
    RunInfo(name: name, configTOML: "[model]\nlayers = 2\n", configHash: hash, seed: 7, gitCommit: "abc123",
            threads: 2, kind: .train)
}

/// A full step record with every row kind; values depend on step, layer and expert so that
/// a row written to the wrong key or column reads back different.
func makeRecord(runID: Int64, step: Int, layers: Int = 2, experts: Int = 6, zeroExperts: Int = 2,
                lossOffset: Double = 0) -> StepRecord {
    let s = Double(step)
    let stepRow = StepRow(step: step, tokensSeen: 256 * (step + 1), loss: 3.5 - 0.1 * s + lossOffset,
                          lmLoss: 3.4 - 0.1 * s, balanceLoss: 0.01 + s / 1000, zLoss: 1e-4 * s,
                          mtpLoss: step % 2 == 0 ? 3.6 - s / 10 : nil, lr: 3e-4 * (s + 1) / 10,
                          gradNorm: 1.5 + s / 7, stepMs: 450 + s, tokensPerS: 560 + 3 * s,
                          evalLoss: step % 3 == 2 ? 3.7 - s / 20 : nil, recordMs: 0.25 + s / 100)
    var record = StepRecord(runID: runID, step: stepRow)
    for layer in 0..<layers {
        let l = Double(layer)
        record.layers.append(LayerStepRow(
            step: step, layer: layer, zeroExpertShare: 0.3 + l / 10, ffnExpertsMean: 4 - l / 4,
            ffnExpertsStd: 1 + s / 50, maxVio: 0.5 / (s + 1), routerEntropy: 2 - l / 3, balanceLoss: 0.005 * (l + 1),
            gradNormRatio: step % 2 == 0 ? 0.05 + l / 100 : nil, routerSimilarity: layer == 0 ? 0.12 : nil,
            loadCV: 0.4 + l / 8 + s / 64, groupImbalance: layer == 1 ? 1.25 : nil))
        for expert in 0..<(experts + zeroExperts) {
            let e = Double(expert)
            record.experts.append(ExpertStepRow(
                step: step, layer: layer, expert: expert, isZero: expert >= experts, tokens: 10 * expert + step + layer,
                loadShare: (e + 1) / 36, bias: 0.001 * (e - s) + l, pTerm: 0.1 * e, iTerm: -0.01 * e * s,
                dTerm: 0.5 * l - e, meanGate: 0.2 + e / 100))
        }
        record.tokenSamples.append(TokenSampleRow(
            step: step, sample: 0, position: 1, layer: layer, token: 65 + layer, label: layer == 0 ? "hard" : nil,
            ffnExperts: 2, experts: [layer, 3 + step % 3]))
        record.variance.append(VarianceRow(step: step, layer: layer, module: "ffn.out", statistic: "var", value: 1 + l + s))
    }
    if step % 3 == 2 {
        for (i, label) in ["easy", "hard"].enumerated() {
            record.evalByLabel.append(EvalLabelRow(step: step, label: label, loss: 2.5 + Double(i) - s / 30, tokens: 100 + i + step))
        }
    }
    for k in 0...4 {
        record.activatedParams.append(ActivatedParamsRow(step: step, ffnExperts: k, tokens: 20 * k + step,
                                                         activatedParams: 1_000_000 + 250_000 * k))
    }
    return record
}

/// The row count of `table`, through the generic query.
func count(_ store: RecordStore, _ table: String, runID: Int64? = nil) throws -> Int {
    if let runID {
        return try store.query("SELECT COUNT(*) FROM \(table) WHERE run_id = ?", [.integer(runID)])[0][0].int ?? -1
    }
    return try store.query("SELECT COUNT(*) FROM \(table)")[0][0].int ?? -1
}

/// Every per-step table, for counting rows.
let stepTables = ["steps", "layer_steps", "expert_steps", "activated_params", "token_samples", "variance_stats",
                  "eval_by_label"]
