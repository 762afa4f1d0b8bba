import Dispatch
import Foundation
import Synchronization

/// Turns SIGINT/SIGTERM into a flag the training loop checks between steps, so an interrupted
/// run finishes its step, writes a checkpoint and marks itself interrupted instead of dying
/// mid-write. A second signal exits at once.
///
/// The signal sources are process-wide and registered once, however many trainers a process
/// runs (tests, sweeps in one process): each flag only remembers how many signals had arrived
/// when its run armed it, so one signal prints one message and raises every armed flag.
public final class InterruptFlag: Sendable {
    /// Signals the process had received when `install()` armed this flag; -1 until then.
    private let baseline = Atomic<Int>(-1)

    public init() {}

    public var isRaised: Bool {
        let start = baseline.load(ordering: .relaxed)
        return start >= 0 && ProcessSignals.count > start
    }

    /// Arms the flag: from now on SIGINT/SIGTERM raise it, and a second one ends the process.
    public func install() {
        ProcessSignals.arm()
        baseline.store(ProcessSignals.count, ordering: .relaxed)
    }
}

/// Signals received by the process, and that count when the latest run armed.
private let signalsReceived = Atomic<Int>(0)
private let signalsWhenArmed = Atomic<Int>(0)

/// The process's SIGINT/SIGTERM dispatch sources, created on first use (a global's lazy,
/// once-only initialisation) and never cancelled.
nonisolated(unsafe) private let signalSources: [DispatchSourceSignal] = [SIGINT, SIGTERM].map { sig in
    signal(sig, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
    source.setEventHandler {
        let now = signalsReceived.add(1, ordering: .relaxed).newValue
        if now - signalsWhenArmed.load(ordering: .relaxed) > 1 { exit(130) }
        FileHandle.standardError.write(Data("\nlongcat-lab: interrupted; finishing the current step and saving a checkpoint (signal again to exit now)\n".utf8))
    }
    source.resume()
    return source
}

/// Process-wide signal handling shared by every `InterruptFlag`.
private enum ProcessSignals {
    static var count: Int { signalsReceived.load(ordering: .relaxed) }

    /// Registers the sources if not yet done, and marks the start of a run: the next signal
    /// asks it to stop, the one after exits.
    static func arm() {
        _ = signalSources
        signalsWhenArmed.store(count, ordering: .relaxed)
    }
}
