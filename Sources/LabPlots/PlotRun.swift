import Foundation
import LabRecords

/// A run as the figures see it: its id, name, config and the legend label that tells it apart
/// from the other runs of the same figure.
public struct PlotRun: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var config: RunConfig
    /// The run's distinguishing config keys (`controller.kind=none`), or its name when it has
    /// none or when the figure shows one run.
    public var label: String
    /// Palette index: the run's position on the command line, so a run keeps its colour in
    /// every figure of one invocation.
    public var colour: Int
}

/// The runs named on a command line, loaded from the store, with legend labels.
public struct RunSet: Sendable {
    public var runs: [PlotRun]
    /// Config keys whose values differ between the runs.
    public var differingKeys: [String]
    /// Where the runs came from, for messages.
    public var databasePath: String

    /// Loads `names` from `store`; throws a `PlotError` naming the missing run and listing the
    /// runs the database holds, or when no name is given or a name is repeated.
    public init(names: [String], store: RecordStore) throws {
        guard !names.isEmpty else { throw PlotError("no run given; name one or more runs of \(store.path)") }
        if let twice = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
            throw PlotError("run '\(twice)' is named twice")
        }
        var loaded: [(RunRow, RunConfig)] = []
        for name in names {
            guard let row = try store.run(named: name) else {
                let known = try store.runs().map(\.name)
                let list = known.isEmpty ? "it holds no runs" : "runs: " + known.joined(separator: ", ")
                throw PlotError("no run named '\(name)' in \(store.path); \(list)")
            }
            loaded.append((row, RunConfig(toml: row.configTOML ?? "")))
        }
        let keys = distinguishingKeys(loaded.map(\.1))
        runs = loaded.enumerated().map { i, pair in
            PlotRun(id: pair.0.id, name: pair.0.name, config: pair.1,
                    label: Self.label(name: pair.0.name, config: pair.1, keys: keys, alone: loaded.count == 1),
                    colour: i)
        }
        // Two runs with equal configs (or equal labels) are told apart by name.
        differingKeys = keys
        databasePath = store.path
        let labels = runs.map(\.label)
        for i in runs.indices where labels.filter({ $0 == labels[i] }).count > 1 {
            runs[i].label = runs[i].name + ": " + runs[i].label
        }
    }

    /// At most three `key=value` pairs; more differences fall back to the name plus the first two.
    static func label(name: String, config: RunConfig, keys: [String], alone: Bool) -> String {
        if alone || keys.isEmpty { return name }
        let pairs = keys.map { "\($0)=\(config[$0] ?? "(unset)")" }
        if pairs.count <= 3 { return pairs.joined(separator: ", ") }
        return name + " (" + pairs.prefix(2).joined(separator: ", ") + ", ...)"
    }

    /// A stable folder name for the set: the run name, or `a-vs-b-vs-c` (shortened past 80
    /// characters to the first name, the count and a hash of all names).
    public var folderName: String {
        let joined = runs.map(\.name).joined(separator: "-vs-")
        let safe = Self.fileSafe(joined)
        if safe.count <= 80 { return safe }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in joined.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return Self.fileSafe(runs[0].name).prefix(40) + "-and-\(runs.count - 1)-more-" + String(hash % 0xFFFF_FFFF, radix: 16)
    }

    /// Letters, digits, `-`, `_` and `.` kept; anything else becomes `_`.
    static func fileSafe(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
    }
}
