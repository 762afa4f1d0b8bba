import Foundation
import LabKernels
import Testing

@Suite("Fast exp and SiLU")
struct FastMathTests {
    /// Guards against a polynomial or range-reduction error: relative error against the
    /// C library's exp (in Double) over the whole normal range, lane and scalar versions.
    @Test("fastExp is accurate to 1e-6 relative over the normal range")
    func expAccuracy() {
        var worst: Double = 0
        var x: Float = -87
        while x < 88.3 {
            let lanes = fastExp(SIMD8<Float>(repeating: x) + SIMD8<Float>(0, 1, 2, 3, 4, 5, 6, 7) * 1e-3)
            for lane in 0..<8 {
                let input = x + Float(lane) * 1e-3
                let exact = Foundation.exp(Double(input))
                worst = max(worst, abs(Double(lanes[lane]) - exact) / exact)
                worst = max(worst, abs(Double(fastExp(input)) - exact) / exact)
            }
            x += 0.0137
        }
        #expect(worst < 1e-6, "worst relative error \(worst)")
    }

    /// Guards against NaN or inf from overflow/underflow of the exponent bits: very negative
    /// inputs give 0, very positive ones a finite clamp, and both lanes and scalar agree.
    @Test("fastExp underflows to 0 and clamps large inputs without NaN or inf")
    func expRange() {
        let negatives: [Float] = [-87.5, -88, -100, -1e4, -Float.greatestFiniteMagnitude, -.infinity]
        for x in negatives {
            #expect(fastExp(x) == 0, "exp(\(x))")
            #expect(fastExp(SIMD8<Float>(repeating: x))[3] == 0, "exp(\(x)) lanes")
        }
        let positives: [Float] = [88.5, 89, 100, 1e4, .greatestFiniteMagnitude, .infinity]
        for x in positives {
            let scalar = fastExp(x), lane = fastExp(SIMD8<Float>(repeating: x))[5]
            #expect(scalar.isFinite && scalar > 1e38, "exp(\(x)) = \(scalar)")
            #expect(lane == scalar, "exp(\(x)) lanes \(lane) vs scalar \(scalar)")
        }
        #expect(fastExp(0) == 1)
    }

    /// Guards against SiLU losing precision or producing NaN for large |x|.
    @Test("silu matches x * sigmoid(x) and stays finite")
    func siluAccuracy() {
        var worst: Double = 0
        var x: Float = -30
        while x < 30 {
            let exact = Double(x) / (1 + Foundation.exp(-Double(x)))
            let got = Double(silu(x))
            worst = max(worst, abs(got - exact) / max(abs(exact), 1e-6))
            #expect(silu(SIMD8<Float>(repeating: x))[0] == silu(x))
            x += 0.0731
        }
        #expect(worst < 2e-6, "worst relative error \(worst)")
        for x: Float in [-1e4, -200, -90, 90, 200, 1e4] {
            #expect(silu(x).isFinite, "silu(\(x))")
        }
        #expect(abs(silu(-200)) < 1e-30)
        #expect(silu(200) == 200)
    }
}
