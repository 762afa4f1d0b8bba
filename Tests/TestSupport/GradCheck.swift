import LabKernels

/// Finite-difference gradient checks shared by the kernel and model tests.
///
/// The scalar loss is usually a random projection of a kernel's output, loss = sum(out * R)
/// (so dOut = R); it is accumulated in Double so that the central difference
/// (L(x + e) - L(x - e)) / 2e measures the Float32 forward pass, not the summation.

/// Outcome of one gradient check.
public struct GradCheckReport: CustomStringConvertible, Sendable {
    /// Largest |numeric - analytic| / max(|numeric|, |analytic|, floor) over the checked elements.
    public let maxRelativeError: Double
    /// Element with that error, and its two gradients.
    public let worstIndex: Int
    public let worstNumeric: Double
    public let worstAnalytic: Double
    /// Elements checked.
    public let checked: Int

    public var description: String {
        "max relative error \(maxRelativeError) at element \(worstIndex) "
            + "(numeric \(worstNumeric), analytic \(worstAnalytic)), \(checked) elements checked"
    }
}

/// Compares `analytic[i]` with the central difference of `loss` with respect to `input[i]`
/// for each i in `indices`; the input is restored afterwards.
///
/// - Parameters:
///   - eps: half-width of the central difference (the perturbed values as stored in Float
///     are used for the denominator, so rounding of x +- eps does not bias the estimate).
///   - floor: smallest denominator of the relative error, so that near-zero gradients are
///     judged by absolute error `floor * tolerance`.
public func gradCheck(input: UnsafeMutablePointer<Float>, analytic: UnsafePointer<Float>, indices: [Int],
                      eps: Float, floor: Double, loss: () -> Double) -> GradCheckReport {
    var worst = (error: -1.0, index: -1, numeric: 0.0, analytic: 0.0)
    for i in indices {
        let original = input[i]
        let plus = original + eps, minus = original - eps
        input[i] = plus
        let lossPlus = loss()
        input[i] = minus
        let lossMinus = loss()
        input[i] = original
        let numeric = (lossPlus - lossMinus) / (Double(plus) - Double(minus))
        let exact = Double(analytic[i])
        let error = abs(numeric - exact) / max(abs(numeric), abs(exact), floor)
        if error > worst.error || error.isNaN { worst = (error.isNaN ? .infinity : error, i, numeric, exact) }
    }
    return GradCheckReport(maxRelativeError: max(0, worst.error), worstIndex: worst.index,
                           worstNumeric: worst.numeric, worstAnalytic: worst.analytic, checked: indices.count)
}

/// Buffer-typed convenience for `gradCheck(input:analytic:indices:eps:floor:loss:)`, checking
/// up to `samples` elements chosen at random (all of them when the buffer is that small).
public func gradCheck(_ input: FloatBuffer, analytic: FloatBuffer, samples: Int = 40, seed: UInt64 = 99,
                      eps: Float, floor: Double, loss: () -> Double) -> GradCheckReport {
    precondition(input.count == analytic.count, "input and gradient buffers differ in size")
    return gradCheck(input: input.ptr, analytic: analytic.constPtr,
                     indices: sampleIndices(input.count, samples: samples, seed: seed),
                     eps: eps, floor: floor, loss: loss)
}

/// Up to `samples` distinct indices in 0..<count in increasing order (all when count <= samples).
public func sampleIndices(_ count: Int, samples: Int, seed: UInt64) -> [Int] {
    if count <= samples { return Array(0..<count) }
    var rng = LabRandom(seed: seed)
    var chosen = Set<Int>()
    while chosen.count < samples { chosen.insert(rng.nextInt(below: count)) }
    return chosen.sorted()
}

/// sum_i out_i * projection_i in Double: the scalar loss whose gradient with respect to out is
/// the projection.
public func projectionLoss(_ out: FloatBuffer, _ projection: FloatBuffer) -> Double {
    precondition(out.count == projection.count, "output and projection differ in size")
    var sum = 0.0
    for i in 0..<out.count { sum += Double(out[i]) * Double(projection[i]) }
    return sum
}

/// Runs `backward` on gradient buffers of the given sizes that start with random values, and
/// returns what it added to each. A gradient check on the result therefore also fails when a
/// backward pass overwrites its gradient buffers instead of adding into them.
public func gradientIncrements(_ counts: [Int], seed: UInt64 = 1234,
                               _ backward: ([FloatBuffer]) -> Void) -> [FloatBuffer] {
    let buffers = counts.enumerated().map { randomBuffer($0.element, seed: seed + UInt64($0.offset)) }
    let before = buffers.map(clone)
    backward(buffers)
    for (after, start) in zip(buffers, before) {
        for i in 0..<after.count { after[i] -= start[i] }
    }
    return buffers
}
