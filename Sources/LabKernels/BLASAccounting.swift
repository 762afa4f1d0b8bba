import LabCPU

/// Accounting of the BLAS calls a training step makes, for `bench`: the floating-point
/// operations the calls execute (which exceed the model's count where attention's causal blocks
/// cover part of the masked square, or where the backward recomputes scores) and the threads'
/// time inside them. With both, a step's time splits into BLAS work at the rate the library
/// reaches on these shapes, and everything else.
///
/// Off by default: each call then costs one flag test. When on, a call costs two clock reads and
/// three relaxed atomic adds (tens of nanoseconds; bench-medium makes about 40,000 calls a step).
/// Set it between steps, not while a step runs.
public nonisolated(unsafe) var blasAccounting = false

/// Running totals of the BLAS calls noted while `blasAccounting` was on.
public struct BLASCounters: Sendable, Equatable {
    public var calls = 0
    /// Seconds inside BLAS, summed over the threads that made the calls.
    public var seconds = 0.0
    /// Floating-point operations (2 m n k per call).
    public var flops = 0.0

    public init(calls: Int = 0, seconds: Double = 0, flops: Double = 0) {
        self.calls = calls; self.seconds = seconds; self.flops = flops
    }

    public static var now: BLASCounters {
        var calls = 0, ns = 0, flops = 0
        labcpu_blas_counters(&calls, &ns, &flops)
        return BLASCounters(calls: calls, seconds: Double(ns) * 1e-9, flops: Double(flops))
    }

    /// Totals accumulated since `earlier`.
    public func since(_ earlier: BLASCounters) -> BLASCounters {
        BLASCounters(calls: calls - earlier.calls, seconds: seconds - earlier.seconds, flops: flops - earlier.flops)
    }

    /// GFLOP/s per thread while inside BLAS.
    public var gflopsPerThread: Double { seconds > 0 ? flops / seconds / 1e9 : 0 }
}

/// Nanoseconds inside BLAS so far (summed over threads) and operations executed, for the
/// profiler's per-module split; zeros while accounting is off.
@inline(__always)
public func blasTotalsSoFar() -> (nanoseconds: UInt64, flops: UInt64) {
    guard blasAccounting else { return (0, 0) }
    var calls = 0, ns = 0, flops = 0
    labcpu_blas_counters(&calls, &ns, &flops)
    return (UInt64(ns), UInt64(flops))
}

/// Runs one BLAS call `body` of `flops` operations, noting it when accounting is on.
@inline(__always)
func accountedBLAS(flops: Int, _ body: () -> Void) {
    if !blasAccounting { body(); return }
    let start = labcpu_clock_ns()
    body()
    labcpu_blas_note(start, flops)
}
