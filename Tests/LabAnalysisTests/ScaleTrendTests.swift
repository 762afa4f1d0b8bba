import Foundation
import Testing
@testable import LabAnalysis

/// The ladder's trend: the weighted line, its zero crossing and the bootstrap around it.
@Suite("Scale trend")
struct ScaleTrendTests {
    /// A point whose 95% t interval over `n` seeds has standard error `se`.
    func point(_ label: String, _ params: Double, _ d: Double, se: Double, n: Int = 5) -> TrendPoint {
        let half = se * StudentT.quantile(0.975, df: Double(n - 1))
        return TrendPoint(label: label, activatedParams: params, difference: d, interval: (d - half)...(d + half), seeds: n)
    }

    @Test func theStandardErrorIsRecoveredFromTheInterval() {
        // n = 5: t(0.975, 4) = 2.776; an interval of +-0.02776 is se 0.01.
        let p = TrendPoint(label: "r", activatedParams: 1e6, difference: 0, interval: -0.02776...0.02776, seeds: 5)
        #expect(abs(p.standardError - 0.01) < 1e-4)
    }

    @Test func pointsOnALineGiveThatLineAndItsCrossing() throws {
        // d = 0.1 - 0.02 * log10(p) reaches 0 at log10 p = 5; the rungs (1e3 to 10^4.5) lie before it.
        let sizes = [1e3, 1e3.squareRoot() * 1e2, 1e4, 1e4 * 10.0.squareRoot()]
        let points = sizes.enumerated().map { point("r\($0.offset)", $0.element, 0.1 - 0.02 * log10($0.element), se: 0.001) }
        let t = try ScaleTrend(question: "q", points: points, draws: 2000)
        #expect(abs(t.line.slope + 0.02) < 1e-12 && abs(t.line.intercept - 0.1) < 1e-12)
        #expect(t.chiSquare < 1e-12)
        #expect(abs(t.crossing! - 1e5) / 1e5 < 1e-9)
        // Tight points: every draw keeps the sign; the crossing, extrapolated half a decade, within
        // a factor of about 2 either way.
        #expect(t.slopeSignShare == 1)
        let c = t.crossingPercentiles
        #expect(c.lower! < 1e5 && c.upper! > 1e5 && c.lower! > 3e4 && c.upper! < 3e5)
        #expect(abs(c.median! - 1e5) / 1e5 < 0.2)
    }

    @Test func aLineThatCrossedInsideTheLadderGivesThatSize() throws {
        // From +0.02 at 1e5 to -0.02 at 1e7: through 0 at 1e6.
        let points = [point("a", 1e5, 0.02, se: 0.001), point("b", 1e6, 0.0, se: 0.001), point("c", 1e7, -0.02, se: 0.001)]
        let t = try ScaleTrend(question: "q", points: points, draws: 500)
        #expect(abs(t.crossing! - 1e6) / 1e6 < 1e-9)
    }

    @Test func aLineHeadingAwayFromZeroNeverCrosses() throws {
        // Positive and growing with size.
        let points = [point("a", 1e5, 0.01, se: 0.001), point("b", 1e6, 0.02, se: 0.001), point("c", 1e7, 0.03, se: 0.001)]
        let t = try ScaleTrend(question: "q", points: points, draws: 500)
        #expect(t.crossing == nil)
        #expect(t.crossingPercentiles.median == nil)
        // Negative and falling: also away from 0.
        let down = try ScaleTrend(question: "q", points: points.map { var p = $0; p.difference = -p.difference
            p.interval = (-p.interval.upperBound)...(-p.interval.lowerBound); return p }, draws: 500)
        #expect(down.crossing == nil)
    }

