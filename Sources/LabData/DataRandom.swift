/// The seeded random stream behind every synthetic corpus and batch window.
///
/// SplitMix64 with our own bounded draws: the sequence is fixed by the seed on every platform
/// and toolchain (Swift's `random(in:using:)` may change its algorithm between releases, which
/// would silently change corpora and batches of recorded runs).
struct DataRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// SplitMix64's output function: a bijective mix of 64 bits.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed for an independent stream derived from `seed` and a `salt` (a step, a chunk, ...).
    static func derive(_ seed: UInt64, _ salt: UInt64) -> UInt64 {
        mix(seed ^ mix(salt &+ 0x6A09_E667_F3BC_C909))
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return DataRandom.mix(state)
    }

    /// Uniform in `0..<n` (n > 0) by multiply-shift; the bias is below n / 2^64.
    mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "empty range")
        return Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Uniform in a closed range.
    mutating func inRange(_ r: ClosedRange<Int>) -> Int { r.lowerBound + below(r.count) }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// An index drawn from `cumulative` (non-decreasing, last element 1).
    mutating func pick(cumulative: [Double]) -> Int {
        let u = unit()
        for (i, c) in cumulative.enumerated() where u < c { return i }
        return cumulative.count - 1
    }
}
