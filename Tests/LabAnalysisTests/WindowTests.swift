import Testing
@testable import LabAnalysis

/// The final window and settling definitions on hand-made series.
@Suite struct WindowTests {
    /// Guards against three definitions of "the final tenth" coming back: the last 10% of the
    /// recorded steps, at least 10, counted in recorded steps (gaps do not shrink it).
    @Test func finalWindowOfHandMadeSteps() {
        let w = FinalWindow.standard
        #expect(w.range(of: Array(0..<100)) == 90...99)
        #expect(w.range(of: Array(0..<1000)) == 900...999)
        #expect(w.range(of: Array(0..<50)) == 40...49)        // 5 steps would be 10%; at least 10
        #expect(w.range(of: Array(0..<5)) == 0...4)           // fewer than 10: all
        #expect(w.range(of: Array(0..<105)) == 94...104)      // ceil(10.5) = 11 steps
        #expect(w.range(of: Array(0..<10) + Array(20..<30)) == 20...29)
        #expect(w.range(of: [3, 3, 1, 2]) == 1...3)
        #expect(w.range(of: []) == nil)
        #expect(w.description == "last 10% of recorded steps (at least 10)")
        #expect(w.header(90...99).contains("steps 90-99"))
    }

    /// Guards against a settling step that ignores its window or tolerance: 50 steps at 4.0 then
    /// 150 at the target 2.0 settle at step 89 with a 40-step mean (step 88's mean still holds
    /// one 4.0: 2.05), at step 50 with the raw series; a late excursion means never settled.
    @Test func settlingOfHandMadeSeries() {
        let series = (0..<200).map { (step: $0, value: $0 < 50 ? 4.0 : 2.0) }
        #expect(Settling.standard.step(of: series, target: 2) == 89)
        #expect(Settling(tolerance: 0.01, window: 1).step(of: series, target: 2) == 50)
        // Within 6% a 40-step mean with two 4.0s (2.1, 5% off) counts, three (2.15) do not: step 87.
        #expect(Settling(tolerance: 0.06, window: 40).step(of: series, target: 2) == 87)
        var late = series
        late[199].value = 9
        #expect(Settling.standard.step(of: late, target: 2) == nil)
        #expect(Settling.standard.step(of: [], target: 2) == nil)
        #expect(Settling.standard.description == "40-step mean within 1% of target")
    }
}

/// The stability metrics of issue 17 on hand-made per-expert load series.
@Suite struct LoadStabilityTests {
    /// Guards against a flag or period on a perfectly held balance: constant loads have
    /// MaxVio 0, no autocorrelation (undefined), no period, no flag.
    @Test func constantLoads() {
        let s = LoadStability(loads: Array(repeating: [10, 10, 10, 10], count: 30))
        #expect(s.stepMaxVio == 0 && s.windowMaxVio == 0 && s.stepCV == 0)
        #expect(s.lag1Autocorrelation == nil && s.period == nil && !s.oscillating)
    }

    /// Guards against missing a period-2 limit cycle: two experts swapping 40 and 0 tokens have
    /// per-step MaxVio 1, windowed MaxVio 0, lag-1 autocorrelation -(n-1)/n, period 2, flagged.
    @Test func periodTwo() {
        let loads = (0..<40).map { $0 % 2 == 0 ? [40.0, 0] : [0, 40.0] }
        let s = LoadStability(loads: loads)
        #expect(abs(s.stepMaxVio - 1) < 1e-12 && s.windowMaxVio == 0 && abs(s.stepCV - 1) < 1e-12)
        #expect(abs(s.lag1Autocorrelation! + 39.0 / 40) < 1e-12)
        #expect(s.period == 2 && s.oscillating)
    }

    /// Guards against a period detector that only knows alternation: the quickstart's layer-1
    /// pattern, three experts taking turns (90, 5, 5), has lag-1 autocorrelation near -1/2 and
    /// period 3, and is flagged.
    @Test func periodThree() {
        let cycle: [[Double]] = [[90, 5, 5], [5, 90, 5], [5, 5, 90]]
        let s = LoadStability(loads: (0..<60).map { cycle[$0 % 3] })
        #expect(abs(s.lag1Autocorrelation! + 0.5) < 0.02, "\(s.lag1Autocorrelation!)")
        #expect(s.period == 3 && s.oscillating)
        #expect(abs(s.stepMaxVio - (90 - 100.0 / 3) / (100.0 / 3)) < 1e-12)
    }

    /// Guards against flagging noise: independent loads (uniform 90-110, 16 experts, 400 steps)
    /// have lag-1 autocorrelation near 0, no period and small per-step MaxVio.
    @Test func whiteNoise() {
        var g = SplitMix64(seed: 42)
        let loads = (0..<400).map { _ in (0..<16).map { _ in 90 + 20 * Double(g.next() >> 11) / Double(1 << 53) } }
        let s = LoadStability(loads: loads)
        #expect(abs(s.lag1Autocorrelation!) < 0.1, "\(s.lag1Autocorrelation!)")
        #expect(s.period == nil && !s.oscillating && s.stepMaxVio < 0.2)
    }

    /// Guards against calling a plain imbalance an oscillation: one expert always starved has a
    /// large per-step MaxVio but its windowed loads are unbalanced too, so no flag.
    @Test func steadyImbalanceIsNotOscillation() {
        let s = LoadStability(loads: Array(repeating: [60.0, 40, 0], count: 20))
        #expect(abs(s.stepMaxVio - 0.8) < 1e-12 && abs(s.windowMaxVio - 0.8) < 1e-12 && !s.oscillating)
        #expect(LoadStability.Thresholds.standard.description.contains("per-step MaxVio >= 0.5"))
    }
}
