/// A device with two queues, one for compute kernels and one for communication, each running
/// its operations in the order they were added; an operation starts when its queue is free
/// and every operation it depends on has finished (greedy list scheduling).
///
/// The result says how long the whole graph takes and how much of the communication ran while
/// the compute queue had nothing to do: the "non-overlapped" communication the paper reports.
public struct TwoStreamSchedule: Sendable {
    public enum Stream: Sendable { case compute, communication }

    /// One kernel or message.
    public struct Operation: Sendable {
        public var name: String
        public var stream: Stream
        /// Microseconds.
        public var duration: Double
        /// Indices of earlier operations that must finish first.
        public var dependencies: [Int]
        public var start = 0.0
        public var end: Double { start + duration }
    }

    public private(set) var operations: [Operation] = []
    private var computeFree = 0.0
    private var communicationFree = 0.0

    public init() {}

    /// Appends and schedules an operation; returns its index for later dependencies.
    @discardableResult
    public mutating func add(_ name: String, _ stream: Stream, _ duration: Double, after dependencies: [Int]) -> Int {
        precondition(dependencies.allSatisfy { $0 < operations.count }, "schedule: dependency on a later operation")
        let ready = dependencies.map { operations[$0].end }.max() ?? 0
        var op = Operation(name: name, stream: stream, duration: max(duration, 0), dependencies: dependencies)
        switch stream {
        case .compute:
            op.start = max(ready, computeFree)
            computeFree = op.end
        case .communication:
            op.start = max(ready, communicationFree)
            communicationFree = op.end
        }
        operations.append(op)
        return operations.count - 1
    }

    /// When the last operation ends.
    public var makespan: Double { operations.map(\.end).max() ?? 0 }

    /// Total busy time of one stream.
    public func busy(_ stream: Stream) -> Double {
        Self.union(operations.filter { $0.stream == stream }.map { ($0.start, $0.end) })
    }

    /// Communication time during which no compute kernel runs.
    public var exposedCommunication: Double {
        let comm = operations.filter { $0.stream == .communication }.map { ($0.start, $0.end) }
        let compute = operations.filter { $0.stream == .compute }.map { ($0.start, $0.end) }
        return Self.union(comm) - Self.intersection(comm, compute)
    }

    /// Length of the union of intervals.
    static func union(_ intervals: [(Double, Double)]) -> Double {
        merged(intervals).reduce(0) { $0 + ($1.1 - $1.0) }
    }

    /// Length of (union of a) intersected with (union of b).
    static func intersection(_ a: [(Double, Double)], _ b: [(Double, Double)]) -> Double {
        let x = merged(a), y = merged(b)
        var i = 0, j = 0, total = 0.0
        while i < x.count && j < y.count {
            let lo = max(x[i].0, y[j].0), hi = min(x[i].1, y[j].1)
            if hi > lo { total += hi - lo }
            if x[i].1 < y[j].1 { i += 1 } else { j += 1 }
        }
        return total
    }

    /// Sorted, disjoint intervals covering the same points.
    static func merged(_ intervals: [(Double, Double)]) -> [(Double, Double)] {
        var out: [(Double, Double)] = []
        for (lo, hi) in intervals.filter({ $0.1 > $0.0 }).sorted(by: { $0.0 < $1.0 }) {
            if let last = out.last, lo <= last.1 {
                out[out.count - 1].1 = max(last.1, hi)
            } else {
                out.append((lo, hi))
            }
        }
        return out
    }
}
