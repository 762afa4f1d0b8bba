/// Classes of byte tokens in text, for analyses such as "which tokens get more experts".
///
/// Bytes at or above 0x80 (the parts of multi-byte UTF-8 characters) count as letters: in
/// prose most non-ASCII characters are letters, and a continuation byte then never starts a
/// word because the byte before it is part of the same character.

/// What kind of character a byte belongs to.
public enum ByteCategory: UInt8, CaseIterable, Sendable {
    case letter, digit, whitespace, punctuation, other

    /// The category of one byte.
    public init(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), 0x80...0xFF:
            self = .letter
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            self = .digit
        case 0x09...0x0D, 0x20:
            self = .whitespace
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E:
            self = .punctuation
        default:
            self = .other
        }
    }

    /// Letters and digits make up words.
    public var isWordCharacter: Bool { self == .letter || self == .digit }
}

/// A byte token's category and whether it starts a word.
public struct TokenClass: Hashable, Sendable, CustomStringConvertible {
    public var category: ByteCategory
    /// A letter or digit whose previous byte is neither (or which opens the text). An
    /// apostrophe splits a word ("don't": the `t` starts a word), since only one byte of
    /// context is seen.
    public var isWordStart: Bool

    public init(category: ByteCategory, isWordStart: Bool) {
        self.category = category
        self.isWordStart = isWordStart && category.isWordCharacter
    }

    /// One flat label per class, indexing `TokenClass.labelNames`.
    public var labelID: UInt8 {
        switch category {
        case .letter: return isWordStart ? 0 : 1
        case .digit: return isWordStart ? 2 : 3
        case .whitespace: return 4
        case .punctuation: return 5
        case .other: return 6
        }
    }

    /// Names of the flat labels, in `labelID` order.
    public static let labelNames = [
        "letter-word-start", "letter-word-continuation", "digit-word-start", "digit-word-continuation",
        "whitespace", "punctuation", "other",
    ]

    /// Ordinal difficulty of each flat label, in `labelNames` order, for `longcat-lab
    /// allocation`: the paper's observation turned into an order. LongCat-Flash's shallow layers
    /// give function words, numbers and punctuation fewer FFN experts; at byte level that reads
    /// digits, whitespace, punctuation and other bytes (0) < letters continuing a word (1) <
    /// letters starting a word (2), the byte that carries most of a word's information.
    public static let difficulty = [2, 1, 0, 0, 0, 0, 0]

    public var description: String { TokenClass.labelNames[Int(labelID)] }
}

/// The class of byte `current` given the byte before it (nil at the start of a text).
public func tokenClass(previous: UInt8?, current: UInt8) -> TokenClass {
    let category = ByteCategory(current)
    let afterWord = previous.map { ByteCategory($0).isWordCharacter } ?? false
    return TokenClass(category: category, isWordStart: category.isWordCharacter && !afterWord)
}

/// Flat token-class labels (`TokenClass.labelID`) of every byte of a text.
public func tokenClassLabels(_ bytes: some Collection<UInt8>) -> [UInt8] {
    var labels: [UInt8] = []
    labels.reserveCapacity(bytes.count)
    var previous: UInt8? = nil
    for byte in bytes {
        labels.append(tokenClass(previous: previous, current: byte).labelID)
        previous = byte
    }
    return labels
}

/// Flat token-class labels of subword ids: the class of each token's first byte after a
/// leading space; a word start when the token opens with a space before a word, or begins a
/// word right after a token that ended in a non-word byte.
func subwordClassLabels(_ ids: [UInt16], tokenizer: BytePairTokenizer) -> [UInt8] {
    let bytes = tokenizer.tokenBytes
    var previous: UInt8? = nil
    return ids.map { id in
        let b = bytes[Int(id)]
        let lead = b.count > 1 && b[0] == 0x20 ? 1 : 0
        defer { previous = b.last }
        return tokenClass(previous: lead == 1 ? 0x20 : previous, current: b[lead]).labelID
    }
}
