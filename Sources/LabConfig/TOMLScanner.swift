/// The character level of the TOML reader: position and line tracking, comments, strings and
/// numbers. `TOMLParser.swift` builds tables on top of it.
struct TOMLScanner {
    let text: [Unicode.Scalar]
    let file: String
    var index = 0
    /// 1-based line of `index`.
    var line = 1

    init(_ source: String, file: String) {
        var scalars = Array(source.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        text = scalars
        self.file = file
    }

    var atEnd: Bool { index >= text.count }

    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < text.count ? text[index + offset] : nil
    }

    /// A syntax error at the current line (or the given one).
    func error(_ message: String, line: Int? = nil) -> ConfigError {
        ConfigError(source: .file(file, line: line ?? self.line), message)
    }

    /// Skips spaces and tabs.
    mutating func skipSpaces() {
        while let c = peek(), c == " " || c == "\t" { index += 1 }
    }

    /// Consumes `\n` or `\r\n`; false (and nothing consumed) otherwise.
    mutating func consumeNewline() -> Bool {
        if peek() == "\n" { index += 1; line += 1; return true }
        if peek() == "\r" && peek(1) == "\n" { index += 2; line += 1; return true }
        return false
    }

    /// Skips a `#` comment up to (not including) the end of the line.
    mutating func skipComment() throws {
        guard peek() == "#" else { return }
        while let c = peek(), c != "\n" {
            if c == "\r" && peek(1) == "\n" { return }
            if isForbiddenControl(c) { throw error("control character \(scalarName(c)) in comment") }
            index += 1
        }
    }

    /// Skips spaces, newlines and comments (inside arrays).
    mutating func skipBlank() throws {
        while true {
            skipSpaces()
            if peek() == "#" { try skipComment() }
            if !consumeNewline() { return }
        }
    }

    /// After a key/value pair or header: only spaces and a comment may follow on the line.
    mutating func expectEndOfLine() throws {
        skipSpaces()
        try skipComment()
        if atEnd || consumeNewline() { return }
        throw error("expected the end of the line, found \(scalarName(peek()!))")
    }

    // MARK: Strings

