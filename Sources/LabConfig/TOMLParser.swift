/// Reads a TOML document into an ordered table.
///
/// Supported: comments, `[table]` and `[a.b]` headers, bare, quoted and dotted keys, basic and
/// literal strings (single- and multi-line), integers (decimal with `_`, 0x/0o/0b), floats
/// (`3.0`, `1e-16`, `inf`, `nan`), booleans, arrays (multi-line, trailing comma) and inline
/// tables. Not supported: dates and times, arrays of tables (`[[x]]`). Duplicate keys and
/// tables, and every other malformed input, throw a `ConfigError` naming `file:line`.
public func parseTOML(_ text: String, file: String) throws -> TOMLTable {
    var parser = TOMLParser(scanner: TOMLScanner(text, file: file))
    return try parser.document()
}

/// Parses one TOML value standing alone (`6`, `1e-3`, `false`, `"pid"`); throws if the text is
/// not exactly one value.
public func parseTOMLValue(_ text: String, file: String) throws -> TOMLValue {
    var parser = TOMLParser(scanner: TOMLScanner(text, file: file))
    parser.scanner.skipSpaces()
    let value = try parser.value()
    parser.scanner.skipSpaces()
    if !parser.scanner.atEnd { throw parser.scanner.error("unexpected text after the value") }
    return value
}

/// A table while the document is read: remembers how it was created, which decides what may
/// still be added to it (TOML forbids defining a table twice, or extending one by another route).
private final class TableNode {
    enum Origin { case header, implicit, dotted, inline }
    enum Child { case value(TOMLValue, line: Int), table(TableNode) }

    var origin: Origin
    var line: Int
    var order: [String] = []
    var children: [String: Child] = [:]

    init(_ origin: Origin, line: Int) {
        self.origin = origin
        self.line = line
    }

    func add(_ key: String, _ child: Child) {
        order.append(key)
        children[key] = child
    }

    func table() -> TOMLTable {
        var t = TOMLTable()
        for key in order {
            switch children[key]! {
            case .value(let v, let line): t.set(key, v, line: line)
            case .table(let node): t.set(key, .table(node.table()), line: node.line)
            }
        }
        return t
    }
}

private struct TOMLParser {
    var scanner: TOMLScanner

    /// The whole document: key/value lines and table headers.
    mutating func document() throws -> TOMLTable {
        let root = TableNode(.header, line: 1)
        var current = root
        var currentPath: [String] = []
        while true {
            scanner.skipSpaces()
            guard let c = scanner.peek() else { break }
            if c == "#" { try scanner.skipComment(); continue }
            if scanner.consumeNewline() { continue }
            let line = scanner.line
            if c == "[" {
                if scanner.peek(1) == "[" { throw scanner.error("arrays of tables ([[...]]) are not supported") }
                scanner.index += 1
                scanner.skipSpaces()
                let keys = try key()
                scanner.skipSpaces()
                guard scanner.peek() == "]" else { throw scanner.error("expected ']' to close the table header") }
                scanner.index += 1
                current = try openTable(keys, root: root, line: line)
                currentPath = keys
            } else {
                let (keys, v) = try keyValue()
                try insert(keys, v, into: current, at: currentPath, line: line)
            }
            try scanner.expectEndOfLine()
        }
        return root.table()
    }

    /// `key = value` (the key may be dotted).
    mutating func keyValue() throws -> ([String], TOMLValue) {
        let keys = try key()
        scanner.skipSpaces()
        guard scanner.peek() == "=" else {
            throw scanner.error("expected '=' after the key \(display(keys))")
        }
        scanner.index += 1
        scanner.skipSpaces()
        return (keys, try value())
    }

    /// A key: simple keys joined by dots (`a."b.c".d` is three keys, the middle one with a dot).
    mutating func key() throws -> [String] {
        var parts = [try simpleKey()]
        while true {
            let save = scanner.index
            scanner.skipSpaces()
            guard scanner.peek() == "." else { scanner.index = save; return parts }
            scanner.index += 1
            scanner.skipSpaces()
            parts.append(try simpleKey())
        }
    }

    mutating func simpleKey() throws -> String {
        switch scanner.peek() {
        case let q? where q == "\"" || q == "'":
            if scanner.peek(1) == q && scanner.peek(2) == q { throw scanner.error("a key cannot be a multi-line string") }
            return try scanner.singleLineString()
        default:
            var key = String.UnicodeScalarView()
            while let c = scanner.peek(), isBareKeyScalar(c) {
                key.append(c)
                scanner.index += 1
            }
            if key.isEmpty {
                throw scanner.error(scanner.peek().map { "expected a key, found \(scalarName($0))" } ?? "expected a key")
            }
            return String(key)
        }
    }

    /// Any value; `index` is at its first character.
    mutating func value() throws -> TOMLValue {
        switch scanner.peek() {
        case nil, "\n"?, "\r"?, "#"?:
            throw scanner.error("missing value")
        case let q? where q == "\"" || q == "'":
            let triple = scanner.peek(1) == q && scanner.peek(2) == q
            return .string(triple ? try scanner.multiLineString() : try scanner.singleLineString())
        case "["?:
            return try array()
        case "{"?:
            return try inlineTable()
        default:
            return try scanner.scalarValue()
        }
    }

