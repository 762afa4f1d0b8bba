import Foundation
import LabConfig
import LabKernels

/// AdamW over one flat parameter buffer, as PyTorch's `torch.optim.AdamW` computes it:
///
///     p <- p * (1 - lr * wd)                       (decayed ranges only)
///     m <- beta1 * m + (1 - beta1) * g
///     v <- beta2 * v + (1 - beta2) * g^2
///     p <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
///
/// with t the 1-based step. Epsilon is added after the square root, so 1e-16 (LONGCAT.md
/// section 7) is harmless: zero gradients give 0 / eps = 0, never NaN. The update is
/// elementwise, so the parallel split cannot change a bit.
public final class AdamW {
    /// Length of the parameter, gradient and moment buffers.
    public let parameterCount: Int
    /// First moment, [parameterCount], owned.
    public let m: UnsafeMutablePointer<Float>
    /// Second moment, [parameterCount], owned.
    public let v: UnsafeMutablePointer<Float>
    /// Updates applied so far (PyTorch's `step`).
    public private(set) var step = 0

    public let beta1: Float
    public let beta2: Float
    public let eps: Float
    public let weightDecay: Float

    /// Disjoint, sorted runs of the buffer with their decay flag, covering 0..<parameterCount.
    private let segments: [Segment]

    private struct Segment: Sendable {
        var range: Range<Int>
        var decays: Bool
    }

    /// `decayMask`: ranges of the flat buffer that get weight decay (matrices; not norms,
    /// biases or embeddings if so chosen). Ranges may overlap or touch; they must lie inside
    /// `0..<parameterCount` (a programming error otherwise).
    public init(parameterCount: Int, config: TrainConfig, decayMask: [Range<Int>]) {
        precondition(parameterCount >= 0, "AdamW: negative parameter count")
        for range in decayMask {
            precondition(range.lowerBound >= 0 && range.upperBound <= parameterCount,
                         "AdamW: decay range \(range) outside 0..<\(parameterCount)")
        }
        self.parameterCount = parameterCount
        beta1 = Float(config.beta1)
        beta2 = Float(config.beta2)
        eps = Float(config.adamEps)
        weightDecay = Float(config.weightDecay)
        segments = Self.segments(count: parameterCount, decayMask: decayMask)
        m = .allocate(capacity: max(parameterCount, 1))
        v = .allocate(capacity: max(parameterCount, 1))
        m.initialize(repeating: 0, count: parameterCount)
        v.initialize(repeating: 0, count: parameterCount)
    }

    deinit {
        m.deallocate()
        v.deallocate()
    }

    /// Splits 0..<count into alternating runs with and without decay (the union of the mask).
    private static func segments(count: Int, decayMask: [Range<Int>]) -> [Segment] {
        var merged: [Range<Int>] = []
        for range in decayMask.filter({ !$0.isEmpty }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        var result: [Segment] = []
        var position = 0
        for range in merged {
            if position < range.lowerBound { result.append(Segment(range: position..<range.lowerBound, decays: false)) }
            result.append(Segment(range: range, decays: true))
            position = range.upperBound
        }
        if position < count { result.append(Segment(range: position..<count, decays: false)) }
        return result
    }

    /// One AdamW step at `learningRate` (the schedule's value for this step) on the gradients
    /// `grads * gradScale`. `params` and `grads` hold `parameterCount` elements. `gradScale` is
    /// the clip factor of `gradientClip`: applied to each gradient as it is read (the same float
    /// product a separate scaling pass would store), so clipping costs no pass of its own over
    /// the gradients; `grads` is left as it was.
    public func update(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, learningRate: Float,
                       gradScale: Float = 1) {
        step += 1
        // Bias corrections in Double, rounded once per step.
        let t = Double(step)
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), t)))
        let correction2Sqrt = Float((1 - pow(Double(beta2), t)).squareRoot())
        let decayFactor = 1 - learningRate * weightDecay
        let constants = AdamWStepConstants(beta1: beta1, beta2: beta2, eps: eps, stepSize: stepSize,
                                           correction2Sqrt: correction2Sqrt)
        let p = SendablePointer(params), g = SendablePointer(UnsafeMutablePointer(mutating: grads))
        let mm = SendablePointer(m), vv = SendablePointer(v)
        let segments = self.segments
        parallelRanges(parameterCount, costPerItem: 8) { chunk in
            for segment in segments where segment.range.overlaps(chunk) {
                let lo = max(chunk.lowerBound, segment.range.lowerBound)
                let hi = min(chunk.upperBound, segment.range.upperBound)
                adamWKernel(p.base + lo, g.base + lo, mm.base + lo, vv.base + lo, count: hi - lo,
                            gradScale: gradScale, decayFactor: segment.decays ? decayFactor : 1, constants)
            }
        }
    }

    /// The moments and step count, for a checkpoint.
    public func exportState() -> (m: [Float], v: [Float], step: Int) {
        (Array(UnsafeBufferPointer(start: m, count: parameterCount)),
         Array(UnsafeBufferPointer(start: v, count: parameterCount)), step)
    }

    /// Restores `exportState()`'s values; a resumed run then continues bit-identically.
    public func importState(m newM: [Float], v newV: [Float], step newStep: Int) throws {
        guard newM.count == parameterCount, newV.count == parameterCount else {
            throw OptimizerError(message: "optimizer state has \(newM.count) first-moment and \(newV.count) "
                                 + "second-moment values, but the model has \(parameterCount) parameters")
        }
        guard newStep >= 0 else { throw OptimizerError(message: "optimizer step \(newStep) is negative") }
        newM.withUnsafeBufferPointer { m.update(from: $0.baseAddress!, count: parameterCount) }
        newV.withUnsafeBufferPointer { v.update(from: $0.baseAddress!, count: parameterCount) }
        step = newStep
    }
}

