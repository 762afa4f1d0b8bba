import Foundation
import Testing
import LabConfig

/// The `ConfigError` thrown by `body`, recording a test failure when it throws nothing else.
func configError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
    do {
        try body()
        Issue.record("expected a ConfigError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ConfigError {
        return error
    } catch {
        Issue.record("expected a ConfigError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Parses `text` as `test.toml` and returns the syntax error.
func tomlError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
    configError({ _ = try parseTOML(text, file: "test.toml") }, sourceLocation: sourceLocation)
}

/// A fresh empty folder under the temporary directory.
func makeTemporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("labconfig-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `text` to `name` inside `folder` (creating sub-folders) and returns the path.
@discardableResult
func write(_ text: String, to name: String, in folder: URL) throws -> String {
    let url = folder.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// `hiddenSize` -> `hidden_size`: the documented rule from Swift field names to TOML keys.
func snakeCased(_ name: String) -> String {
    name.reduce(into: "") { out, ch in
        if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
    }
}

/// A string value for `path` other than `current`: the next allowed choice for a choice key
/// (any other string would be rejected), `current + suffix` for free text; nil for a choice
/// with one allowed value (`train.optimizer`), which cannot change.
func otherString(_ path: String, _ current: String, suffix: String) -> TOMLValue? {
    guard let choices = LabConfig.fields.first(where: { $0.path == path })?.choices else { return .string(current + suffix) }
    let i = choices.firstIndex(of: current)!
    return choices.count > 1 ? .string(choices[(i + 1) % choices.count]) : nil
}

/// Keys whose value cannot change (a choice with one allowed value).
let fixedKeys = LabConfig.fields.filter { $0.choices?.count == 1 }.map(\.path)
