import Dispatch
import LabCPU

/// How many worker threads the lab's parallel loops use. BLAS itself stays single-threaded
/// (LabCPU sets that); all parallelism is here, over independent rows, heads or experts.
public enum LabThreads {
    nonisolated(unsafe) private static var _count = 0

    /// Worker count (at least 1). 0 or less at `set` means all cores.
    public static var count: Int {
        if _count <= 0 { _count = max(1, ProcessInfoShim.activeProcessorCount) }
        return _count
    }

    /// Call once at start-up, before any parallel loop runs.
    public static func set(_ n: Int) { _count = n > 0 ? n : max(1, ProcessInfoShim.activeProcessorCount) }
}

/// Avoids importing Foundation into the kernels just for the processor count.
enum ProcessInfoShim {
    static var activeProcessorCount: Int {
        #if canImport(Glibc)
        return Int(sysconfGlibc())
        #else
        return 2
        #endif
    }
}

#if canImport(Glibc)
import Glibc
private func sysconfGlibc() -> Int { sysconf(Int32(_SC_NPROCESSORS_ONLN)) }
#endif

/// A pointer that may cross into a parallel loop. The caller guarantees that iterations touch
/// disjoint elements (or only read).
public struct SendablePointer<T>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<T>
    public init(_ base: UnsafeMutablePointer<T>) { self.base = base }
    @inlinable public subscript(i: Int) -> T {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
    @inlinable public func advanced(by n: Int) -> UnsafeMutablePointer<T> { base + n }
}

/// Runs `body(chunk)` for chunk in 0..<chunks, in parallel when `chunks > 1` and more than one
/// thread is configured. Iterations must be independent; each computes the same thing whichever
/// thread runs it, so a result never depends on scheduling (determinism).
///
/// The loop runs on the lab's worker pool (LabCPU's labpool: helpers that spin between loops,
/// so a loop starts without waking a thread). A loop nested in another runs on its thread
/// alone (both cores are busy with the outer loop already); a loop started while another
/// thread's loop holds the pool (tests run concurrently) goes to Dispatch.
@inlinable
public func parallelFor(_ chunks: Int, _ body: @Sendable (Int) -> Void) {
    if chunks > 1 && LabThreads.count > 1 {
        switch poolParallelFor(chunks, body) {
        case 0: return
        case -2: DispatchQueue.concurrentPerform(iterations: chunks, execute: body); return
        default: break  // nested in a pool loop: run here
        }
    }
    for i in 0..<chunks { body(i) }
}

/// `labpool_parallel_for` over `body`: 0 when it ran, -1 when nested in a pool loop, -2 when
/// the pool is held by another thread (nothing ran in either case).
@usableFromInline
func poolParallelFor(_ chunks: Int, threads: Int = LabThreads.count, _ body: @Sendable (Int) -> Void) -> Int32 {
    withoutActuallyEscaping(body) { escapable in
        var task: (Int) -> Void = escapable
        return withUnsafeMutablePointer(to: &task) { pointer in
            labpool_parallel_for(chunks, Int32(threads), { context, index in
                context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
            }, pointer)
        }
    }
}

/// Splits `0..<count` into about `LabThreads.count` contiguous ranges and runs them in
/// parallel; serial when `count * costPerItem` is below `minWork` (a parallel loop on 2 cores
/// pays off only above roughly 100k simple operations).
@inlinable
public func parallelRanges(_ count: Int, costPerItem: Int = 1, minWork: Int = 100_000,
                           _ body: @Sendable (Range<Int>) -> Void) {
    if count <= 0 { return }
    let threads = LabThreads.count
    if threads == 1 || count == 1 || count * costPerItem < minWork {
        body(0..<count)
        return
    }
    let parts = min(threads, count)
    parallelFor(parts) { p in
        let lo = count * p / parts
        let hi = count * (p + 1) / parts
        body(lo..<hi)
    }
}

/// Number of chunks `parallelChunks` makes of `count` items.
@inlinable
public func chunkCount(_ count: Int, chunkSize: Int) -> Int {
    count <= 0 ? 0 : (count + chunkSize - 1) / chunkSize
}

/// Runs `body(chunk, range)` over fixed-size chunks of `0..<count` (the last may be shorter),
/// the chunks spread over the threads as by `parallelRanges`.
///
/// Chunk boundaries depend only on `count` and `chunkSize`, never on the thread count, so
/// per-chunk partial sums combined in chunk order give the same bits with any number of threads.
@inlinable
public func parallelChunks(_ count: Int, chunkSize: Int, costPerItem: Int = 1, minWork: Int = 100_000,
                           _ body: @Sendable (_ chunk: Int, _ range: Range<Int>) -> Void) {
    let chunks = chunkCount(count, chunkSize: chunkSize)
    parallelRanges(chunks, costPerItem: costPerItem * chunkSize, minWork: minWork) { range in
        for c in range { body(c, c * chunkSize ..< min(count, (c + 1) * chunkSize)) }
    }
}

/// Sum of `body(range)` over fixed-size chunks of `0..<count`, the chunks run as by
/// `parallelChunks` and their results added in chunk order: the same bits with any thread count.
@inlinable
public func parallelSum(_ count: Int, chunkSize: Int, costPerItem: Int = 1, minWork: Int = 100_000,
                        _ body: @Sendable (_ range: Range<Int>) -> Double) -> Double {
    let chunks = chunkCount(count, chunkSize: chunkSize)
    if chunks == 0 { return 0 }
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: chunks)
    defer { partial.deallocate() }
    let pPartial = SendablePointer(partial)
    parallelChunks(count, chunkSize: chunkSize, costPerItem: costPerItem, minWork: minWork) { chunk, range in
        pPartial[chunk] = body(range)
    }
    var total = 0.0
    for c in 0..<chunks { total += partial[c] }
    return total
}

/// The worker pool's running totals (see `labpool_counters`): loops run, seconds helpers spent
/// outside a loop (summed over helpers), seconds callers waited at loops' ends.
public struct PoolCounters: Sendable {
    public var loops = 0
    public var helperIdleSeconds = 0.0
    public var callerWaitSeconds = 0.0
    /// Helpers started (threads - 1 once a loop has run).
    public var helpers = 0

    public init(loops: Int = 0, helperIdleSeconds: Double = 0, callerWaitSeconds: Double = 0, helpers: Int = 0) {
        self.loops = loops; self.helperIdleSeconds = helperIdleSeconds
        self.callerWaitSeconds = callerWaitSeconds; self.helpers = helpers
    }

    public static var now: PoolCounters {
        var loops = 0, idle = 0, wait = 0
        labpool_counters(&loops, &idle, &wait)
        return PoolCounters(loops: loops, helperIdleSeconds: Double(idle) * 1e-9,
                            callerWaitSeconds: Double(wait) * 1e-9, helpers: Int(labpool_helpers()))
    }

    /// Counts accumulated since `earlier` (helpers as now).
    public func since(_ earlier: PoolCounters) -> PoolCounters {
        PoolCounters(loops: loops - earlier.loops, helperIdleSeconds: helperIdleSeconds - earlier.helperIdleSeconds,
                     callerWaitSeconds: callerWaitSeconds - earlier.callerWaitSeconds, helpers: helpers)
    }
}
