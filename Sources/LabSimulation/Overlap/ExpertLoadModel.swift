#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How routed-expert load spreads over the devices of an expert-parallel group. The overlap
/// model needs one number from it: the busiest device's load relative to the mean, which
/// stretches that device's expert GEMMs and the all-to-all (everyone waits for the slowest).
public enum ExpertLoadModel: Sendable, Equatable, CustomStringConvertible {
    /// Every device receives exactly its share.
    case uniform
    /// Expert loads drawn from a log-normal with coefficient of variation `cv` (std / mean),
    /// seeded, then summed per device.
    case lognormal(cv: Double, seed: UInt64)
    /// FFN-expert loads (any positive scale) measured elsewhere, e.g. a recorded run's
    /// `expert_steps.tokens`; `source` says where they came from.
    case recorded(loads: [Double], source: String)

    public var description: String {
        switch self {
        case .uniform: return "uniform"
        case .lognormal(let cv, let seed): return "lognormal(cv \(format(cv, 3)), seed \(seed))"
        case .recorded(let loads, let source): return "recorded(\(loads.count) experts from \(source))"
        }
    }

    /// max over devices of (device load / mean device load), >= 1.
    ///
    /// N experts are split into `expertParallel` devices of N / EP consecutive experts. Recorded
    /// loads of M experts (a small lab model, M != N) are split into gcd(M, EP) equal groups
    /// instead, each standing for EP / gcd devices that share its load evenly.
    /// Throws when a value is out of range or EP does not divide N.
    public func busiestDeviceFactor(routedExperts N: Int, expertParallel ep: Int) throws -> Double {
        guard ep >= 1 else { throw SimulationError("expert_parallel = \(ep) must be at least 1") }
        switch self {
        case .uniform:
            guard N % ep == 0 else {
                throw SimulationError("expert_parallel = \(ep) must divide the \(N) routed experts")
            }
            return 1
        case .lognormal(let cv, let seed):
            guard cv.isFinite, cv >= 0 else {
                throw SimulationError("expert load cv = \(cv) must be finite and >= 0")
            }
            guard N % ep == 0 else {
                throw SimulationError("expert_parallel = \(ep) must divide the \(N) routed experts")
            }
            // Log-normal with mean 1 and std cv: sigma^2 = ln(1 + cv^2), mu = -sigma^2 / 2.
            let sigma = log(1 + cv * cv).squareRoot()
            var random = SimulationRandom(seed: seed)
            let loads = (0..<N).map { _ in exp(sigma * random.normal() - sigma * sigma / 2) }
            return Self.busiest(loads, groups: ep)
        case .recorded(let loads, let source):
            guard !loads.isEmpty, loads.allSatisfy({ $0.isFinite && $0 >= 0 }), loads.contains(where: { $0 > 0 }) else {
                throw SimulationError("recorded expert loads from \(source) must be finite, >= 0 and not all 0")
            }
            return Self.busiest(loads, groups: gcd(loads.count, ep))
        }
    }

    /// Splits `loads` into `groups` runs of equal length and returns max run sum / mean run sum.
    static func busiest(_ loads: [Double], groups: Int) -> Double {
        let per = loads.count / groups
        var sums: [Double] = []
        for g in 0..<groups { sums.append(loads[g * per ..< (g + 1) * per].reduce(0, +)) }
        let mean = sums.reduce(0, +) / Double(groups)
        return max(1, sums.max()! / mean)
    }
}

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

/// A bad simulation setting or input; the message names the key, the value and what is allowed.
public struct SimulationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
