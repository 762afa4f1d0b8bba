import Dispatch
import LabKernels

/// Where a training step spends its time, by module and direction; used by `longcat-lab bench`.
/// Off by default: a disabled timer costs one branch.
public enum ProfileKey: Int, CaseIterable, Sendable {
    case embedding, mlaProjections, attention, denseFFN, router, experts, moeCombine, norms, lmHeadAndLoss, mtp, other

    public var label: String {
        switch self {
        case .embedding: "embedding"
        case .mlaProjections: "MLA projections + norms + RoPE"
        case .attention: "attention (scores, softmax, values)"
        case .denseFFN: "dense SwiGLU FFNs"
        case .router: "router (logits, softmax, top-k)"
        case .experts: "routed experts (gather + GEMMs)"
        case .moeCombine: "MoE combine / scatter"
        case .norms: "layer RMSNorms + residuals"
        case .lmHeadAndLoss: "final norm + LM head + loss"
        case .mtp: "MTP head"
        case .other: "other"
        }
    }
}

public enum Profiler {
    nonisolated(unsafe) public static var enabled = false
    /// Nanoseconds per key, [forward, backward].
    nonisolated(unsafe) public static var nanoseconds = [[UInt64]](repeating: [0, 0], count: ProfileKey.allCases.count)
    /// Nanoseconds the threads spent inside BLAS calls per key, [forward, backward], summed over
    /// threads (zero unless `blasAccounting` is on).
    nonisolated(unsafe) public static var blasNanoseconds = [[UInt64]](repeating: [0, 0], count: ProfileKey.allCases.count)
    /// Operations the BLAS calls executed per key, [forward, backward] (zero unless accounting is on).
    nonisolated(unsafe) public static var blasFlops = [[UInt64]](repeating: [0, 0], count: ProfileKey.allCases.count)

    /// Nanoseconds of whole forward and backward passes.
    nonisolated(unsafe) public static var phaseNanoseconds: [UInt64] = [0, 0]

    public static func reset() {
        nanoseconds = [[UInt64]](repeating: [0, 0], count: ProfileKey.allCases.count)
        blasNanoseconds = nanoseconds
        blasFlops = nanoseconds
        phaseNanoseconds = [0, 0]
    }

    /// The counters a timer reads: wall time, the threads' summed time inside BLAS and the
    /// operations BLAS executed.
    struct Clocks {
        var wall: UInt64, blas: UInt64, flops: UInt64
        static var now: Clocks {
            let totals = blasTotalsSoFar()
            return Clocks(wall: DispatchTime.now().uptimeNanoseconds, blas: totals.nanoseconds, flops: totals.flops)
        }
        static let zero = Clocks(wall: 0, blas: 0, flops: 0)
        static func - (a: Clocks, b: Clocks) -> Clocks {
            Clocks(wall: a.wall &- b.wall, blas: a.blas &- b.blas, flops: a.flops &- b.flops)
        }
        static func + (a: Clocks, b: Clocks) -> Clocks {
            Clocks(wall: a.wall &+ b.wall, blas: a.blas &+ b.blas, flops: a.flops &+ b.flops)
        }
    }

    /// Time spent in timers nested inside the running one (so every key gets exclusive time).
    nonisolated(unsafe) private static var nestedClocks = Clocks.zero

    /// Adds `elapsed` less `inner` (the nested timers' share) to `key`.
    private static func add(_ key: ProfileKey, backward: Bool, elapsed: Clocks, inner: Clocks) {
        let d = backward ? 1 : 0
        nanoseconds[key.rawValue][d] += elapsed.wall - min(elapsed.wall, inner.wall)
        blasNanoseconds[key.rawValue][d] += elapsed.blas - min(elapsed.blas, inner.blas)
        blasFlops[key.rawValue][d] += elapsed.flops - min(elapsed.flops, inner.flops)
    }

    /// Runs `body`, adding its time minus that of nested timers to `key`. Main thread only.
    @inline(__always)
    static func time<T>(_ key: ProfileKey, backward: Bool = false, _ body: () -> T) -> T {
        guard enabled else { return body() }
        let outerNested = nestedClocks
        nestedClocks = .zero
        let start = Clocks.now
        let result = body()
        let elapsed = Clocks.now - start
        add(key, backward: backward, elapsed: elapsed, inner: nestedClocks)
        nestedClocks = outerNested + elapsed
        return result
    }

    /// Adds the time since `start`, less the nested timers' share since then, to `key`, and
    /// reports the whole span as nested to an enclosing timer. Used by `ProfileLaps`.
    static func addLap(_ key: ProfileKey, backward: Bool, start: Clocks, nestedAtStart: Clocks) -> Clocks {
        let now = Clocks.now
        let elapsed = now - start
        add(key, backward: backward, elapsed: elapsed, inner: nestedClocks - nestedAtStart)
        nestedClocks = nestedAtStart + elapsed
        return now
    }

    /// Time of the timers that have finished so far (for `ProfileLaps`).
    static var nested: Clocks { nestedClocks }

    /// Adds the time since `start` to the forward or backward phase; returns now.
    static func addPhase(backward: Bool, since start: UInt64) -> UInt64 {
        let now = DispatchTime.now().uptimeNanoseconds
        if enabled { phaseNanoseconds[backward ? 1 : 0] += now - start }
        return now
    }
}

/// A stopwatch for a straight run of calls, timed at their call sites: `laps.lap(.key)` right
/// after a call adds the time since the previous lap (less timers nested in it) to `key`.
/// Off, it costs one branch per lap. Main thread only.
struct ProfileLaps {
    private let backward: Bool
    private var start = Profiler.Clocks.zero, nestedAtStart = Profiler.Clocks.zero

    init(backward: Bool = false) {
        self.backward = backward
        guard Profiler.enabled else { return }
        start = .now
        nestedAtStart = Profiler.nested
    }

    @inline(__always)
    mutating func lap(_ key: ProfileKey) {
        guard Profiler.enabled else { return }
        start = Profiler.addLap(key, backward: backward, start: start, nestedAtStart: nestedAtStart)
        nestedAtStart = Profiler.nested
    }
}
