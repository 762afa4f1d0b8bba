import LabConfig

/// Stable run names from what differs between a sweep's runs: `pid-z16-s2` is the run with
/// `controller.kind = "pid"`, `model.zero_expert_num = 16`, seed 2.
///
/// A part per varying entry, in file order: the variant's name, then one per grid axis with
/// more than one value, then `s<seed>` when there is more than one seed. Strings appear as
/// themselves (`pid`), numbers after a short tag of their key (`z16`, `a0.001`, `eps1e-16`),
/// booleans as the tag or `no` + tag (`vc`, `novc`). Entries with a single value do not differ
/// and add nothing.
enum RunNaming {
    /// Short tags of the keys sweeps vary most; other keys use their words' initials
    /// (`expert_ffn_hidden_size` -> `efhs`).
    static let tags: [String: String] = [
        "model.zero_expert_num": "z",
        "model.moe_topk": "k",
        "model.n_routed_experts": "n",
        "model.hidden_size": "d",
        "model.num_layers": "l",
        "model.expert_ffn_hidden_size": "f",
        "model.routed_scaling_factor": "sf",
        "model.hidden_z_loss_coef": "zl",
        "model.mtp_loss_coef": "mtp",
        "model.mla_scale_q_lora": "sq",
        "model.mla_scale_kv_lora": "skv",
        "train.seed": "s",
        "train.adam_eps": "eps",
        "train.learning_rate": "lr",
        "train.steps": "steps",
        "train.batch_size": "b",
        "train.seq_len": "t",
        "controller.target_ffn_experts": "ke",
        "controller.kp": "kp",
        "controller.ki": "ki",
        "controller.kd": "kd",
        "controller.gamma": "gamma",
        "controller.update_interval": "every",
        "balance.alpha": "a",
        "balance.groups": "groups",
        "init.fine_grain_factor": "m",
        "init.variance_compensation": "vc",
        "init.std": "std",
    ]

    /// The tag of a key path.
    static func tag(_ key: String) -> String {
        if let t = tags[key] { return t }
        let name = key.split(separator: ".").last.map(String.init) ?? key
        return name.split(separator: "_").compactMap { $0.first.map(String.init) }.joined()
    }

    /// The part a key's value adds to a run name.
    static func part(_ key: String, _ value: TOMLValue) -> String {
        switch value {
        case .string(let s): return sanitized(s)
        case .boolean(let b): return b ? tag(key) : "no" + tag(key)
        case .integer(let i): return tag(key) + String(i)
        case .float(let x): return tag(key) + number(x)
        default: return tag(key) + sanitized(value.description)
        }
    }

    /// `0.001`, `1e-16`, `2` (a float with no fraction loses its `.0`).
    static func number(_ x: Double) -> String {
        var s = x.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s.replacingOccurrences(of: "e+", with: "e")
    }

    /// Keeps letters, digits, `.`, `_`, `-`; anything else becomes `_`.
    static func sanitized(_ s: String) -> String {
        let out = String(s.unicodeScalars.map { u -> Character in
            isNameSafe(String(u)) ? Character(u) : "_"
        })
        return out.isEmpty ? "_" : out
    }

    /// `prefix-part-part`; the prefix alone when nothing varies; `run` when both are empty.
    static func join(prefix: String, parts: [String]) -> String {
        let all = ([prefix] + parts).filter { !$0.isEmpty }
        return all.isEmpty ? "run" : all.joined(separator: "-")
    }
}
