#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping of a whole file, unmapped when the last reference goes.
///
/// The kernel pages bytes in on demand, so a corpus larger than memory works and only the
/// windows a batch touches are read. The file must not shrink while mapped (reading past its
/// new end would fault).
final class MappedFile {
    /// The file's bytes; valid while this object lives.
    let bytes: UnsafeBufferPointer<UInt8>

    /// Maps `path`; throws `DataError` naming the path when it is missing, not a regular file,
    /// unreadable or empty.
    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw DataError.fileNotFound(path: path) }
            throw DataError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw DataError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw DataError.notARegularFile(path: path) }
        let size = Int(info.st_size)
        guard size > 0 else { throw DataError.emptyFile(path: path) }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw DataError.unreadable(path: path, reason: "mmap: " + String(cString: strerror(errno)))
        }
        bytes = UnsafeBufferPointer(start: address.assumingMemoryBound(to: UInt8.self), count: size)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }
}

/// Bytes (or subword ids) copied into one allocation that lives as long as this object.
typealias OwnedBytes = OwnedBuffer<UInt8>

final class OwnedBuffer<Element> {
    let bytes: UnsafeBufferPointer<Element>

    init(_ source: [Element]) {
        let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: max(source.count, 1))
        _ = buffer.initialize(from: source)
        bytes = UnsafeBufferPointer(start: buffer.baseAddress, count: source.count)
    }

    deinit { bytes.baseAddress.map { UnsafeMutablePointer(mutating: $0).deallocate() } }
}
