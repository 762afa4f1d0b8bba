/// Nested key-value records, one per line: `{name:kq,tags:[ab,cd],data:{age:31,id:0042}}\n`.
///
/// A record holds 1...`maxFields` distinct keys in random order. Each key fixes its value's
/// type: `name` letters, `age` a number below 100, `id` four digits, `tags` a list of short
/// words, `data` a nested record, `items` a list of nested records. Records nest at most
/// `maxDepth` deep (`data` and `items` are only offered above that).
///
/// Labels: `key` (key letters), `value` (letters and digits of values), `open` (`{`, `[`),
/// `close` (`}`, `]`), `punct` (`:` and `,`), `newline` (entropy 0: it always follows the
/// outermost `}`). Which bracket closes is fixed by the brackets still open, often dozens of
/// bytes back; whether to close now is a random choice.
///
/// Ideal allocation of compute: closing brackets need the most, because the right bracket
/// depends on long-range context (the stack of open brackets) and on counting the fields and
/// items seen; the first byte of a value also needs work (its type depends on the key before
/// it). The remaining key letters are memorised completions and value letters are random, so
/// extra compute lowers neither loss.
///
/// Difficulty order: newline (0) < key (1: the first letter picks among six keys, the rest
/// complete it) = punct (1: `:` is certain, `,` against a closing bracket is a coin flip) <
/// open (2: fixed by the key, which lies one `:` back) < close (3: which bracket depends on
/// the stack of open ones) < value (4: random letters and digits, log 26 or log 10 each).
public struct StructuredGenerator: SyntheticGenerator {
    public var maxFields = 4
    public var maxDepth = 3
    public var maxListItems = 2

    public enum Label: UInt8, CaseIterable, Sendable {
        case key, value, open, close, punct, newline
    }

    /// The keys, in the order they are offered; the last two nest.
    public static let keys = ["name", "age", "id", "tags", "data", "items"]

    public init() {}

    public var name: String { "structured" }
    public var labelNames: [String] { ["key", "value", "open", "close", "punct", "newline"] }

    public func analyticEntropy(label: Int) -> Double? {
        label == Int(Label.newline.rawValue) ? 0 : nil
    }

    public var difficulty: [Int] { [1, 4, 2, 3, 1, 0] }

    public func generate(bytes: Int, seed: UInt64) -> (tokens: [UInt8], labels: [UInt8]) {
        precondition(maxFields >= 1 && maxDepth >= 1 && maxListItems >= 1, "records need fields, depth and items")
        var random = DataRandom(seed: seed)
        var out = LabelledBytes(capacity: bytes)
        while out.count < bytes {
            record(depth: 1, &out, &random)
            out.append("\n", Label.newline.rawValue)
        }
        return out.truncated(to: bytes)
    }

    /// `{key:value,...}` at nesting `depth` (1 for a line's outermost record).
    private func record(depth: Int, _ out: inout LabelledBytes, _ random: inout DataRandom) {
        var offered = StructuredGenerator.keys
        if depth >= maxDepth { offered.removeLast(2) }
        // A random subset in random order: a partial Fisher-Yates shuffle.
        let count = min(random.inRange(1...maxFields), offered.count)
        for i in 0..<count { offered.swapAt(i, i + random.below(offered.count - i)) }
        out.append("{", Label.open.rawValue)
        for (i, key) in offered.prefix(count).enumerated() {
            if i > 0 { out.append(",", Label.punct.rawValue) }
            out.append(key, Label.key.rawValue)
            out.append(":", Label.punct.rawValue)
            switch key {
            case "name": word(2...6, &out, &random)
            case "age": out.append(String(random.below(100)), Label.value.rawValue)
            case "id": for _ in 0..<4 { out.append(digit(&random), Label.value.rawValue) }
            case "tags": list(&out, &random) { word(2...4, &$0, &$1) }
            case "data": record(depth: depth + 1, &out, &random)
            default: list(&out, &random) { record(depth: depth + 1, &$0, &$1) }
            }
        }
        out.append("}", Label.close.rawValue)
    }

    /// `[item,item,...]` with 1...maxListItems items.
    private func list(_ out: inout LabelledBytes, _ random: inout DataRandom,
                      item: (inout LabelledBytes, inout DataRandom) -> Void) {
        out.append("[", Label.open.rawValue)
        for i in 0..<random.inRange(1...maxListItems) {
            if i > 0 { out.append(",", Label.punct.rawValue) }
            item(&out, &random)
        }
        out.append("]", Label.close.rawValue)
    }

    private func word(_ length: ClosedRange<Int>, _ out: inout LabelledBytes, _ random: inout DataRandom) {
        for _ in 0..<random.inRange(length) {
            out.append(UInt8(ascii: "a") + UInt8(random.below(26)), Label.value.rawValue)
        }
    }

    private func digit(_ random: inout DataRandom) -> UInt8 { UInt8(ascii: "0") + UInt8(random.below(10)) }
}
