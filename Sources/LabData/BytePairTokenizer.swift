import Foundation

/// A byte-level byte-pair-encoding tokenizer, so experiments can compare byte and subword
/// routing.
///
/// Token ids 0..<256 are the bytes; id 256 + i is merge i, the concatenation of the two tokens
/// it joins. Training starts from bytes and repeatedly merges the most frequent adjacent pair
/// (ties: the smallest pair of ids, so training is deterministic) until the vocabulary holds
/// `vocabSize` tokens or no pair occurs twice. Merges never cross chunk boundaries: the text is
/// first cut into chunks of one optional space plus a run of letters, of digits or of
/// punctuation, or a run of other whitespace (`chunks(_:)`), so a token never spans two words.
/// Encoding applies the merges to each chunk in the order they were learnt.
public struct BytePairTokenizer: Equatable, Sendable {
    /// The pairs of token ids merged, in the order learnt; merge i makes token 256 + i.
    public let merges: [Pair]

    public struct Pair: Hashable, Sendable, Comparable {
        public var left: Int32
        public var right: Int32
        public init(_ left: Int32, _ right: Int32) { self.left = left; self.right = right }
        public static func < (a: Pair, b: Pair) -> Bool { (a.left, a.right) < (b.left, b.right) }
    }

    public init(merges: [Pair]) {
        precondition(merges.enumerated().allSatisfy { i, p in max(p.left, p.right) < 256 + Int32(i) },
                     "a merge may only join tokens made before it")
        self.merges = merges
    }

    /// 256 byte tokens plus one per merge.
    public var vocabSize: Int { 256 + merges.count }

