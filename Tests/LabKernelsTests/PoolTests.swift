import Dispatch
import Foundation
@testable import LabKernels
import Testing

/// Counts of how often each index ran, written by disjoint iterations.
private final class RunCounts: @unchecked Sendable {
    let counts: UnsafeMutablePointer<Int32>
    let n: Int
    init(_ n: Int) {
        self.n = n
        counts = .allocate(capacity: n)
        counts.initialize(repeating: 0, count: n)
    }
    deinit { counts.deallocate() }
    func bump(_ i: Int) { counts[i] += 1 }
    var allOnce: Bool { (0..<n).allSatisfy { counts[$0] == 1 } }
}

/// Runs `body` over 0..<count on the worker pool itself with `threads` threads (whatever
/// `LabThreads` says meanwhile: other tests set it), retrying every 0.1 ms for up to 20 s while
/// a concurrently running test holds the pool. False when it never got the pool.
private func onPool(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) -> Bool {
    for _ in 0..<200_000 {
        if poolParallelFor(count, threads: threads, body) == 0 { return true }
        usleep(100)
    }
    return false
}

/// The worker pool behind `parallelFor`: each iteration exactly once, whatever runs it.
@Suite("Worker pool", .serialized)
struct PoolTests {
    /// Guards against lost or repeated iterations when helpers claim indices concurrently
    /// (counts below, at and far above the thread count; 2 and 3 threads).
    @Test(arguments: [2, 3, 7, 1000])
    func everyIterationRunsOnce(count: Int) {
        for threads in [2, 3] {
            for _ in 0..<50 {
                let runs = RunCounts(count)
                #expect(onPool(count, threads: threads) { runs.bump($0) })
                #expect(runs.allOnce, "count \(count), \(threads) threads")
            }
        }
        #expect(PoolCounters.now.helpers >= 2)
    }

    /// Guards against a deadlock or a lost iteration when a loop runs inside a pool loop (the
    /// inner one runs on its thread alone and says so).
    @Test func nestedLoopsRunEveryIteration() {
        let runs = RunCounts(4 * 5)
        let nestedCodes = RunCounts(4)
        #expect(onPool(4, threads: 2) { i in
            if poolParallelFor(5, threads: 2, { _ in }) == -1 { nestedCodes.bump(i) }
            parallelFor(5) { j in runs.bump(i * 5 + j) }
        })
        #expect(runs.allOnce)
        #expect(nestedCodes.allOnce)
    }

    /// Guards against a deadlock or a mixed-up loop when several threads start loops at once:
    /// one holds the pool, the others fall back to Dispatch, and every loop completes with its
    /// own iterations.
    @Test func concurrentCallersEachCompleteTheirOwnLoops() {
        let callers = 4, loops = 200, count = 37
        let failures = RunCounts(callers)
        DispatchQueue.concurrentPerform(iterations: callers) { c in
            for _ in 0..<loops {
                let runs = RunCounts(count)
                if poolParallelFor(count, threads: 2, { runs.bump($0) }) != 0 {
                    DispatchQueue.concurrentPerform(iterations: count) { runs.bump($0) }
                }
                if !runs.allOnce { failures.bump(c) }
            }
        }
        #expect((0..<callers).allSatisfy { failures.counts[$0] == 0 })
    }

    /// Guards against the pool's counters standing still (bench reports them): a loop on the
    /// pool counts once, and its helpers exist.
    @Test func poolLoopsAreCounted() {
        let before = PoolCounters.now
        #expect(onPool(2, threads: 2) { _ in })
        #expect(PoolCounters.now.loops > before.loops)
        #expect(PoolCounters.now.helpers >= 1)
    }
}
