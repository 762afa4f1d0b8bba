import Foundation

/// Where a configuration value or problem came from, for error messages.
public enum ConfigSource: Sendable, Equatable, CustomStringConvertible {
    /// A TOML file, with the 1-based line when known.
    case file(String, line: Int?)
    /// A `--set key=value` override on the command line.
    case commandLine
    /// The struct default in `Config.swift` (nobody set it).
    case defaultValue

    public var description: String {
        switch self {
        case .file(let name, let line?): return "\(name):\(line)"
        case .file(let name, nil): return name
        case .commandLine: return "--set"
        case .defaultValue: return "default"
        }
    }
}

/// One thing wrong with a configuration: where, which key, and what is allowed instead.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    /// Where the offending text or value came from; `nil` when unknown.
    public var source: ConfigSource?
    /// The dotted key path (`model.moe_topk`), when the problem concerns one key.
    public var keyPath: String?
    /// A sentence naming the key, the bad value and the allowed values or range.
    public var message: String

    public init(source: ConfigSource? = nil, keyPath: String? = nil, _ message: String) {
        self.source = source
        self.keyPath = keyPath
        self.message = message
    }

    /// `file:line: message`, `message (from --set)` or `message (default value)`.
    public var description: String {
        switch source {
        case .file?: return "\(source!): \(message)"
        case .commandLine?: return "\(message) (from --set)"
        case .defaultValue?: return "\(message) (default value)"
        case nil: return message
        }
    }
}

/// A configuration that cannot be read, decoded or used; lists every problem found, one per line.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// At least one problem; syntax errors stop at the first, decoding and validation collect all.
    public var problems: [ConfigProblem]

    public init(_ problems: [ConfigProblem]) {
        precondition(!problems.isEmpty, "a ConfigError needs at least one problem")
        self.problems = problems
    }

    public init(source: ConfigSource? = nil, keyPath: String? = nil, _ message: String) {
        self.init([ConfigProblem(source: source, keyPath: keyPath, message)])
    }

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }

    public var errorDescription: String? { description }
}
