import Testing
import LabConfig

/// Every TOML construct the configs use is read into the right values.
@Suite struct TOMLParserTests {
    @Test func commentsBlankLinesAndKeyOrder() throws {
        let t = try parseTOML("""
            # leading comment

            zeta = 1   # trailing comment
            alpha = 2
            \tmid = 3
            """, file: "t.toml")
        #expect(t.keys == ["zeta", "alpha", "mid"])
        #expect(t["alpha"] == .integer(2))
        #expect(t.line(of: "zeta") == 3)
        #expect(t.line(of: "mid") == 5)
    }

    @Test func tableHeadersAndNestedHeaders() throws {
        let t = try parseTOML("""
            [model]
            hidden_size = 64
            [ a . b ]
            x = true
            [a]
            y = false
            """, file: "t.toml")
        guard case .table(let model)? = t["model"], case .table(let a)? = t["a"], case .table(let b)? = a["b"] else {
            Issue.record("tables missing: \(t)"); return
        }
        #expect(model["hidden_size"] == .integer(64))
        #expect(b["x"] == .boolean(true))
        #expect(a["y"] == .boolean(false))
        #expect(t.line(of: "model") == 1)
        #expect(a.line(of: "b") == 3)
    }

    /// A quoted key containing a dot is one key, not a path (sweep files use `"controller.kind"`).
    @Test func quotedKeyWithDotIsOneKey() throws {
        let t = try parseTOML("""
            [sweep]
            "controller.kind" = ["pid", "sign"]
            'model.moe_topk' = [2, 4]
            """, file: "t.toml")
        guard case .table(let sweep)? = t["sweep"] else { Issue.record("no [sweep]"); return }
        #expect(sweep.keys == ["controller.kind", "model.moe_topk"])
        #expect(sweep["controller.kind"] == .array([.string("pid"), .string("sign")]))
    }

    @Test func dottedKeysBuildNestedTables() throws {
        let t = try parseTOML("""
            a.b.c = 1
            a . b . d = 2
            a."x.y" = 3
            """, file: "t.toml")
        var ab = TOMLTable()
        ab.set("c", .integer(1))
        ab.set("d", .integer(2))
        var a = TOMLTable()
        a.set("b", .table(ab))
        a.set("x.y", .integer(3))
        #expect(t["a"] == .table(a))
    }

    @Test func basicStringEscapes() throws {
        let t = try parseTOML(#"s = "tab\tnl\nq\"bs\\ \u00e9 \U0001F600 \b\f\r""#, file: "t.toml")
        #expect(t["s"] == .string("tab\tnl\nq\"bs\\ é 😀 \u{08}\u{0C}\r"))
    }

    @Test func literalStringsKeepBackslashes() throws {
        let t = try parseTOML(#"p = 'C:\dir\n'"#, file: "t.toml")
        #expect(t["p"] == .string(#"C:\dir\n"#))
    }

    @Test func multiLineStrings() throws {
        let t = try parseTOML("""
            a = \"\"\"
            first
              second \\
                joined\"\"\"
            b = '''
            raw \\n ''quoted'' '''
            c = \"\"\"\"\"quoted\"\"\"\"\"
            after = 1
            """, file: "t.toml")
        #expect(t["a"] == .string("first\n  second joined"))
        #expect(t["b"] == .string("raw \\n ''quoted'' "))
        #expect(t["c"] == .string("\"\"quoted\"\""))
        #expect(t.line(of: "after") == 8)
    }

    @Test func integers() throws {
        let t = try parseTOML("a = 0\nb = +17\nc = -42\nd = 1_000_000\ne = 0xFF\nf = 0o17\ng = 0b101\nh = 9223372036854775807", file: "t.toml")
        #expect(t.entries.map(\.value) == [0, 17, -42, 1_000_000, 255, 15, 5, Int.max].map(TOMLValue.integer))
    }

    @Test func floats() throws {
        let t = try parseTOML("a = 3.0\nb = -0.5\nc = 1e-16\nd = 6.02E+23\ne = 1_000.5\nf = 5e3\ng = -inf\nh = 0.0", file: "t.toml")
        #expect(t.entries.map(\.value) == [3.0, -0.5, 1e-16, 6.02e23, 1000.5, 5000, -.infinity, 0].map(TOMLValue.float))
        guard case .float(let x)? = try parseTOML("n = nan", file: "t.toml")["n"] else { Issue.record("nan"); return }
        #expect(x.isNaN)
    }

    @Test func booleans() throws {
        let t = try parseTOML("yes = true\nno = false", file: "t.toml")
        #expect(t["yes"] == .boolean(true))
        #expect(t["no"] == .boolean(false))
    }

    @Test func multiLineArraysWithCommentsAndTrailingComma() throws {
        let t = try parseTOML("""
            a = [
              1,   # one
              # a whole-line comment
              2,
            ]
            b = []
            c = [[1, 2], ["x"], 1.5, { k = 1 }]
            d = 1
            """, file: "t.toml")
        #expect(t["a"] == .array([.integer(1), .integer(2)]))
        #expect(t["b"] == .array([]))
        var k = TOMLTable()
        k.set("k", .integer(1))
        #expect(t["c"] == .array([.array([.integer(1), .integer(2)]), .array([.string("x")]), .float(1.5), .table(k)]))
        #expect(t.line(of: "d") == 8)
    }

    @Test func inlineTables() throws {
        let t = try parseTOML(#"p = { x = 1, y.z = "s", e = {} }"#, file: "t.toml")
        guard case .table(let p)? = t["p"], case .table(let y)? = p["y"] else { Issue.record("no inline table"); return }
        #expect(p.keys == ["x", "y", "e"])
        #expect(y["z"] == .string("s"))
        #expect(p["e"] == .table(TOMLTable()))
    }

    @Test func windowsLineEndings() throws {
        let t = try parseTOML("a = 1\r\n# c\r\n[t]\r\nb = \"x\"\r\n", file: "t.toml")
        #expect(t["a"] == .integer(1))
        #expect(t.line(of: "t") == 3)
    }

    /// TOML allows sub-tables under a table made by dotted keys, via a header.
    @Test func headerSubTableUnderDottedTable() throws {
        let t = try parseTOML("""
            [fruit]
            apple.color = "red"
            [fruit.apple.texture]
            smooth = true
            """, file: "t.toml")
        guard case .table(let fruit)? = t["fruit"], case .table(let apple)? = fruit["apple"] else { Issue.record("\(t)"); return }
        #expect(apple.keys == ["color", "texture"])
    }

    /// Swift's shortest float form is read back bit for bit, so resolved configs round-trip.
    @Test(arguments: [1e-16, 0.1 + 0.2, 1.0 / 3.0, 3e-3, 1e300, -2.5e-308, Double.leastNonzeroMagnitude, 10_000.0, 1e16, 123456789.125, -0.0])
    func floatTextRoundTrips(x: Double) throws {
        let t = try parseTOML("x = \(TOMLValue.float(x))", file: "t.toml")
        guard case .float(let y)? = t["x"] else { Issue.record("not a float: \(String(describing: t["x"]))"); return }
        #expect(y.bitPattern == x.bitPattern)
    }

    /// A string with quotes, backslashes and control characters survives writing and reading.
    @Test func quotedStringRoundTrips() throws {
        let s = "a \"b\" \\c\n\td\u{01}é"
        let t = try parseTOML("s = \(TOMLValue.string(s))", file: "t.toml")
        #expect(t["s"] == .string(s))
    }
}
