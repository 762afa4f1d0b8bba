import Foundation
import LabConfig
import LabData
import LabKernels
import LabModel
import LabRecords
import LabRouting

extension Trainer {
    /// Runs (or resumes) the training; returns its summary. Throws with a clear message on a
    /// non-finite loss (naming the step), an unwritable results folder or a full disk; the run
    /// is then marked failed in the database and earlier records stay intact.
    public func run() throws -> TrainSummary {
        let t = config.train
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        let recorder = options.record ? try Recorder(options: options, config: config, model: model, samples: pendingSamples) : nil
        var startStep = 0
        if options.resume {
            guard let step = Checkpoint.latestStep(runDirectory: runDirectory) else {
                throw TrainingError("run '\(options.name)' has no checkpoint in \(runDirectory)/checkpoints to resume from")
            }
            try Checkpoint.load(runDirectory: runDirectory, step: step, model: model, optimizer: optimizer,
                                controllers: &controllers)
            startStep = step
            try recorder?.resume(fromStep: step)
        } else {
            try recorder?.begin()
        }
        if let recorder, let tokenizer = corpus.tokenizer {
            try recorder.store.setTokenizerHash(runID: recorder.runID, hash: tokenizer.hash)
        }
        try writeAtomically(config.resolvedTOML(), to: runDirectory + "/config.toml")
        if let tokenizer = corpus.tokenizer {
            // The tokenizers library's format where every token's bytes are distinct (the mix
            // corpus's), else the lab's; `BytePairTokenizer(json:)` reads both.
            try writeAtomically(tokenizer.huggingFaceJSON ?? tokenizer.json, to: runDirectory + "/tokenizer.json")
        }
        interrupt.install()
        var summary = TrainSummary()
        summary.runName = options.name
        summary.databasePath = options.databasePath
        summary.runDirectory = runDirectory
        // One optimizer step draws B * grad_accum windows, run as grad_accum micro-batches of B.
        let sampler = BatchSampler(corpus: corpus, split: .train, batch: t.batchSize * t.gradAccum, seqLen: t.seqLen, seed: t.seed)
        let tokensPerStep = t.batchSize * t.gradAccum * t.seqLen
        let progress = Progress(totalSteps: t.steps, startStep: startStep, tokensPerStep: tokensPerStep,
                                verbose: options.verbose)
        let wallStart = Date()
        var lastStep = startStep
        do {
            for step in startStep..<t.steps {
                let began = DispatchTime.now().uptimeNanoseconds
                fillBatch(sampler, step: step)
                let losses = accumulatedStep()
                guard losses.total.isFinite else {
                    throw TrainingError("loss became \(losses.total) at step \(step) (lm \(losses.lm), balance \(losses.balance), z \(losses.z)); try a lower train.learning_rate or a gradient clip")
                }
                recorder?.captureVariance(step: step)
                let (gradNorm, lr) = optimizerStep(step: step)
                let controllerUpdated = updateControllers(step: step)
                let stepMs = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e6
                // Before evaluation: its forward passes overwrite the step's routing.
                // The routing read is the last micro-batch's (the model holds one micro-batch).
                try recorder?.observe(step: step, tokensPerStep: t.batchSize * t.seqLen, controllers: controllers)
                var evalLoss: Double? = nil
                if (t.evalInterval > 0 && (step + 1) % t.evalInterval == 0) || step + 1 == t.steps {
                    evalLoss = evaluate()
                    summary.finalEvalLoss = evalLoss
                }
                try recorder?.record(step: step, losses: losses, lr: Double(lr), gradNorm: Double(gradNorm),
                                     stepMs: stepMs, tokensPerStep: tokensPerStep, evalLoss: evalLoss,
                                     controllers: controllers, controllerUpdated: controllerUpdated)
                summary.losses.append(losses.total)
                summary.finalLoss = losses.lm
                lastStep = step + 1
                progress.report(step: step, losses: losses, lr: lr, stepMs: stepMs, evalLoss: evalLoss)
                let stopping = interrupt.isRaised || (options.stopAfterStep.map { lastStep >= $0 } ?? false)
                if stopping || (t.checkpointInterval > 0 && lastStep % t.checkpointInterval == 0) || lastStep == t.steps {
                    try Checkpoint.save(runDirectory: runDirectory, step: lastStep, model: model, optimizer: optimizer,
                                        controllers: controllers, configHash: config.configHash)
                    try recorder?.checkpoint(step: lastStep, path: Checkpoint.directory(runDirectory: runDirectory, step: lastStep))
                    // Only now that the newer checkpoint is complete may older ones go.
                    try Checkpoint.prune(runDirectory: runDirectory, keep: t.keepCheckpoints,
                                         pinned: Set(t.pinnedCheckpointSteps))
                }
                if stopping { summary.interrupted = true; break }
            }
        } catch {
            try? recorder?.finish(status: .failed, message: "\(error)")
            throw error
        }
        summary.steps = lastStep
        summary.wallSeconds = Date().timeIntervalSince(wallStart)
        summary.tokensPerSecond = progress.medianTokensPerSecond
        try recorder?.finish(status: summary.interrupted ? .interrupted : .finished, message: nil)
        return summary
    }

