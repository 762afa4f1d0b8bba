/// Turns a parsed TOML document into config values, on top of what is already set.
extension LabConfig {
    /// Applies every table of `document` (except `base`, which the loader handles) and records
    /// each key's source; returns every unknown key, unknown table and type mismatch found.
    mutating func apply(_ document: TOMLTable, file: String,
                        sources: inout [String: ConfigSource]) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        for (name, value) in document.entries where name != LabConfig.baseKey {
            let at = ConfigSource.file(file, line: document.line(of: name))
            guard LabConfig.tables.contains(name) else {
                problems.append(ConfigProblem(source: at, keyPath: name, unknownTopLevel(name, value)))
                continue
            }
            guard case .table(let table) = value else {
                problems.append(ConfigProblem(source: at, keyPath: name,
                    "\(name) = \(value): expected the table [\(name)], got \(value.kindName)"))
                continue
            }
            for (key, v) in table.entries {
                let keyAt = ConfigSource.file(file, line: table.line(of: key))
                guard let configKey = LabConfig.fieldsByPath["\(name).\(key)"] else {
                    problems.append(ConfigProblem(source: keyAt, keyPath: "\(name).\(key)",
                                                  LabConfig.unknownKey(key, in: name)))
                    continue
                }
                if let message = assign(configKey, v) {
                    problems.append(ConfigProblem(source: keyAt, keyPath: configKey.path, message))
                } else {
                    sources[configKey.path] = keyAt
                }
            }
        }
        return problems
    }

    /// The message for a top-level key that is neither `base` nor one of the tables.
    private func unknownTopLevel(_ name: String, _ value: TOMLValue) -> String {
        if value.isTable { return LabConfig.unknownTable(name) }
        var message = "unknown top-level key \(display([name]))"
        if let owner = LabConfig.fields.first(where: { $0.name == name }) {
            message += "; \(name) belongs in [\(owner.table)] (\(owner.path))"
        } else if let guess = closestMatch(name, in: [LabConfig.baseKey] + LabConfig.tables) {
            message += "; did you mean \(guess)?"
        }
        return sentences(message, "At the top level only base = \"other.toml\" and the tables "
            + LabConfig.tableList + " are allowed")
    }
}