    /// `[v, v, ...]` over any number of lines, comments allowed, trailing comma allowed.
    mutating func array() throws -> TOMLValue {
        let start = scanner.line
        scanner.index += 1
        var items: [TOMLValue] = []
        while true {
            try scanner.skipBlank()
            if scanner.atEnd { throw scanner.error("unterminated array (opened on line \(start))") }
            if scanner.peek() == "]" { scanner.index += 1; return .array(items) }
            items.append(try value())
            try scanner.skipBlank()
            switch scanner.peek() {
            case ","?: scanner.index += 1
            case "]"?: scanner.index += 1; return .array(items)
            case nil: throw scanner.error("unterminated array (opened on line \(start))")
            case let c?: throw scanner.error("expected ',' or ']' in the array, found \(scalarName(c))")
            }
        }
    }

    /// `{ a = 1, b.c = "x" }` on one line, no trailing comma (TOML 1.0).
    mutating func inlineTable() throws -> TOMLValue {
        scanner.index += 1
        let node = TableNode(.inline, line: scanner.line)
        scanner.skipSpaces()
        if scanner.peek() == "}" { scanner.index += 1; return .table(node.table()) }
        while true {
            scanner.skipSpaces()
            if scanner.atEnd || scanner.peek() == "\n" || scanner.peek() == "\r" {
                throw scanner.error("an inline table must close with '}' on the line it opens")
            }
            let line = scanner.line
            let (keys, v) = try keyValue()
            try insert(keys, v, into: node, at: [], line: line)
            scanner.skipSpaces()
            switch scanner.peek() {
            case ","?:
                scanner.index += 1
                scanner.skipSpaces()
                if scanner.peek() == "}" { throw scanner.error("trailing comma in an inline table") }
            case "}"?:
                scanner.index += 1
                return .table(node.table())
            case nil, "\n"?, "\r"?:
                throw scanner.error("an inline table must close with '}' on the line it opens")
            case let c?:
                throw scanner.error("expected ',' or '}' in the inline table, found \(scalarName(c))")
            }
        }
    }

    /// `[a.b.c]`: walks from the root, creating implicit parents; the last table must be new
    /// (or only implicitly created so far).
    func openTable(_ keys: [String], root: TableNode, line: Int) throws -> TableNode {
        var node = root
        for (depth, k) in keys.enumerated() {
            let path = display(Array(keys[...depth]))
            let isLast = depth == keys.count - 1
            switch node.children[k] {
            case nil:
                let child = TableNode(isLast ? .header : .implicit, line: line)
                node.add(k, .table(child))
                node = child
            case .value(let v, let first)?:
                let what = v.isTable ? "an inline table" : "a value"
                throw scanner.error("table [\(display(keys))]: \(path) is already \(what) (line \(first))", line: line)
            case .table(let child)?:
                if isLast {
                    switch child.origin {
                    case .implicit:
                        child.origin = .header
                        child.line = line
                    case .header:
                        throw scanner.error("table [\(path)] is defined twice (first on line \(child.line))", line: line)
                    case .dotted, .inline:
                        throw scanner.error("table [\(path)] is already defined by dotted keys (line \(child.line))", line: line)
                    }
                }
                node = child
            }
        }
        return node
    }

    /// Puts `a.b.c = v` into `table`, creating dotted sub-tables; rejects duplicates and
    /// dotted keys that would reopen a table defined by a header.
    func insert(_ keys: [String], _ v: TOMLValue, into table: TableNode, at tablePath: [String], line: Int) throws {
        var node = table
        for (depth, k) in keys.dropLast().enumerated() {
            let path = display(tablePath + keys[...depth])
            switch node.children[k] {
            case nil:
                let child = TableNode(.dotted, line: line)
                node.add(k, .table(child))
                node = child
            case .table(let child)? where child.origin == .dotted:
                node = child
            case .table(let child)?:
                throw scanner.error("cannot add \(display(tablePath + keys)) with dotted keys: table [\(path)] is defined on line \(child.line)", line: line)
            case .value(_, let first)?:
                throw scanner.error("cannot add \(display(tablePath + keys)): \(path) is already a value (line \(first))", line: line)
            }
        }
        let last = keys.last!
        if let existing = node.children[last] {
            let first: Int
            switch existing {
            case .value(_, let l): first = l
            case .table(let t): first = t.line
            }
            throw scanner.error("duplicate key \(display(tablePath + keys)) (first defined on line \(first))", line: line)
        }
        node.add(last, .value(v, line: line))
    }
}

/// Keys joined with dots, each quoted when it is not bare.
func display<S: Sequence<String>>(_ keys: S) -> String {
    keys.map(tomlKey).joined(separator: ".")
}

extension TOMLValue {
    var isTable: Bool {
        if case .table = self { return true }
        return false
    }
}
