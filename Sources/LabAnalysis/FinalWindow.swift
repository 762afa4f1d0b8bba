/// The final window of a run: the steps every "final" number of every report averages over.
///
/// The last `fraction` of the recorded steps, but at least `minimumSteps` of them (or all when
/// the run recorded fewer): with the defaults, the last 10% of the steps and at least 10. The
/// window is counted in recorded steps, so a run with gaps (e.g. resumed) still averages the
/// same number of rows. `show`, `compare`, `sweep --report` and the activated-parameter
/// figure all take their window from `standard`, and print `description` in their headers.
public struct FinalWindow: Sendable, Equatable {
    /// Share of the recorded steps, in (0, 1].
    public var fraction: Double
    /// The fewest steps the window holds when the run has that many.
    public var minimumSteps: Int

    public init(fraction: Double, minimumSteps: Int) {
        precondition(fraction > 0 && fraction <= 1 && minimumSteps >= 1, "FinalWindow needs 0 < fraction <= 1, minimumSteps >= 1")
        self.fraction = fraction
        self.minimumSteps = minimumSteps
    }

    /// The one definition the lab reports with: the last 10% of recorded steps, at least 10.
    public static let standard = FinalWindow(fraction: 0.1, minimumSteps: 10)

    /// How many of `count` recorded steps the window holds.
    public func width(recordedSteps count: Int) -> Int {
        let share = Int((Double(count) * fraction).rounded(.up))
        return min(count, max(minimumSteps, share))
    }

    /// First and last step of the window over `steps` (any order, repeats allowed); nil when
    /// there are none.
    public func range(of steps: [Int]) -> ClosedRange<Int>? {
        let recorded = Array(Set(steps)).sorted()
        guard let last = recorded.last else { return nil }
        return recorded[recorded.count - width(recordedSteps: recorded.count)]...last
    }

    /// "last 10% of recorded steps (at least 10)".
    public var description: String {
        "last \(formatPercent(fraction)) of recorded steps (at least \(minimumSteps))"
    }

    /// The header phrase for one run: "final window steps 90-99 (last 10% of recorded steps (at least 10))".
    public func header(_ range: ClosedRange<Int>?) -> String {
        guard let range else { return "final window: no steps recorded" }
        return "final window steps \(range.lowerBound)-\(range.upperBound) (\(description))"
    }
}

/// 0.1 -> "10%", 0.125 -> "12.5%".
func formatPercent(_ x: Double) -> String {
    let p = 100 * x
    return p == p.rounded() ? "\(Int(p))%" : "\(p)%"
}
