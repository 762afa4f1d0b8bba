import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process of the sweep: spawned in its own process group (so a Ctrl-C at the
/// terminal reaches only the sweep, which then asks each child once to stop), with SIGINT and
/// SIGTERM at their defaults and its output appended to a log file (or shared with the sweep's).
final class ChildProcess {
    let pid: pid_t
    /// Exit status once reaped: the exit code, or 128 + signal number.
    private(set) var exitStatus: Int32?

    /// Starts `executable` with `arguments`, stdout and stderr appended to `logPath` (when given).
    init(executable: String, arguments: [String], logPath: String?) throws {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        if let logPath {
            posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        var defaults = sigset_t(), empty = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard rc == 0 else {
            throw SweepConflict("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    /// Reaps the child if it has ended; true once it has.
    func poll() -> Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        guard r == pid else { return false }
        let signalled = status & 0x7f
        exitStatus = signalled == 0 ? (status >> 8) & 0xff : 128 + signalled
        return true
    }

    /// Sends `signal` to the child.
    func send(_ signal: Int32) {
        if exitStatus == nil { kill(pid, signal) }
    }
}

/// The path of the running executable (`/proc/self/exe` where it exists, else argv[0]).
public func currentExecutablePath() -> String {
    if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        return resolved
    }
    let arg0 = CommandLine.arguments[0]
    return arg0.hasPrefix("/") ? arg0 : FileManager.default.currentDirectoryPath + "/" + arg0
}

/// Raises SIGTERM in this process once its parent `parent` is gone (the sweep was killed), so a
/// child trains to the end of its step, writes a checkpoint and exits as interrupted.
public func terminateWhenParentExits(_ parent: Int32) {
    Thread.detachNewThread {
        while getppid() == parent { usleep(250_000) }
        kill(getpid(), SIGTERM)
    }
}
