// Throughput of `route` at the release model's router size (printed, not asserted: timings
// depend on the machine). Meaningful in release: `swift test -c release --filter Throughput`.
import Foundation
import Testing
import LabRouting

/// Seconds of CPU time used by the calling thread (immune to time spent descheduled on a busy
/// machine), and wall-clock seconds.
private func clocks() -> (cpu: Double, wall: Double) {
    var cpu = timespec(), wall = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu)
    clock_gettime(CLOCK_MONOTONIC, &wall)
    return (Double(cpu.tv_sec) + Double(cpu.tv_nsec) * 1e-9, Double(wall.tv_sec) + Double(wall.tv_nsec) * 1e-9)
}

@Suite struct ThroughputTests {
    /// Prints tokens/s of `route` and of `LoadCounter.count`, single-threaded, for N = 512,
    /// Z = 256, K = 12 (T = 65536 in release, 1024 in debug builds; 200 MB of probabilities,
    /// so memory bandwidth counts), and of `route` on one batch that stays in cache; checks
    /// only that the routing stayed consistent while being timed.
    @Test func routeThroughputAtReleaseSize() throws {
        #if DEBUG
        let T = 1024
        #else
        let T = 65536
        #endif
        let N = 512, Z = 256, K = 12, E = N + Z, repeats = 5
        var rng = TestRNG(seed: 11)
        let probs = randomProbs(tokens: T, experts: E, rng: &rng)
        let bias = (0..<E).map { _ in Float(rng.uniform(-1e-3, 1e-3)) }
        var plan = RoutingPlan()
        var counter = try LoadCounter(routedExperts: N, zeroExperts: Z, topK: K)
        var routeBest = (cpu: Double.infinity, wall: Double.infinity), countBest = routeBest
        try probs.withUnsafeBufferPointer { p in
            try bias.withUnsafeBufferPointer { b in
                for _ in 0..<repeats {
                    let t0 = clocks()
                    route(probs: p.baseAddress!, bias: b.baseAddress!, tokens: T, routedExperts: N,
                          zeroExperts: Z, topK: K, gateScale: 6, into: &plan)
                    let t1 = clocks()
                    counter.count(probs: p.baseAddress!, bias: b.baseAddress!, tokens: T)
                    let t2 = clocks()
                    routeBest = (min(routeBest.cpu, t1.cpu - t0.cpu), min(routeBest.wall, t1.wall - t0.wall))
                    countBest = (min(countBest.cpu, t2.cpu - t1.cpu), min(countBest.wall, t2.wall - t1.wall))
                }
                try checkPlanConsistency(plan)
            }
        }
        // The same probabilities in cache-sized batches of 256 tokens (how a simulator that
        // generates probabilities in chunks would call it).
        let chunk = 256
        var cachedBest = Double.infinity
        probs.withUnsafeBufferPointer { p in
            bias.withUnsafeBufferPointer { b in
                for _ in 0..<repeats {
                    let t0 = clocks()
                    for _ in 0..<(T / chunk) {
                        route(probs: p.baseAddress!, bias: b.baseAddress!, tokens: chunk, routedExperts: N,
                              zeroExperts: Z, topK: K, gateScale: 6, into: &plan)
                    }
                    cachedBest = min(cachedBest, clocks().cpu - t0.cpu)
                }
            }
        }
        func rate(_ seconds: Double) -> String { String(format: "%.2fM", Double(T) / seconds / 1e6) }
        print("throughput (one thread, best of \(repeats), T=\(T) N=\(N) Z=\(Z) K=\(K)): "
            + "route \(rate(routeBest.cpu)) tokens/CPU-s (\(rate(routeBest.wall)) tokens/s wall); "
            + "LoadCounter.count \(rate(countBest.cpu)) tokens/CPU-s (\(rate(countBest.wall)) wall); "
            + "route on one cached batch of \(chunk) tokens \(rate(cachedBest)) tokens/CPU-s")
        #expect(counter.tokens == repeats * T)
    }
}
