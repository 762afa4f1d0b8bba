import Foundation
import LabConfig
import LabData
import LabKernels
import LabModel
import LabRouting

/// What `longcat-lab bench` measures.
public struct BenchmarkResult: Sendable {
    public var steps = 0
    public var tokensPerStep = 0
    public var stepMs: [Double] = []
    public var forwardMs = 0.0, backwardMs = 0.0, optimizerMs = 0.0, controllerMs = 0.0, recordMs = 0.0
    /// Per module: label, forward ms per step, backward ms per step.
    public var modules: [(String, Double, Double)] = []
    /// Per module (in `modules`' order): the threads' ms per step inside BLAS, summed over threads.
    public var moduleBLASms: [Double] = []
    /// Per module (in `modules`' order): GFLOP/s per thread inside its BLAS calls.
    public var moduleBLASgflops: [Double] = []
    public var flopsPerToken = 0.0
    public var meanFfnExperts = 0.0
    public var peakMemoryMiB = 0.0
    /// The worker pool's loops, helper idle time and caller waits over the measured steps.
    public var pool = PoolCounters()
    /// The BLAS calls of the measured steps: their count, the threads' seconds inside them and
    /// the operations they executed.
    public var blas = BLASCounters()
    public var threads = 1
    /// Bytes held by the model (by role) and the optimizer; the rest of the peak is the runtime,
    /// the BLAS library's buffers, the corpus and the records.
    public var memorySplit: [(role: String, bytes: Int)] = []
    public var medianStepMs: Double { let s = stepMs.sorted(); return s.isEmpty ? 0 : s[s.count / 2] }
    public var tokensPerSecond: Double { medianStepMs > 0 ? Double(tokensPerStep) / (medianStepMs / 1000) : 0 }
    public var achievedGFlops: Double { flopsPerToken * tokensPerSecond / 1e9 }
    /// Operations the BLAS calls executed per step over the model's count for a step (causal
    /// attention, no recomputation): above 1 by what attention's blocks compute beyond the
    /// causal half, plus the scores its backward recomputes.
    public var blasFlopRatio: Double { measuredModelFlops > 0 ? blas.flops / measuredModelFlops : 0 }
    /// The model's FLOPs over all measured steps.
    var measuredModelFlops: Double { flopsPerToken * Double(tokensPerStep) * Double(steps) }
    /// Share of the threads' time (threads x the measured steps' wall time) spent inside BLAS.
    public var blasTimeShare: Double {
        let wall = stepMs.reduce(0, +) / 1000
        return wall > 0 ? blas.seconds / (wall * Double(threads)) : 0
    }
    /// GFLOP/s a step would reach if it spent no time outside BLAS: the model's FLOPs over the
    /// BLAS seconds shared by the threads. Divided by the sgemm rate, the most this step's BLAS
    /// calls, with their shapes and their extra operations, allow.
    public var gflopsWithBLASOnly: Double {
        blas.seconds > 0 ? measuredModelFlops / (blas.seconds / Double(threads)) / 1e9 : 0
    }
    /// Share of the measured steps' wall time the pool's helpers spent outside a parallel loop
    /// (spinning or asleep), averaged over helpers: the step's serial parts as the other cores
    /// see them, plus the helpers' waits for the next loop to start.
    public var helperIdleShare: Double {
        let wall = stepMs.reduce(0, +) / 1000
        return wall > 0 && pool.helpers > 0 ? pool.helperIdleSeconds / (wall * Double(pool.helpers)) : 0
    }
}

/// Peak resident memory of this process so far, in MiB.
public func peakResidentMiB() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024   // KiB on Linux
}

