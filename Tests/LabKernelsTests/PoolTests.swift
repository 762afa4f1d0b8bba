import Dispatch
import LabKernels
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

/// The worker pool behind `parallelFor`: each iteration exactly once, whatever runs it.
@Suite("Worker pool")
struct PoolTests {
    /// Guards against lost or repeated iterations when helpers claim indices concurrently
    /// (counts below, at and far above the thread count).
    @Test(arguments: [2, 3, 7, 1000])
    func everyIterationRunsOnce(count: Int) {
        for _ in 0..<50 {
            let runs = RunCounts(count)
            parallelFor(count) { runs.bump($0) }
            #expect(runs.allOnce, "count \(count)")
        }
    }

    /// Guards against a deadlock or a lost iteration when a loop runs inside a loop (the inner
    /// one runs on its thread alone).
    @Test func nestedLoopsRunEveryIteration() {
        let runs = RunCounts(4 * 5)
        parallelFor(4) { i in parallelFor(5) { j in runs.bump(i * 5 + j) } }
        #expect(runs.allOnce)
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
                parallelFor(count) { runs.bump($0) }
                if !runs.allOnce { failures.bump(c) }
            }
        }
        #expect((0..<callers).allSatisfy { failures.counts[$0] == 0 })
    }

    /// Guards against the pool silently never being used (every loop falling back to Dispatch):
    /// with two or more threads a loop from an otherwise idle caller runs on the pool, and its
    /// counters move. (Retried: a concurrently running test may hold the pool for a moment.)
    @Test func loopsRunOnThePoolWithHelpers() {
        guard LabThreads.count >= 2 else { return }
        var counted = false
        for _ in 0..<1000 where !counted {
            let before = PoolCounters.now
            parallelFor(2) { _ in }
            let after = PoolCounters.now
            counted = after.loops > before.loops
        }
        #expect(counted)
        #expect(PoolCounters.now.helpers >= 1)
    }
}
