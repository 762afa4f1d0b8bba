#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Collects Float32 tensors and writes them as one safetensors file, atomically: the bytes go
/// to a temporary file in the target directory, which is fsynced and then renamed over the
/// target, so a failed write (full disk, missing directory) leaves any previous file intact.
///
/// Layout matches the reference writer for single-dtype files: tensors in ascending order of
/// their names' UTF-8 bytes (not insertion order), a compact JSON header with `__metadata__`
/// first (its keys sorted), each entry as `{"dtype","shape","data_offsets"}`, padded with spaces
/// to a multiple of 8 bytes.
public struct SafetensorsWriter {
    private struct Entry {
        var name: String
        var shape: [Int]
        var data: [Float]
    }

    /// Written as the header's `__metadata__` when not empty (string values only, as the format
    /// requires).
    public var metadata: [String: String] = [:]
    private var entries: [Entry] = []

    /// Test hook: fail the write with ENOSPC once this many bytes have gone to the temporary file.
    var failAfterBytes: Int?

    public init() {}

    /// Adds a tensor, copying `data`; `shape`'s product must equal `data.count` (checked by `write`).
    public mutating func add(name: String, shape: [Int], data: UnsafeBufferPointer<Float>) {
        entries.append(Entry(name: name, shape: shape, data: Array(data)))
    }

    /// Adds a tensor; `shape`'s product must equal `floats.count` (checked by `write`).
    public mutating func add(name: String, shape: [Int], floats: [Float]) {
        entries.append(Entry(name: name, shape: shape, data: floats))
    }

    /// Names added so far, in insertion order.
    public var names: [String] { entries.map(\.name) }

    /// Writes the file atomically; throws a `SafetensorsError` naming `path` on any failure
    /// (duplicate names, a shape that disagrees with its data, or an operating-system error).
    public func write(to path: String) throws {
        let ordered = try orderedEntries(path: path)
        let header = headerBytes(ordered)
        let temporary = Self.temporaryPath(for: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw SafetensorsError(.io, path: path, "cannot create a temporary file beside it: \(FileIO.reason())")
        }
        do {
            var written = 0
            var length = UInt64(header.count).littleEndian
            try put(fd, &length, count: 8, written: &written, path: path)
            try header.withUnsafeBytes { try put(fd, $0.baseAddress!, count: header.count, written: &written, path: path) }
            for entry in ordered {
                try entry.data.withUnsafeBufferPointer { buffer in
                    #if _endian(big)
                    let swapped = buffer.map { $0.bitPattern.littleEndian }
                    try swapped.withUnsafeBytes { try put(fd, $0.baseAddress!, count: $0.count, written: &written, path: path) }
                    #else
                    if let base = buffer.baseAddress {
                        try put(fd, base, count: buffer.count * 4, written: &written, path: path)
                    }
                    #endif
                }
            }
            if fsync(fd) != 0 { throw SafetensorsError(.io, path: path, "fsync failed: \(FileIO.reason())") }
            if close(fd) != 0 { throw SafetensorsError(.io, path: path, "close failed: \(FileIO.reason())") }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        if rename(temporary, path) != 0 {
            let reason = FileIO.reason()
            unlink(temporary)
            throw SafetensorsError(.io, path: path, "cannot rename the temporary file into place: \(reason)")
        }
        Self.syncDirectory(of: path)
    }

    /// Writes through `FileIO.writeAll`, honouring the failure-injection hook.
    private func put(_ fd: Int32, _ bytes: UnsafeRawPointer, count: Int, written: inout Int, path: String) throws {
        if let limit = failAfterBytes, written + count > limit {
            throw SafetensorsError(.io, path: path, "write failed: \(FileIO.reason(ENOSPC)) (injected)")
        }
        try FileIO.writeAll(fd, bytes, count: count, path: path)
        written += count
    }

    /// Entries sorted by the UTF-8 bytes of their names, after checking names and shapes.
    private func orderedEntries(path: String) throws -> [Entry] {
        var seen = Set<String>()
        for entry in entries {
            guard seen.insert(entry.name).inserted else {
                throw SafetensorsError(.duplicateName, path: path, "tensor '\(entry.name)' was added twice")
            }
            guard entry.name != "__metadata__" else {
                throw SafetensorsError(.invalidTensorEntry, path: path, "'__metadata__' is reserved and cannot name a tensor")
            }
            var count = 1
            for extent in entry.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: extent)
                guard extent >= 0, !overflow else {
                    throw SafetensorsError(.sizeMismatch, path: path, "tensor '\(entry.name)' has invalid shape \(entry.shape)")
                }
                count = product
            }
            guard count == entry.data.count else {
                throw SafetensorsError(.sizeMismatch, path: path,
                                       "tensor '\(entry.name)': shape \(entry.shape) holds \(count) elements, "
                                       + "but \(entry.data.count) were given")
            }
        }
        return entries.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// The JSON header, space-padded to a multiple of 8 bytes.
    private func headerBytes(_ ordered: [Entry]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        func separator() {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
        }
        if !metadata.isEmpty {
            separator()
            appendJSONString("__metadata__", to: &out)
            out.append(contentsOf: Array(":{".utf8))
            for (i, key) in metadata.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendJSONString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                appendJSONString(metadata[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        var offset = 0
        for entry in ordered {
            separator()
            let end = offset + entry.data.count * 4
            appendJSONString(entry.name, to: &out)
            let shape = entry.shape.map(String.init).joined(separator: ",")
            out.append(contentsOf: Array(":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}".utf8))
            offset = end
        }
        out.append(UInt8(ascii: "}"))
        out.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: (8 - out.count % 8) % 8))
        return out
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    /// A fresh hidden name in the target's directory (so that `rename` stays on one file system).
    private static func temporaryPath(for path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? "tensors"
        let directory = directory(of: path)
        return "\(directory)/.\(base).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Makes the rename durable; failure here is harmless to correctness and ignored.
    private static func syncDirectory(of path: String) {
        let fd = open(directory(of: path), O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }
}