/// Optimizer state that does not fit the model (from a checkpoint of another configuration).
public struct OptimizerError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// The per-step scalars of the AdamW kernel.
struct AdamWStepConstants {
    var beta1: Float
    var beta2: Float
    var eps: Float
    /// lr / (1 - beta1^t).
    var stepSize: Float
    /// sqrt(1 - beta2^t).
    var correction2Sqrt: Float
}

/// The AdamW update over `count` contiguous elements, on the gradients g * `gradScale`;
/// `decayFactor` is 1 - lr * wd or 1.
/// Eight lanes at a time (about 1.8x the scalar loop, which the compiler leaves scalar because
/// of the square root); the tail goes through the same lanes, so every element sees the same
/// operations and the split into chunks cannot change a bit.
@inline(__always)
func adamWKernel(_ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                 _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                 count: Int, gradScale: Float, decayFactor: Float, _ c: AdamWStepConstants) {
    typealias Lanes = SIMD8<Float>
    var i = 0
    while i + Lanes.scalarCount <= count {
        func load(_ x: UnsafeMutablePointer<Float>) -> Lanes { UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self) }
        var mi = load(m), vi = load(v), pi = load(p)
        adamWLanes(grad: load(g) * gradScale, m: &mi, v: &vi, p: &pi, decayFactor: decayFactor, c)
        UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: Lanes.self)
        UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: Lanes.self)
        UnsafeMutableRawPointer(p + i).storeBytes(of: pi, as: Lanes.self)
        i += Lanes.scalarCount
    }
    let rest = count - i
    guard rest > 0 else { return }
    var gi = Lanes(), mi = Lanes(), vi = Lanes(), pi = Lanes()
    for lane in 0..<rest {
        (gi[lane], mi[lane], vi[lane], pi[lane]) = (g[i + lane] * gradScale, m[i + lane], v[i + lane], p[i + lane])
    }
    adamWLanes(grad: gi, m: &mi, v: &vi, p: &pi, decayFactor: decayFactor, c)
    for lane in 0..<rest { (m[i + lane], v[i + lane], p[i + lane]) = (mi[lane], vi[lane], pi[lane]) }
}

/// The AdamW formula on a group of lanes.
@inline(__always)
func adamWLanes(grad: SIMD8<Float>, m: inout SIMD8<Float>, v: inout SIMD8<Float>, p: inout SIMD8<Float>,
                decayFactor: Float, _ c: AdamWStepConstants) {
    m = c.beta1 * m + (1 - c.beta1) * grad
    v = c.beta2 * v + (1 - c.beta2) * grad * grad
    let denominator = v.squareRoot() / c.correction2Sqrt + c.eps
    p = p * decayFactor - c.stepSize * (m / denominator)
}

/// The global L2 norm of `grads`, and the factor that clips them to norm `maxNorm` (pass it to
/// `AdamW.update` as `gradScale`). As PyTorch's `clip_grad_norm_`: the factor is
/// maxNorm / (norm + 1e-6) when that is below 1, else 1. `maxNorm <= 0` only measures (factor 1);
/// a non-finite norm gives factor 1 (the caller decides whether to skip the step).
///
/// The sum of squares is accumulated in Double over fixed blocks of 16384 elements summed in
/// block order, so the result is the same for every thread count.
public func gradientClip(_ grads: UnsafePointer<Float>, count: Int, maxNorm: Float) -> (norm: Float, scale: Float) {
    let norm = Float(gradientSquaredSum(grads, count: count).squareRoot())
    guard maxNorm > 0, norm.isFinite else { return (norm, 1) }
    let scale = Float(Double(maxNorm) / (Double(norm) + 1e-6))
    return (norm, min(scale, 1))
}

/// Sum of squares in Double: four interleaved accumulators per fixed block, blocks summed in
/// order (deterministic for any thread count).
func gradientSquaredSum(_ grads: UnsafePointer<Float>, count: Int) -> Double {
    let blockSize = 1 << 14
    let blocks = (count + blockSize - 1) / blockSize
    guard blocks > 0 else { return 0 }
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: blocks)
    defer { partial.deallocate() }
    let sums = SendablePointer(partial), g = SendablePointer(UnsafeMutablePointer(mutating: grads))
    parallelRanges(blocks, costPerItem: blockSize) { blockRange in
        for block in blockRange {
            let lo = block * blockSize, hi = min(count, lo + blockSize)
            var lanes = SIMD4<Double>()
            var i = lo
            while i + 4 <= hi {
                let x = SIMD4<Double>(Double(g[i]), Double(g[i + 1]), Double(g[i + 2]), Double(g[i + 3]))
                lanes += x * x
                i += 4
            }
            var tail = 0.0
            while i < hi { let x = Double(g[i]); tail += x * x; i += 1 }
            sums[block] = lanes.sum() + tail
        }
    }
    var total = 0.0
    for block in 0..<blocks { total += partial[block] }
    return total
}
