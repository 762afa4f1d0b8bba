import LabKernels

/// Counts of tokens by (difficulty level, FFN experts used): `count[level * columns + c]`.
///
/// Both variables take few values, so Spearman's rank correlation is computed from this table
/// (mid-ranks for ties) instead of from a list of tokens, and a bootstrap replicate is a sum of
/// tables.
public struct ContingencyTable: Equatable, Sendable {
    /// Difficulty levels (rows).
    public let levels: Int
    /// FFN-expert counts 0..<columns.
    public let columns: Int
    public var count: [Int]

    public init(levels: Int, columns: Int) {
        self.levels = levels
        self.columns = columns
        count = [Int](repeating: 0, count: levels * columns)
    }

    public mutating func add(level: Int, experts: Int, times: Int = 1) {
        count[level * columns + experts] += times
    }

    public mutating func add(_ other: ContingencyTable) {
        for i in count.indices { count[i] += other.count[i] }
    }

    public var total: Int { count.reduce(0, +) }

    /// Spearman's rho between level and experts, ties given their mid-rank (the Pearson
    /// correlation of the mid-ranks). NaN when either variable is constant.
    public var spearman: Double {
        var rowTotals = [Int](repeating: 0, count: levels)
        var columnTotals = [Int](repeating: 0, count: columns)
        for i in 0..<levels {
            for j in 0..<columns {
                rowTotals[i] += count[i * columns + j]
                columnTotals[j] += count[i * columns + j]
            }
        }
        let n = Double(total)
        guard n > 1 else { return .nan }
        let mean = (n + 1) / 2
        // Centred mid-rank of each level and each column.
        let rx = ContingencyTable.centredMidRanks(rowTotals, mean: mean)
        let ry = ContingencyTable.centredMidRanks(columnTotals, mean: mean)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in 0..<levels { sxx += Double(rowTotals[i]) * rx[i] * rx[i] }
        for j in 0..<columns { syy += Double(columnTotals[j]) * ry[j] * ry[j] }
        for i in 0..<levels {
            for j in 0..<columns where count[i * columns + j] > 0 {
                sxy += Double(count[i * columns + j]) * rx[i] * ry[j]
            }
        }
        guard sxx > 0, syy > 0 else { return .nan }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Mid-rank minus `mean` of each value with `totals[v]` occurrences, values ascending.
    static func centredMidRanks(_ totals: [Int], mean: Double) -> [Double] {
        var below = 0
        return totals.map { n in
            defer { below += n }
            return Double(below) + Double(n + 1) / 2 - mean
        }
    }
}

/// A statistic with its confidence interval.
public struct Estimate: Equatable, Sendable {
    public var value: Double
    public var low: Double
    public var high: Double
    public init(value: Double, low: Double, high: Double) {
        self.value = value; self.low = low; self.high = high
    }
}

/// Spearman's rho of the pooled tables with a percentile bootstrap interval over clusters.
///
/// Tokens of one evaluation sequence are not independent (a segment of the mixture spans
/// dozens of them), so the resampling unit is the sequence: each of `resamples` replicates
/// draws as many sequences as there are, with replacement, and pools their tables. The
/// interval holds the central `level` of the replicates' rho (replicates where rho is
/// undefined are left out). Seeded, so a report is reproducible.
public func bootstrapSpearman(_ clusters: [ContingencyTable], resamples: Int, level: Double = 0.95,
                              seed: UInt64 = 0x5EED) -> Estimate {
    guard let first = clusters.first else { return Estimate(value: .nan, low: .nan, high: .nan) }
    var pooled = ContingencyTable(levels: first.levels, columns: first.columns)
    for c in clusters { pooled.add(c) }
    var random = LabRandom(seed: seed)
    var replicates: [Double] = []
    replicates.reserveCapacity(resamples)
    for _ in 0..<resamples {
        var table = ContingencyTable(levels: first.levels, columns: first.columns)
        for _ in clusters.indices { table.add(clusters[random.nextInt(below: clusters.count)]) }
        let rho = table.spearman
        if !rho.isNaN { replicates.append(rho) }
    }
    guard !replicates.isEmpty else { return Estimate(value: pooled.spearman, low: .nan, high: .nan) }
    replicates.sort()
    let tail = (1 - level) / 2
    return Estimate(value: pooled.spearman, low: quantile(replicates, tail), high: quantile(replicates, 1 - tail))
}

/// The `q` quantile of sorted values, interpolating linearly between order statistics.
func quantile(_ sorted: [Double], _ q: Double) -> Double {
    let position = q * Double(sorted.count - 1)
    let i = Int(position.rounded(.down))
    let j = min(i + 1, sorted.count - 1)
    return sorted[i] + (position - Double(i)) * (sorted[j] - sorted[i])
}
