import Foundation

extension RecordStore {
    /// This machine's host name, as `gethostname` reports it; stored in `runs.host`.
    public static let currentHost: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }()

    /// True when a process with this id exists on this machine (zombies included).
    ///
    /// A recycled pid makes a dead run look alive; it then stays `running` until that
    /// process ends too, which errs on the safe side.
    static func isProcessAlive(_ pid: Int) -> Bool {
        guard pid > 0, pid <= Int(Int32.max) else { return false }
        if kill(pid_t(pid), 0) == 0 { return true }
        return errno == EPERM
    }
}