    @Test func noisyRungsWidenTheSlopeIntervalAndTheWeightsFollowTheErrors() throws {
        // The same means with 10x the standard errors: the slope interval is about 10x as wide.
        let means = [(4.4e5, 0.037), (1.15e6, 0.040), (1.78e6, 0.021), (3.69e6, 0.003)]
        let tight = try ScaleTrend(question: "q", points: means.map { point("r", $0.0, $0.1, se: 0.001) }, draws: 4000)
        let loose = try ScaleTrend(question: "q", points: means.map { point("r", $0.0, $0.1, se: 0.01) }, draws: 4000)
        let w = { (t: ScaleTrend) in t.slopeInterval.upperBound - t.slopeInterval.lowerBound }
        #expect(w(loose) / w(tight) > 7 && w(loose) / w(tight) < 13)
        #expect(abs(tight.line.slope - loose.line.slope) < 1e-12)   // equal weights scale out
        // A rung with a much smaller error pulls the line through it.
        var pulled = means.map { point("r", $0.0, $0.1, se: 0.01) }
        pulled[3] = point("r4", 3.69e6, 0.003, se: 0.0001)
        let p = try ScaleTrend(question: "q", points: pulled, draws: 200)
        #expect(abs(p.line.difference(atParams: 3.69e6) - 0.003) < 0.001)
    }

    @Test func theBootstrapIsReproducibleAndItsSlopeCoverageIsAbout95Percent() throws {
        let pts = [point("a", 1e5, 0.02, se: 0.01), point("b", 1e6, 0.01, se: 0.01), point("c", 1e7, 0.0, se: 0.01)]
        let a = try ScaleTrend(question: "q", points: pts, draws: 3000, seed: 7)
        let b = try ScaleTrend(question: "q", points: pts, draws: 3000, seed: 7)
        #expect(a.slopeInterval == b.slopeInterval && a.crossingPercentiles.median == b.crossingPercentiles.median)
        // Equal se and n = 5 everywhere: the slope's se is se / sqrt(sum (x - xm)^2) = 0.01 / sqrt(2);
        // its 95% interval is wider than the normal one (t tails) but not absurdly so.
        let normalHalf = 1.96 * 0.01 / 2.0.squareRoot()
        let half = (a.slopeInterval.upperBound - a.slopeInterval.lowerBound) / 2
        #expect(half > normalHalf && half < 1.5 * normalHalf)
        #expect(abs((a.slopeInterval.upperBound + a.slopeInterval.lowerBound) / 2 - a.line.slope) < 0.002)
    }

    @Test func badFilesAndPointsAreNamed() throws {
        #expect(throws: AnalysisError.self) { try ScaleTrend.readPoints(tsv: "r1\tq\t1e6\t0.1\t0\n", path: "d.tsv") }
        do {
            _ = try ScaleTrend.readPoints(tsv: "# header\nr1\tq\tmany\t0.1\t0\t0.2\t5\tx\n", path: "d.tsv")
            Issue.record("expected an error")
        } catch let e as AnalysisError {
            #expect("\(e)".contains("d.tsv line 2") && "\(e)".contains("activated_params") && "\(e)".contains("many"))
        }
        #expect(throws: AnalysisError.self) {
            try ScaleTrend(question: "q", points: [point("a", 1e6, 0.1, se: 0.01), point("b", 1e6, 0.2, se: 0.01)])
        }
        #expect(throws: AnalysisError.self) {
            try ScaleTrend(question: "q", points: [point("a", 1e5, 0.1, se: 0.01),
                                                   TrendPoint(label: "b", activatedParams: 1e6, difference: 0.1, interval: 0.1...0.1, seeds: 5)])
        }
        let rows = try ScaleTrend.readPoints(tsv: "# c\nr1\tzero\t4e5\t0.03\t0.02\t0.05\t5\thigher\nr1\tscmoe\t4e5\t0.01\t-0.02\t0.04\t5\tnot resolved\nr2\tzero\t1e6\t0.04\t-0.02\t0.1\t5\tnot resolved\n", path: "d.tsv")
        #expect(rows.map(\.question) == ["zero", "scmoe"] && rows[0].points.map(\.label) == ["r1", "r2"])
    }
}
