import Foundation

/// The lab's configuration: one struct per TOML table, field names as in the reference
/// checkpoint's `config.json` (snake_case in TOML, camelCase here). Defaults are the lab's
/// small quickstart-sized model; presets in `experiments/` hold only what differs.
/// The TOML key of every field is listed in `ConfigKeys.swift`; `LabConfig.load` reads files,
/// `validate` states the allowed ranges.
///
/// Dimension letters used in comments: D model width, H heads, N routed experts,
/// Z zero experts, K top-k slots, F expert hidden, V vocabulary.
public struct LabConfig: Sendable, Equatable {
    public var model = ModelConfig()
    public var train = TrainConfig()
    public var data = DataConfig()
    public var initialization = InitConfig()   // TOML table `[init]`
    public var controller = ControllerConfig()
    public var balance = BalanceConfig()
    public init() {}
}

/// `[model]`: the architecture (LONGCAT.md sections 1-3, 6, 7).
public struct ModelConfig: Sendable, Equatable {
    /// V: byte-level tokens by default.
    public var vocabSize = 256
    /// D.
    public var hiddenSize = 128
    /// L: ScMoE layers, each with two MLA blocks, two dense FFNs and one MoE.
    public var numLayers = 2
    /// H.
    public var numAttentionHeads = 4
    /// rq: query latent rank.
    public var qLoraRank = 64
    /// rkv: key/value latent rank.
    public var kvLoraRank = 32
    /// dn: per-head query/key dimension without rotary embedding.
    public var qkNopeHeadDim = 16
    /// dr: per-head rotary dimension (even); the rope key is shared by all heads.
    public var qkRopeHeadDim = 8
    /// dv: per-head value dimension.
    public var vHeadDim = 16
    /// Hidden size of the two dense SwiGLU FFNs of each layer.
    public var ffnHiddenSize = 256
    /// F: hidden size of each routed expert.
    public var expertFfnHiddenSize = 32
    /// N.
    public var nRoutedExperts = 16
    /// Z: zero-computation experts (0 gives a plain top-k MoE).
    public var zeroExpertNum = 8
    /// What a zero expert computes: "identity" (LongCat), "zero"/"drop" (outputs 0) or
    /// "constant" (MoE++: a1*u + a2*v with [a1,a2] = softmax(W_c u), v trainable).
    public var zeroExpertType = "identity"
    /// K: routing slots per token, FFN and zero experts together.
    public var moeTopk = 4
    /// s: multiplies every gate (zero experts' too).
    public var routedScalingFactor = 1.0
    /// MLA scale calibration: alpha_q = sqrt(D/rq) on the normalised query latent.
    public var mlaScaleQLora = true
    /// MLA scale calibration: alpha_kv = sqrt(D/rkv) on the normalised key/value latent.
    public var mlaScaleKvLora = true
    /// eps of the layer and final RMSNorms (the two MLA latent norms use 1e-6).
    public var rmsNormEps = 1e-5
    /// RoPE base; the release uses 1e7, short contexts train better with 1e4 (our choice).
    public var ropeTheta = 10_000.0
    /// "scmoe" (LongCat's shortcut layout) or "sequential" (MoE beside the second FFN).
    public var layout = "scmoe"
    /// Multi-token prediction head (one dense MLA+FFN layer predicting token t+2); 0 = off.
    public var mtpLossCoef = 0.0
    /// Hidden z-loss coefficient lambda on the last layer's output; 0 = off.
    public var hiddenZLossCoef = 0.0
    public init() {}
}

