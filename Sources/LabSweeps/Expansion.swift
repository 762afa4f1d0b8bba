import LabConfig

/// One run of an expanded sweep: its stable name, its resolved config and why it differs.
public struct SweepRun: Sendable, Equatable {
    /// Position in the expansion (also the Slurm array index).
    public let index: Int
    /// Unique in the sweep; stable for a given file and `--set` overrides.
    public let name: String
    /// The name without the seed part: runs that differ only by seed share it.
    public let group: String
    /// The variant, or nil when the file has none.
    public let variant: String?
    /// The run's config (train.threads as in the file; the runner sets it).
    public let config: LabConfig
    /// What the sweep set for this run, in order: `variants.NAME`, `key = value` per grid
    /// axis, `seed N`.
    public let assignments: [String]
    /// Notes computed while expanding (e.g. the equal-compute baseline's residual).
    public let notes: [String]

    public static func == (a: SweepRun, b: SweepRun) -> Bool {
        a.index == b.index && a.name == b.name && a.group == b.group && a.variant == b.variant
            && a.config == b.config && a.assignments == b.assignments && a.notes == b.notes
    }
}

extension SweepFile {
    /// Every run: variants (file order) x grid (first axis slowest) x seeds (innermost).
    /// Throws a `ConfigError` naming the run and its entries when a combination is not a valid
    /// config, when two runs would share a name, or when two runs would be identical.
    public func expand() throws -> [SweepRun] {
        let combos = axes.reduce([[TOMLValue]]([[]])) { partial, axis in
            partial.flatMap { prefix in axis.values.map { prefix + [$0] } }
        }
        let seedList: [Int?] = seeds.map { $0.map(Optional.some) } ?? [nil]
        let variantList: [SweepVariant?] = variants.isEmpty ? [nil] : variants
        var runs: [SweepRun] = []
        for variant in variantList {
            for combo in combos {
                for seed in seedList {
                    runs.append(try makeRun(index: runs.count, variant: variant, combo: combo, seed: seed))
                }
            }
        }
        try checkDistinct(runs)
        return runs
    }

    private func makeRun(index: Int, variant: SweepVariant?, combo: [TOMLValue], seed: Int?) throws -> SweepRun {
        var config = base
        var parts: [String] = []
        var described: [String] = []
        if let variant {
            parts.append(variant.name)
            described.append("variants.\(variant.name)")
            for s in variant.settings { try config.set(s.key, s.value) }
        }
        for (axis, value) in zip(axes, combo) {
            try config.set(axis.key, value)
            if axis.values.count > 1 { parts.append(RunNaming.part(axis.key, value)) }
            described.append("\(axis.key) = \(value)")
        }
        let group = RunNaming.join(prefix: prefix, parts: parts)
        if let seed {
            config.train.seed = seed
            if seeds!.count > 1 { parts.append("s\(seed)") }
            described.append("seed \(seed)")
        }
        let name = RunNaming.join(prefix: prefix, parts: parts)
        let what = "run \(name) (" + described.joined(separator: ", ") + ")"
        var notes: [String] = []
        if let derivation = variant?.derivation {
            switch derivation {
            case .equalComputeBaseline:
                do {
                    let derived = try EqualComputeBaseline(of: config)
                    config = derived.baseline
                    notes.append(derived.summary)
                } catch let error as ConfigError {
                    throw reword(error, what, line: variant?.line)
                }
            }
        }
        do {
            try validate(config)
        } catch let error as ConfigError {
            throw reword(error, what, line: variant?.line ?? axes.first?.line)
        }
        return SweepRun(index: index, name: name, group: group, variant: variant?.name, config: config,
                        assignments: described, notes: notes)
    }

    /// The same problems, each prefixed with the run that has them and placed in the sweep file.
    private func reword(_ error: ConfigError, _ what: String, line: Int?) -> ConfigError {
        ConfigError(error.problems.map { p in
            ConfigProblem(source: .file(path, line: line), keyPath: p.keyPath, "\(what): \(p.message)")
        })
    }

    private func checkDistinct(_ runs: [SweepRun]) throws {
        var byName: [String: SweepRun] = [:]
        var byConfig: [String: SweepRun] = [:]
        for run in runs {
            if let other = byName[run.name] {
                throw ConfigError(source: .file(path, line: nil), "runs \(other.index) and \(run.index) would both be named \(run.name); give the variants or values distinct names")
            }
            byName[run.name] = run
            let hash = run.config.configHash
            if let other = byConfig[hash], other.config == run.config {
                throw ConfigError(source: .file(path, line: nil), "runs \(other.name) and \(run.name) have identical configs; remove one of the entries that produce them")
            }
            byConfig[hash] = run
        }
    }
}
