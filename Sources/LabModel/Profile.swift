import Dispatch

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

    /// Nanoseconds of whole forward and backward passes.
    nonisolated(unsafe) public static var phaseNanoseconds: [UInt64] = [0, 0]

    public static func reset() {
        nanoseconds = [[UInt64]](repeating: [0, 0], count: ProfileKey.allCases.count)
        phaseNanoseconds = [0, 0]
    }

    /// Time spent in timers nested inside the running one (so every key gets exclusive time).
    nonisolated(unsafe) private static var nestedNanoseconds: UInt64 = 0

    /// Runs `body`, adding its time minus that of nested timers to `key`. Main thread only.
    @inline(__always)
    static func time<T>(_ key: ProfileKey, backward: Bool = false, _ body: () -> T) -> T {
        guard enabled else { return body() }
        let outerNested = nestedNanoseconds
        nestedNanoseconds = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let result = body()
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        nanoseconds[key.rawValue][backward ? 1 : 0] += elapsed - min(elapsed, nestedNanoseconds)
        nestedNanoseconds = outerNested + elapsed
        return result
    }

    /// Adds the time since `start`, less the nested timers' share since then, to `key`, and
    /// reports the whole span as nested to an enclosing timer. Used by `ProfileLaps`.
    static func addLap(_ key: ProfileKey, backward: Bool, start: UInt64, nestedAtStart: UInt64) -> UInt64 {
        let now = DispatchTime.now().uptimeNanoseconds
        let elapsed = now - start, inner = nestedNanoseconds - nestedAtStart
        nanoseconds[key.rawValue][backward ? 1 : 0] += elapsed - min(elapsed, inner)
        nestedNanoseconds = nestedAtStart + elapsed
        return now
    }

    /// Time of the timers that have finished so far (for `ProfileLaps`).
    static var nested: UInt64 { nestedNanoseconds }

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
    private var start: UInt64 = 0, nestedAtStart: UInt64 = 0

    init(backward: Bool = false) {
        self.backward = backward
        guard Profiler.enabled else { return }
        start = DispatchTime.now().uptimeNanoseconds
        nestedAtStart = Profiler.nested
    }

    @inline(__always)
    mutating func lap(_ key: ProfileKey) {
        guard Profiler.enabled else { return }
        start = Profiler.addLap(key, backward: backward, start: start, nestedAtStart: nestedAtStart)
        nestedAtStart = Profiler.nested
    }
}
