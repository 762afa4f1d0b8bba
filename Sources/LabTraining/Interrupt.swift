import Dispatch
import Foundation
import Synchronization

/// Turns SIGINT/SIGTERM into a flag the training loop checks between steps, so an interrupted
/// run finishes its step, writes a checkpoint and marks itself interrupted instead of dying
/// mid-write. A second signal exits at once (status 130), without running exit handlers.
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
        // Signals that arrive close together reach the handler as one event; data counts them.
        let now = signalsReceived.add(max(1, Int(source.data)), ordering: .relaxed).newValue
        if now - signalsWhenArmed.load(ordering: .relaxed) > 1 {
            // _exit, not exit: exit's atexit handlers (OpenBLAS's among them) free buffers that
            // the training thread may be using inside a GEMM at this moment, which crashed the
            // process instead of ending it. SQLite's journal keeps the records whole either way.
            FileHandle.standardError.write(Data("\nlongcat-lab: second signal; exiting now (a resumed run starts from its last checkpoint)\n".utf8))
            _exit(130)
        }
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
