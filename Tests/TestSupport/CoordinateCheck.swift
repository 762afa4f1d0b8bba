import LabKernels

/// Finite-difference checks that look at every coordinate (or a stated sample) of a tensor and
/// count the ones that carry gradient, so that a check cannot pass by comparing zeros.
///
/// A coordinate "carries gradient" when its numeric or analytic derivative is at least `floor`
/// in magnitude. Every coordinate is judged by |numeric - analytic| / max(|numeric|, |analytic|,
/// floor): relative error above the floor, absolute error `floor * tolerance` below it, so an
/// analytic gradient that is dropped (0 where the loss moves) or invented (non-zero where it does
/// not) fails either way. A coordinate whose perturbation changes a discrete choice (top-k
/// routing) is not differentiable there; the caller's `nondifferentiable` probe reports it and
/// it is counted separately, never silently.

/// What one tensor's finite-difference sweep found.
public struct CoordinateCheck: CustomStringConvertible, Sendable {
    /// The tensor's name.
    public let name: String
    /// Coordinates compared (perturbed and judged).
    public var checked = 0
    /// Of those, coordinates whose numeric or analytic derivative reaches the floor.
    public var carrying = 0
    /// Coordinates left out because a perturbation changed a discrete choice.
    public var nondifferentiable = 0
    /// Largest |numeric - analytic| / max(|numeric|, |analytic|, floor), and where.
    public var worst = 0.0
    public var worstIndex = -1
    public var worstNumeric = 0.0, worstAnalytic = 0.0
    /// Sums over the compared coordinates of (numeric - analytic)^2 and numeric^2.
    public var squaredError = 0.0, squaredNumeric = 0.0

    /// ||numeric - analytic|| / ||numeric|| over the compared coordinates: the tensor's
    /// gradient as a whole, robust to the few coordinates where a tiny derivative sits under a
    /// large curvature and the central difference's eps^2 f''' / 6 term is a sizable fraction.
    public var relativeL2: Double { squaredError == 0 ? 0 : (squaredError / max(squaredNumeric, 1e-300)).squareRoot() }

    public init(name: String) { self.name = name }

    public var description: String {
        "\(name): \(checked) checked, \(carrying) carry gradient, \(nondifferentiable) not differentiable; "
            + "worst \(worst) at [\(worstIndex)] (numeric \(worstNumeric), analytic \(worstAnalytic)), "
            + "relative L2 \(relativeL2)"
    }

    /// Judges one coordinate.
    mutating func record(index: Int, numeric: Double, analytic: Double, floor: Double) {
        checked += 1
        squaredError += (numeric - analytic) * (numeric - analytic)
        squaredNumeric += numeric * numeric
        if max(abs(numeric), abs(analytic)) >= floor { carrying += 1 }
        var error = abs(numeric - analytic) / max(abs(numeric), abs(analytic), floor)
        if error.isNaN { error = .infinity }
        if error > worst || worstIndex < 0 {
            worst = error; worstIndex = index; worstNumeric = numeric; worstAnalytic = analytic
        }
    }
}

/// Central differences of `loss` (accumulated in Double by the caller) with respect to
/// `input[i]` for each i in `indices`, against `analytic[i]`; `input` is restored afterwards.
///
/// - Parameters:
///   - eps: half-width of the difference; the perturbed values as stored in Float are used for
///     the denominator, so rounding of x +- eps does not bias the estimate.
///   - floor: the gradient magnitude below which a coordinate is judged by absolute error and
///     does not count as carrying gradient.
///   - nondifferentiable: called after each perturbed loss; true when that perturbation
///     changed a discrete choice (the coordinate is then counted apart, not judged).
public func checkCoordinates(_ name: String, input: UnsafeMutablePointer<Float>, analytic: UnsafePointer<Float>,
                             indices: [Int], eps: Float, floor: Double,
                             nondifferentiable: () -> Bool = { false }, loss: () -> Double) -> CoordinateCheck {
    var report = CoordinateCheck(name: name)
    for i in indices {
        let original = input[i]
        let plus = original + eps, minus = original - eps
        input[i] = plus
        let lossPlus = loss()
        let changedPlus = nondifferentiable()
        input[i] = minus
        let lossMinus = loss()
        let changedMinus = nondifferentiable()
        input[i] = original
        if changedPlus || changedMinus { report.nondifferentiable += 1; continue }
        let numeric = (lossPlus - lossMinus) / (Double(plus) - Double(minus))
        report.record(index: i, numeric: numeric, analytic: Double(analytic[i]), floor: floor)
    }
    return report
}

/// `checkCoordinates` over every element of `input` (the analytic gradient has the same size).
public func checkEveryCoordinate(_ name: String, _ input: FloatBuffer, analytic: FloatBuffer, eps: Float,
                                 floor: Double, loss: () -> Double) -> CoordinateCheck {
    precondition(input.count == analytic.count, "\(name): input and gradient differ in size")
    return checkCoordinates(name, input: input.ptr, analytic: analytic.constPtr, indices: Array(0..<input.count),
                            eps: eps, floor: floor, loss: loss)
}
