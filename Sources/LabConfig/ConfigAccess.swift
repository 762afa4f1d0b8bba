/// Reading and writing config values by key path (`model.moe_topk`), through `LabConfig.fields`.
public extension LabConfig {
    /// Every key path in resolved-TOML order (`model.vocab_size`, ..., `balance.groups`).
    static var keyPaths: [String] { fields.map(\.path) }

    /// The value at a key path written as `--set` takes it: numbers and booleans as in TOML,
    /// strings bare (`pid`, not `"pid"`); nil for an unknown key path.
    func value(forKey path: String) -> String? {
        guard let key = LabConfig.fieldsByPath[path] else { return nil }
        if case .string(let s) = self[key] { return s }
        return self[key].description
    }

    /// The value at a key path as a TOML value; nil for an unknown key path.
    func tomlValue(forKey path: String) -> TOMLValue? {
        LabConfig.fieldsByPath[path].map { self[$0] }
    }

    /// Sets the value at a key path. An integer is accepted for a float field, never the
    /// reverse. Throws a `ConfigError` naming the key for an unknown key path (with the valid
    /// keys and a suggestion), a value of the wrong type, or a string that is none of a choice's values.
    mutating func set(_ path: String, _ value: TOMLValue) throws {
        switch LabConfig.resolve(path) {
        case .failure(let problem):
            throw ConfigError(keyPath: path, problem.message)
        case .success(let key):
            if let message = assign(key, value) { throw ConfigError(keyPath: path, message) }
        }
    }
}

extension LabConfig {
    /// The value of one key.
    subscript(key: ConfigField) -> TOMLValue { key.read(self) }

    /// Stores `value` in the key's field; returns a message when its type (or choice) does not fit.
    mutating func assign(_ key: ConfigField, _ value: TOMLValue) -> String? { key.write(&self, value) }
}

/// Why a key path names no key, with the valid alternatives.
struct UnknownKey: Error {
    let message: String
}

extension LabConfig {
    /// The key for `table.name`, or a message listing the valid tables or keys with a suggestion.
    static func resolve(_ path: String) -> Result<ConfigField, UnknownKey> {
        if let key = fieldsByPath[path] { return .success(key) }
        guard let dot = path.firstIndex(of: ".") else {
            var message = "\(path) is not a key path (table.key)"
            if let owner = fields.first(where: { $0.name == path }) { message += "; did you mean \(owner.path)?" }
            return .failure(UnknownKey(message: sentences(message, "Valid tables: " + tableList)))
        }
        let table = String(path[..<dot]), name = String(path[path.index(after: dot)...])
        guard tables.contains(table) else { return .failure(UnknownKey(message: unknownTable(table))) }
        return .failure(UnknownKey(message: unknownKey(name, in: table)))
    }

    /// `unknown key model.moe_top_k; did you mean model.moe_topk? Valid keys of [model]: ...`
    static func unknownKey(_ name: String, in table: String) -> String {
        let valid = names(in: table)
        var message = "unknown key \(table).\(display([name]))"
        if let owner = fields.first(where: { $0.name == name }) {
            message += "; \(name) belongs in [\(owner.table)] (\(owner.path))"
        } else if let guess = closestMatch(name, in: valid) {
            message += "; did you mean \(table).\(guess)?"
        }
        return sentences(message, "Valid keys of [\(table)]: " + valid.joined(separator: ", "))
    }

    /// `unknown table [modle]; did you mean [model]? Valid tables: ...`
    static func unknownTable(_ name: String) -> String {
        var message = "unknown table [\(display([name]))]"
        if let guess = closestMatch(name, in: tables) { message += "; did you mean [\(guess)]?" }
        return sentences(message, "Valid tables: " + tableList)
    }

    static var tableList: String {
        tables.map { "[\($0)]" }.joined(separator: ", ")
    }
}

/// Joins two sentences: `a? b` after a question, `a. b` otherwise.
func sentences(_ a: String, _ b: String) -> String {
    a + (a.hasSuffix("?") ? " " : ". ") + b
}
