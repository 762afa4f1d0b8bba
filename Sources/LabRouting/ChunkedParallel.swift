// A small deterministic parallel loop for the routing layer, which must not depend on
// LabKernels (and so cannot use `parallelRanges`).
import Dispatch

/// Runs `body(chunk, range)` over `chunks` static, contiguous ranges that split `0..<count`.
///
/// Chunk c always covers `count*c/chunks ..< count*(c+1)/chunks`, whichever thread runs it, so
/// any result assembled per chunk is identical for a given chunk count. Serial when
/// `chunks <= 1`.
func forEachChunk(_ count: Int, chunks: Int, _ body: @Sendable (Int, Range<Int>) -> Void) {
    if count <= 0 { return }
    if chunks <= 1 {
        body(0, 0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        body(c, count * c / chunks ..< count * (c + 1) / chunks)
    }
}

/// How many chunks to use for `count` items of `costPerItem` work with `threads` workers:
/// one below about 100k operations (a parallel loop does not pay off there), else
/// `min(threads, count)`.
func chunkCount(_ count: Int, costPerItem: Int, threads: Int) -> Int {
    if threads <= 1 || count * costPerItem < 100_000 { return 1 }
    return max(1, min(threads, count))
}

/// A pointer that may cross into a parallel loop; the caller guarantees that chunks touch
/// disjoint elements (or only read).
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
    init(_ base: UnsafeMutablePointer<T>) { self.base = base }
}

/// A read-only pointer that may cross into a parallel loop.
struct SharedConstPointer<T>: @unchecked Sendable {
    let base: UnsafePointer<T>
    init(_ base: UnsafePointer<T>) { self.base = base }
}
