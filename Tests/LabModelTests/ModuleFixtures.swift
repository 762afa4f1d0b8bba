import LabConfig
import LabKernels
import Testing
import TestSupport
@testable import LabModel

/// Parameters and gradients of a tiny config laid out as the model lays them out, for checking
/// one module's forward/backward pair in isolation.
struct ModuleWeights {
    let layout: ParameterLayout
    let params: FloatBuffer
    /// Filled by `increments(_:)`: what a backward added (the buffer starts random, so a backward
    /// that overwrites instead of adding fails the check).
    let grads: FloatBuffer

    /// Matrices normal(0, 0.3); RMSNorm weights 1 + normal(0, 0.2) (not all 1, so a norm weight
    /// applied in forward but forgotten in backward shows). With `model`, its own parameter and
    /// gradient buffers are filled and used.
    init(_ c: LabConfig, model: LongCatModel? = nil, seed: UInt64 = 11) {
        layout = ParameterLayout(c.model)
        params = model?.params ?? FloatBuffer(count: layout.count)
        grads = model?.grads ?? FloatBuffer(count: layout.count)
        var rng = LabRandom(seed: seed)
        rng.fillNormal(params.ptr, layout.count, std: 0.3)
        for range in layout.normRanges {
            for i in range { params[i] = 1 + params[i] * (0.2 / 0.3) }
        }
    }

    /// Runs `backward` (given the gradient buffer's pointer) on a random start and keeps what it
    /// added in `grads`.
    func increments(seed: UInt64 = 4321, _ backward: (UnsafeMutablePointer<Float>) -> Void) {
        let start = randomBuffer(layout.count, seed: seed)
        grads.ptr.update(from: start.ptr, count: layout.count)
        backward(grads.ptr)
        for i in 0..<layout.count { grads[i] -= start[i] }
    }

    /// `increments` for a backward that also adds into an input gradient of `inputCount` values
    /// (starting random too); returns what it added there.
    func increments(inputCount: Int, seed: UInt64,
                    _ backward: (_ dInput: UnsafeMutablePointer<Float>, _ dWeights: UnsafeMutablePointer<Float>) -> Void)
        -> FloatBuffer {
        var dInput = FloatBuffer(count: 0)
        increments { g in dInput = gradientIncrements([inputCount], seed: seed) { backward($0[0].ptr, g) }[0] }
        return dInput
    }

    /// Every coordinate of every tensor whose name starts with one of `prefixes`.
    func checkTensors(_ prefixes: [String], eps: Float, floor: Double, nondifferentiable: () -> Bool = { false },
                      loss: () -> Double) -> [CoordinateCheck] {
        layout.slices.filter { s in prefixes.contains { s.name.hasPrefix($0) } }.map { s in
            checkCoordinates(s.name, input: params.ptr + s.offset, analytic: grads.constPtr + s.offset,
                             indices: Array(0..<s.count), eps: eps, floor: floor,
                             nondifferentiable: nondifferentiable, loss: loss)
        }
    }
}

/// Expects every check within `tolerance` (per coordinate) and `l2Tolerance` (per tensor, when
/// given), at least a fraction `minCarrying` of each tensor's coordinates carrying gradient
/// (`sparse` names tensors, by prefix, of which only some rows can: an embedding's unseen tokens,
/// say, with their own fraction), and at most a fraction `nondifferentiable` of all coordinates
/// left out for a routing change; prints each line.
func expectChecks(_ checks: [CoordinateCheck], tolerance: Double, l2Tolerance: Double? = nil, minCarrying: Double,
                  sparse: [String: Double] = [:], nondifferentiable: Double = 0,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!checks.isEmpty, "no tensor checked", sourceLocation: sourceLocation)
    let left = checks.reduce(0) { $0 + $1.nondifferentiable }, all = checks.reduce(left) { $0 + $1.checked }
    #expect(Double(left) <= nondifferentiable * Double(all), "\(left) of \(all) coordinates changed a routing choice",
            sourceLocation: sourceLocation)
    for c in checks {
        print("  \(c)")
        let fraction = sparse.first { c.name.hasPrefix($0.key) }?.value ?? minCarrying
        #expect(c.checked > 0, "\(c)", sourceLocation: sourceLocation)
        #expect(Double(c.carrying) >= fraction * Double(c.checked), "too few coordinates carry gradient: \(c)",
                sourceLocation: sourceLocation)
        #expect(c.worst <= tolerance, "\(c)", sourceLocation: sourceLocation)
        if let l2Tolerance { #expect(c.relativeL2 <= l2Tolerance, "\(c)", sourceLocation: sourceLocation) }
    }
}
