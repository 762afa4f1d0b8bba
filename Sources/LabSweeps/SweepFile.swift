import Foundation
import LabConfig

/// A sweep file: a normal lab config (tables `model`, `train`, ...; `base = "..."` allowed) plus
/// a `[sweep]` table naming the grid and, optionally, `[variants.NAME]` tables of overrides.
///
/// ```toml
/// [sweep]
/// "controller.kind" = ["none", "sign", "pid"]   # one grid axis: a config key and its values
/// "balance.alpha" = [0.0, 0.01]
/// seeds = [1, 2, 3]                             # train.seed, innermost
/// prefix = "ctl"                                # run names start with this (default: file stem)
///
/// [variants.narrow]                             # named overrides, crossed with the grid
/// "model.expert_ffn_hidden_size" = 16
///
/// [variants.topk]
/// derive = "equal-compute-baseline"             # computed settings (see EqualComputeBaseline)
/// ```
///
/// Order of application: the file's config and `--set`, then the variant's settings, the grid
/// values, the derivation, the seed. A key may be set in one of those places only (a second
/// place is a conflict, rejected naming both); names come from `RunNaming`.
///
/// Grid keys may be quoted dotted paths or plain dotted TOML keys (`controller.kind = [...]`):
/// both name the key path `controller.kind`, checked against `LabConfig.keyPaths` with the
/// same messages as `--set`.
public struct SweepFile: Sendable {
    /// The sweep file as given.
    public let path: String
    /// The file name without its extension; names the sweep's folder `<results>/sweeps/<stem>`.
    public let stem: String
    /// Run names start with this (`[sweep] prefix`, default `stem`).
    public let prefix: String
    /// The config the file describes without its sweep tables, `--set` overrides applied, validated.
    public let base: LabConfig
    /// `--set key=value` overrides as given (re-applied by child processes and Slurm tasks).
    public let overrides: [String]
    /// Grid axes in file order; the first varies slowest.
    public let axes: [SweepAxis]
    /// `train.seed` values, innermost; nil when `seeds` is absent (every run keeps the base seed).
    public let seeds: [Int]?
    /// Named variants in file order; empty when the file has none.
    public let variants: [SweepVariant]

    /// Reads and checks the sweep file at `path` with `--set` `overrides`. Throws a
    /// `ConfigError` naming the file, line and offending entry for an unknown key, an empty or
    /// malformed grid, or conflicting settings, before anything runs.
    public static func load(path: String, overrides: [String] = []) throws -> SweepFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let why = FileManager.default.fileExists(atPath: path) ? "not readable as UTF-8 text" : "no such file"
            throw ConfigError(source: .file(path, line: nil), "cannot read sweep file \(path) (\(why))")
        }
        return try parse(text: text, file: path, overrides: overrides)
    }

    /// As `load`, from text already read; `file` names it in messages and anchors `base`.
    public static func parse(text: String, file: String, overrides: [String] = []) throws -> SweepFile {
        let document = try parseTOML(text, file: file)
        let configText = try configPart(of: text, document: document, file: file)
        let base = try LabConfig.parse(text: configText, file: file, overrides: overrides)
        let reader = SweepTableReader(file: file, document: document)
        let sweep = try reader.readSweep()
        let variants = try reader.readVariants()
        let stem = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let prefix = sweep.prefix ?? stem
        let spec = SweepFile(path: file, stem: stem, prefix: prefix, base: base, overrides: overrides,
                             axes: sweep.axes, seeds: sweep.seeds, variants: variants)
        try spec.checkConflicts()
        return spec
    }

    /// The file's text with the `[sweep]` and `[variants...]` tables blanked out line by line, so
    /// that LabConfig reads the rest and reports problems at the right line numbers.
    static func configPart(of text: String, document: TOMLTable, file: String) throws -> String {
        var inSweep = false
        var lines: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = tableHeaderFirstKey(line) { inSweep = sweepTables.contains(first) }
            lines.append(inSweep ? "" : line)
        }
        let remainder = lines.joined(separator: "\n")
        // Check that exactly the sweep tables went: inline or dotted forms (`sweep = {...}`,
        // `sweep.seeds = [...]` at the top) cannot be split off by lines.
        let rest = try parseTOML(remainder, file: file)
        let expected = document.keys.filter { !sweepTables.contains($0) }
        guard rest.keys.filter({ !sweepTables.contains($0) }) == expected,
              expected.allSatisfy({ rest[$0] == document[$0] }),
              !sweepTables.contains(where: { rest[$0] != nil }) else {
            let line = sweepTables.compactMap { document.line(of: $0) }.min()
            throw ConfigError(source: .file(file, line: line),
                              "write the sweep as table headers ([sweep], [variants.NAME]) on lines of their own, not as inline or dotted keys")
        }
        return remainder
    }

    /// Top-level tables that belong to the sweep, not to the config.
    static let sweepTables = ["sweep", "variants"]

    /// The first key of a `[table]` header line (`[variants.a]` -> `variants`), or nil.
    static func tableHeaderFirstKey(_ line: Substring) -> String? {
        var s = line.drop(while: { $0 == " " || $0 == "\t" })
        guard s.hasPrefix("["), !s.hasPrefix("[[") else { return nil }
        s = s.dropFirst()
        guard let close = s.firstIndex(of: "]") else { return nil }
        let after = s[s.index(after: close)...].trimmingCharacters(in: .whitespaces)
        guard after.isEmpty || after.hasPrefix("#") else { return nil }
        let inside = s[..<close].trimmingCharacters(in: .whitespaces)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_-.\"' "))
        guard !inside.isEmpty, inside.unicodeScalars.allSatisfy(allowed.contains) else { return nil }
        var first = inside
        if let q = first.first, q == "\"" || q == "'" {
            let body = first.dropFirst()
            first = String(body.prefix(while: { $0 != q }))
        } else {
            first = String(first.prefix(while: { $0 != "." })).trimmingCharacters(in: .whitespaces)
        }
        return first
    }
}

/// One grid axis: a config key path and the values it takes, in file order.
public struct SweepAxis: Sendable, Equatable {
    /// Dotted key path, e.g. `controller.kind`.
    public let key: String
    public let values: [TOMLValue]
    /// Line in the sweep file.
    public let line: Int?
}

/// A named set of overrides crossed with the grid.
public struct SweepVariant: Sendable, Equatable {
    public let name: String
    /// Key path and value, in file order.
    public let settings: [SweepSetting]
    /// A computed change applied after the settings and the grid (`derive = "..."`).
    public let derivation: Derivation?
    /// Line of the `[variants.NAME]` header.
    public let line: Int?

    /// Settings computed from the rest of the run's config.
    public enum Derivation: String, Sendable, CaseIterable {
        /// `EqualComputeBaseline`: zero experts removed, top-k set to match mean activated parameters.
        case equalComputeBaseline = "equal-compute-baseline"
    }
}

/// One `key = value` of a variant.
public struct SweepSetting: Sendable, Equatable {
    public let key: String
    public let value: TOMLValue
    public let line: Int?
}
