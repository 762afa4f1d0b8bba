/// The bookkeeping of BPE training: distinct chunks ("words") with their counts, the count of
/// every adjacent pair of symbols, which words hold each pair, and a max-heap of pairs by count.
///
/// A merge touches only the words that hold its pair (found through `where`), and pushes a new
/// heap entry for each pair whose count it changed; stale entries (whose count no longer
/// matches) are skipped when popped. Ties between equal counts go to the smallest pair of ids,
/// so training is deterministic.
struct PairMerger {
    typealias Pair = BytePairTokenizer.Pair
    var words: [(symbols: [Int32], count: Int)]
    var pairs: [Pair: Int] = [:]
    /// Words that held each pair when it was counted (may list a word twice or stale).
    var holders: [Pair: [Int32]] = [:]
    var heap = PairHeap()
    var banned: Set<Pair> = []
    /// The merge number at which each word was last rewritten (to visit a word once per merge).
    var visited: [Int]
    var mergeNumber = 0

    init(words: [(symbols: [Int32], count: Int)]) {
        self.words = words
        visited = [Int](repeating: -1, count: words.count)
        for (w, word) in words.enumerated() {
            BytePairTokenizer.forEachPair(word.symbols) { p in
                pairs[p, default: 0] += word.count
                holders[p, default: []].append(Int32(w))
            }
        }
        for (p, n) in pairs { heap.push(n, p) }
    }

    /// The most frequent pair that occurs at least twice and is not banned, or nil.
    mutating func popBest() -> Pair? {
        while let (n, p) = heap.pop() {
            guard pairs[p] == n, !banned.contains(p) else { continue }
            return n >= 2 ? p : nil
        }
        return nil
    }

    /// Never merge `pair`.
    mutating func ban(_ pair: Pair) { banned.insert(pair) }

    /// Replaces every occurrence of `pair` by `made`, updating the counts.
    mutating func merge(_ pair: Pair, into made: Int32) {
        mergeNumber += 1
        var changed: Set<Pair> = []
        for w32 in holders[pair] ?? [] {
            let w = Int(w32)
            guard visited[w] != mergeNumber, BytePairTokenizer.contains(words[w].symbols, pair) else { continue }
            visited[w] = mergeNumber
            let n = words[w].count
            BytePairTokenizer.forEachPair(words[w].symbols) { pairs[$0, default: 0] -= n; changed.insert($0) }
            words[w].symbols = BytePairTokenizer.merge(words[w].symbols, pair, into: made)
            BytePairTokenizer.forEachPair(words[w].symbols) { p in
                pairs[p, default: 0] += n
                changed.insert(p)
                holders[p, default: []].append(w32)
            }
        }
        holders[pair] = nil
        for p in changed {
            let n = pairs[p] ?? 0
            if n > 0 { heap.push(n, p) } else { pairs[p] = nil }
        }
    }
}

/// A binary max-heap of (count, pair): larger count first, then the smaller pair.
struct PairHeap {
    typealias Pair = BytePairTokenizer.Pair
    private var items: [(Int, Pair)] = []

    private static func above(_ a: (Int, Pair), _ b: (Int, Pair)) -> Bool {
        a.0 != b.0 ? a.0 > b.0 : a.1 < b.1
    }

    mutating func push(_ count: Int, _ pair: Pair) {
        items.append((count, pair))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.above(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (Int, Pair)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < items.count, Self.above(items[l], items[best]) { best = l }
            if r < items.count, Self.above(items[r], items[best]) { best = r }
            if best == i { break }
            items.swapAt(i, best)
            i = best
        }
        return top
    }
}

/// A chunk of a text as a dictionary key: hashed and compared by its bytes, stored as a range
/// into a buffer that must outlive the dictionary.
struct ChunkKey: Hashable {
    let base: UnsafePointer<UInt8>
    let range: Range<Int>

    init(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        base = text.baseAddress!
        self.range = range
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count) }

    func hash(into hasher: inout Hasher) { hasher.combine(bytes: bytes) }

    static func == (a: ChunkKey, b: ChunkKey) -> Bool {
        a.range.count == b.range.count && a.bytes.elementsEqual(b.bytes)
    }
}
