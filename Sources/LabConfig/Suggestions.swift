/// "Did you mean" for mistyped keys and tables.
///
/// Returns the candidate a typo most likely meant: the snake_case spelling of a camelCase word,
/// a candidate abbreviated by its initials (`lr`), a candidate containing the word (or contained in it), or the nearest by edit distance
/// (transpositions count once) within a small budget; nil when nothing is close.
func closestMatch(_ word: String, in candidates: [String]) -> String? {
    let snake = snakeCase(word)
    if snake != word, candidates.contains(snake) { return snake }
    let lower = word.lowercased()
    if lower != word, candidates.contains(lower) { return lower }
    if let acronym = candidates.first(where: { $0.contains("_") && initials($0) == lower }) { return acronym }
    let budget = word.count <= 3 ? 1 : max(2, word.count / 4)
    var best: (name: String, distance: Int)? = nil
    for c in candidates {
        let d = editDistance(lower, c)
        if d <= budget, d < (best?.distance ?? .max) { best = (c, d) }
    }
    if let best { return best.name }
    if word.count >= 3 {
        return candidates.first { $0.contains(lower) || (lower.contains($0) && $0.count >= 4) }
    }
    return nil
}

/// `hiddenSize` -> `hidden_size` (the rule that maps Swift field names to TOML keys).
func snakeCase(_ name: String) -> String {
    var out = ""
    for ch in name {
        if ch.isUppercase {
            if !out.isEmpty { out += "_" }
            out += ch.lowercased()
        } else {
            out.append(ch)
        }
    }
    return out
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    // d[i][j]: distance between x[..<i] and y[..<j].
    var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
    for i in 0...x.count { d[i][0] = i }
    for j in 0...y.count { d[0][j] = j }
    for i in 1...x.count {
        for j in 1...y.count {
            let cost = x[i - 1] == y[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[x.count][y.count]
}

/// `learning_rate` -> `lr`.
private func initials(_ name: String) -> String {
    String(name.split(separator: "_").compactMap(\.first))
}
