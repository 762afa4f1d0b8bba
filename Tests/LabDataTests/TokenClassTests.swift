import Testing
import LabData

@Suite struct TokenClassTests {
    /// Guards against misfiled bytes (digits as letters, newlines as punctuation, ...).
    @Test func categoriesOfBytes() {
        #expect(ByteCategory(UInt8(ascii: "a")) == .letter)
        #expect(ByteCategory(UInt8(ascii: "Z")) == .letter)
        #expect(ByteCategory(0xC3) == .letter)
        #expect(ByteCategory(UInt8(ascii: "7")) == .digit)
        #expect(ByteCategory(UInt8(ascii: "\n")) == .whitespace)
        #expect(ByteCategory(UInt8(ascii: " ")) == .whitespace)
        for p in ",.;:!?'\"-()[]{}@`~_".utf8 { #expect(ByteCategory(p) == .punctuation) }
        #expect(ByteCategory(0x00) == .other && ByteCategory(0x7F) == .other)
        let counts = Dictionary(grouping: (0...255).map { ByteCategory(UInt8($0)) }, by: { $0 }).mapValues(\.count)
        #expect(counts[.digit] == 10 && counts[.whitespace] == 6 && counts[.punctuation] == 32)
    }

    /// Guards against word starts counted inside words or on non-word bytes.
    @Test func wordStartsFollowNonWordBytes() {
        let labels = tokenClassLabels(Array("Hi, café 42x".utf8)).map { TokenClass.labelNames[Int($0)] }
        #expect(labels == [
            "letter-word-start", "letter-word-continuation", "punctuation", "whitespace",
            "letter-word-start", "letter-word-continuation", "letter-word-continuation",
            "letter-word-continuation", "letter-word-continuation",   // é is two bytes, both inside the word
            "whitespace", "digit-word-start", "digit-word-continuation", "letter-word-continuation",
        ])
        #expect(tokenClass(previous: nil, current: UInt8(ascii: "a")).isWordStart)
        #expect(!tokenClass(previous: nil, current: UInt8(ascii: " ")).isWordStart)
        #expect(TokenClass.labelNames.count == 7)
    }
}
