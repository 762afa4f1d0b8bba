#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin POSIX wrappers that turn failures into `SafetensorsError`s naming the path and the
/// operating system's reason. Positional reads (`pread`) rather than memory mapping: a file
/// truncated by someone else while open gives an error, not a SIGBUS.
enum FileIO {
    /// The operating system's words for the current `errno`.
    static func reason(_ code: Int32 = errno) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }

    static func openForReading(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SafetensorsError(.io, path: path, "cannot open for reading: \(reason())") }
        var status = stat()
        if fstat(fd, &status) != 0 || (status.st_mode & S_IFMT) != S_IFREG {
            close(fd)
            throw SafetensorsError(.io, path: path, "not a regular file")
        }
        return fd
    }

    static func size(of fd: Int32, path: String) throws -> Int {
        var status = stat()
        if fstat(fd, &status) != 0 { throw SafetensorsError(.io, path: path, "cannot stat: \(reason())") }
        return Int(status.st_size)
    }

    /// Reads exactly `count` bytes at `offset` into `buffer`.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int, path: String) throws {
        var done = 0
        while done < count {
            // Linux transfers at most about 2 GiB per call.
            let chunk = min(count - done, 1 << 30)
            let got = pread(fd, buffer + done, chunk, off_t(offset + done))
            if got < 0 {
                if errno == EINTR { continue }
                throw SafetensorsError(.io, path: path, "read failed at byte \(offset + done): \(reason())")
            }
            if got == 0 {
                throw SafetensorsError(.truncated, path: path,
                                       "file ended at byte \(offset + done) while reading \(count) bytes from byte \(offset)")
            }
            done += got
        }
    }

    /// Reads exactly `count` bytes at `offset`; the caller has bounded `count` by the file size.
    static func readBytes(_ fd: Int32, count: Int, at offset: Int, path: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { try read(fd, into: base, count: count, at: offset, path: path) }
        }
        return bytes
    }

    /// Reads a whole small file (such as an index), refusing anything over `limit` bytes.
    static func readWholeFile(_ path: String, limit: Int) throws -> [UInt8] {
        let fd = try openForReading(path)
        defer { close(fd) }
        let size = try size(of: fd, path: path)
        if size > limit { throw SafetensorsError(.io, path: path, "file is \(size) bytes, more than the \(limit)-byte limit") }
        return try readBytes(fd, count: size, at: 0, path: path)
    }

    /// Writes all `count` bytes, retrying partial writes.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawPointer, count: Int, path: String) throws {
        var done = 0
        while done < count {
            let chunk = min(count - done, 1 << 30)
            let put = write(fd, buffer + done, chunk)
            if put < 0 {
                if errno == EINTR { continue }
                throw SafetensorsError(.io, path: path, "write failed: \(reason())")
            }
            done += put
        }
    }

    static func fileExists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }
}