    /// Learns up to `vocabSize - 256` merges from `text` (the train split: never the text a
    /// model is validated on).
    public static func train(on text: UnsafeBufferPointer<UInt8>, vocabSize: Int) -> BytePairTokenizer {
        precondition(vocabSize >= 256 && vocabSize <= 65_536, "vocabulary of 256 to 65536 tokens")
        // Distinct chunks with their counts, as symbol sequences.
        var counts: [ArraySlice<UInt8>: Int] = [:]
        for chunk in chunks(text) { counts[chunk, default: 0] += 1 }
        var words = counts.map { (symbols: $0.key.map { Int32($0) }, count: $0.value) }
        var pairs: [Pair: Int] = [:]
        for w in words { forEachPair(w.symbols) { pairs[$0, default: 0] += w.count } }
        var merges: [Pair] = []
        while 256 + merges.count < vocabSize {
            guard let best = pairs.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }), best.value >= 2 else { break }
            let made = Int32(256 + merges.count)
            merges.append(best.key)
            for i in words.indices where contains(words[i].symbols, best.key) {
                let n = words[i].count
                forEachPair(words[i].symbols) { pairs[$0, default: 0] -= n }
                words[i].symbols = merge(words[i].symbols, best.key, into: made)
                forEachPair(words[i].symbols) { pairs[$0, default: 0] += n }
            }
            pairs = pairs.filter { $0.value > 0 }
        }
        return BytePairTokenizer(merges: merges)
    }

    /// Token ids of `text`, chunk by chunk (a chunk's tokens are cached, so repeated words
    /// cost one lookup).
    public func encode(_ text: UnsafeBufferPointer<UInt8>) -> [UInt16] {
        let rank = Dictionary(uniqueKeysWithValues: merges.enumerated().map { ($1, $0) })
        var cache: [ArraySlice<UInt8>: [UInt16]] = [:]
        var out: [UInt16] = []
        out.reserveCapacity(text.count / 2)
        for chunk in BytePairTokenizer.chunks(text) {
            if let known = cache[chunk] { out += known; continue }
            var symbols = chunk.map { Int32($0) }
            // Apply the earliest-learnt merge present, until none applies.
            while true {
                var best: (rank: Int, pair: Pair)? = nil
                BytePairTokenizer.forEachPair(symbols) { p in
                    if let r = rank[p], r < (best?.rank ?? Int.max) { best = (r, p) }
                }
                guard let best else { break }
                symbols = BytePairTokenizer.merge(symbols, best.pair, into: Int32(256 + best.rank))
            }
            let ids = symbols.map { UInt16($0) }
            cache[chunk] = ids
            out += ids
        }
        return out
    }

    /// The bytes of each token id, built up through the merges.
    public var tokenBytes: [[UInt8]] {
        var bytes = (0..<256).map { [UInt8($0)] }
        for p in merges { bytes.append(bytes[Int(p.left)] + bytes[Int(p.right)]) }
        return bytes
    }

    /// The text of token ids (the inverse of `encode`).
    public func decode(_ ids: [UInt16]) -> [UInt8] {
        let bytes = tokenBytes
        return ids.flatMap { bytes[Int($0)] }
    }

    /// Cuts text into the units merges stay inside: an optional leading space and a run of
    /// word bytes (letters, bytes >= 0x80), of digits or of punctuation; or a run of other
    /// whitespace; any other byte alone.
    public static func chunks(_ text: UnsafeBufferPointer<UInt8>) -> [ArraySlice<UInt8>] {
        let all = ArraySlice(text)
        let end = text.endIndex
        /// A space directly before a non-space joins the chunk that follows it.
        func spaceBeforeWord(_ i: Int) -> Bool {
            text[i] == 0x20 && i + 1 < end && ByteCategory(text[i + 1]) != .whitespace
        }
        var out: [ArraySlice<UInt8>] = []
        var i = text.startIndex
        while i < end {
            let start = i
            if spaceBeforeWord(i) { i += 1 }
            let kind = ByteCategory(text[i])
            i += 1
            switch kind {
            case .other: break
            case .whitespace: while i < end, ByteCategory(text[i]) == .whitespace, !spaceBeforeWord(i) { i += 1 }
            default: while i < end, ByteCategory(text[i]) == kind { i += 1 }
            }
            out.append(all[start..<i])
        }
        return out
    }

    /// The tokenizer as saved with a run: `{"type": "byte-level-bpe", "vocab_size": V,
    /// "merges": [[left, right], ...]}` (token 256 + i joins the pair at index i).
    public var json: String {
        let pairs = merges.map { "[\($0.left),\($0.right)]" }.joined(separator: ",")
        return "{\"type\":\"byte-level-bpe\",\"vocab_size\":\(vocabSize),\"merges\":[\(pairs)]}\n"
    }

    /// Reads what `json` wrote; `source` names the text in the error.
    public init(json: String, source: String) throws {
        let bad = DataError.unreadable(path: source, reason: "not a byte-level-bpe tokenizer file")
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              object["type"] as? String == "byte-level-bpe", let list = object["merges"] as? [[Int]] else { throw bad }
        var merges: [Pair] = []
        for (i, p) in list.enumerated() {
            guard p.count == 2, p.allSatisfy({ (0..<(256 + i)).contains($0) }) else { throw bad }
            merges.append(Pair(Int32(p[0]), Int32(p[1])))
        }
        self.init(merges: merges)
    }

    static func forEachPair(_ symbols: [Int32], _ body: (Pair) -> Void) {
        guard symbols.count >= 2 else { return }
        for k in 1..<symbols.count { body(Pair(symbols[k - 1], symbols[k])) }
    }

    static func contains(_ symbols: [Int32], _ pair: Pair) -> Bool {
        guard symbols.count >= 2 else { return false }
        for k in 1..<symbols.count where symbols[k - 1] == pair.left && symbols[k] == pair.right { return true }
        return false
    }

    /// `symbols` with every non-overlapping occurrence of `pair`, left to right, replaced by `made`.
    static func merge(_ symbols: [Int32], _ pair: Pair, into made: Int32) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(symbols.count)
        var k = 0
        while k < symbols.count {
            if k + 1 < symbols.count && symbols[k] == pair.left && symbols[k + 1] == pair.right {
                out.append(made)
                k += 2
            } else {
                out.append(symbols[k])
                k += 1
            }
        }
        return out
    }
}
