import Dispatch
import Foundation
import Synchronization

/// Turns SIGINT/SIGTERM into a flag the training loop checks between steps, so an interrupted
/// run finishes its step, writes a checkpoint and marks itself interrupted instead of dying
/// mid-write. A second signal exits at once.
public final class InterruptFlag: Sendable {
    private let raised = Atomic<Int>(0)
    nonisolated(unsafe) private var sources: [DispatchSourceSignal] = []

    public init() {}

    public var isRaised: Bool { raised.load(ordering: .relaxed) != 0 }

    public func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                let before = raised.add(1, ordering: .relaxed).oldValue
                if before > 0 { exit(130) }
                FileHandle.standardError.write("\nlongcat-lab: interrupted; finishing the current step and saving a checkpoint (signal again to exit now)\n".data(using: .utf8)!)
            }
            source.resume()
            sources.append(source)
        }
    }
}