/// `[train]`: optimisation and schedule.
public struct TrainConfig: Sendable, Equatable {
    public var steps = 300
    /// Sequences per step.
    public var batchSize = 8
    /// Tokens per sequence.
    public var seqLen = 128
    /// "adamw".
    public var optimizer = "adamw"
    public var learningRate = 3e-3
    /// Final learning rate as a fraction of `learning_rate` for the cosine schedule.
    public var minLrRatio = 0.1
    /// "cosine" (linear warm-up, then cosine decay) or "constant" (warm-up, then flat).
    public var schedule = "cosine"
    public var warmupSteps = 30
    public var beta1 = 0.9
    public var beta2 = 0.95
    /// Adam epsilon; LongCat used 1e-16 (LONGCAT.md section 7).
    public var adamEps = 1e-16
    /// Decoupled weight decay, applied to matrices only.
    public var weightDecay = 0.1
    /// Global gradient-norm clip; 0 = off.
    public var gradClip = 1.0
    public var seed = 1
    /// Evaluate on held-out data every this many steps (and at the end); 0 = only at the end.
    public var evalInterval = 100
    /// Batches per evaluation.
    public var evalBatches = 4
    /// Evaluation batches whose routing is recorded per token in `token_samples` (one row per
    /// token and layer: B*T*L rows per batch and evaluation, 4,096 for the quickstart); 0 = off.
    /// The first batches of each evaluation are taken; at most `eval_batches`.
    public var tokenSampleBatches = 1
    /// Write a checkpoint every this many steps (and at the end); 0 = only at the end.
    public var checkpointInterval = 100
    /// Measure activation and gradient variance statistics (table `variance_stats`) at step 0,
    /// before the first update, and every this many steps; 0 = never. Recorded runs only.
    public var varianceInterval = 100
    /// Print a progress line every this many steps.
    public var logInterval = 10
    /// Record the gradient-norm ratio R_g and router weight similarity of every layer every
    /// this many steps (steps 0, n, 2n, ...); 0 = never.
    public var telemetryInterval = 10
    /// Worker threads; 0 = all cores.
    public var threads = 0
    /// Micro-batches of `batch_size` sequences per optimizer step, their gradients averaged:
    /// an effective batch of batch_size * grad_accum in the activation memory of batch_size.
    public var gradAccum = 1
    /// Checkpoints kept: the newest this many plus those in `pin_checkpoints`; 0 = keep all.
    public var keepCheckpoints = 0
    /// Steps whose checkpoints `keep_checkpoints` never deletes, comma-separated ("100, 400").
    public var pinCheckpoints = ""
    public init() {}

    /// The steps of `pin_checkpoints`; nil when it is not a comma-separated list of integers >= 1.
    public var pinnedCheckpointSteps: [Int] {
        DataConfig.parseList(pinCheckpoints) { Int($0).flatMap { $0 >= 1 ? $0 : nil } } ?? []
    }
}

/// `[data]`: what to train on.
public struct DataConfig: Sendable, Equatable {
    /// "tinyshakespeare" (the repo copy), "text" (any UTF-8 file, see `path`), "synthetic",
    /// "kjv" (the King James Bible of Debian's optional `bible-kjv` package, extracted once into
    /// `cache_dir`), or "mix" (C, Python, the Bible, Shakespeare and the Python docs, by
    /// document, from Debian packages the setup installs with LONGCAT_OPTIONAL=1).
    public var corpus = "tinyshakespeare"
    /// File for `corpus = "text"`.
    public var path = ""
    /// Fraction of the corpus held out for validation (the last part).
    public var validationFraction = 0.1
    /// Synthetic corpus: generator name and size in bytes.
    public var synthetic = "mixture"
    public var syntheticBytes = 1_000_000
    /// Symbols of context of the mixture's Markov segments: 1 is a bigram table; n is a table
    /// of 8^n rows, which takes attention and capacity to learn (1...4).
    public var markovOrder = 1
    /// "byte" (a token is a byte, model.vocab_size 256) or "bpe": a byte-pair-encoding
    /// tokenizer of model.vocab_size tokens (257...65536), trained on the train split and saved
    /// with the run as tokenizer.json.
    public var tokenizer = "byte"
    /// Folder for corpora extracted from other programs (the King James Bible text) and for
    /// the mix corpus's extracted text, tokenizer and token ids.
    public var cacheDir = "results/cache"
    /// Mix corpus: sampling weight of each domain's training windows, "c:0.4, python:0.2, ...";
    /// domains left out get weight 0; "" weighs each domain by its share of the train tokens.
    public var domainWeights = ""
    /// Mix corpus: bytes of Linux C source taken from linux-source-6.1 (0 leaves C out).
    public var cBytes = 200_000_000
    /// Mix corpus with data.tokenizer = "bpe": bytes of the train split the tokenizer learns from.
    public var bpeSampleBytes = 16_000_000
    public init() {}

