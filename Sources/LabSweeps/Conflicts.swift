import LabConfig

/// Settings that contradict each other: rejected before anything runs, naming both places.
extension SweepFile {
    /// Throws a `ConfigError` for the first pair of entries that set the same key (grid and
    /// variant, grid or variant and `--set`, `seeds` and `train.seed`), or a derivation whose
    /// keys are set explicitly.
    func checkConflicts() throws {
        let axisKeys = Dictionary(axes.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        func fail(_ line: Int?, _ key: String, _ message: String) -> ConfigError {
            ConfigError(source: .file(path, line: line), keyPath: key, message)
        }
        if seeds != nil, let axis = axisKeys["train.seed"] {
            throw fail(axis.line, "train.seed", "[sweep] varies \"train.seed\" and also gives seeds = [...]; use one of them")
        }
        for variant in variants {
            for s in variant.settings {
                if let axis = axisKeys[s.key] {
                    throw fail(s.line, s.key, "variants.\(variant.name) sets \(s.key), which [sweep] also varies (line \(axis.line ?? 0)); remove one")
                }
                if s.key == "train.seed", seeds != nil {
                    throw fail(s.line, s.key, "variants.\(variant.name) sets train.seed while [sweep] gives seeds = [...]; remove one")
                }
                if s.key == "train.threads" {
                    throw fail(s.line, s.key, "variants.\(variant.name): train.threads is set by the sweep (--threads, split over --jobs); remove it")
                }
            }
            if let d = variant.derivation {
                for key in d.derivedKeys {
                    if let s = variant.settings.first(where: { $0.key == key }) {
                        throw fail(s.line, key, "variants.\(variant.name) sets \(key), which derive = \"\(d.rawValue)\" computes; remove one")
                    }
                    if let axis = axisKeys[key] {
                        throw fail(axis.line, key, "[sweep] varies \(key), which variants.\(variant.name) computes with derive = \"\(d.rawValue)\"; remove one")
                    }
                }
            }
        }
        for text in overrides {
            let key = String(text.prefix(while: { $0 != "=" })).trimmingCharacters(in: .whitespaces)
            if let axis = axisKeys[key] {
                throw ConfigError(source: .commandLine, keyPath: key, "--set \(text): [sweep] varies \(key) (\(path):\(axis.line ?? 0)); change the grid in the file instead")
            }
            if key == "train.seed", seeds != nil {
                throw ConfigError(source: .commandLine, keyPath: key, "--set \(text): [sweep] gives seeds = [...] (\(path)); change them in the file instead")
            }
            for variant in variants {
                if variant.settings.contains(where: { $0.key == key }) || (variant.derivation?.derivedKeys.contains(key) ?? false) {
                    throw ConfigError(source: .commandLine, keyPath: key, "--set \(text): variants.\(variant.name) sets \(key) (\(path):\(variant.line ?? 0)); change the variant in the file instead")
                }
            }
        }
    }
}

extension SweepVariant.Derivation {
    /// The config keys the derivation writes.
    var derivedKeys: [String] {
        switch self {
        case .equalComputeBaseline: return EqualComputeBaseline.derivedKeys
        }
    }
}
