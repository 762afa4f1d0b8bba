import Foundation

/// Random words, some of which repeat an earlier word exactly: in-context retrieval.
///
/// The stream is a sequence of spans, each `minLength...maxLength` random lowercase letters
/// and a closing space. With probability `copyProbability` a span instead repeats, byte for
/// byte, one of the previous `lookbackSpans` spans. A fresh span never shares its first
/// `copyStartLength` letters with any of those, so the first `copyStartLength` bytes of a repeat
/// identify its source and the rest follows with certainty.
///
/// Labels: `novel` (fresh spans), `copy-start` (the first `copyStartLength` bytes of a repeat:
/// hard, the model cannot know a repeat begins until it has matched them), `copy` (the rest of
/// a repeat, space included: entropy 0 for a model that found the source).
///
/// Ideal allocation of compute: novel letters are incompressible (about log 26 nats whatever
/// the model does), so compute there is wasted; copy tokens need the work of finding the
/// source, which happens at copy-start (attention matches the prefix, the FFN must decide "this
/// is a repeat"); once found, continuing a copy is cheap. So copy-start deserves the most
/// experts, copy and novel the fewest.
///
/// Difficulty order: copy (0: certain once the source is found) < copy-start (1: a repeat
/// cannot be foreseen, but once it starts the recent spans narrow the next byte down) < novel
/// (2: log 26 per letter whatever the model does).
public struct CopyGenerator: SyntheticGenerator {
    public var minLength = 4
    public var maxLength = 12
    public var copyProbability = 0.4
    public var lookbackSpans = 8
    public var copyStartLength = 2

    public enum Label: UInt8, CaseIterable, Sendable {
        case novel, copyStart, copy
    }

    /// One repeat: `length` bytes at `start` equal the bytes at `source` (`source + length <= start`).
    public struct Repeat: Equatable, Sendable {
        public var start: Int
        public var source: Int
        public var length: Int
    }

    public init() {}

    public var name: String { "copy" }
    public var labelNames: [String] { ["novel", "copy-start", "copy"] }

    public func analyticEntropy(label: Int) -> Double? {
        label == Int(Label.copy.rawValue) ? 0 : nil
    }

    public var difficulty: [Int] { [2, 1, 0] }

    public func generate(bytes: Int, seed: UInt64) -> (tokens: [UInt8], labels: [UInt8]) {
        let (tokens, labels, _) = generateWithRepeats(bytes: bytes, seed: seed)
        return (tokens, labels)
    }

    /// `generate` plus where each repeat came from (repeats cut by the end are shortened).
    public func generateWithRepeats(bytes: Int, seed: UInt64) -> (tokens: [UInt8], labels: [UInt8], repeats: [Repeat]) {
        precondition(copyStartLength >= 1 && minLength > copyStartLength && maxLength >= minLength,
                     "spans must outlast a copy start of at least one byte")
        precondition(lookbackSpans >= 1 && Double(lookbackSpans) * 2 < pow(26, Double(copyStartLength)),
                     "too few distinct prefixes for the lookback")
        var random = DataRandom(seed: seed)
        var out = LabelledBytes(capacity: bytes)
        var spans: [Range<Int>] = []        // every span so far, space included
        var repeats: [Repeat] = []
        while out.count < bytes {
            let recent = spans.suffix(lookbackSpans)
            let start = out.count
            if !recent.isEmpty && random.chance(copyProbability) {
                let source = recent[recent.startIndex + random.below(recent.count)]
                for (i, k) in source.enumerated() {
                    out.append(out.tokens[k], (i < copyStartLength ? Label.copyStart : Label.copy).rawValue)
                }
                repeats.append(Repeat(start: start, source: source.lowerBound, length: source.count))
            } else {
                var letters: [UInt8]
                repeat {
                    letters = (0..<random.inRange(minLength...maxLength)).map { _ in
                        UInt8(ascii: "a") + UInt8(random.below(26))
                    }
                } while recent.contains { Array(out.tokens[$0.prefix(copyStartLength)]) == Array(letters.prefix(copyStartLength)) }
                for letter in letters { out.append(letter, Label.novel.rawValue) }
                out.append(UInt8(ascii: " "), Label.novel.rawValue)
            }
            spans.append(start..<out.count)
        }
        let cut = repeats.compactMap { r -> Repeat? in
            r.start < bytes ? Repeat(start: r.start, source: r.source, length: min(r.length, bytes - r.start)) : nil
        }
        let (tokens, labels) = out.truncated(to: bytes)
        return (tokens, labels, cut)
    }
}
