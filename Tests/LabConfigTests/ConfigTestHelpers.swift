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
