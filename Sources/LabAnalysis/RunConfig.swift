import Foundation

/// A run's resolved config read back from `runs.config_toml`, as ordered `table.key` -> value
/// text, without LabConfig: analyses and plots read the store and nothing else.
///
/// The resolved TOML the trainer writes is flat: `[table]` header lines and `key = value` lines
/// (strings quoted, numbers in Swift's shortest form). Comments and blank lines are skipped;
/// string values lose their quotes so that `controller.kind` reads `pid`, not `"pid"`.
public struct RunConfig: Sendable, Equatable {
    /// `table.key` in file order.
    public private(set) var keys: [String] = []
    private var values: [String: String] = [:]

    public init(toml: String) {
        var table = ""
        for raw in toml.split(whereSeparator: \.isNewline) {
            let line = Self.stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                table = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            let key = table.isEmpty ? name : "\(table).\(name)"
            if values[key] == nil { keys.append(key) }
            values[key] = value
        }
    }

    /// The value text of `table.key`, or nil when the config does not hold it.
    public subscript(key: String) -> String? { values[key] }

    /// The value of `table.key` as a number, or nil.
    public func number(_ key: String) -> Double? { values[key].flatMap { Double($0) } }

    /// K: routing slots per token (`model.moe_topk`).
    public var topK: Int? { number("model.moe_topk").map { Int($0) } }

    /// MoE layers (`model.num_layers`).
    public var layers: Int? { number("model.num_layers").map { Int($0) } }

    /// Routed (FFN) experts N (`model.n_routed_experts`).
    public var routedExperts: Int? { number("model.n_routed_experts").map { Int($0) } }

    /// K_e, the controller's target of FFN experts per token and layer:
    /// `controller.target_ffn_experts`, where 0 means "all K slots" (`model.moe_topk`).
    public var targetFFNExperts: Double? {
        guard let target = number("controller.target_ffn_experts") else { return nil }
        return target > 0 ? target : topK.map(Double.init)
    }

    /// The controller kind (`pid`, `sign`, `none`), for titles.
    public var controllerKind: String? { values["controller.kind"] }

    /// Z: zero experts per layer (`model.zero_expert_num`); 0 when the key is absent.
    public var zeroExperts: Int { number("model.zero_expert_num").map { Int($0) } ?? 0 }

    /// The run's seed (`train.seed`).
    public var seed: Int? { number("train.seed").map { Int($0) } }

    /// Whether a controller moves the routing biases (`controller.kind` set and not `none`).
    public var controllerIsOn: Bool { controllerKind.map { $0 != "none" } ?? false }

    /// Drops a `#` comment that is not inside a quoted string.
    private static func stripComment(_ line: String) -> String {
        var quoted = false
        for (i, c) in zip(line.indices, line) {
            if c == "\"" { quoted.toggle() }
            if c == "#" && !quoted { return String(line[..<i]) }
        }
        return line
    }
}

/// The keys whose values differ between any two of `configs` (a key missing from one config
/// counts as different), in the first config's key order, then any others in order found.
public func distinguishingKeys(_ configs: [RunConfig]) -> [String] {
    guard configs.count > 1 else { return [] }
    var order: [String] = []
    var seen: Set<String> = []
    for c in configs { for k in c.keys where seen.insert(k).inserted { order.append(k) } }
    return order.filter { key in Set(configs.map { $0[key] ?? "(unset)" }).count > 1 }
}
