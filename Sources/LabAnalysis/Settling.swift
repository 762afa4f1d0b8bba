/// When a series settles at a target: the first step from which the trailing `window`-step
/// mean stays within `tolerance` x |target| of the target up to the last recorded step.
///
/// One definition for every page and table (it replaces "smoothed within 5%", "40-step windows
/// within 1%" and "per step within 1%"); `description` states the parameters next to each
/// result. The trailing mean of the first steps averages what exists so far.
public struct Settling: Sendable, Equatable {
    /// Allowed distance from the target, as a fraction of |target|.
    public var tolerance: Double
    /// Steps in the trailing mean (1 = the raw series).
    public var window: Int

    public init(tolerance: Double, window: Int) {
        precondition(tolerance >= 0 && window >= 1, "Settling needs tolerance >= 0 and window >= 1")
        self.tolerance = tolerance
        self.window = window
    }

    /// The lab's definition: the 40-step trailing mean within 1% of the target.
    public static let standard = Settling(tolerance: 0.01, window: 40)

    /// The settling step of `series` (steps ascending); nil when the last trailing mean lies
    /// outside the band (the series never settled) or the series is empty.
    public func step(of series: [(step: Int, value: Double)], target: Double) -> Int? {
        let smoothed = movingAverage(series.map(\.value), window: window)
        var index: Int? = nil
        for (i, x) in smoothed.enumerated().reversed() {
            guard abs(x - target) <= tolerance * abs(target) else { break }
            index = i
        }
        return index.map { series[$0].step }
    }

    /// "40-step mean within 1% of target".
    public var description: String {
        "\(window)-step mean within \(formatPercent(tolerance)) of target"
    }
}
