import Foundation
import Testing
import LabSafetensors

/// One damaged file and the error it must produce.
struct Corruption: Sendable, CustomTestStringConvertible {
    let label: String
    let bytes: [UInt8]
    let kind: SafetensorsError.Kind
    /// Fragments the message must contain.
    let fragments: [String]
    var testDescription: String { label }

    init(_ label: String, _ bytes: [UInt8], _ kind: SafetensorsError.Kind, _ fragments: [String]) {
        self.label = label
        self.bytes = bytes
        self.kind = kind
        self.fragments = fragments
    }

    /// A file with header text `header` and a body of `bodyBytes` zero bytes.
    init(_ label: String, header: String, body bodyBytes: Int = 8, _ kind: SafetensorsError.Kind, _ fragments: [String]) {
        self.init(label, safetensorsBytes(header: header, body: [UInt8](repeating: 0, count: bodyBytes)), kind, fragments)
    }
}

/// Every kind of damage a researcher's file might carry, each rejected with a message that
/// names the problem.
@Suite("Safetensors corrupt files")
struct CorruptionTests {
    static let entry = #""dtype":"F32","shape":[2],"data_offsets":[0,8]"#

    static let cases: [Corruption] = [
        Corruption("shorter than 8 bytes", [1, 0, 0], .tooShort, ["3 bytes", "shorter than the 8-byte"]),
        Corruption("empty file", [], .tooShort, ["0 bytes"]),
        Corruption("header length beyond the file", header: #"{"w":{\#(entry)}}"#, body: 8, .badHeaderLength,
                   ["larger than"]).withDeclaredLength(4096),
        Corruption("header length over 100 MB", header: "{}", .badHeaderLength, ["100000000-byte limit"])
            .withDeclaredLength(200_000_000),
        Corruption("header length 2^64-1", header: "{}", .badHeaderLength, ["limit"]).withDeclaredLength(.max),
        Corruption("invalid JSON", header: #"{"w":{\#(entry)}"#, .invalidHeader, ["not valid JSON"]),
        Corruption("trailing garbage", header: #"{"w":{\#(entry)}} x"#, .invalidHeader, ["not valid JSON"]),
        Corruption("not UTF-8", safetensorsBytes(header: "{\"w\u{FF}\":1}", body: []).map { $0 == 0xc3 ? 0xff : $0 },
                   .invalidHeader, ["UTF-8"]),
        Corruption("header is an array", header: "[1,2]", .invalidHeader, ["an array, not a JSON object"]),
        Corruption("deep nesting", header: #"{"w":"# + String(repeating: "[", count: 10_000), .invalidHeader, ["nesting"]),
        Corruption("entry not an object", header: #"{"w":[1]}"#, .invalidTensorEntry, ["'w'", "not an object"]),
        Corruption("missing dtype", header: #"{"w":{"shape":[2],"data_offsets":[0,8]}}"#, .invalidTensorEntry,
                   ["'w'", "missing field 'dtype'"]),
        Corruption("missing shape", header: #"{"w":{"dtype":"F32","data_offsets":[0,8]}}"#, .invalidTensorEntry,
                   ["missing field 'shape'"]),
        Corruption("missing offsets", header: #"{"w":{"dtype":"F32","shape":[2]}}"#, .invalidTensorEntry,
                   ["missing field 'data_offsets'"]),
        Corruption("negative extent", header: #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#,
                   .invalidTensorEntry, ["-2", "non-negative integer"]),
        Corruption("fractional extent", header: #"{"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#,
                   .invalidTensorEntry, ["2.0"]),
        Corruption("shape overflow", header: #"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#,
                   .invalidTensorEntry, ["overflows"]),
        Corruption("three offsets", header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}"#,
                   .invalidTensorEntry, ["two non-negative integers"]),
        Corruption("unknown dtype", header: #"{"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}"#, .unknownDtype,
                   ["'w'", "'F33'"]),
        Corruption("size disagrees with shape", header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                   .invalidOffsets, ["'w'", "span 8 bytes", "needs 12"]),
        Corruption("reversed offsets", header: #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#,
                   .invalidOffsets, ["reversed"]),
        Corruption("offsets beyond the data", header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                   .truncated, ["'w'", "ends at data byte 12", "only 8 bytes"]),
        Corruption("truncated body", header: #"{"w":{\#(entry)}}"#, body: 5, .truncated, ["only 5 bytes"]),
        Corruption("huge offsets", header: #"{"w":{"dtype":"U8","shape":[8],"data_offsets":[9223372036854775800,9223372036854775808]}}"#,
                   .invalidTensorEntry, ["data_offsets"]),
        Corruption("overlapping tensors",
                   header: #"{"a":{\#(entry)},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                   .overlappingTensors, ["'a'", "'b'", "overlap"]),
        Corruption("duplicate tensor name", header: #"{"w":{\#(entry)},"w":{\#(entry)}}"#, .duplicateName,
                   ["'w' appears twice"]),
        Corruption("duplicate field", header: #"{"w":{\#(entry),"dtype":"F16"}}"#, .duplicateName, ["'dtype' appears twice"]),
        Corruption("metadata not strings", header: #"{"__metadata__":{"epoch":3},"w":{\#(entry)}}"#, .invalidHeader,
                   ["'epoch'", "not a string"]),
        Corruption("metadata not an object", header: #"{"__metadata__":"pt"}"#, .invalidHeader, ["'__metadata__'"]),
    ]

    /// Guards against crashes or vague errors on damaged files: each damage gets its own kind and
    /// a message naming the file and the problem.
    @Test(arguments: cases)
    func corruptFileIsRejectedWithItsReason(_ corruption: Corruption) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try scratch.write(corruption.bytes, to: "bad.safetensors")
        expectSafetensorsError(corruption.kind, containing: [path] + corruption.fragments) {
            _ = try SafetensorsFile(path: path)
        }
    }

    /// Guards against errors that do not say which file failed to open.
    @Test func missingFileNamesThePath() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("absent.safetensors")
        expectSafetensorsError(.io, containing: [path, "No such file"]) { _ = try SafetensorsFile(path: path) }
        expectSafetensorsError(.io, containing: [scratch.path, "not a regular file"]) { _ = try SafetensorsFile(path: scratch.path) }
    }

    /// Guards against reads into a buffer of the wrong size or of tensors that do not exist.
    @Test func readChecksNameAndCount() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try scratch.write(ReferenceLayoutTests.referenceBytes, to: "ref.safetensors")
        let file = try SafetensorsFile(path: path)
        var buffer = [Float](repeating: 0, count: 3)
        expectSafetensorsError(.sizeMismatch, containing: ["'a'", "2 elements", "holds 3"]) {
            try buffer.withUnsafeMutableBufferPointer { try file.read("a", into: $0.baseAddress!, count: 3) }
        }
        expectSafetensorsError(.unknownTensor, containing: ["'nope'", path]) { _ = try file.floats("nope") }
        #expect(file.info("nope") == nil)
    }

    /// Guards against gaps being treated as damage: a file with unused bytes between and after
    /// tensors still reads correctly.
    @Test func gapsBetweenTensorsAreTolerated() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#
        let body = littleEndianBytes([9, 1, 9, 2, 9] as [Float])
        let file = try SafetensorsFile(path: try scratch.write(safetensorsBytes(header: header, body: body), to: "gap.safetensors"))
        #expect(try file.floats("a") == [1])
        #expect(try file.floats("b") == [2])
    }
}

extension Corruption {
    /// The same file with the 8-byte header length replaced by `length`.
    func withDeclaredLength(_ length: UInt64) -> Corruption {
        var patched = bytes
        patched.replaceSubrange(0..<8, with: withUnsafeBytes(of: length.littleEndian, Array.init))
        return Corruption(label, patched, kind, fragments)
    }
}
