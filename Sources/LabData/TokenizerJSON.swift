/// The tokenizer in the format of the `tokenizers` library (`tokenizer.json`), so the users of
/// an exported checkpoint can load it with `Tokenizer.from_file`.
///
/// Byte-level BPE as that library models it: a `Split` pre-tokenizer whose regular expression
/// cuts exactly the chunks of `BytePairTokenizer.forEachChunk` (bytes >= 0x80 are letters, so
/// any non-ASCII character is), then `ByteLevel` without its own regex, mapping each byte to a
/// printable character (GPT-2's table: printable Latin-1 bytes map to themselves, the other 68
/// to U+0100 onwards); the vocabulary maps each token's mapped bytes to its id, the merges
/// list each pair in the order learnt, and the `ByteLevel` decoder maps back to bytes.
/// Requires distinct byte strings per token (`train(..., distinctTokens: true)`).
extension BytePairTokenizer {
    /// The pattern of the chunks: a run of letters, digits or punctuation (with one optional
    /// leading space), one other byte (likewise), or a run of whitespace that stops before a
    /// space that starts a word.
    static let chunkPattern = #" ?[A-Za-z\x{80}-\x{10FFFF}]+| ?[0-9]+| ?[!-/:-@\[-`{-~]+| ?[\x{00}-\x{08}\x{0E}-\x{1F}\x{7F}]|(?:(?! [^\t\n\x{0B}\x{0C}\r ])[\t\n\x{0B}\x{0C}\r ])+"#

    /// GPT-2's byte-to-character table of byte-level BPE.
    static let byteCharacters: [Character] = {
        var printable = Set<Int>(33...126)
        printable.formUnion(161...172)
        printable.formUnion(174...255)
        var next = 256
        return (0..<256).map { b in
            if printable.contains(b) { return Character(Unicode.Scalar(UInt32(b))!) }
            defer { next += 1 }
            return Character(Unicode.Scalar(UInt32(next))!)
        }
    }()

    /// A token's bytes as the library's vocabulary spells them.
    static func mappedString(_ bytes: [UInt8]) -> String {
        String(bytes.map { byteCharacters[Int($0)] })
    }

    /// The whole `tokenizer.json` text; nil when two token ids share a byte string.
    public var huggingFaceJSON: String? {
        let strings = tokenBytes.map(Self.mappedString)
        guard Set(strings).count == strings.count else { return nil }
        let vocab = strings.enumerated().map { "\(jsonQuoted($1)):\($0)" }.joined(separator: ",")
        let mergeList = merges.map { "[\(jsonQuoted(strings[Int($0.left)])),\(jsonQuoted(strings[Int($0.right)]))]" }
            .joined(separator: ",")
        return """
            {"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,\
            "pre_tokenizer":{"type":"Sequence","pretokenizers":[\
            {"type":"Split","pattern":{"Regex":\(jsonQuoted(Self.chunkPattern))},"behavior":"Isolated","invert":false},\
            {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false}]},\
            "post_processor":null,\
            "decoder":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false},\
            "model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,\
            "end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":false,\
            "vocab":{\(vocab)},"merges":[\(mergeList)]}}

            """
    }

    /// 16 hex digits: 64-bit FNV-1a of the merges as `json` writes them (the run's tokenizer hash).
    public var hash: String { fnv1aHex(Array(json.utf8)) }
}

/// `text` as a JSON string literal.
func jsonQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// 16 lowercase hex digits of the 64-bit FNV-1a hash of `bytes`.
func fnv1aHex(_ bytes: [UInt8]) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}
