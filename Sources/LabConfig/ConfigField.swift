/// One configuration key, declared once: its TOML path, the struct field behind it, what it
/// means and what values it allows.
///
/// `LabConfig.fields` (the rows beside each table's struct) is the single source of truth for
/// decoding files, `--set` overrides, `set(_:_:)`, `value(forKey:)`, `resolvedTOML()` (in this
/// order), `differences(from:)` and the per-key validation rules. A row reads
///
/// ```
/// ConfigField("model.hidden_size", \.model.hiddenSize, doc: "D: model width.", .atLeast(1)),
/// ```
///
/// (key, field, meaning, rules on its own value); rules that relate two keys live in
/// `Validation.swift`.
public struct ConfigField: Sendable {
    /// `table.name`, as in files, error messages and `--set`.
    public let path: String
    /// What the key means (and why it has its default).
    public let doc: String
    /// The allowed values of a choice key, in declaration order; nil for other keys.
    public let choices: [String]?
    let read: @Sendable (LabConfig) -> TOMLValue
    /// Stores a value; returns the message when its type (or choice) does not fit.
    let write: @Sendable (inout LabConfig, TOMLValue) -> String?
    /// The first rule the current value breaks, as "must be <rule>" completes it; nil when valid.
    let broken: @Sendable (LabConfig) -> String?

    /// TOML table name (`init` for `LabConfig.initialization`).
    public var table: String { String(path[..<path.firstIndex(of: ".")!]) }
    /// snake_case of the Swift field name.
    public var name: String { String(path[path.index(after: path.firstIndex(of: ".")!)...]) }

    private init(path: String, doc: String, choices: [String]? = nil,
                 read: @escaping @Sendable (LabConfig) -> TOMLValue,
                 write: @escaping @Sendable (inout LabConfig, TOMLValue) -> String?,
                 broken: @escaping @Sendable (LabConfig) -> String?) {
        precondition(path.contains("."), "a config key path is table.name")
        self.path = path; self.doc = doc; self.choices = choices
        self.read = read; self.write = write; self.broken = broken
    }
}

/// A rule on one key's value and its text ("must be" + text).
public struct Constraint<Value: Sendable>: Sendable {
    let rule: String
    let holds: @Sendable (Value) -> Bool
    public init(_ rule: String, _ holds: @escaping @Sendable (Value) -> Bool) {
        self.rule = rule
        self.holds = holds
    }

    func broken(_ value: Value) -> String? { holds(value) ? nil : rule }
}

public extension Constraint where Value == Int {
    static func atLeast(_ minimum: Int) -> Self { Self(">= \(minimum)") { $0 >= minimum } }
    static func within(_ range: ClosedRange<Int>) -> Self {
        Self("in \(range.lowerBound)...\(range.upperBound)") { range.contains($0) }
    }
}

public extension Constraint where Value == Double {
    static var positive: Self { Self("> 0") { $0 > 0 } }
    static var nonNegative: Self { Self(">= 0") { $0 >= 0 } }
}

/// The typed rows: one initialiser per field type, each giving the key's reading, writing and
/// rules.
extension ConfigField {
    typealias Field<V> = WritableKeyPath<LabConfig, V> & Sendable

    init(_ path: String, _ field: Field<Int>, doc: String, _ rules: Constraint<Int>...) {
        self.init(path: path, doc: doc,
                  read: { .integer($0[keyPath: field]) },
                  write: { config, value in
                      switch value {
                      case .integer(let i):
                          config[keyPath: field] = i
                          return nil
                      case .float(let x) where x.isFinite && x == x.rounded() && abs(x) < 1e15:
                          return "\(path) = \(value): expected an integer, got a float (write \(Int(x)))"
                      default:
                          return "\(path) = \(value): expected an integer, got \(value.kindName)"
                      }
                  },
                  broken: { config in
                      let v = config[keyPath: field]
                      return rules.lazy.compactMap { $0.broken(v) }.first
                  })
    }

    /// An integer is accepted for a float field, never the reverse; the value must be finite
    /// (checked before `rules`, since a struct field set in code may hold inf or nan).
    init(_ path: String, _ field: Field<Double>, doc: String, _ rules: Constraint<Double>...) {
        self.init(path: path, doc: doc,
                  read: { .float($0[keyPath: field]) },
                  write: { config, value in
                      switch value {
                      case .integer(let i):
                          config[keyPath: field] = Double(i)
                      case .float(let x) where x.isFinite:
                          // -0.0 would print differently from 0.0 yet compare equal.
                          config[keyPath: field] = x == 0 ? 0 : x
                      case .float:
                          return "\(path) = \(value): expected a finite number"
                      default:
                          return "\(path) = \(value): expected a number, got \(value.kindName)"
                      }
                      return nil
                  },
                  broken: { config in
                      let v = config[keyPath: field]
                      guard v.isFinite else { return "a finite number" }
                      return rules.lazy.compactMap { $0.broken(v) }.first
                  })
    }

    init(_ path: String, _ field: Field<Bool>, doc: String) {
        self.init(path: path, doc: doc,
                  read: { .boolean($0[keyPath: field]) },
                  write: { config, value in
                      guard case .boolean(let b) = value else {
                          return "\(path) = \(value): expected a boolean (true or false), got \(value.kindName)"
                      }
                      config[keyPath: field] = b
                      return nil
                  },
                  broken: { _ in nil })
    }

    /// Text (a path, a folder, a small list); `rules` judge the text alone, rules that depend
    /// on other keys live in `Validation.swift`.
    init(_ path: String, _ field: Field<String>, doc: String, _ rules: Constraint<String>...) {
        self.init(path: path, doc: doc,
                  read: { .string($0[keyPath: field]) },
                  write: { config, value in
                      guard case .string(let s) = value else { return stringExpected(path, value) }
                      config[keyPath: field] = s
                      return nil
                  },
                  broken: { config in
                      let v = config[keyPath: field]
                      return rules.lazy.compactMap { $0.broken(v) }.first
                  })
    }

    /// A choice: the string must be one of `C`'s raw values.
    init<C: ConfigChoice>(_ path: String, _ field: Field<C>, doc: String) {
        self.init(path: path, doc: doc, choices: C.allCases.map(\.rawValue),
                  read: { .string($0[keyPath: field].rawValue) },
                  write: { config, value in
                      guard case .string(let s) = value else { return stringExpected(path, value) }
                      guard let choice = C(rawValue: s) else { return "\(path) = \(value): must be one of \(C.quotedList)" }
                      config[keyPath: field] = choice
                      return nil
                  },
                  broken: { _ in nil })
    }
}

/// The message for a non-string value given to a string key.
private func stringExpected(_ path: String, _ value: TOMLValue) -> String {
    switch value {
    case .integer, .float, .boolean:
        return "\(path) = \(value): expected a string, got \(value.kindName) (quote it: \(tomlQuoted(value.description)))"
    default:
        return "\(path) = \(value): expected a string, got \(value.kindName)"
    }
}