/// Trains `config` for `warmup` + `steps` steps (records into `recordTo` when given, so the
/// cost of recording is measured too) and times every phase of the measured steps.
public func runBenchmark(config: LabConfig, warmup: Int, steps: Int, recordTo databasePath: String?) throws -> BenchmarkResult {
    var cfg = config
    cfg.train.steps = warmup + steps
    cfg.train.evalInterval = 0
    cfg.train.checkpointInterval = 0
    var options = TrainOptions(name: "bench-\(ProcessInfo.processInfo.processIdentifier)-\(Int(Date().timeIntervalSince1970))")
    options.verbose = false
    options.record = databasePath != nil
    if let databasePath { options.databasePath = databasePath }
    options.resultsDirectory = NSTemporaryDirectory() + "longcat-bench-\(ProcessInfo.processInfo.processIdentifier)"
    defer { try? FileManager.default.removeItem(atPath: options.resultsDirectory) }
    let trainer = try Trainer(config: cfg, options: options)
    let recorder = options.record ? try Recorder(options: options, config: cfg, model: trainer.model, samples: trainer.pendingSamples) : nil
    try recorder?.begin()
    let sampler = BatchSampler(corpus: trainer.corpus, split: .train, batch: cfg.train.batchSize * cfg.train.gradAccum,
                               seqLen: cfg.train.seqLen, seed: cfg.train.seed)
    var result = BenchmarkResult()
    result.steps = steps
    result.tokensPerStep = cfg.train.batchSize * cfg.train.gradAccum * cfg.train.seqLen
    let microRows = cfg.train.batchSize * cfg.train.seqLen
    var ffnSum = 0.0
    var poolAtStart = PoolCounters()
    var blasAtStart = BLASCounters()
    func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }
    for step in 0..<(warmup + steps) {
        let measured = step >= warmup
        if step == warmup { Profiler.reset(); poolAtStart = .now; blasAtStart = .now }
        Profiler.enabled = measured
        blasAccounting = measured
        let t0 = now()
        trainer.fillBatch(sampler, step: step)
        let losses = trainer.accumulatedStep()
        let t1 = now()
        let (norm, lr) = trainer.optimizerStep(step: step)
        let t2 = now()
        let updated = trainer.updateControllers(step: step)
        let t3 = now()
        try recorder?.observe(step: step, tokensPerStep: microRows, controllers: trainer.controllers)
        try recorder?.record(step: step, losses: losses, lr: Double(lr), gradNorm: Double(norm), stepMs: t3 - t0,
                             tokensPerStep: result.tokensPerStep, evalLoss: nil, controllers: trainer.controllers,
                             controllerUpdated: updated)
        let t4 = now()
        guard measured else { continue }
        result.stepMs.append(t4 - t0)
        result.optimizerMs += t2 - t1
        result.controllerMs += t3 - t2
        result.recordMs += t4 - t3
        for l in 0..<cfg.model.numLayers {
            let plan = trainer.model.saved[l].moe.plan
            ffnSum += Double(plan.offsets[plan.routedExperts]) / Double(microRows)
        }
    }
    Profiler.enabled = false
    blasAccounting = false
    result.pool = PoolCounters.now.since(poolAtStart)
    result.blas = BLASCounters.now.since(blasAtStart)
    try recorder?.finish(status: .finished, message: nil)
    let n = Double(steps)
    result.optimizerMs /= n; result.controllerMs /= n; result.recordMs /= n
    result.forwardMs = Double(Profiler.phaseNanoseconds[0]) / 1e6 / n
    result.backwardMs = Double(Profiler.phaseNanoseconds[1]) / 1e6 / n
    result.modules = ProfileKey.allCases.map { k in
        (k.label, Double(Profiler.nanoseconds[k.rawValue][0]) / 1e6 / n, Double(Profiler.nanoseconds[k.rawValue][1]) / 1e6 / n)
    }
    for k in ProfileKey.allCases {
        let ns = Double(Profiler.blasNanoseconds[k.rawValue].reduce(0, +))
        let flops = Double(Profiler.blasFlops[k.rawValue].reduce(0, +))
        result.moduleBLASms.append(ns / 1e6 / n)
        result.moduleBLASgflops.append(ns > 0 ? flops / ns : 0)
    }
    result.meanFfnExperts = ffnSum / (n * Double(cfg.model.numLayers))
    result.flopsPerToken = ParameterCount(model: cfg.model).trainingFlopsPerToken(meanFfnExperts: result.meanFfnExperts, seqLen: cfg.train.seqLen)
    result.peakMemoryMiB = peakResidentMiB()
    result.threads = LabThreads.count
    result.memorySplit = trainer.model.memorySplit()
        + [("AdamW moments m, v", 2 * trainer.optimizer.parameterCount * MemoryLayout<Float>.stride)]
    return result
}
