import Foundation
import LabConfig
import LabKernels
import LabModel
import LabRecords
import LabRouting

/// Turns each training step into rows of the records store (one transaction per step). It only
/// reads the model and controllers (and copies router gradients on telemetry steps), so a run
/// with recording on and off trains identically.
///
/// Per step: `observe` right after the update (before an evaluation pass overwrites the
/// routing), then `record`; `record` observes by itself when the caller skipped it.
final class Recorder {
    let store: RecordStore
    let options: TrainOptions
    let config: LabConfig
    let model: LongCatModel
    /// Where the trainer's evaluations leave token samples for the next recorded step.
    let samples: PendingTokenSamples
    let parameterCount: ParameterCount
    let telemetry: LayerTelemetry
    var runID: Int64 = 0
    private var stats: [RoutingStats]
    private var ffnPerToken: [Int32] = []
    var variance = VarianceRecording()
    /// Rows read by `observe`, waiting for `record`, and the milliseconds that took.
    private var pending: (step: Int, layers: [LayerStepRow], experts: [ExpertStepRow],
                          activated: [ActivatedParamsRow], ms: Double)?

    init(options: TrainOptions, config: LabConfig, model: LongCatModel, samples: PendingTokenSamples) throws {
        self.samples = samples
        self.options = options
        self.config = config
        self.model = model
        store = try RecordStore(path: options.databasePath)
        parameterCount = ParameterCount(model: config.model)
        telemetry = LayerTelemetry(config: config, model: model)
        stats = Array(repeating: RoutingStats(), count: config.model.numLayers)
    }

    func begin() throws {
        runID = try store.beginRun(RunInfo(name: options.name, configTOML: config.resolvedTOML(),
                                           configHash: config.configHash, seed: config.train.seed,
                                           gitCommit: currentGitCommit(), threads: LabThreads.count))
        telemetry.prepare(forStep: 0)
    }

    /// Takes the run over again and drops records past the checkpoint it resumes from.
    func resume(fromStep step: Int) throws {
        runID = try store.resumeRun(named: options.name)
        try store.deleteSteps(runID: runID, after: step - 1)
        telemetry.prepare(forStep: step)
    }

    func checkpoint(step: Int, path: String) throws {
        try store.recordCheckpoint(runID: runID, step: step, path: path)
    }

    func finish(status: RunStatus, message: String?) throws {
        try store.finishRun(runID, status: status, message: message)
    }

    /// Reads step `step`'s routing from the model: per-layer statistics (with R_g and router
    /// similarity on telemetry steps), per-expert loads and controller terms, and the exact
    /// distribution of activated parameters per token. Call before any other pass runs.
    func observe(step: Int, tokensPerStep rows: Int, controllers: [BiasController]) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        let m = config.model
        var layers: [LayerStepRow] = [], experts: [ExpertStepRow] = []
        if ffnPerToken.count != rows { ffnPerToken = [Int32](repeating: 0, count: rows) }
        for i in 0..<rows { ffnPerToken[i] = 0 }
        for l in 0..<m.numLayers {
            let saved = model.saved[l].moe
            stats[l].compute(plan: saved.plan, probs: UnsafePointer(saved.probs.ptr))
            let s = stats[l]
            let (ratio, similarity) = try telemetry.measure(layer: l)
            layers.append(LayerStepRow(step: step, layer: l, zeroExpertShare: s.zeroExpertShare,
                                       ffnExpertsMean: s.ffnExpertsMean, ffnExpertsStd: s.ffnExpertsStd,
                                       maxVio: s.maxVio, routerEntropy: s.routerEntropy, balanceLoss: saved.balanceLoss,
                                       gradNormRatio: ratio, routerSimilarity: similarity,
                                       loadCV: coefficientOfVariation(s.tokens.prefix(m.nRoutedExperts)),
                                       groupImbalance: RoutingStats.groupImbalance(
                                           plan: saved.plan, groups: config.balance.groups,
                                           sequenceLength: config.train.seqLen)))
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
        pending = (step, layers, experts, activated, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
    }

    /// Records step `step` in one transaction: the losses and the rows `observe` read (read now
    /// when it was not called for this step). Arms the telemetry for the next step.
    func record(step: Int, losses: Losses, lr: Double, gradNorm: Double, stepMs: Double, tokensPerStep: Int,
                evalLoss: Double?, controllers: [BiasController], controllerUpdated: Bool) throws {
        if pending?.step != step { try observe(step: step, tokensPerStep: tokensPerStep, controllers: controllers) }
        let started = DispatchTime.now().uptimeNanoseconds
        let rows = pending!
        pending = nil
        let stepRow = StepRow(step: step, tokensSeen: (step + 1) * tokensPerStep, loss: losses.total, lmLoss: losses.lm,
                              balanceLoss: losses.balance, zLoss: losses.z,
                              mtpLoss: config.model.mtpLossCoef > 0 ? losses.mtp : nil,
                              lr: lr, gradNorm: gradNorm, stepMs: stepMs,
                              tokensPerS: Double(tokensPerStep) / (stepMs / 1000), evalLoss: evalLoss)
        var record = StepRecord(runID: runID, step: stepRow, layers: rows.layers, experts: rows.experts,
                                activatedParams: rows.activated)
        record.variance = variance.take(step: step)
        TokenSampling.take(from: samples, into: &record)
        record.step.recordMs = rows.ms + Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        try store.record(record)
        telemetry.prepare(forStep: step + 1)
    }
}

/// Population standard deviation over mean of expert loads (slots); 0 when no slot was taken.
func coefficientOfVariation(_ loads: ArraySlice<Int>) -> Double {
    guard !loads.isEmpty else { return 0 }
    let n = Double(loads.count)
    let mean = loads.reduce(0.0) { $0 + Double($1) } / n
    guard mean > 0 else { return 0 }
    let variance = loads.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
    return variance.squareRoot() / mean
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
