import Foundation
import Testing
import LabSafetensors

/// Files built byte by byte as the reference implementation lays them out, and dtype
/// conversions checked against hand-computed bit patterns.
@Suite("Safetensors reference layout and dtypes")
struct ReferenceLayoutTests {
    /// The reference writer's bytes for {"a": [1.5, -2.0], "b": [[0.25]]} with metadata
    /// {"format": "pt"}: header of 141 bytes padded with 3 spaces to N = 144.
    static let referenceBytes: [UInt8] = {
        let header = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
            + #""b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}"# + "   "
        let length: [UInt8] = [0x90, 0, 0, 0, 0, 0, 0, 0]
        let data: [UInt8] = [0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x80, 0x3e]
        return length + Array(header.utf8) + data
    }()

    /// Guards against a writer whose files other tools would parse differently: our bytes must
    /// equal the reference layout exactly (tensors added out of order on purpose).
    @Test func writerReproducesReferenceBytes() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var writer = SafetensorsWriter()
        writer.add(name: "b", shape: [1, 1], floats: [0.25])
        writer.add(name: "a", shape: [2], floats: [1.5, -2.0])
        writer.metadata = ["format": "pt"]
        let path = scratch.file("model.safetensors")
        try writer.write(to: path)
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(written == Self.referenceBytes)
    }

    /// Guards against a reader that only understands its own writer's output.
    @Test func readerParsesReferenceBytes() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try scratch.write(Self.referenceBytes, to: "ref.safetensors")
        let file = try SafetensorsFile(path: path)
        #expect(file.names == ["a", "b"])
        #expect(file.metadata == ["format": "pt"])
        #expect(try file.floats("a") == [1.5, -2.0])
        #expect(try file.floats("b") == [0.25])
        #expect(file.info("b") == TensorInfo(name: "b", dtype: .f32, shape: [1, 1], elementCount: 1, dataOffsets: 8..<12))
    }

    /// Guards against wrong half-precision decoding (exponent bias, subnormals, inf/NaN).
    @Test func f16AndBF16ConvertExactly() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        // (F16 bits, expected value)
        let half: [(UInt16, Float)] = [
            (0x3c00, 1.0), (0xc100, -2.5), (0x7bff, 65504), (0x0001, 0x1p-24), (0x03ff, 1023 * 0x1p-24),
            (0x0400, 0x1p-14), (0x8000, -0.0), (0x7c00, .infinity), (0xfc00, -.infinity), (0x3555, 0x1.554p-2),
        ]
        // (BF16 bits, expected value)
        let bfloat: [(UInt16, Float)] = [
            (0x3f80, 1.0), (0xc020, -2.5), (0x7f7f, 0x1.fep127), (0x0001, 0x1p-133), (0x8000, -0.0),
            (0x7f80, .infinity), (0xff80, -.infinity), (0x4049, 3.140625),
        ]
        let halfNaN: UInt16 = 0x7e00, bfloatNaN: UInt16 = 0x7fc0
        let halfBits = half.map(\.0) + [halfNaN], bfloatBits = bfloat.map(\.0) + [bfloatNaN]
        let halfBytes = littleEndianBytes(halfBits), bfloatBytes = littleEndianBytes(bfloatBits)
        let header = #"{"h":{"dtype":"F16","shape":[\#(halfBits.count)],"data_offsets":[0,\#(halfBytes.count)]},"#
            + #""g":{"dtype":"BF16","shape":[\#(bfloatBits.count)],"data_offsets":[\#(halfBytes.count),\#(halfBytes.count + bfloatBytes.count)]}}"#
        let path = try scratch.write(safetensorsBytes(header: header, body: halfBytes + bfloatBytes), to: "half.safetensors")
        let file = try SafetensorsFile(path: path)

        let h = try file.floats("h")
        #expect(h.dropLast().map(\.bitPattern) == half.map(\.1.bitPattern))
        #expect(h.last!.isNaN)
        let g = try file.floats("g")
        #expect(g.dropLast().map(\.bitPattern) == bfloat.map(\.1.bitPattern))
        #expect(g.last!.isNaN)
        #expect(file.info("h")?.dtype == .f16 && file.info("g")?.dtype == .bf16)
    }

    /// Guards against F64 tensors being misread; values round to the nearest Float.
    @Test func f64RoundsToNearestFloat() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let values: [Double] = [1.0, -2.5, 0.1, 1e300, -1e300, 1e-50]
        let bytes = values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let header = #"{"d":{"dtype":"F64","shape":[2,3],"data_offsets":[0,48]}}"#
        let file = try SafetensorsFile(path: try scratch.write(safetensorsBytes(header: header, body: bytes), to: "d.safetensors"))
        #expect(try file.floats("d") == [1.0, -2.5, Float(0.1), .infinity, -.infinity, 0])
    }

    /// Guards against silently reinterpreting integer tensors as floats: they are listed but
    /// refused, and the message names the tensor and its dtype.
    @Test func nonFloatDtypesAreListedButRefused() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let header = #"{"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"mask":{"dtype":"BOOL","shape":[3],"data_offsets":[16,19]},"#
            + #""q":{"dtype":"F4","shape":[4],"data_offsets":[19,21]}}"#
        let path = try scratch.write(safetensorsBytes(header: header, body: [UInt8](repeating: 1, count: 21)), to: "i.safetensors")
        let file = try SafetensorsFile(path: path)
        #expect(file.names == ["ids", "mask", "q"])
        #expect(file.info("ids") == TensorInfo(name: "ids", dtype: .i64, shape: [2], elementCount: 2, dataOffsets: 0..<16))
        expectSafetensorsError(.unsupportedDtype, containing: ["'ids'", "I64", path]) { _ = try file.floats("ids") }
        expectSafetensorsError(.unsupportedDtype, containing: ["'mask'", "BOOL"]) { _ = try file.floats("mask") }
    }
}
