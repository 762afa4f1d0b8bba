import Foundation

/// The difference between two arms over matched seeds: d_s = metric_A(s) - metric_B(s) for
/// every seed s that both arms ran, with its mean, sample standard deviation, the Student-t 95%
/// interval over the d_s, and (from `bootstrapMinimumSeeds` seeds) a percentile bootstrap
/// interval over seeds. See /work/shared/STATISTICS.md.
public struct PairedDifference: Sendable, Equatable, Codable {
    /// The seeds behind the difference, ascending, and d_s for each.
    public var seeds: [Int]
    public var differences: [Double]
    /// Mean of d_s.
    public var mean: Double
    /// Sample standard deviation of d_s; nil for one seed.
    public var sd: Double?
    /// mean +- t(0.975, n-1) sd / sqrt(n); nil for fewer than two seeds.
    public var interval: ClosedRange<Double>?
    /// Percentile 2.5 / 97.5 of the mean over `bootstrapResamples` resamples of the seeds;
    /// nil below `bootstrapMinimumSeeds` seeds (too narrow there).
    public var bootstrap: ClosedRange<Double>?

    /// The confidence level of both intervals.
    public static let level = 0.95
    /// Resamples of the bootstrap, and the seed of its generator (fixed, so a table is reproducible).
    public static let bootstrapResamples = 10_000
    public static let bootstrapSeed: UInt64 = 0x5EED_2026
    /// The smallest number of seeds that gets a bootstrap interval.
    public static let bootstrapMinimumSeeds = 8

    /// n: the number of paired seeds.
    public var n: Int { differences.count }

    /// True when the t interval excludes 0 (only then is the difference a finding).
    public var isResolved: Bool {
        guard let interval else { return false }
        return interval.lowerBound > 0 || interval.upperBound < 0
    }

    /// Pairs `a` and `b` by seed (seeds only one arm ran are left out, as are non-finite values);
    /// nil when no seed is shared.
    public init?(_ a: [Int: Double], minus b: [Int: Double]) {
        let shared = Set(a.keys).intersection(b.keys).filter { a[$0]!.isFinite && b[$0]!.isFinite }.sorted()
        guard !shared.isEmpty else { return nil }
        self.init(seeds: shared, differences: shared.map { a[$0]! - b[$0]! })
    }

    /// The statistics of already paired differences d_s (one per seed).
    public init(seeds: [Int], differences d: [Double]) {
        precondition(seeds.count == d.count && !d.isEmpty, "PairedDifference needs one difference per seed")
        self.seeds = seeds
        differences = d
        mean = d.reduce(0, +) / Double(d.count)
        sd = sampleStandardDeviation(d)
        if let sd {
            let half = StudentT.quantile(0.5 + Self.level / 2, df: Double(d.count - 1)) * sd / Double(d.count).squareRoot()
            interval = (mean - half)...(mean + half)
        }
        if d.count >= Self.bootstrapMinimumSeeds {
            bootstrap = percentileBootstrap(d, resamples: Self.bootstrapResamples, level: Self.level, seed: Self.bootstrapSeed)
        }
    }
}

/// The percentile bootstrap interval of the mean of `xs`: draw `resamples` samples of size n
/// with replacement (indices from a SplitMix64 generator seeded with `seed`), take each one's
/// mean, and return the (1 - level)/2 and (1 + level)/2 quantiles of those means.
public func percentileBootstrap(_ xs: [Double], resamples: Int, level: Double, seed: UInt64) -> ClosedRange<Double> {
    precondition(!xs.isEmpty && resamples > 0, "percentileBootstrap needs values and resamples")
    var generator = SplitMix64(seed: seed)
    let n = xs.count
    var means = [Double](repeating: 0, count: resamples)
    for r in 0..<resamples {
        var sum = 0.0
        for _ in 0..<n { sum += xs[Int(generator.next() % UInt64(n))] }
        means[r] = sum / Double(n)
    }
    means.sort()
    return quantile(sorted: means, (1 - level) / 2)!...quantile(sorted: means, (1 + level) / 2)!
}

/// SplitMix64 (Steele, Lea and Flood 2014): a small generator whose stream depends only on its
/// seed, on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