    /// One forward/backward pass per micro-batch of the current batch, each feeding the
    /// controllers its routing; leaves the mean of the micro-batches' gradients in
    /// `model.grads` and returns the mean of their losses. With `train.grad_accum = 1` this is
    /// one plain pass. Every micro-batch holds B*T targets, so the mean of the micro-batch
    /// means is the big batch's mean: the LM and z-loss gradients equal those of one pass over
    /// all B * grad_accum rows (up to float summation order); the balance loss, a product of
    /// batch statistics, is the mean of the micro-batches' instead.
    /// The backward adds into `model.grads`, so the micro-batches accumulate there directly
    /// (zeroed before the first, scaled by 1/grad_accum after the last): no second buffer of
    /// the parameters' size.
    func accumulatedStep() -> Losses {
        let t = config.train, micro = t.gradAccum, rows = t.batchSize * t.seqLen
        var total = Losses()
        for k in 0..<micro {
            let losses = tokens.withUnsafeBufferPointer { tk in
                targets.withUnsafeBufferPointer { tg in
                    mtpTargets.withUnsafeBufferPointer { mt in
                        let (x, y, z) = (tk.baseAddress! + k * rows, tg.baseAddress! + k * rows, mt.baseAddress! + k * rows)
                        let losses = model.forward(tokens: x, targets: y, mtpTargets: z, batch: t.batchSize)
                        if k == 0 { model.zeroGrad() }
                        model.backward(tokens: x, targets: y, mtpTargets: z, batch: t.batchSize)
                        return losses
                    }
                }
            }
            observeRouting()
            if micro == 1 { return losses }
            total.total += losses.total; total.lm += losses.lm; total.balance += losses.balance
            total.z += losses.z; total.mtp += losses.mtp
        }
        scale(model.grads.ptr, model.layout.count, by: 1 / Float(micro))   // both threads; elementwise
        let m = Double(micro)
        total.total /= m; total.lm /= m; total.balance /= m; total.z /= m; total.mtp /= m
        return total
    }

    /// Feeds the routing of the latest pass to each layer's controller (loads accumulate until
    /// the controller's next update, which `updateControllers` makes once per optimizer step).
    func observeRouting() {
        for l in controllers.indices { controllers[l].observe(plan: model.saved[l].moe.plan) }
    }

    func fillBatch(_ sampler: BatchSampler, step: Int) {
        tokens.withUnsafeMutableBufferPointer { tk in
            targets.withUnsafeMutableBufferPointer { tg in
                labels.withUnsafeMutableBufferPointer { lb in
                    sampler.batch(atStep: step, into: tk.baseAddress!, targets: tg.baseAddress!, labels: lb.baseAddress!)
                }
            }
        }
        fillMTPTargets()
    }

    /// Token t+2 of each window (the target of position t+1), ignored past the window's end;
    /// over every row of the buffers (all micro-batches).
    func fillMTPTargets() {
        let t = config.train.seqLen
        for b in 0..<tokens.count / t {
            for i in 0..<t {
                mtpTargets[b * t + i] = i + 1 < t ? targets[b * t + i + 1] : -1
            }
        }
    }

    /// Clips the step's gradients (inside AdamW, by `gradientClip`'s factor) and applies AdamW at
    /// the schedule's rate; returns the gradients' norm before clipping and that rate.
    func optimizerStep(step: Int) -> (gradNorm: Float, lr: Float) {
        let (norm, clip) = gradientClip(model.grads.ptr, count: model.layout.count, maxNorm: Float(config.train.gradClip))
        let lr = schedule.rate(atStep: step)
        optimizer.update(params: model.params.ptr, grads: UnsafePointer(model.grads.ptr), learningRate: lr, gradScale: clip)
        return (norm, lr)
    }

    /// Steps each layer's controller (the step's routing already observed) and copies the new
    /// biases into the model.
    func updateControllers(step: Int) -> Bool {
        var updated = false
        for l in controllers.indices {
            if controllers[l].step(step) { updated = true }
            controllers[l].bias.withUnsafeBufferPointer { b in
                model.bias[l].ptr.update(from: b.baseAddress!, count: b.count)
            }
        }
        return updated
    }

    /// Mean validation loss over `train.eval_batches` fixed batches (forward only).
    public func evaluate() -> Double {
        let t = config.train
        let sampler = BatchSampler(corpus: corpus, split: .validation, batch: t.batchSize, seqLen: t.seqLen, seed: t.seed)
        var sum = 0.0
        for i in 0..<t.evalBatches {
            tokens.withUnsafeMutableBufferPointer { tk in
                targets.withUnsafeMutableBufferPointer { tg in
                    labels.withUnsafeMutableBufferPointer { lb in
                        sampler.evaluationBatch(index: i, of: t.evalBatches, into: tk.baseAddress!, targets: tg.baseAddress!, labels: lb.baseAddress!)
                    }
                }
            }
            fillMTPTargets()
            let losses = tokens.withUnsafeBufferPointer { tk in
                targets.withUnsafeBufferPointer { tg in
                    mtpTargets.withUnsafeBufferPointer { mt in
                        model.pass(tokens: tk.baseAddress!, targets: tg.baseAddress!, mtpTargets: mt.baseAddress!,
                                   batch: t.batchSize, train: false)
                    }
                }
            }
            sum += losses.lm
            sampleTokens(evaluationBatch: i)
        }
        return sum / Double(max(t.evalBatches, 1))
    }
}
