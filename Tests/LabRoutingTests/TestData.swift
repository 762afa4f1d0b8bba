// Deterministic random inputs for the routing tests.
import Foundation
import LabRouting

/// SplitMix64: small, fast, deterministic across platforms.
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * uniform() }

    /// Standard normal (Box-Muller).
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

/// `[T, E]` softmax probabilities of normal logits with standard deviation `spread`, plus
/// `offset[e]` per expert when given (a systematic preference).
func randomProbs(tokens T: Int, experts E: Int, spread: Double = 1, offset: [Double]? = nil,
                 rng: inout TestRNG) -> [Float] {
    var probs = [Float](repeating: 0, count: T * E)
    var logits = [Double](repeating: 0, count: E)
    for t in 0..<T {
        for e in 0..<E { logits[e] = spread * rng.normal() + (offset?[e] ?? 0) }
        let m = logits.max()!
        let z = logits.reduce(0) { $0 + exp($1 - m) }
        for e in 0..<E { probs[t * E + e] = Float(exp(logits[e] - m) / z) }
    }
    return probs
}

/// Routes with the checked overload, failing the test on a thrown error.
func routed(_ probs: [Float], bias: [Float], tokens T: Int, routedExperts N: Int, zeroExperts Z: Int,
            topK K: Int, gateScale s: Float = 1, threads: Int = 1) throws -> RoutingPlan {
    var plan = RoutingPlan()
    try route(probs: probs, bias: bias, tokens: T, routedExperts: N, zeroExperts: Z, topK: K,
              gateScale: s, into: &plan, threads: threads)
    return plan
}
