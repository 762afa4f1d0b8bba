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
    /// model is validated on). With `distinctTokens`, a merge whose bytes equal an existing
    /// token's is skipped (its pair is never merged), so every token id has its own byte string,
    /// as the `tokenizers` library's vocabulary (a map from strings) needs.
    public static func train(on text: UnsafeBufferPointer<UInt8>, vocabSize: Int,
                             distinctTokens: Bool = false) -> BytePairTokenizer {
        precondition(vocabSize >= 256 && vocabSize <= 65_536, "vocabulary of 256 to 65536 tokens")
        // Distinct chunks with their counts, as symbol sequences.
        var counts: [ChunkKey: Int] = [:]
        forEachChunk(text) { counts[ChunkKey(text, $0), default: 0] += 1 }
        var merger = PairMerger(words: counts.map { key, count in
            (symbols: UnsafeBufferPointer(rebasing: text[key.range]).map { Int32($0) }, count: count)
        })
        var merges: [Pair] = []
        var known = Set((0..<256).map { [UInt8($0)] }), bytes = (0..<256).map { [UInt8($0)] }
        while 256 + merges.count < vocabSize, let best = merger.popBest() {
            let joined = bytes[Int(best.left)] + bytes[Int(best.right)]
            if distinctTokens && known.contains(joined) { merger.ban(best); continue }
            known.insert(joined)
            bytes.append(joined)
            merger.merge(best, into: Int32(256 + merges.count))
            merges.append(best)
        }
        return BytePairTokenizer(merges: merges)
    }

    /// Token ids of `text`, chunk by chunk (a chunk's tokens are cached, so repeated words
    /// cost one lookup).
    public func encode(_ text: UnsafeBufferPointer<UInt8>) -> [UInt16] {
        var encoder = Encoder(self)
        var out: [UInt16] = []
        out.reserveCapacity(text.count / 2)
        encoder.encode(text) { out.append(contentsOf: $0) }
        return out
    }

    /// Encodes many texts with one merge table and one chunk cache; the chunks' bytes must stay
    /// valid while the encoder lives (the cache keys point into them).
    public struct Encoder {
        let rank: [Pair: Int]
        var cache: [ChunkKey: [UInt16]] = [:]

        public init(_ tokenizer: BytePairTokenizer) {
            rank = Dictionary(uniqueKeysWithValues: tokenizer.merges.enumerated().map { ($1, $0) })
        }

        /// Calls `emit` with the token ids of each chunk of `text`, in order.
        public mutating func encode(_ text: UnsafeBufferPointer<UInt8>, _ emit: ([UInt16]) -> Void) {
            BytePairTokenizer.forEachChunk(text) { range in
                let key = ChunkKey(text, range)
                if let known = cache[key] { emit(known); return }
                var symbols = text[range].map { Int32($0) }
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
                if cache.count >= 1 << 20 { cache.removeAll(keepingCapacity: true) }   // bounds memory on huge corpora
                cache[key] = ids
                emit(ids)
            }
        }
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
        var out: [ArraySlice<UInt8>] = []
        forEachChunk(text) { out.append(ArraySlice(text[$0])) }
        return out
    }

    /// Calls `body` with the index range of each chunk of `text` (see `chunks`), in order.
    @inline(__always)
    public static func forEachChunk(_ text: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let end = text.endIndex
        /// A space directly before a non-space joins the chunk that follows it.
        func spaceBeforeWord(_ i: Int) -> Bool {
            text[i] == 0x20 && i + 1 < end && ByteCategory(text[i + 1]) != .whitespace
        }
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
            body(start..<i)
        }
    }

    /// The tokenizer as saved with a run: `{"type": "byte-level-bpe", "vocab_size": V,
    /// "merges": [[left, right], ...]}` (token 256 + i joins the pair at index i).
    public var json: String {
        let pairs = merges.map { "[\($0.left),\($0.right)]" }.joined(separator: ",")
        return "{\"type\":\"byte-level-bpe\",\"vocab_size\":\(vocabSize),\"merges\":[\(pairs)]}\n"
    }

    /// Reads what `json` or `huggingFaceJSON` wrote; `source` names the text in the error.
    public init(json: String, source: String) throws {
        let bad = DataError.unreadable(path: source, reason: "not a byte-level-bpe tokenizer file")
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { throw bad }
        var list: [[Int]]
        if object["type"] as? String == "byte-level-bpe", let pairs = object["merges"] as? [[Int]] {
            list = pairs
        } else if let model = object["model"] as? [String: Any], model["type"] as? String == "BPE",
                  let vocab = model["vocab"] as? [String: Int], let pairs = model["merges"] as? [[String]] {
            list = []
            for p in pairs {
                guard p.count == 2, let l = vocab[p[0]], let r = vocab[p[1]] else { throw bad }
                list.append([l, r])
            }
        } else {
            throw bad
        }
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
