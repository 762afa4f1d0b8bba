import Foundation

// Plain summaries of a list of values. Non-finite values are left out everywhere, so a NaN
// recorded for one step never turns a whole mean into NaN (divergence is its own guard).

/// The mean of the finite values; nil when there are none.
public func mean(_ xs: [Double]) -> Double? {
    let finite = xs.filter(\.isFinite)
    return finite.isEmpty ? nil : finite.reduce(0, +) / Double(finite.count)
}

/// The sample standard deviation (n - 1 in the denominator) of the finite values; nil for
/// fewer than two.
public func sampleStandardDeviation(_ xs: [Double]) -> Double? {
    let finite = xs.filter(\.isFinite)
    guard finite.count >= 2, let m = mean(finite) else { return nil }
    return (finite.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(finite.count - 1)).squareRoot()
}

/// The population standard deviation (n in the denominator) of the finite values; nil when
/// there are none.
public func populationStandardDeviation(_ xs: [Double]) -> Double? {
    let finite = xs.filter(\.isFinite)
    guard let m = mean(finite) else { return nil }
    return (finite.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(finite.count)).squareRoot()
}

/// The median of the finite values (mean of the middle two for an even count); nil when none.
public func median(_ xs: [Double]) -> Double? {
    let s = xs.filter(\.isFinite).sorted()
    guard !s.isEmpty else { return nil }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The p-quantile (0 <= p <= 1) of sorted values, interpolating linearly between order
/// statistics at position (n - 1) p; nil for an empty list.
public func quantile(sorted s: [Double], _ p: Double) -> Double? {
    guard !s.isEmpty else { return nil }
    let h = Double(s.count - 1) * min(max(p, 0), 1)
    let lo = Int(h.rounded(.down)), hi = min(lo + 1, s.count - 1)
    return s[lo] + (h - Double(lo)) * (s[hi] - s[lo])
}

/// Trailing moving average: element i is the mean of xs[max(0, i-w+1)...i].
public func movingAverage(_ xs: [Double], window w: Int) -> [Double] {
    var out: [Double] = [], sum = 0.0
    for (i, x) in xs.enumerated() {
        sum += x
        if i >= w { sum -= xs[i - w] }
        out.append(sum / Double(min(i + 1, w)))
    }
    return out
}
