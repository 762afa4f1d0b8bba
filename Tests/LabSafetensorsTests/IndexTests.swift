import Foundation
import Testing
import LabSafetensors

@Suite("Safetensors sharded checkpoints")
struct IndexTests {
    /// Writes two shards and their index into `scratch`.
    static func writeShardedCheckpoint(in scratch: ScratchDirectory, index: String? = nil) throws {
        var first = SafetensorsWriter()
        first.add(name: "model.embed_tokens.weight", shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        first.add(name: "model.norm.weight", shape: [3], floats: [1, 1, 1])
        try first.write(to: scratch.file("model-00001-of-00002.safetensors"))
        var second = SafetensorsWriter()
        second.add(name: "lm_head.weight", shape: [2, 3], floats: [-1, -2, -3, -4, -5, -6])
        try second.write(to: scratch.file("model-00002-of-00002.safetensors"))
        let text = index ?? """
            {"metadata": {"total_size": 60, "format": "pt"},
             "weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors",
                            "model.norm.weight": "model-00001-of-00002.safetensors",
                            "lm_head.weight": "model-00002-of-00002.safetensors"}}
            """
        try scratch.write(Array(text.utf8), to: SafetensorsIndex.indexFileName)
    }

    /// Guards against sharded checkpoints read from the wrong shard or not at all.
    @Test func readsTensorsAcrossShards() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try Self.writeShardedCheckpoint(in: scratch)
        let index = try SafetensorsIndex(directory: scratch.path)
        #expect(index.names == ["lm_head.weight", "model.embed_tokens.weight", "model.norm.weight"])
        #expect(index.metadata == ["total_size": "60", "format": "pt"])
        #expect(index.shardFiles == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
        #expect(try index.floats("lm_head.weight") == [-1, -2, -3, -4, -5, -6])
        #expect(try index.floats("model.embed_tokens.weight") == [1, 2, 3, 4, 5, 6])
        #expect(try index.info("model.norm.weight")?.shape == [3])
        #expect(try index.info("absent") == nil)
        var norm = [Float](repeating: 0, count: 3)
        try norm.withUnsafeMutableBufferPointer { try index.read("model.norm.weight", into: $0.baseAddress!, count: 3) }
        #expect(norm == [1, 1, 1])
        expectSafetensorsError(.unknownTensor, containing: ["'absent'", scratch.path]) { _ = try index.floats("absent") }
    }

    /// Guards against eager opening: a damaged shard must not stop reading the other shards,
    /// and the error names the damaged shard once it is needed.
    @Test func shardsOpenLazily() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try Self.writeShardedCheckpoint(in: scratch)
        let damaged = try scratch.write([1, 2, 3], to: "model-00002-of-00002.safetensors")
        let index = try SafetensorsIndex(directory: scratch.path)
        #expect(try index.floats("model.norm.weight") == [1, 1, 1])
        expectSafetensorsError(.tooShort, containing: [damaged]) { _ = try index.floats("lm_head.weight") }
    }

    /// Guards against a directory holding only `model.safetensors` (the unsharded case).
    @Test func fallsBackToSingleFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var writer = SafetensorsWriter()
        writer.add(name: "b", shape: [1], floats: [2])
        writer.add(name: "a", shape: [1], floats: [1])
        writer.metadata = ["format": "pt"]
        try writer.write(to: scratch.file(SafetensorsIndex.singleFileName))
        let index = try SafetensorsIndex(directory: scratch.path)
        #expect(index.names == ["a", "b"])
        #expect(index.metadata == ["format": "pt"])
        #expect(try index.floats("b") == [2])
    }

    /// Guards against indexes that are malformed, escape their directory, or promise tensors a
    /// shard lacks; each error names the index file.
    @Test func rejectsBadIndexes() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let indexPath = scratch.file(SafetensorsIndex.indexFileName)
        expectSafetensorsError(.io, containing: [scratch.path, "neither"]) { _ = try SafetensorsIndex(directory: scratch.path) }

        let bad: [(String, SafetensorsError.Kind, String)] = [
            (#"{"metadata": {}}"#, .invalidIndex, "missing 'weight_map'"),
            (#"{"weight_map": {"a": "x.safetensors", "a": "y.safetensors"}}"#, .duplicateName, "'a' appears twice"),
            (#"{"weight_map": {"a": "../outside.safetensors"}}"#, .invalidIndex, "not a file in the index's directory"),
            (#"{"weight_map": {"a": 3}}"#, .invalidIndex, "not a file name"),
            (#"{"weight_map": ["#, .invalidIndex, "not valid JSON"),
        ]
        for (text, kind, fragment) in bad {
            try scratch.write(Array(text.utf8), to: SafetensorsIndex.indexFileName)
            expectSafetensorsError(kind, containing: [indexPath, fragment]) { _ = try SafetensorsIndex(directory: scratch.path) }
        }

        try Self.writeShardedCheckpoint(in: scratch, index: #"{"weight_map": {"ghost": "model-00002-of-00002.safetensors"}}"#)
        let index = try SafetensorsIndex(directory: scratch.path)
        expectSafetensorsError(.invalidIndex, containing: [indexPath, "'ghost'", "does not contain it"]) {
            _ = try index.floats("ghost")
        }
    }
}
