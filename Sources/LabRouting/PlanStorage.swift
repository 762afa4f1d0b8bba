// Storage of a routing plan: owned heap buffers whose addresses stay put while the plan is
// reused with the same (or smaller) shapes, so kernels read them through plain pointers
// instead of nested `withUnsafeBufferPointer` closures.

/// A read-only view of one of a plan's arrays: a pointer, a count and a reference that keeps
/// the storage alive. Sendable, so it can be captured by a parallel loop as it is.
///
/// The view sees the plan as it was when taken; routing into the same plan again (the plan
/// being the only owner of its storage) rewrites the elements in place.
public struct PlanColumn<Element>: RandomAccessCollection, @unchecked Sendable {
    /// First element; valid while this view (or the plan it came from) is alive.
    public let base: UnsafePointer<Element>
    public let count: Int
    private let owner: AnyObject

    init(_ base: UnsafeMutablePointer<Element>, count: Int, owner: AnyObject) {
        self.base = UnsafePointer(base); self.count = count; self.owner = owner
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    @inlinable public func index(after i: Int) -> Int { i + 1 }
    @inlinable public func index(before i: Int) -> Int { i - 1 }

    @inlinable public subscript(i: Int) -> Element {
        precondition(i >= 0 && i < count, "plan index \(i) out of range 0..<\(count)")
        return base[i]
    }
}

extension PlanColumn: Equatable where Element: Equatable {
    public static func == (a: PlanColumn, b: PlanColumn) -> Bool { a.elementsEqual(b) }
    public static func == (a: PlanColumn, b: [Element]) -> Bool { a.elementsEqual(b) }
}

/// Heap storage that keeps its address until it must grow; zero-filled where it grows.
struct GrowableStorage<T> {
    private(set) var base: UnsafeMutablePointer<T>
    private(set) var capacity: Int
    private let fill: T

    init(fill: T) {
        self.fill = fill
        capacity = 1
        base = .allocate(capacity: 1)
        base.initialize(to: fill)
    }

    /// Makes room for `n` elements (contents are not kept across a growth: callers rewrite them).
    mutating func reserve(_ n: Int) {
        if n <= capacity { return }
        base.deallocate()
        capacity = n
        base = .allocate(capacity: n)
        base.initialize(repeating: fill, count: n)
    }

    func free() { base.deallocate() }
}

/// The buffers of one `RoutingPlan` (shared by copies of the plan until one of them routes
/// again; see `RoutingPlan.prepare`).
final class PlanStorage: @unchecked Sendable {
    var expert = GrowableStorage<Int32>(fill: 0)      // [T*K]
    var gate = GrowableStorage<Float>(fill: 0)        // [T*K]
    var offsets = GrowableStorage<Int>(fill: 0)       // [E+1]
    var sortedSlots = GrowableStorage<Int32>(fill: 0) // [T*K]
    var sortedRow = GrowableStorage<Int32>(fill: 0)   // [T*K]
    var ffnCount = GrowableStorage<Int32>(fill: 0)    // [T]
    var margin = GrowableStorage<Float>(fill: 0)      // [T]
    var chunkCounts = GrowableStorage<Int>(fill: 0)   // [chunks, E]
    var keyScratch = GrowableStorage<Int32>(fill: 0)  // [chunks, topKScratchCount(E)]

    deinit {
        expert.free(); gate.free(); offsets.free(); sortedSlots.free(); sortedRow.free()
        ffnCount.free(); margin.free(); chunkCounts.free(); keyScratch.free()
    }
}
