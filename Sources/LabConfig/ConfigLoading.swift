import Foundation

/// Loading a config: base files, the file itself, `--set` overrides, then validation.
public extension LabConfig {
    /// Reads the TOML file at `path` (after its `base` chain), applies `overrides`
    /// (`"model.moe_topk=6"`) and validates the result. Throws a `ConfigError` listing every
    /// problem with its file:line (or `--set`) and key path.
    static func load(path: String, overrides: [String] = []) throws -> LabConfig {
        var loader = ConfigLoader()
        try loader.applyFile(path, includedFrom: nil, chain: [])
        return try loader.finish(overrides: overrides)
    }

    /// As `load`, from text already read; `file` names it in messages and anchors a relative
    /// `base` path.
    static func parse(text: String, file: String, overrides: [String]) throws -> LabConfig {
        var loader = ConfigLoader()
        try loader.applyText(text, file: file, chain: [ConfigLoader.Link(file)])
        return try loader.finish(overrides: overrides)
    }
}

/// Accumulates a config over base files and overrides, remembering where each key was set.
struct ConfigLoader {
    /// A file on the base chain: its real path (for cycle detection) and the name shown.
    struct Link {
        let canonical: String
        let shown: String
        init(_ path: String) {
            canonical = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            shown = path
        }
    }

    var config = LabConfig()
    /// Key path -> where its current value came from (absent: the default).
    var sources: [String: ConfigSource] = [:]

    /// Reads and applies one file; `includedFrom` is the `base = ...` line that named it.
    mutating func applyFile(_ path: String, includedFrom: ConfigSource?, chain: [Link]) throws {
        let link = Link(path)
        if chain.contains(where: { $0.canonical == link.canonical }) {
            let cycle = (chain + [link]).map(\.shown).joined(separator: " -> ")
            throw ConfigError(source: includedFrom, keyPath: LabConfig.baseKey, "base files form a cycle: \(cycle)")
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let why = FileManager.default.fileExists(atPath: path) ? "not readable as UTF-8 text" : "no such file"
            let base = includedFrom == nil ? "" : "base = \(tomlQuoted(path)): "
            throw ConfigError(source: includedFrom ?? .file(path, line: nil),
                              keyPath: includedFrom == nil ? nil : LabConfig.baseKey,
                              "\(base)cannot read config file \(path) (\(why))")
        }
        try applyText(text, file: path, chain: chain + [link])
    }

    /// Applies `base` (if any) first, then this document on top.
    mutating func applyText(_ text: String, file: String, chain: [Link]) throws {
        let document = try parseTOML(text, file: file)
        if let base = document[LabConfig.baseKey] {
            let at = ConfigSource.file(file, line: document.line(of: LabConfig.baseKey))
            guard case .string(let relative) = base, !relative.isEmpty else {
                throw ConfigError(source: at, keyPath: LabConfig.baseKey,
                                  "base = \(base): expected a file name relative to this file, e.g. base = \"quickstart.toml\"")
            }
            try applyFile(resolve(relative, relativeTo: file), includedFrom: at, chain: chain)
        }
        let problems = config.apply(document, file: file, sources: &sources)
        if !problems.isEmpty { throw ConfigError(problems) }
    }

    /// Applies `--set` overrides and validates; returns the finished config.
    mutating func finish(overrides: [String]) throws -> LabConfig {
        var problems: [ConfigProblem] = []
        for text in overrides {
            if let problem = applyOverride(text) { problems.append(problem) }
        }
        if !problems.isEmpty { throw ConfigError(problems) }
        problems = validationProblems(config).map { problem in
            var p = problem
            p.source = p.keyPath.map { sources[$0] ?? .defaultValue }
            return p
        }
        if !problems.isEmpty { throw ConfigError(problems) }
        return config
    }

    /// One `key=value`; the value is read as TOML, and text that is not a TOML value
    /// (a bare word such as `pid` or a path) is taken as a string.
    private mutating func applyOverride(_ text: String) -> ConfigProblem? {
        guard let eq = text.firstIndex(of: "=") else {
            return ConfigProblem(source: .commandLine, "\(text): expected key=value, e.g. model.moe_topk=6")
        }
        let path = text[..<eq].trimmingCharacters(in: .whitespaces)
        let raw = text[text.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        let value = (try? parseTOMLValue(raw, file: "--set")) ?? .string(raw)
        switch LabConfig.resolve(path) {
        case .failure(let unknown):
            return ConfigProblem(source: .commandLine, keyPath: path, unknown.message)
        case .success(let key):
            if let message = config.assign(key, value) {
                return ConfigProblem(source: .commandLine, keyPath: path, message)
            }
            sources[path] = .commandLine
            return nil
        }
    }
}

/// `relative` read from inside `file`: absolute paths stay, others are joined to its folder.
private func resolve(_ relative: String, relativeTo file: String) -> String {
    if relative.hasPrefix("/") { return relative }
    let folder = (file as NSString).deletingLastPathComponent
    return folder.isEmpty ? relative : (folder as NSString).appendingPathComponent(relative)
}
