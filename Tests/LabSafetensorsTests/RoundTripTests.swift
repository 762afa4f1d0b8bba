import Foundation
import Testing
import LabSafetensors

@Suite("Safetensors round trip")
struct RoundTripTests {
    /// Guards against lossy writing or reading: every Float bit pattern (NaN payloads, -0,
    /// subnormals, infinities) must come back unchanged, with shapes and metadata.
    @Test func writeThenReadIsBitIdentical() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var generator = SeededGenerator(seed: 7)
        let matrix = (0..<12).map { _ in Float.random(in: -3...3, using: &generator) }
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.greatestFiniteMagnitude,
                                 Float(bitPattern: 0x7fc0_1234), Float(bitPattern: 0xff80_0001), 0x1p-140]
        var writer = SafetensorsWriter()
        writer.add(name: "model.layers.0.mlp.router.classifier.weight", shape: [3, 4], floats: matrix)
        specials.withUnsafeBufferPointer { writer.add(name: "specials", shape: [specials.count], data: $0) }
        writer.add(name: "scalar", shape: [], floats: [42])
        writer.add(name: "empty", shape: [0, 5], floats: [])
        writer.add(name: "ünïcode \"quoted\"\n", shape: [1], floats: [-1])
        writer.metadata = ["format": "pt", "note": "line\nbreak \"quotes\" \\ tab\t é", "\u{1}ctl": "x"]
        let path = scratch.file("model.safetensors")
        try writer.write(to: path)

        let file = try SafetensorsFile(path: path)
        #expect(Set(file.names) == Set(writer.names))
        #expect(file.metadata == writer.metadata)
        let read = try file.floats("model.layers.0.mlp.router.classifier.weight")
        #expect(read.map(\.bitPattern) == matrix.map(\.bitPattern))
        #expect(try file.floats("specials").map(\.bitPattern) == specials.map(\.bitPattern))
        #expect(try file.floats("scalar") == [42])
        #expect(try file.floats("empty").isEmpty)
        #expect(try file.floats("ünïcode \"quoted\"\n") == [-1])

        let info = try #require(file.info("model.layers.0.mlp.router.classifier.weight"))
        #expect(info.dtype == .f32 && info.shape == [3, 4] && info.elementCount == 12)
        #expect(file.info("scalar")?.shape == [] && file.info("scalar")?.elementCount == 1)
        #expect(file.info("empty")?.dataOffsets.isEmpty == true)

        var destination = [Float](repeating: .nan, count: 12)
        try destination.withUnsafeMutableBufferPointer {
            try file.read("model.layers.0.mlp.router.classifier.weight", into: $0.baseAddress!, count: 12)
        }
        #expect(destination.map(\.bitPattern) == matrix.map(\.bitPattern))
    }

    /// Guards against a layout that depends on insertion order: the writer sorts by name, so
    /// the same tensors added in any order give the same bytes.
    @Test func outputIsIndependentOfInsertionOrder() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var forward = SafetensorsWriter()
        var backward = SafetensorsWriter()
        let tensors: [(String, [Float])] = [("b", [1, 2]), ("a", [3]), ("c.weight", [4, 5, 6]), ("B", [7])]
        for (name, values) in tensors { forward.add(name: name, shape: [values.count], floats: values) }
        for (name, values) in tensors.reversed() { backward.add(name: name, shape: [values.count], floats: values) }
        try forward.write(to: scratch.file("f.safetensors"))
        try backward.write(to: scratch.file("b.safetensors"))
        let one = try Data(contentsOf: URL(fileURLWithPath: scratch.file("f.safetensors")))
        let two = try Data(contentsOf: URL(fileURLWithPath: scratch.file("b.safetensors")))
        #expect(one == two)
        #expect(try SafetensorsFile(path: scratch.file("f.safetensors")).names == ["B", "a", "b", "c.weight"])
    }

    /// Guards against a header whose length breaks the 8-byte alignment the reference writer
    /// keeps (data must start on a multiple of 8).
    @Test(arguments: 0..<9)
    func headerIsPaddedToEightBytes(nameLength: Int) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var writer = SafetensorsWriter()
        writer.add(name: String(repeating: "x", count: nameLength + 1), shape: [1], floats: [1])
        let path = scratch.file("p.safetensors")
        try writer.write(to: path)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let n = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(n % 8 == 0)
        #expect(bytes.count == 8 + n + 4)
        let header = try #require(String(bytes: bytes[8..<(8 + n)], encoding: .utf8))
        #expect(header.hasPrefix("{") && header.trimmingCharacters(in: .whitespaces).hasSuffix("}"))
    }

    /// Guards against writer misuse producing a file that lies about its contents.
    @Test func writerRejectsInconsistentTensors() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var duplicate = SafetensorsWriter()
        duplicate.add(name: "w", shape: [1], floats: [1])
        duplicate.add(name: "w", shape: [1], floats: [2])
        expectSafetensorsError(.duplicateName, containing: ["'w'", scratch.path]) {
            try duplicate.write(to: scratch.file("d.safetensors"))
        }
        var mismatch = SafetensorsWriter()
        mismatch.add(name: "w", shape: [2, 3], floats: [1, 2, 3])
        expectSafetensorsError(.sizeMismatch, containing: ["'w'", "[2, 3]", "6 elements", "3 were given"]) {
            try mismatch.write(to: scratch.file("m.safetensors"))
        }
        #expect(try scratch.contents().isEmpty)
    }
}