    /// A `"basic"` string (escapes) or `'literal'` string (none); `index` is at the opening quote.
    mutating func singleLineString() throws -> String {
        let quote = text[index], escapes = quote == "\""
        let start = line
        index += 1
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek() else { throw error("unterminated string", line: start) }
            if c == quote {
                index += 1
                return String(out)
            }
            if c == "\n" || c == "\r" {
                throw error("unterminated string (use \(quote)\(quote)\(quote) for a string over several lines)")
            }
            if escapes && c == "\\" {
                out.append(try escape())
            } else if isForbiddenControl(c) {
                throw error("control character \(scalarName(c)) in string" + (escapes ? "; escape it" : ""))
            } else {
                out.append(c)
                index += 1
            }
        }
    }

    /// A `"""multi-line basic"""` or `'''multi-line literal'''` string; `index` is at
    /// the first of the three quotes. A newline right after the opening quotes is trimmed.
    mutating func multiLineString() throws -> String {
        let quote = text[index], escapes = quote == "\""
        let start = line
        index += 3
        _ = consumeNewline()
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek() else { throw error("unterminated \(quote)\(quote)\(quote) string", line: start) }
            if c == quote, let closing = try closingQuotes(quote) {
                out.append(contentsOf: closing)
                return String(out)
            }
            if escapes && c == "\\" {
                if !lineEndingBackslash() { out.append(try escape()) }
            } else if consumeNewline() {
                out.append("\n")
            } else if isForbiddenControl(c) {
                throw error("control character \(scalarName(c)) in string" + (escapes ? "; escape it" : ""))
            } else {
                out.append(c)
                index += 1
            }
        }
    }

    /// At a quote inside a multi-line string: if 3 to 5 quotes follow, consumes them and returns
    /// the 0 to 2 that belong to the content; nil when fewer than 3 (the quote is content).
    private mutating func closingQuotes(_ q: Unicode.Scalar) throws -> [Unicode.Scalar]? {
        var n = 0
        while peek(n) == q { n += 1 }
        if n < 3 { return nil }
        if n > 5 { throw error("too many quotes in a row inside a multi-line string") }
        index += n
        return Array(repeating: q, count: n - 3)
    }

    /// A backslash followed by spaces and a newline: skips all whitespace up to the next text.
    private mutating func lineEndingBackslash() -> Bool {
        var j = index + 1
        while j < text.count, text[j] == " " || text[j] == "\t" { j += 1 }
        guard j < text.count, text[j] == "\n" || (text[j] == "\r" && j + 1 < text.count && text[j + 1] == "\n") else {
            return false
        }
        index = j
        while true {
            skipSpaces()
            if !consumeNewline() { return true }
        }
    }

    /// One escape sequence; `index` is at the backslash.
    private mutating func escape() throws -> Unicode.Scalar {
        index += 1
        guard let c = peek() else { throw error("unterminated escape sequence") }
        index += 1
        switch c {
        case "b": return "\u{08}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{0C}"
        case "r": return "\r"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U":
            let digits = c == "u" ? 4 : 8
            var value: UInt32 = 0
            for _ in 0..<digits {
                guard let h = peek(), let d = hexDigit(h) else {
                    throw error("\\\(c) needs \(digits) hexadecimal digits")
                }
                value = value * 16 + d
                index += 1
            }
            guard let scalar = Unicode.Scalar(value) else {
                throw error("\\\(c) escape \(String(value, radix: 16, uppercase: true)) is not a Unicode scalar value")
            }
            return scalar
        default:
            throw error("invalid escape sequence \\\(c); allowed: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX")
        }
    }

    // MARK: Numbers, booleans and bare words

    /// A number, boolean, or an error naming the bad token (e.g. an unquoted string).
    mutating func scalarValue() throws -> TOMLValue {
        let start = index
        while let c = peek(), isBareKeyScalar(c) || c == "+" || c == "." || c == ":" { index += 1 }
        let token = String(String.UnicodeScalarView(text[start..<index]))
        if token.isEmpty {
            throw error(peek().map { "expected a value, found \(scalarName($0))" } ?? "expected a value")
        }
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if token.contains(":") || looksLikeDate(token) {
            throw error("dates and times are not supported (\(token))")
        }
        if let number = try number(token) { return number }
        if token.unicodeScalars.first.map({ $0.properties.isAlphabetic }) == true {
            throw error("invalid value \(token): strings must be quoted, e.g. \(tomlQuoted(token))")
        }
        throw error("invalid number \(token)")
    }

    /// Integers (decimal with `_` between digits, or 0x/0o/0b) and floats; nil if not a number.
    private func number(_ token: String) throws -> TOMLValue? {
        var body = Substring(token)
        var sign = ""
        if let f = body.first, f == "+" || f == "-" { sign = String(f); body.removeFirst() }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where body.hasPrefix(prefix) {
            let digits = body.dropFirst(2)
            guard sign.isEmpty, validDigitGroups(digits, radix: radix) else { return nil }
            guard let v = Int(String(digits.filter { $0 != "_" }), radix: radix) else {
                throw error("integer \(token) does not fit in 64 bits")
            }
            return .integer(v)
        }
        var mantissa = body
        var exponent: Substring? = nil
        if let e = body.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = body[..<e]
            exponent = body[body.index(after: e)...]
        }
        var integerPart = mantissa
        var fraction: Substring? = nil
        if let dot = mantissa.firstIndex(of: ".") {
            integerPart = mantissa[..<dot]
            fraction = mantissa[mantissa.index(after: dot)...]
        }
        guard validDigitGroups(integerPart, radix: 10), integerPart == "0" || integerPart.first != "0" else { return nil }
        if let fraction, !validDigitGroups(fraction, radix: 10) { return nil }
        if var exp = exponent {
            if let f = exp.first, f == "+" || f == "-" { exp.removeFirst() }
            guard validDigitGroups(exp, radix: 10) else { return nil }
        }
        let plain = sign + String(body.filter { $0 != "_" })
        if fraction == nil && exponent == nil {
            guard let v = Int(plain) else { throw error("integer \(token) does not fit in 64 bits") }
            return .integer(v)
        }
        guard let x = Double(plain) else { return nil }
        return .float(x)
    }
}

/// Digits of the radix with single underscores only between digits.
private func validDigitGroups(_ s: Substring, radix: Int) -> Bool {
    guard let first = s.first, let last = s.last, first != "_", last != "_", !s.contains("__") else { return false }
    return s.allSatisfy { $0 == "_" || ($0.isASCII && $0.hexDigitValue.map { $0 < radix } == true) }
}

/// `1979-05-27...`: four digits and a dash start every TOML date.
private func looksLikeDate(_ token: String) -> Bool {
    let u = Array(token.unicodeScalars)
    return u.count >= 5 && u[0..<4].allSatisfy { ("0"..."9").contains($0) } && u[4] == "-"
}

private func hexDigit(_ c: Unicode.Scalar) -> UInt32? {
    switch c {
    case "0"..."9": return c.value - 48
    case "a"..."f": return c.value - 87
    case "A"..."F": return c.value - 55
    default: return nil
    }
}

/// Control characters TOML forbids in strings and comments (tab is allowed).
func isForbiddenControl(_ c: Unicode.Scalar) -> Bool {
    (c.value < 0x20 && c != "\t") || c.value == 0x7F
}

/// `'x'` for printable characters, `U+000D` for the rest.
func scalarName(_ c: Unicode.Scalar) -> String {
    if c.value < 0x20 || c.value == 0x7F {
        let hex = String(c.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
    return "'\(c)'"
}
