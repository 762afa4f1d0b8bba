import Foundation
import LabConfig

/// A lab config read from either a plain config file or a sweep file, for the commands that
/// take one config (`train`, `params`, `bench`).
///
/// A sweep file (one with a `[sweep]` or `[variants.NAME]` table) stands for its base config:
/// the file's config tables with the `--set` overrides, no grid value, no variant and no seed
/// list applied. So `longcat-lab train experiments/ladder/r1-d64-l2.toml --set train.steps=20`
/// trains the rung's model on its data without the sweep machinery.
public struct ConfigOrSweep: Sendable {
    public let config: LabConfig
    /// The sweep file's name stem and its number of runs when the file is a sweep; nil for a
    /// plain config.
    public let sweep: (stem: String, runs: Int)?

    /// Reads `path`. Errors name the file, line and key as `LabConfig.load` and
    /// `SweepFile.load` do.
    public static func load(path: String, overrides: [String] = []) throws -> ConfigOrSweep {
        guard isSweepFile(path: path) else {
            return ConfigOrSweep(config: try LabConfig.load(path: path, overrides: overrides), sweep: nil)
        }
        let file = try SweepFile.load(path: path, overrides: overrides)
        return ConfigOrSweep(config: file.base, sweep: (file.stem, try file.expand().count))
    }

    /// The note a command prints when it was given a sweep file, or nil.
    public var note: String? {
        sweep.map { "\($0.stem) is a sweep file of \($0.runs) runs: using its base config "
            + "(no variant, grid value or seed list applied; `longcat-lab sweep` runs them all)" }
    }

    /// Whether the file at `path` has a top-level `[sweep]` or `[variants...]` table header.
    /// False for unreadable files (the config loader then reports them).
    static func isSweepFile(path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        return text.split(separator: "\n").contains { line in
            SweepFile.tableHeaderFirstKey(line).map(SweepFile.sweepTables.contains) ?? false
        }
    }
}
