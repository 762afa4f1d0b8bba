import Foundation
import Testing
@testable import LabAnalysis

/// The statistics behind every comparison, against values computed independently of the code.
@Suite struct StatisticsTests {
    /// Guards against a wrong t quantile (a bad continued fraction, the wrong tail, df off by
    /// one): t(0.975, df) must match the printed table of STATISTICS.md to its 3 decimals.
    @Test func tQuantilesMatchTheTable() {
        let table: [(Double, Double)] = [(1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (5, 2.571), (6, 2.447),
                                         (7, 2.365), (8, 2.306), (9, 2.262), (10, 2.228), (12, 2.179), (15, 2.131),
                                         (20, 2.086), (30, 2.042), (1e7, 1.960)]
        for (df, t) in table {
            let q = StudentT.quantile(0.975, df: df)
            #expect(abs(q - t) < 0.0006, "t(0.975, \(df)) = \(q), table \(t)")
            #expect(abs(StudentT.quantile(0.025, df: df) + q) < 1e-9, "symmetry at df \(df)")
        }
    }

    /// Guards against a CDF that is only right near the table: closed forms at df = 1 (Cauchy:
    /// 1/2 + atan(t)/pi) and df = 2 (1/2 + t / (2 sqrt(2 + t^2))).
    @Test func tDistributionMatchesClosedForms() {
        for t in [-30.0, -2, -0.3, 0, 0.7, 1, 5, 100] {
            #expect(abs(StudentT.cdf(t, df: 1) - (0.5 + atan(t) / Double.pi)) < 1e-12, "df 1, t \(t)")
            #expect(abs(StudentT.cdf(t, df: 2) - (0.5 + t / (2 * (2 + t * t).squareRoot()))) < 1e-12, "df 2, t \(t)")
        }
        // I_x(1, 1) = x and I_x(2, 1) = x^2.
        #expect(abs(regularizedIncompleteBeta(x: 0.3, a: 1, b: 1) - 0.3) < 1e-13)
        #expect(abs(regularizedIncompleteBeta(x: 0.8, a: 2, b: 1) - 0.64) < 1e-13)
    }

    /// Guards against a paired interval computed from the two means or with the wrong sd or
    /// quantile: the zero-expert differences of ablations.md (+0.0151, +0.0179, +0.0150) give
    /// 0.0160 +- 4.303 * 0.0016462 / sqrt(3) = [0.011911, 0.020089] (computed by hand), a finding;
    /// the other machine's (+0.0031, +0.0054, -0.0029) give [-0.008778, 0.012512], not resolved.
    @Test func pairedIntervalMatchesTheHandComputation() throws {
        let a = [1: 1.8700, 2: 1.8800, 3: 1.8650, 4: 1.9]   // seed 4 has no partner
        let b = [1: 1.8549, 2: 1.8621, 3: 1.8500]
        let d = try #require(PairedDifference(a, minus: b))
        #expect(d.seeds == [1, 2, 3] && d.n == 3)
        #expect(abs(d.mean - 0.016) < 1e-12)
        #expect(abs(d.sd! - 0.0016462077633) < 1e-9)
        let i = try #require(d.interval)
        #expect(abs(i.lowerBound - 0.0119105932) < 1e-8 && abs(i.upperBound - 0.0200894068) < 1e-8, "\(i)")
        #expect(d.isResolved && d.bootstrap == nil)

        let other = PairedDifference(seeds: [1, 2, 3], differences: [0.0031, 0.0054, -0.0029])
        #expect(abs(other.interval!.lowerBound + 0.0087784745) < 1e-8 && abs(other.interval!.upperBound - 0.0125118079) < 1e-8)
        #expect(!other.isResolved)
        #expect(PairedDifference([1: 1.0], minus: [2: 1.0]) == nil)
        #expect(PairedDifference(seeds: [1], differences: [0.1]).interval == nil)
    }

    /// Guards against a biased or unseeded bootstrap: on the fixed seed it is reproducible, and
    /// for d = 1...8 its percentile interval matches the exact bootstrap distribution of the
    /// mean (the distribution of a sum of 8 draws from {1..8}, by convolution) to within one
    /// step of that distribution (1/8) at both ends.
    @Test func bootstrapMatchesTheExactResamplingDistribution() {
        let d = (1...8).map(Double.init)
        let first = percentileBootstrap(d, resamples: 10_000, level: 0.95, seed: PairedDifference.bootstrapSeed)
        let again = percentileBootstrap(d, resamples: 10_000, level: 0.95, seed: PairedDifference.bootstrapSeed)
        #expect(first == again)
        // Exact distribution of the sum of 8 independent uniform draws from {1, ..., 8}.
        var counts: [Double] = [1]
        for _ in 0..<8 {
            var next = [Double](repeating: 0, count: counts.count + 8)
            for (s, c) in counts.enumerated() { for v in 1...8 { next[s + v] += c } }
            counts = next
        }
        let total = counts.reduce(0, +)
        func exactQuantile(_ p: Double) -> Double {
            var cumulative = 0.0
            for (s, c) in counts.enumerated() {
                cumulative += c / total
                if cumulative >= p { return Double(s) / 8 }
            }
            return 8
        }
        #expect(abs(first.lowerBound - exactQuantile(0.025)) <= 0.125 + 1e-9, "\(first) vs \(exactQuantile(0.025))")
        #expect(abs(first.upperBound - exactQuantile(0.975)) <= 0.125 + 1e-9, "\(first) vs \(exactQuantile(0.975))")
        #expect(percentileBootstrap([0.25, 0.25, 0.25], resamples: 100, level: 0.95, seed: 1) == 0.25...0.25)
        let paired = PairedDifference(seeds: Array(1...8), differences: d)
        #expect(paired.bootstrap == first)
        #expect(PairedDifference(seeds: Array(1...7), differences: Array(d.prefix(7))).bootstrap == nil)
    }

    /// Guards against drift in the summaries the tables use: sample sd uses n - 1, quantiles
    /// interpolate, non-finite values are left out.
    @Test func summariesOfHandMadeValues() {
        #expect(mean([1, 2, .nan, 3]) == 2)
        #expect(abs(sampleStandardDeviation([2, 4, 4, 4, 5, 5, 7, 9])! - 2.138089935) < 1e-8)
        #expect(populationStandardDeviation([2, 4, 4, 4, 5, 5, 7, 9]) == 2)
        #expect(median([5, 1, 3, 2]) == 2.5)
        #expect(quantile(sorted: [0, 10], 0.25) == 2.5)
    }
}

/// Helpers the reports share.
@Suite struct TableHelperTests {
    /// Guards against a leading moving average (one that looks ahead) in settling.
    @Test func movingAverageIsTrailing() {
        #expect(movingAverage([1, 2, 3, 4], window: 2) == [1, 1.5, 2.5, 3.5])
        #expect(movingAverage([1, 2], window: 1) == [1, 2])
    }

    /// Guards against ragged Markdown tables.
    @Test func markdownTableAlignsColumns() {
        let t = markdownTable([["a", "bb"], ["ccc", "d"]])
        #expect(t == "| a   | bb |\n|-----|----|\n| ccc | d  |\n")
    }

    /// Guards against arms split by seed or named by a run: `-s<seed>` is dropped from names.
    @Test func seedStemDropsTheSeedSuffix() {
        #expect(seedStem("zero-experts-top2-s3") == "zero-experts-top2")
        #expect(seedStem("quickstart") == "quickstart")
        #expect(seedStem("a-sb") == "a-sb")
    }
}
