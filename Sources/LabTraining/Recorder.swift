import Foundation
import LabConfig
import LabKernels
import LabModel
import LabRecords
import LabRouting

/// Turns each training step into rows of the records store (one transaction per step). It only
/// reads the model and controllers, so a run with recording on and off trains identically.
final class Recorder {
    let store: RecordStore
    let options: TrainOptions
    let config: LabConfig
    let model: LongCatModel
    let parameterCount: ParameterCount
    var runID: Int64 = 0
    private var stats: [RoutingStats]
    private var ffnPerToken: [Int32] = []

    init(options: TrainOptions, config: LabConfig, model: LongCatModel) throws {
        self.options = options
        self.config = config
        self.model = model
        store = try RecordStore(path: options.databasePath)
        parameterCount = ParameterCount(model: config.model)
        stats = Array(repeating: RoutingStats(), count: config.model.numLayers)
    }

    func begin() throws {
        runID = try store.beginRun(RunInfo(name: options.name, configTOML: config.resolvedTOML(),
                                           configHash: config.configHash, seed: config.train.seed,
                                           gitCommit: currentGitCommit(), threads: LabThreads.count))
    }

    /// Takes the run over again and drops records past the checkpoint it resumes from.
    func resume(fromStep step: Int) throws {
        runID = try store.resumeRun(named: options.name)
        try store.deleteSteps(runID: runID, after: step - 1)
    }

    func checkpoint(step: Int, path: String) throws {
        try store.recordCheckpoint(runID: runID, step: step, path: path)
    }

    func finish(status: RunStatus, message: String?) throws {
        try store.finishRun(runID, status: status, message: message)
    }

    /// Records step `step`: losses, per-layer routing statistics, per-expert loads and
    /// controller terms, and the exact distribution of activated parameters per token.
    func record(step: Int, losses: Losses, lr: Double, gradNorm: Double, stepMs: Double, tokensPerStep: Int,
                evalLoss: Double?, controllers: [BiasController], controllerUpdated: Bool) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        let m = config.model
        let rows = tokensPerStep
        let stepRow = StepRow(step: step, tokensSeen: (step + 1) * tokensPerStep, loss: losses.total, lmLoss: losses.lm,
                              balanceLoss: losses.balance, zLoss: losses.z, mtpLoss: m.mtpLossCoef > 0 ? losses.mtp : nil,
                              lr: lr, gradNorm: gradNorm, stepMs: stepMs,
                              tokensPerS: Double(tokensPerStep) / (stepMs / 1000), evalLoss: evalLoss)
        var layers: [LayerStepRow] = [], experts: [ExpertStepRow] = []
        if ffnPerToken.count != rows { ffnPerToken = [Int32](repeating: 0, count: rows) }
        for i in 0..<rows { ffnPerToken[i] = 0 }
        for l in 0..<m.numLayers {
            let saved = model.saved[l].moe
            stats[l].compute(plan: saved.plan, probs: UnsafePointer(saved.probs.ptr))
            let s = stats[l]
            layers.append(LayerStepRow(step: step, layer: l, zeroExpertShare: s.zeroExpertShare,
                                       ffnExpertsMean: s.ffnExpertsMean, ffnExpertsStd: s.ffnExpertsStd,
                                       maxVio: s.maxVio, routerEntropy: s.routerEntropy, balanceLoss: saved.balanceLoss))
            let c = controllers[l]
            for e in 0..<c.experts {
                experts.append(ExpertStepRow(step: step, layer: l, expert: e, isZero: e >= m.nRoutedExperts,
                                             tokens: s.tokens[e], loadShare: s.loadShare[e], bias: Double(c.bias[e]),
                                             pTerm: Double(c.pTerm[e]), iTerm: Double(c.iTerm[e]), dTerm: Double(c.dTerm[e]),
                                             meanGate: s.meanGate[e]))
            }
            for t in 0..<rows { ffnPerToken[t] += saved.plan.ffnCount[t] }
        }
        // The exact per-token distribution: tokens that used c FFN experts over all layers.
        var histogram = [Int](repeating: 0, count: m.numLayers * m.moeTopk + 1)
        for t in 0..<rows { histogram[Int(ffnPerToken[t])] += 1 }
        var activated: [ActivatedParamsRow] = []
        for (c, n) in histogram.enumerated() where n > 0 {
            activated.append(ActivatedParamsRow(step: step, ffnExperts: c, tokens: n,
                                                activatedParams: parameterCount.activatedParameters(ffnExperts: c)))
        }
        var record = StepRecord(runID: runID, step: stepRow, layers: layers, experts: experts, activatedParams: activated)
        TokenSampling.take(for: model, into: &record)
        record.step.recordMs = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        try store.record(record)
    }
}

/// The commit of the working tree the lab runs from, when it is a git checkout.
func currentGitCommit() -> String? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["git", "rev-parse", "HEAD"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return nil }
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { return nil }
    let s = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    return s.isEmpty ? nil : s
}
