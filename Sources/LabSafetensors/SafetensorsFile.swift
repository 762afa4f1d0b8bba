#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A safetensors file opened for reading: the header is parsed and validated at `init`, tensor
/// data is read on demand with positional reads, so files of many GB cost only their header in
/// memory. F32, F16, BF16 and F64 tensors convert to Float32; other dtypes are listed by `info`
/// but refused by `floats` and `read`.
///
/// Layout: 8-byte little-endian header length N, N bytes of JSON header, then the data section.
/// Unlike the reference reader, gaps between tensors and bytes after the last one are accepted.
/// Safe to share between threads (reads are positional; nothing mutates after `init`).
public final class SafetensorsFile: Sendable {
    public let path: String
    /// Tensor names in the order of their data in the file.
    public let names: [String]
    /// The header's `__metadata__` (empty when absent).
    public let metadata: [String: String]
    /// Size of the whole file in bytes.
    public let fileSize: Int

    private let tensors: [String: TensorInfo]
    /// File offset of the data section: 8 + N.
    private let dataStart: Int
    private let fd: Int32

    /// Opens and validates `path`; throws a `SafetensorsError` naming the file and the problem.
    public init(path: String) throws {
        self.path = path
        let fd = try FileIO.openForReading(path)
        do {
            let size = try FileIO.size(of: fd, path: path)
            guard size >= 8 else {
                throw SafetensorsError(.tooShort, path: path, "file is \(size) bytes, shorter than the 8-byte header length")
            }
            var lengthBytes: UInt64 = 0
            try FileIO.read(fd, into: &lengthBytes, count: 8, at: 0, path: path)
            let headerLength = UInt64(littleEndian: lengthBytes)
            // Both checks come before any allocation sized by the untrusted length.
            guard headerLength <= UInt64(SafetensorsHeader.maxHeaderBytes) else {
                throw SafetensorsError(.badHeaderLength, path: path,
                                       "header length \(headerLength) exceeds the \(SafetensorsHeader.maxHeaderBytes)-byte limit")
            }
            guard Int(headerLength) <= size - 8 else {
                throw SafetensorsError(.badHeaderLength, path: path,
                                       "header length \(headerLength) is larger than the \(size - 8) bytes after it")
            }
            let n = Int(headerLength)
            let headerBytes = try FileIO.readBytes(fd, count: n, at: 8, path: path)
            let header = try SafetensorsHeader(bytes: headerBytes, dataLength: size - 8 - n, path: path)
            self.fileSize = size
            self.dataStart = 8 + n
            self.names = header.tensors.map(\.name)
            self.metadata = header.metadata
            self.tensors = Dictionary(header.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            self.fd = fd
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Dtype, shape and byte range of `name`, or nil when the file has no such tensor.
    public func info(_ name: String) -> TensorInfo? { tensors[name] }

    /// The tensor converted to Float32, row-major.
    public func floats(_ name: String) throws -> [Float] {
        let info = try floatInfo(name)
        return try [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            if let base = buffer.baseAddress { try convert(info, into: base) }
            initialized = info.elementCount
        }
    }

    /// Converts the tensor into `destination`, which must hold exactly its element count.
    public func read(_ name: String, into destination: UnsafeMutablePointer<Float>, count: Int) throws {
        let info = try floatInfo(name)
        guard count == info.elementCount else {
            throw SafetensorsError(.sizeMismatch, path: path,
                                   "tensor '\(name)' has \(info.elementCount) elements (shape \(info.shape)), "
                                   + "the destination holds \(count)")
        }
        try convert(info, into: destination)
    }

    private func floatInfo(_ name: String) throws -> TensorInfo {
        guard let info = tensors[name] else {
            throw SafetensorsError(.unknownTensor, path: path, "no tensor named '\(name)'")
        }
        guard info.dtype.convertsToFloat else {
            throw SafetensorsError(.unsupportedDtype, path: path,
                                   "tensor '\(name)' has dtype \(info.dtype.rawValue), which does not convert to "
                                   + "Float32 (supported: F32, F16, BF16, F64)")
        }
        return info
    }

    /// Elements converted per read for the non-F32 dtypes (bounds the scratch buffer).
    private static let chunkElements = 1 << 16

    private func convert(_ info: TensorInfo, into destination: UnsafeMutablePointer<Float>) throws {
        let start = dataStart + info.dataOffsets.lowerBound
        let count = info.elementCount
        switch info.dtype {
        case .f32:
            try FileIO.read(fd, into: destination, count: count * 4, at: start, path: path)
            #if _endian(big)
            for i in 0..<count { destination[i] = Float(bitPattern: UInt32(littleEndian: destination[i].bitPattern)) }
            #endif
        case .f16:
            try convertChunks(UInt16.self, count: count, start: start) { destination[$0] = FloatConversion.half(UInt16(littleEndian: $1)) }
        case .bf16:
            try convertChunks(UInt16.self, count: count, start: start) { destination[$0] = FloatConversion.bfloat(UInt16(littleEndian: $1)) }
        case .f64:
            try convertChunks(UInt64.self, count: count, start: start) {
                destination[$0] = Float(Double(bitPattern: UInt64(littleEndian: $1)))
            }
        default:
            preconditionFailure("floatInfo admits only convertible dtypes")
        }
    }

    /// Reads `count` raw elements of type `Raw` from file offset `start` in bounded chunks and
    /// hands each (destination index, raw bits) to `store`.
    private func convertChunks<Raw: FixedWidthInteger>(_: Raw.Type, count: Int, start: Int,
                                                       _ store: (Int, Raw) -> Void) throws {
        let chunk = min(count, Self.chunkElements)
        let scratch = UnsafeMutablePointer<Raw>.allocate(capacity: max(chunk, 1))
        defer { scratch.deallocate() }
        var done = 0
        while done < count {
            let n = min(chunk, count - done)
            try FileIO.read(fd, into: scratch, count: n * MemoryLayout<Raw>.size,
                            at: start + done * MemoryLayout<Raw>.size, path: path)
            for i in 0..<n { store(done + i, scratch[i]) }
            done += n
        }
    }
}
