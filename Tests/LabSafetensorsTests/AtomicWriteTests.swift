import Foundation
import Testing
@testable import LabSafetensors

@Suite("Safetensors atomic writes")
struct AtomicWriteTests {
    static func writer(_ values: [Float]) -> SafetensorsWriter {
        var writer = SafetensorsWriter()
        writer.add(name: "w", shape: [values.count], floats: values)
        return writer
    }

    /// Guards against a failed checkpoint write (full disk) destroying the previous checkpoint
    /// or leaving temporary files behind.
    @Test(arguments: [0, 8, 20, 100])
    func failedWriteLeavesPreviousFileIntact(failAfterBytes: Int) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("checkpoint.safetensors")
        try Self.writer([1, 2, 3]).write(to: path)

        var failing = Self.writer((0..<64).map(Float.init))
        failing.failAfterBytes = failAfterBytes
        expectSafetensorsError(.io, containing: [path, "No space left on device"]) { try failing.write(to: path) }

        #expect(try SafetensorsFile(path: path).floats("w") == [1, 2, 3])
        #expect(try scratch.contents() == ["checkpoint.safetensors"])
    }

    /// Guards against a successful overwrite keeping stale contents.
    @Test func successfulWriteReplacesPreviousFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("checkpoint.safetensors")
        try Self.writer([1, 2, 3]).write(to: path)
        try Self.writer([4, 5]).write(to: path)
        #expect(try SafetensorsFile(path: path).floats("w") == [4, 5])
        #expect(try scratch.contents() == ["checkpoint.safetensors"])
    }

    /// Guards against an unhelpful message when the target directory does not exist.
    @Test func missingDirectoryIsNamedInTheError() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("no/such/dir/model.safetensors")
        expectSafetensorsError(.io, containing: [path, "No such file or directory"]) { try Self.writer([1]).write(to: path) }
    }

    /// Guards against renaming over a directory that happens to have the target's name.
    @Test func targetThatIsADirectoryFailsCleanly() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.file("taken")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        expectSafetensorsError(.io, containing: [path, "rename"]) { try Self.writer([1]).write(to: path) }
        #expect(try scratch.contents() == ["taken"])
    }
}