    /// The mix corpus's domains, in corpus order.
    public static let mixDomains = ["c", "python", "bible", "shakespeare", "docs"]

    /// `domain_weights` as (domain, weight) pairs; nil when malformed (an unknown domain, a
    /// repeated one, a negative or non-finite weight, or all weights zero). Empty for "".
    public var parsedDomainWeights: [(String, Double)]? {
        guard let pairs: [(String, Double)] = DataConfig.parseList(domainWeights, { item in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let w = Double(parts[1].trimmingCharacters(in: .whitespaces)),
                  w.isFinite, w >= 0 else { return nil }
            return (parts[0].trimmingCharacters(in: .whitespaces), w)
        }) else { return nil }
        let names = pairs.map(\.0)
        guard names.allSatisfy(DataConfig.mixDomains.contains), Set(names).count == names.count,
              pairs.isEmpty || pairs.contains(where: { $0.1 > 0 }) else { return nil }
        return pairs
    }

    /// The items of a comma-separated list through `parse`; nil when any item fails. "" is [].
    public static func parseList<T>(_ text: String, _ parse: (String) -> T?) -> [T]? {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if items.allSatisfy(\.isEmpty) { return [] }
        var out: [T] = []
        for item in items { guard let v = parse(item) else { return nil }; out.append(v) }
        return out
    }
}

/// `[init]`: initialisation and variance compensation (LONGCAT.md section 6).
public struct InitConfig: Sendable, Equatable {
    /// Standard deviation of every weight matrix except the embedding.
    public var std = 0.02
    /// Standard deviation of the token embedding.
    public var embeddingStd = 1.0
    /// Multiply the MoE output by gamma = m (the fine-grain factor).
    public var varianceCompensation = false
    /// m: how many finer experts one reference expert was split into.
    public var fineGrainFactor = 1
    public init() {}
}

/// `[controller]`: the expert-bias controller (LONGCAT.md section 4).
public struct ControllerConfig: Sendable, Equatable {
    /// "pid" (the paper's rule is kp = 0, ki = mu, kd = 0), "sign" (loss-free balancing) or "none".
    public var kind = "none"
    /// K_e: target mean number of FFN experts per token; 0 < K_e <= K. 0 means K (no zero slots).
    public var targetFfnExperts = 0.0
    public var kp = 0.0
    public var ki = 1e-3
    public var kd = 0.0
    /// Step size of the sign controller.
    public var gamma = 1e-3
    /// "constant", "linear" or "cosine" decay of the gains over training.
    public var gainSchedule = "constant"
    /// Final gain as a fraction of the initial one, for decaying schedules.
    public var gainFinalRatio = 0.1
    /// Update every this many steps (loads accumulated in between).
    public var updateInterval = 1
    /// Clamp of the integral term (|I| <= this); 0 = no clamp.
    public var integralClamp = 0.0
    /// pid only: multiplies the gains on the budget part of the error (its mean over the FFN
    /// experts, which sets how many FFN experts a token gets) while the per-expert differences
    /// (the balance part) keep the plain gains. 1 is the paper's rule exactly.
    public var budgetGainRatio = 1.0
    public init() {}
}

/// `[balance]`: device-level load-balance loss (LONGCAT.md section 5).
public struct BalanceConfig: Sendable, Equatable {
    /// alpha; 0 = off.
    public var alpha = 0.0
    /// D: expert-parallel groups; must divide N.
    public var groups = 1
    public init() {}
}
