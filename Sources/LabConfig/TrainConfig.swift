/// `[train]`: optimisation and schedule. Each field's meaning and allowed values are in its row
/// of `LabConfig.trainFields` below.
public struct TrainConfig: Sendable, Equatable {
    public var steps = 300
    public var batchSize = 8
    public var seqLen = 128
    public var optimizer = OptimizerKind.adamw
    public var learningRate = 3e-3
    public var minLrRatio = 0.1
    public var schedule = TrainSchedule.cosine
    public var warmupSteps = 30
    public var beta1 = 0.9
    public var beta2 = 0.95
    public var adamEps = 1e-16
    public var weightDecay = 0.1
    public var gradClip = 1.0
    public var seed = 1
    public var evalInterval = 100
    public var evalBatches = 4
    public var tokenSampleBatches = 1
    public var traceTokens = 256
    public var checkpointInterval = 100
    public var varianceInterval = 100
    public var logInterval = 10
    public var telemetryInterval = 10
    public var threads = 0
    public var gradAccum = 1
    public var keepCheckpoints = 0
    public var pinCheckpoints = ""
    public init() {}

    /// The steps of `pin_checkpoints`; [] when it is not a comma-separated list of integers >= 1.
    public var pinnedCheckpointSteps: [Int] {
        DataConfig.parseList(pinCheckpoints) { Int($0).flatMap { $0 >= 1 ? $0 : nil } } ?? []
    }
}

extension LabConfig {
    static let trainFields: [ConfigField] = [
        ConfigField("train.steps", \.train.steps, doc: "Optimiser steps.", .atLeast(1)),
        ConfigField("train.batch_size", \.train.batchSize, doc: "Sequences per step.", .atLeast(1)),
        ConfigField("train.seq_len", \.train.seqLen, doc: "Tokens per sequence.", .atLeast(1)),
        ConfigField("train.optimizer", \.train.optimizer, doc: "adamw."),
        ConfigField("train.learning_rate", \.train.learningRate, doc: "Peak learning rate.", .positive),
        ConfigField("train.min_lr_ratio", \.train.minLrRatio,
                    doc: "Final learning rate as a fraction of learning_rate for the cosine schedule.",
                    Constraint("in [0, 1]") { (0...1).contains($0) }),
        ConfigField("train.schedule", \.train.schedule,
                    doc: "cosine (linear warm-up, then cosine decay) or constant (warm-up, then flat)."),
        ConfigField("train.warmup_steps", \.train.warmupSteps, doc: "Linear warm-up steps (0...train.steps)."),
        ConfigField("train.beta1", \.train.beta1, doc: "Adam beta1.", Constraint("in [0, 1)") { $0 >= 0 && $0 < 1 }),
        ConfigField("train.beta2", \.train.beta2, doc: "Adam beta2.", Constraint("in [0, 1)") { $0 >= 0 && $0 < 1 }),
        ConfigField("train.adam_eps", \.train.adamEps, doc: "Adam epsilon; LongCat used 1e-16 (LONGCAT.md section 7).",
                    .positive),
        ConfigField("train.weight_decay", \.train.weightDecay, doc: "Decoupled weight decay, applied to matrices only.",
                    .nonNegative),
        ConfigField("train.grad_clip", \.train.gradClip, doc: "Global gradient-norm clip; 0 = off.", .nonNegative),
        ConfigField("train.seed", \.train.seed, doc: "Seeds the weights, the batches and synthetic corpora.", .atLeast(0)),
        ConfigField("train.eval_interval", \.train.evalInterval,
                    doc: "Evaluate on held-out data every this many steps (and at the end); 0 = only at the end.",
                    .atLeast(0)),
        ConfigField("train.eval_batches", \.train.evalBatches, doc: "Batches per evaluation.", .atLeast(1)),
        ConfigField("train.token_sample_batches", \.train.tokenSampleBatches,
                    doc: "Evaluation batches whose routing is recorded per token in token_samples (one row per "
                        + "token and layer: B*T*L rows per batch and evaluation, 4,096 for the quickstart); 0 = off. "
                        + "The first batches of each evaluation are taken; at most eval_batches."),
        ConfigField("train.trace_tokens", \.train.traceTokens,
                    doc: "Validation tokens whose routing (expert ids and gates per layer) and loss are recorded "
                        + "in routing_traces at every evaluation: the same tokens each time, drawn once per run "
                        + "from the evaluation batches with train.seed (one row per token and layer: 512 rows per "
                        + "evaluation for the quickstart's 256 tokens and 2 layers); 0 = off. All evaluation tokens "
                        + "when eval_batches * batch_size * seq_len are fewer.", .atLeast(0)),
        ConfigField("train.checkpoint_interval", \.train.checkpointInterval,
                    doc: "Write a checkpoint every this many steps (and at the end); 0 = only at the end.", .atLeast(0)),
        ConfigField("train.variance_interval", \.train.varianceInterval,
                    doc: "Measure activation and gradient variance statistics (table variance_stats) at step 0, "
                        + "before the first update, and every this many steps; 0 = never. Recorded runs only.",
                    .atLeast(0)),
        ConfigField("train.log_interval", \.train.logInterval, doc: "Print a progress line every this many steps.",
                    .atLeast(1)),
        ConfigField("train.telemetry_interval", \.train.telemetryInterval,
                    doc: "Record the gradient-norm ratio R_g and router weight similarity of every layer every "
                        + "this many steps (steps 0, n, 2n, ...); 0 = never.", .atLeast(0)),
        ConfigField("train.threads", \.train.threads, doc: "Worker threads; 0 = all cores.", .atLeast(0)),
        ConfigField("train.grad_accum", \.train.gradAccum,
                    doc: "Micro-batches of batch_size sequences per optimizer step, their gradients averaged: an "
                        + "effective batch of batch_size * grad_accum in the activation memory of batch_size.",
                    .atLeast(1)),
        ConfigField("train.keep_checkpoints", \.train.keepCheckpoints,
                    doc: "Checkpoints kept: the newest this many plus those in pin_checkpoints (older ones are "
                        + "deleted only after a newer one is complete); 0 = keep all.", .atLeast(0)),
        ConfigField("train.pin_checkpoints", \.train.pinCheckpoints,
                    doc: "Steps whose checkpoints keep_checkpoints never deletes, comma-separated (\"100, 400\").",
                    Constraint("a comma-separated list of steps >= 1, e.g. \"100, 400\" (\"\" pins none)") {
                        DataConfig.parseList($0, { Int($0).flatMap { $0 >= 1 ? $0 : nil } }) != nil }),
    ]
}
