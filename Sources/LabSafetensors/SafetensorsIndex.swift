import Foundation

/// A checkpoint directory: either shards listed by `model.safetensors.index.json`
/// (`{"metadata": {...}, "weight_map": {tensor name: shard file name}}`) or, when that file is
/// absent, a single `model.safetensors`. Shards are opened on first use and kept open.
public struct SafetensorsIndex: Sendable {
    public static let indexFileName = "model.safetensors.index.json"
    public static let singleFileName = "model.safetensors"

    public let directory: String
    /// Every tensor name, sorted.
    public let names: [String]
    /// The index's `metadata` (strings as written, numbers and booleans as their JSON text; for a
    /// single file, its `__metadata__`).
    public let metadata: [String: String]
    /// Tensor name -> shard file name (relative to `directory`).
    public let weightMap: [String: String]

    private let shards: ShardCache

    /// Reads the index of `directory` (or finds its single `model.safetensors`); shards are
    /// validated when first opened.
    public init(directory: String) throws {
        self.directory = directory
        self.shards = ShardCache(directory: directory)
        let indexPath = "\(directory)/\(Self.indexFileName)"
        if FileIO.fileExists(indexPath) {
            (weightMap, metadata) = try Self.parseIndex(path: indexPath)
        } else if FileIO.fileExists("\(directory)/\(Self.singleFileName)") {
            let file = try shards.file(Self.singleFileName)
            weightMap = Dictionary(uniqueKeysWithValues: file.names.map { ($0, Self.singleFileName) })
            metadata = file.metadata
        } else {
            throw SafetensorsError(.io, path: directory,
                                   "neither \(Self.indexFileName) nor \(Self.singleFileName) exists in this directory")
        }
        names = weightMap.keys.sorted()
    }

    /// The distinct shard file names, sorted.
    public var shardFiles: [String] { Array(Set(weightMap.values)).sorted() }

    /// Dtype, shape and byte range of `name` within its shard, or nil if the index does not list
    /// it; throws if the shard cannot be opened or lacks a tensor that the index promises.
    public func info(_ name: String) throws -> TensorInfo? {
        guard weightMap[name] != nil else { return nil }
        return try locate(name).info
    }

    /// The tensor converted to Float32 (see `SafetensorsFile.floats`).
    public func floats(_ name: String) throws -> [Float] {
        try locate(name).file.floats(name)
    }

    /// Converts the tensor into `destination` of exactly its element count.
    public func read(_ name: String, into destination: UnsafeMutablePointer<Float>, count: Int) throws {
        try locate(name).file.read(name, into: destination, count: count)
    }

    private func locate(_ name: String) throws -> (file: SafetensorsFile, info: TensorInfo) {
        guard let shard = weightMap[name] else {
            throw SafetensorsError(.unknownTensor, path: directory, "no tensor named '\(name)' in this checkpoint")
        }
        let file = try shards.file(shard)
        guard let info = file.info(name) else {
            throw SafetensorsError(.invalidIndex, path: "\(directory)/\(Self.indexFileName)",
                                   "lists tensor '\(name)' in shard '\(shard)', which does not contain it")
        }
        return (file, info)
    }

    private static func parseIndex(path: String) throws -> (weightMap: [String: String], metadata: [String: String]) {
        func bad(_ problem: String) -> SafetensorsError { SafetensorsError(.invalidIndex, path: path, problem) }
        let bytes = try FileIO.readWholeFile(path, limit: SafetensorsHeader.maxHeaderBytes)
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch let error as JSONSyntaxError {
            throw bad("not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .object(let members) = root else { throw bad("the index is \(root.kindName), not a JSON object") }
        var weightMap: [String: String]?
        var metadata: [String: String] = [:]
        for (key, value) in members {
            switch key {
            case "weight_map":
                guard weightMap == nil else { throw SafetensorsError(.duplicateName, path: path, "'weight_map' appears twice") }
                guard case .object(let entries) = value else { throw bad("'weight_map' is \(value.kindName), not an object") }
                var map: [String: String] = [:]
                for (name, shardValue) in entries {
                    guard case .string(let shard) = shardValue else {
                        throw bad("'weight_map' entry '\(name)' is \(shardValue.kindName), not a file name")
                    }
                    guard !shard.isEmpty, !shard.contains("/"), shard != ".", shard != ".." else {
                        throw bad("'weight_map' entry '\(name)' names '\(shard)', not a file in the index's directory")
                    }
                    guard map.updateValue(shard, forKey: name) == nil else {
                        throw SafetensorsError(.duplicateName, path: path, "tensor '\(name)' appears twice in 'weight_map'")
                    }
                }
                weightMap = map
            case "metadata":
                guard case .object(let entries) = value else { throw bad("'metadata' is \(value.kindName), not an object") }
                for (name, item) in entries {
                    switch item {
                    case .string(let text), .number(let text): metadata[name] = text
                    case .bool(let flag): metadata[name] = flag ? "true" : "false"
                    default: continue
                    }
                }
            default:
                continue
            }
        }
        guard let weightMap else { throw bad("missing 'weight_map'") }
        return (weightMap, metadata)
    }
}

/// Opens each shard once, on first use; safe to use from several threads.
private final class ShardCache: @unchecked Sendable {
    private let directory: String
    private let lock = NSLock()
    private var files: [String: SafetensorsFile] = [:]

    init(directory: String) { self.directory = directory }

    func file(_ shard: String) throws -> SafetensorsFile {
        lock.lock()
        defer { lock.unlock() }
        if let file = files[shard] { return file }
        let file = try SafetensorsFile(path: "\(directory)/\(shard)")
        files[shard] = file
        return file
    }
}
