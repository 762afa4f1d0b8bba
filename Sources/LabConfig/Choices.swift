/// The string choices of the config, one enum each: the raw value is the TOML string, the
/// cases in declaration order are what validation lists ("one of ...") and what the model,
/// trainer and data code switch over exhaustively.
///
/// Adding a choice is adding a case here (and handling it where the compiler then asks).
public protocol ConfigChoice: RawRepresentable, CaseIterable, Sendable, Hashable
where RawValue == String {}

/// `model.layout`: where the MoE reads its input from (LONGCAT.md section 1).
public enum MoELayout: String, ConfigChoice {
    /// LongCat's shortcut layout: the MoE reads the first block's FFN input.
    case scmoe
    /// The MoE sits beside the second FFN (a plain MoE layer).
    case sequential
}

/// `model.zero_expert_type`: what a zero-computation expert computes.
public enum ZeroExpertType: String, ConfigChoice {
    /// LongCat: the input times its gate.
    case identity
    /// Outputs 0 (MoE++'s zero expert); `drop` is the same computation under its other name.
    case zero, drop
    /// MoE++: a1*u + a2*v with [a1, a2] = softmax(W_c u), v trainable.
    case constant
}

/// `controller.kind`: the expert-bias rule (LONGCAT.md section 4).
public enum ControllerKind: String, ConfigChoice {
    /// Positional PID on the FFN experts' share error; the paper's rule is kp = 0, ki = mu, kd = 0.
    case pid
    /// Loss-free balancing: b_i += gamma * sign(mean load - load_i) over all E experts.
    case sign
    /// Bias fixed at 0.
    case none
}

/// `controller.gain_schedule`: how the controller's gains decay over training.
public enum GainSchedule: String, ConfigChoice {
    case constant, linear, cosine
}

/// `train.schedule`: the learning-rate schedule after the linear warm-up.
public enum TrainSchedule: String, ConfigChoice {
    /// Cosine decay to `min_lr_ratio` times the peak.
    case cosine
    /// Flat at the peak.
    case constant
}

/// `train.optimizer`.
public enum OptimizerKind: String, ConfigChoice {
    case adamw
}

/// `data.corpus`: what to train on.
public enum CorpusKind: String, ConfigChoice {
    /// The repository's copy of Tiny Shakespeare.
    case tinyshakespeare
    /// Any UTF-8 file, `data.path`.
    case text
    /// A generator of `data.synthetic`.
    case synthetic
    /// The King James Bible of Debian's optional `bible-kjv` package, extracted into `data.cache_dir`.
    case kjv
    /// C, Python, the Bible, Shakespeare and the Python docs, by document, from Debian packages.
    case mix
}

/// `data.synthetic`: the synthetic corpus generator (LabData's `SyntheticCorpora`).
public enum SyntheticKind: String, ConfigChoice {
    case copy, mixture, arithmetic, structured, suite
}

/// `data.tokenizer`.
public enum TokenizerKind: String, ConfigChoice {
    /// A token is a byte (`model.vocab_size` 256).
    case byte
    /// Byte-pair encoding of `model.vocab_size` tokens, trained on the train split.
    case bpe
}

extension ConfigChoice {
    /// `"a", "b", "c"`: the allowed values as TOML strings, for messages.
    static var quotedList: String { allCases.map { tomlQuoted($0.rawValue) }.joined(separator: ", ") }
}

/// `routing.mode`: how a token's K slots are split between FFN and zero experts. Every mode
/// routes over the same softmax over N+Z (the controls differ only in which experts may win).
public enum RoutingMode: String, ConfigChoice {
    /// LongCat: the K best biased scores over all N+Z experts; the split adapts per token.
    case adaptive
    /// Exactly K_e = `controller.target_ffn_experts` FFN experts and K - K_e zero experts per
    /// token, each the best biased scores within its kind: the same architecture, no adaptivity.
    case fixedSplit = "fixed_split"
    /// Exactly K FFN experts per token; the zero experts stay in the softmax (diluting the gates)
    /// but are never chosen: separates gate dilution from the zero experts' output.
    case noZeroSelection = "no_zero_selection"
}

/// `init.variance_compensation_scope`: which part of the MoE output gamma multiplies.
public enum CompensationScope: String, ConfigChoice {
    /// The whole MoE output, zero experts' identity term included (the paper; transformers).
    case all
    /// The FFN experts' part only; the zero-expert term keeps gate s * p.
    case routed
}
