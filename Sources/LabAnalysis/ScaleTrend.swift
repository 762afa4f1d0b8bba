import Foundation

// The trend of a paired difference over model sizes (the scale ladder): a weighted straight
// line through the rungs' differences against log10(activated parameters per token), and how
// sure that line is. Each rung gives a mean difference d_i with a 95% Student-t interval over
// n_i seeds; its standard error is se_i = half-width / t(0.975, n_i - 1). The fit weighs rung i
// by 1 / se_i^2. Its uncertainty comes from a parametric bootstrap: every draw moves each d_i by
// se_i times a Student-t variate with n_i - 1 degrees of freedom (the rung's own sampling
// error, heavy-tailed as its interval is) and refits. Percentiles of the draws give the slope's
// interval and the interval of the size at which the line reaches 0.

/// One rung of one question: its size, the paired difference and its 95% t interval over n seeds.
public struct TrendPoint: Sendable, Equatable {
    public var label: String
    public var activatedParams: Double
    public var difference: Double
    public var interval: ClosedRange<Double>
    public var seeds: Int

    public init(label: String, activatedParams: Double, difference: Double, interval: ClosedRange<Double>, seeds: Int) {
        self.label = label; self.activatedParams = activatedParams; self.difference = difference
        self.interval = interval; self.seeds = seeds
    }

    /// The standard error behind the interval (half-width over the t quantile).
    public var standardError: Double {
        (interval.upperBound - interval.lowerBound) / 2 / StudentT.quantile(0.975, df: Double(seeds - 1))
    }
}

/// A straight line d = intercept + slope * log10(activated params).
public struct TrendLine: Sendable, Equatable {
    public var intercept: Double, slope: Double

    public func difference(atParams p: Double) -> Double { intercept + slope * log10(p) }

    /// Activated parameters at which the line reaches 0, going up in size from `smallest` (the
    /// smallest rung); nil when it is flat or reached 0 only below that size (then, from the
    /// ladder's first rung on, it heads away from 0).
    public func zeroCrossing(above smallest: Double) -> Double? {
        guard slope != 0 else { return nil }
        let size = pow(10, -intercept / slope)
        return size > smallest ? size : nil
    }

    /// The weighted least-squares line through (log10 size, difference) with weights `weights`;
    /// nil with fewer than two distinct sizes.
    public static func fit(log10Sizes x: [Double], differences y: [Double], weights w: [Double]) -> TrendLine? {
        let total = w.reduce(0, +)
        guard x.count >= 2, total > 0 else { return nil }
        let xm = zip(w, x).map { $0 * $1 }.reduce(0, +) / total
        let ym = zip(w, y).map { $0 * $1 }.reduce(0, +) / total
        var sxx = 0.0, sxy = 0.0
        for i in x.indices { sxx += w[i] * (x[i] - xm) * (x[i] - xm); sxy += w[i] * (x[i] - xm) * (y[i] - ym) }
        guard sxx > 0 else { return nil }
        let slope = sxy / sxx
        return TrendLine(intercept: ym - slope * xm, slope: slope)
    }
}

/// The fitted trend of one question over its rungs.
public struct ScaleTrend: Sendable {
    public var question: String
    public var points: [TrendPoint]
    public var line: TrendLine
    /// Weighted squared residuals of the fit (chi-square with points - 2 degrees of freedom when
    /// the line is the truth): far above its degrees of freedom, the rungs do not lie on a line.
    public var chiSquare: Double
    /// 95% percentile interval of the slope over the bootstrap draws.
    public var slopeInterval: ClosedRange<Double>
    /// Share of the draws whose slope has the sign of the fitted slope.
    public var slopeSignShare: Double
    /// Where the fitted line reaches 0 above the smallest rung (nil: it heads away from 0 there),
    /// and the 2.5 / 50 / 97.5 percentiles of that size over the draws (nil: that share of the
    /// draws never reaches 0 above the smallest rung).
    public var crossing: Double?
    public var crossingPercentiles: (lower: Double?, median: Double?, upper: Double?)
    public var draws: Int

    public static let standardDraws = 10_000
    public static let standardSeed: UInt64 = 0x7E4D_2026

    public var largest: TrendPoint { points.max { $0.activatedParams < $1.activatedParams }! }

    /// Fits `points` (two or more distinct sizes, each with two or more seeds and an interval of
    /// positive width) and bootstraps the fit; throws naming what is missing.
    public init(question: String, points: [TrendPoint], draws: Int = standardDraws, seed: UInt64 = standardSeed) throws {
        guard draws >= 1 else { throw AnalysisError("trend: draws \(draws): must be at least 1") }
        for p in points {
            guard p.seeds >= 2 else { throw AnalysisError("trend \(question): \(p.label) has \(p.seeds) seed(s); an interval needs 2 or more") }
            guard p.interval.upperBound > p.interval.lowerBound else {
                throw AnalysisError("trend \(question): \(p.label) has an interval of zero width; its weight would be infinite")
            }
            guard p.activatedParams > 0 else { throw AnalysisError("trend \(question): \(p.label) has activated params \(p.activatedParams); must be > 0") }
        }
        let x = points.map { log10($0.activatedParams) }, se = points.map(\.standardError)
        let w = se.map { 1 / ($0 * $0) }, y = points.map(\.difference)
        guard let line = TrendLine.fit(log10Sizes: x, differences: y, weights: w) else {
            throw AnalysisError("trend \(question): needs rungs of two or more different sizes, got \(Set(x).count)")
        }
        self.question = question; self.points = points; self.line = line; self.draws = draws
        chiSquare = points.indices.map { i in w[i] * pow(y[i] - line.intercept - line.slope * x[i], 2) }.reduce(0, +)
        let smallestSize = points.map(\.activatedParams).min()!
        crossing = line.zeroCrossing(above: smallestSize)

        var generator = SplitMix64(seed: seed)
        var slopes: [Double] = [], crossings: [Double] = []
        slopes.reserveCapacity(draws); crossings.reserveCapacity(draws)
        for _ in 0..<draws {
            let drawn = points.indices.map { i in y[i] + se[i] * studentTVariate(df: points[i].seeds - 1, &generator) }
            let fitted = TrendLine.fit(log10Sizes: x, differences: drawn, weights: w)!
            slopes.append(fitted.slope)
            crossings.append(fitted.zeroCrossing(above: smallestSize) ?? .infinity)
        }
        slopes.sort(); crossings.sort()
        slopeInterval = quantile(sorted: slopes, 0.025)!...quantile(sorted: slopes, 0.975)!
        slopeSignShare = Double(slopes.filter { ($0 > 0) == (line.slope > 0) }.count) / Double(draws)
        func finite(_ p: Double) -> Double? { let q = crossings[min(draws - 1, Int(p * Double(draws)))]; return q.isFinite ? q : nil }
        crossingPercentiles = (finite(0.025), finite(0.5), finite(0.975))
    }
}

/// A Student-t variate with `df` degrees of freedom: a standard normal over the root of a
/// chi-square (a sum of `df` squared normals) divided by df. Normals by Box-Muller.
func studentTVariate(df: Int, _ g: inout SplitMix64) -> Double {
    func uniform() -> Double { (Double(g.next() >> 11) + 0.5) / 9_007_199_254_740_992 }   // (0, 1)
    func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
    var chi = 0.0
    for _ in 0..<df { let z = normal(); chi += z * z }
    return normal() / (chi / Double(df)).squareRoot()
}
