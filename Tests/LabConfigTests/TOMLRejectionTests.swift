import Testing
import LabConfig

/// One malformed document, the line its error must name, and a fragment of the message.
struct MalformedTOML: Sendable, CustomTestStringConvertible {
    let text: String
    let line: Int
    let fragment: String
    init(_ text: String, line: Int, _ fragment: String) {
        self.text = text
        self.line = line
        self.fragment = fragment
    }
    var testDescription: String { "\(fragment) @\(line)" }
}

/// Malformed input is rejected with `file:line` and a message saying what is wrong, never
/// read as something else and never a crash.
@Suite struct TOMLRejectionTests {
    static let cases: [MalformedTOML] = [
        MalformedTOML("a = 1\nb = 2\na = 3", line: 3, "duplicate key a (first defined on line 1)"),
        MalformedTOML("[x]\na = 1\n\n[x]", line: 4, "table [x] is defined twice (first on line 1)"),
        MalformedTOML("[m]\na = 1\n[m.b]\n[m.b]", line: 4, "table [m.b] is defined twice (first on line 3)"),
        MalformedTOML("a = 1\n[a]", line: 2, "a is already a value (line 1)"),
        MalformedTOML("[f]\napple.color = 1\n[f.apple]", line: 3, "already defined by dotted keys"),
        MalformedTOML("[a.b]\nz = 1\n[a]\nb.t = 2", line: 4, "table [a.b] is defined on line 1"),
        MalformedTOML("a = { x = 1 }\na.y = 2", line: 2, "a is already a value (line 1)"),
        MalformedTOML("a = { x = 1 }\n[a]", line: 2, "already an inline table"),
        MalformedTOML("a = { x = 1, x = 2 }", line: 1, "duplicate key x"),
        MalformedTOML("a.b = 1\na.b.c = 2", line: 2, "a.b is already a value"),
        MalformedTOML("ok = 1\na = \"abc\nb = 1", line: 2, "unterminated string"),
        MalformedTOML("a = 'abc", line: 1, "unterminated string"),
        MalformedTOML("a = \"\"\"abc\n\nb = 1", line: 1, "unterminated \"\"\" string"),
        MalformedTOML("\na = '''abc", line: 2, "unterminated ''' string"),
        MalformedTOML("a = 'x\u{01}'", line: 1, "control character U+0001 in string"),
        MalformedTOML("a = { x = 1", line: 1, "must close with '}' on the line it opens"),
        MalformedTOML("a = [1,\n2\n", line: 3, "unterminated array (opened on line 1)"),
        MalformedTOML("a = [1 2]", line: 1, "expected ',' or ']'"),
        MalformedTOML("x = 1\na =\n", line: 2, "missing value"),
        MalformedTOML("a 1", line: 1, "expected '=' after the key a"),
        MalformedTOML("= 1", line: 1, "expected a key"),
        MalformedTOML("[controller]\nkind = pid", line: 2, "strings must be quoted, e.g. \"pid\""),
        MalformedTOML("a = 01", line: 1, "invalid number 01"),
        MalformedTOML("a = 1__0", line: 1, "invalid number"),
        MalformedTOML("a = _1", line: 1, "invalid"),
        MalformedTOML("a = 1_", line: 1, "invalid number"),
        MalformedTOML("a = 1.", line: 1, "invalid number"),
        MalformedTOML("a = .5", line: 1, "invalid number .5"),
        MalformedTOML("a = 1e", line: 1, "invalid number"),
        MalformedTOML("a = 1.5.2", line: 1, "invalid number"),
        MalformedTOML("a = 0x", line: 1, "invalid number"),
        MalformedTOML("a = -0x10", line: 1, "invalid number"),
        MalformedTOML("a = 99999999999999999999", line: 1, "does not fit in 64 bits"),
        MalformedTOML(#"a = "\q""#, line: 1, "invalid escape sequence \\q"),
        MalformedTOML(#"a = "\u12""#, line: 1, "needs 4 hexadecimal digits"),
        MalformedTOML(#"a = "\uD800""#, line: 1, "not a Unicode scalar value"),
        MalformedTOML("a = 1 b = 2", line: 1, "expected the end of the line"),
        MalformedTOML("[a] b = 1", line: 1, "expected the end of the line"),
        MalformedTOML("a = 1\rb = 2", line: 1, "U+000D"),
        MalformedTOML("\n[[runs]]\nx = 1", line: 2, "arrays of tables ([[...]]) are not supported"),
        MalformedTOML("d = 1979-05-27", line: 1, "dates and times are not supported"),
        MalformedTOML("t = 07:32:00", line: 1, "dates and times are not supported"),
        MalformedTOML("a = { x = 1,\n y = 2 }", line: 1, "must close with '}' on the line it opens"),
        MalformedTOML("a = { x = 1, }", line: 1, "trailing comma in an inline table"),
        MalformedTOML("a = { x = 1 y = 2 }", line: 1, "expected ',' or '}'"),
        MalformedTOML("a = \"x\u{01}y\"", line: 1, "control character U+0001"),
        MalformedTOML("# bad \u{7F} comment", line: 1, "control character U+007F in comment"),
        MalformedTOML("[a\nb = 1", line: 1, "expected ']'"),
        MalformedTOML("[]", line: 1, "expected a key"),
        MalformedTOML("\"\"\"k\"\"\" = 1", line: 1, "a key cannot be a multi-line string"),
    ]

    @Test(arguments: cases)
    func rejectedWithLine(_ c: MalformedTOML) {
        guard let error = tomlError(c.text) else { return }
        #expect(error.problems.count == 1)
        #expect(error.problems.first?.source == .file("test.toml", line: c.line))
        #expect(error.description.hasPrefix("test.toml:\(c.line): "), "\(error)")
        #expect(error.description.contains(c.fragment), "\(error)")
    }
}
