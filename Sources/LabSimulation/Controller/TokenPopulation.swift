#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The simulator's tokens: C distinct tokens (a vocabulary, each with a fixed latent feature
/// vector that the router sees), drawn with Zipf frequencies, as in text where a few function
/// words are most of the tokens.
///
/// Dimension letters: C distinct tokens, f latent features, B tokens in a batch.
struct TokenPopulation {
    let distinct: Int
    let features: Int
    /// `[C, f]` latent features, N(0, 1/f) so that each vector has norm about 1.
    let latent: [Float]
    /// `[C]` probability of each distinct token: (c + 1)^-s, normalised.
    let frequency: [Double]
    /// Vose's alias table: token c is kept with probability keep[c] / 2^32, else alias[c].
    private let keep: [UInt32]
    private let alias: [Int32]

    /// Throws when a size is out of range.
    init(distinct C: Int, features f: Int, zipfExponent s: Double, random: inout SimulationRandom) throws {
        guard C >= 1 else { throw SimulationError("sim.distinct_tokens = \(C) must be at least 1") }
        guard f >= 1 else { throw SimulationError("sim.features = \(f) must be at least 1") }
        guard s.isFinite, s >= 0 else { throw SimulationError("sim.zipf_exponent = \(s) must be finite and >= 0") }
        distinct = C
        features = f
        let scale = 1 / Double(f).squareRoot()
        latent = (0..<(C * f)).map { _ in Float(random.normal() * scale) }
        let weights = (0..<C).map { pow(Double($0 + 1), -s) }
        let total = weights.reduce(0, +)
        frequency = weights.map { $0 / total }
        (keep, alias) = Self.aliasTable(frequency)
    }

    /// Vose's method: C columns of height 1, each split between its own token and one alias.
    private static func aliasTable(_ p: [Double]) -> ([UInt32], [Int32]) {
        let C = p.count
        var scaled = p.map { $0 * Double(C) }
        var keep = [UInt32](repeating: .max, count: C), alias = [Int32](repeating: 0, count: C)
        var small = scaled.indices.filter { scaled[$0] < 1 }, large = scaled.indices.filter { scaled[$0] >= 1 }
        while let s = small.popLast(), let l = large.last {
            keep[s] = UInt32(min(scaled[s] * 4_294_967_296, 4_294_967_295))
            alias[s] = Int32(l)
            scaled[l] -= 1 - scaled[s]
            if scaled[l] < 1 {
                large.removeLast()
                small.append(l)
            }
        }
        for i in small + large { keep[i] = .max; alias[i] = Int32(i) }   // rounding leftovers: height 1
        return (keep, alias)
    }

    /// Draws B tokens and writes how many times each distinct token was drawn into `counts` `[C]`.
    func sample(_ B: Int, into counts: inout [Int32], random: inout SimulationRandom) {
        for c in counts.indices { counts[c] = 0 }
        let C = UInt64(distinct)
        keep.withUnsafeBufferPointer { keep in
            alias.withUnsafeBufferPointer { alias in
                counts.withUnsafeMutableBufferPointer { counts in
                    for _ in 0..<B {
                        let r = random.next()
                        let column = Int(((r >> 32) &* C) >> 32)
                        let coin = UInt32(truncatingIfNeeded: r)
                        let token = coin < keep[column] ? column : Int(alias[column])
                        counts[token] &+= 1
                    }
                }
            }
        }
    }
}
