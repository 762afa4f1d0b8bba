import Foundation
import Testing
import LabSafetensors

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Writes raw bytes to `name` and returns its path. Plain `fopen`/`fwrite`: Foundation's
    /// `Data.write` syncs to disk on Linux, which makes the fuzz test I/O-bound.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let target = file(name)
        guard let handle = fopen(target, "wb") else { throw CocoaError(.fileWriteUnknown) }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, handle) }
        fclose(handle)
        if written != bytes.count { throw CocoaError(.fileWriteUnknown) }
        return target
    }

    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }
}

/// Bytes of a safetensors file made by hand: the 8-byte little-endian length (the header's own
/// length unless `declaredLength` overrides it), the header text, then `body`.
func safetensorsBytes(header: String, body: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    let length = declaredLength ?? UInt64(headerBytes.count)
    return withUnsafeBytes(of: length.littleEndian, Array.init) + headerBytes + body
}

/// Little-endian bytes of Float32 values.
func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
}

/// Little-endian bytes of 16-bit patterns (F16 / BF16).
func littleEndianBytes(_ values: [UInt16]) -> [UInt8] {
    values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
}

/// Runs `body`, expecting a `SafetensorsError` of `kind` whose description contains every
/// fragment.
func expectSafetensorsError(_ kind: SafetensorsError.Kind, containing fragments: [String],
                            sourceLocation: SourceLocation = #_sourceLocation,
                            _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a \(kind) error, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as SafetensorsError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(error.description.contains(fragment), "'\(fragment)' missing from: \(error)",
                    sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected SafetensorsError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// SplitMix64: a tiny seeded generator, so that random tests replay exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
