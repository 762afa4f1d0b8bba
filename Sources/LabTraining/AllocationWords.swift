import LabData
import LabKernels
import LabRecords

/// Letters of function words against letters of content words in byte-level text: LongCat-
/// Flash's observation that shallow layers give function words fewer FFN experts, at bytes.
///
/// A word is a maximal run of letters within a sampled sequence; runs that touch either end
/// of the sequence are left out (they may be cut). A word is a function word when its lower
/// case is in `functionWords` (English articles, pronouns, prepositions, conjunctions and
/// auxiliaries, with the early-modern forms of Shakespeare and the King James Bible).
public struct WordAllocation: Sendable {
    /// Letters counted in function and in content words.
    public var functionLetters: Int
    public var contentLetters: Int
    /// Mean FFN experts per letter in each layer, then summed over layers (L + 1 values).
    public var functionWords: [Double]
    public var contentWords: [Double]
    /// contentWords - functionWords per layer and summed, with 95% percentile bootstrap
    /// intervals over sequences.
    public var difference: [Estimate]

    public static let functionWords: Set<String> = [
        "a", "an", "the", "and", "or", "but", "nor", "if", "so", "as", "than", "then", "that", "this", "these",
        "those", "of", "to", "in", "on", "at", "by", "for", "with", "from", "into", "upon", "unto", "not", "no",
        "i", "me", "my", "mine", "you", "your", "thou", "thee", "thy", "thine", "ye", "he", "him", "his", "she",
        "her", "it", "its", "we", "us", "our", "they", "them", "their", "who", "whom", "which", "what", "is",
        "am", "are", "art", "was", "were", "be", "been", "do", "does", "doth", "did", "have", "hath", "has",
        "had", "shall", "will", "would", "should", "may", "might", "must", "can", "could", "o",
    ]

    /// The split of the sampled letters, or nil when the tokens are not bytes (a subword
    /// corpus) or no word lies inside a sequence.
    static func measure(rows: [TokenSampleRow], layers: Int, resamples: Int) -> WordAllocation? {
        guard !rows.isEmpty, rows.allSatisfy({ (0..<256).contains($0.token) }) else { return nil }
        // Per sequence: byte and experts per layer of each position.
        var sequences: [Int: [Int: (byte: UInt8, experts: [Int])]] = [:]
        for row in rows {
            var token = sequences[row.sample, default: [:]][row.position] ?? (UInt8(row.token), [Int](repeating: 0, count: layers))
            if row.layer < layers { token.experts[row.layer] = row.ffnExperts }
            sequences[row.sample, default: [:]][row.position] = token
        }
        // Per sequence: [function, content] x (letters, experts summed per layer and total).
        let sums = sequences.keys.sorted().map { sample -> [[Double]] in
            let tokens = sequences[sample]!
            let positions = tokens.keys.sorted()
            var out = [[Double]](repeating: [Double](repeating: 0, count: layers + 2), count: 2)
            var start = 0
            while start < positions.count {
                guard ByteCategory(tokens[positions[start]]!.byte) == .letter else { start += 1; continue }
                var end = start
                while end + 1 < positions.count, positions[end + 1] == positions[end] + 1,
                      ByteCategory(tokens[positions[end + 1]]!.byte) == .letter { end += 1 }
                if start > 0 && end < positions.count - 1 {
                    let letters = positions[start...end].map { tokens[$0]! }
                    let word = String(decoding: letters.map(\.byte), as: UTF8.self).lowercased()
                    let k = functionWords.contains(word) ? 0 : 1
                    for letter in letters {
                        out[k][0] += 1
                        for l in 0..<layers { out[k][l + 1] += Double(letter.experts[l]) }
                        out[k][layers + 1] += Double(letter.experts.reduce(0, +))
                    }
                }
                start = end + 1
            }
            return out
        }
        let pooled = pool(sums, Array(sums.indices))
        guard pooled[0][0] > 0, pooled[1][0] > 0 else { return nil }
        // Bootstrap the difference of means over sequences.
        var random = LabRandom(seed: 0x3707D)
        var replicates = [[Double]](repeating: [], count: layers + 1)
        for _ in 0..<resamples {
            let r = pool(sums, sums.indices.map { _ in random.nextInt(below: sums.count) })
            guard r[0][0] > 0, r[1][0] > 0 else { continue }
            for i in 0...layers { replicates[i].append(r[1][i + 1] / r[1][0] - r[0][i + 1] / r[0][0]) }
        }
        let means = pooled.map { s in (1...layers + 1).map { s[$0] / s[0] } }
        let difference = (0...layers).map { i -> Estimate in
            let sorted = replicates[i].sorted()
            let value = means[1][i] - means[0][i]
            return sorted.isEmpty ? Estimate(value: value, low: .nan, high: .nan)
                : Estimate(value: value, low: quantile(sorted, 0.025), high: quantile(sorted, 0.975))
        }
        return WordAllocation(functionLetters: Int(pooled[0][0]), contentLetters: Int(pooled[1][0]),
                              functionWords: means[0], contentWords: means[1], difference: difference)
    }

    /// Element-wise sum of the chosen sequences' sums.
    private static func pool(_ sums: [[[Double]]], _ chosen: [Int]) -> [[Double]] {
        var total = [[Double]](repeating: [Double](repeating: 0, count: sums[0][0].count), count: 2)
        for s in chosen {
            for k in 0..<2 { for i in total[k].indices { total[k][i] += sums[s][k][i] } }
        }
        return total
    }
}
