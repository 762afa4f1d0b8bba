/// Where one tensor lies in a safetensors file and what it holds.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    /// Row-major shape; `[]` is a scalar (one element).
    public let shape: [Int]
    /// Product of `shape`.
    public let elementCount: Int
    /// `data_offsets` of the header: bytes relative to the start of the data section.
    public let dataOffsets: Range<Int>

    public init(name: String, dtype: SafetensorsDType, shape: [Int], elementCount: Int, dataOffsets: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.elementCount = elementCount
        self.dataOffsets = dataOffsets
    }
}

/// The parsed, validated header of one file.
struct SafetensorsHeader {
    /// The header may not be larger than this (the reference implementation's limit).
    static let maxHeaderBytes = 100_000_000

    /// Tensors in the order of their data (then by name for empty tensors).
    var tensors: [TensorInfo]
    var metadata: [String: String]

    /// Parses and validates `bytes` (the N header bytes) for a file whose data section holds
    /// `dataLength` bytes. Every check that protects later reads happens here.
    init(bytes: [UInt8], dataLength: Int, path: String) throws {
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch let error as JSONSyntaxError {
            throw SafetensorsError(.invalidHeader, path: path,
                                   "header is not valid JSON: \(error.message) at header byte \(error.offset)")
        }
        guard case .object(let members) = root else {
            throw SafetensorsError(.invalidHeader, path: path, "header is \(root.kindName), not a JSON object")
        }

        var tensors: [TensorInfo] = []
        var metadata: [String: String]?
        var seen = Set<String>()
        for (name, value) in members {
            guard seen.insert(name).inserted else {
                throw SafetensorsError(.duplicateName, path: path, "name '\(name)' appears twice in the header")
            }
            if name == "__metadata__" {
                metadata = try Self.parseMetadata(value, path: path)
            } else {
                tensors.append(try Self.parseEntry(name: name, value: value, dataLength: dataLength, path: path))
            }
        }
        try Self.checkOverlaps(tensors, path: path)
        self.tensors = tensors.sorted {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
                < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name)
        }
        self.metadata = metadata ?? [:]
    }

    private static func parseMetadata(_ value: JSONValue, path: String) throws -> [String: String] {
        guard case .object(let members) = value else {
            throw SafetensorsError(.invalidHeader, path: path, "'__metadata__' is \(value.kindName), not an object of strings")
        }
        var result: [String: String] = [:]
        for (key, item) in members {
            guard case .string(let text) = item else {
                throw SafetensorsError(.invalidHeader, path: path,
                                       "'__metadata__' value of '\(key)' is \(item.kindName), not a string")
            }
            guard result.updateValue(text, forKey: key) == nil else {
                throw SafetensorsError(.duplicateName, path: path, "'__metadata__' key '\(key)' appears twice")
            }
        }
        return result
    }

    private static func parseEntry(name: String, value: JSONValue, dataLength: Int, path: String) throws -> TensorInfo {
        func bad(_ problem: String) -> SafetensorsError {
            SafetensorsError(.invalidTensorEntry, path: path, "tensor '\(name)': \(problem)")
        }
        guard case .object(let members) = value else { throw bad("entry is \(value.kindName), not an object") }
        var fields: [String: JSONValue] = [:]
        for (key, item) in members where fields.updateValue(item, forKey: key) != nil {
            throw SafetensorsError(.duplicateName, path: path, "tensor '\(name)': field '\(key)' appears twice")
        }

        guard let dtypeValue = fields["dtype"] else { throw bad("missing field 'dtype'") }
        guard case .string(let dtypeText) = dtypeValue else { throw bad("'dtype' is \(dtypeValue.kindName), not a string") }
        guard let dtype = SafetensorsDType(rawValue: dtypeText) else {
            let known = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw SafetensorsError(.unknownDtype, path: path, "tensor '\(name)' has unknown dtype '\(dtypeText)' (known: \(known))")
        }

        guard let shapeValue = fields["shape"] else { throw bad("missing field 'shape'") }
        guard case .array(let shapeItems) = shapeValue else { throw bad("'shape' is \(shapeValue.kindName), not an array") }
        var shape: [Int] = []
        var count = 1
        for item in shapeItems {
            guard let extent = item.nonNegativeInt else { throw bad("'shape' holds \(item.briefDescription), not a non-negative integer") }
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            if overflow { throw bad("the product of shape \(shape + [extent]) overflows") }
            shape.append(extent)
            count = product
        }

        guard let offsetsValue = fields["data_offsets"] else { throw bad("missing field 'data_offsets'") }
        guard case .array(let offsetItems) = offsetsValue, offsetItems.count == 2,
              let begin = offsetItems[0].nonNegativeInt, let end = offsetItems[1].nonNegativeInt else {
            throw bad("'data_offsets' must be an array of two non-negative integers")
        }

        let (bits, overflow) = count.multipliedReportingOverflow(by: dtype.bits)
        if overflow { throw bad("shape \(shape) of \(dtype.rawValue) overflows the byte count") }
        if bits % 8 != 0 {
            throw SafetensorsError(.invalidOffsets, path: path,
                                   "tensor '\(name)': \(count) elements of \(dtype.rawValue) do not fill whole bytes")
        }
        let needed = bits / 8
        guard begin <= end else {
            throw SafetensorsError(.invalidOffsets, path: path, "tensor '\(name)': data_offsets [\(begin), \(end)] are reversed")
        }
        guard end - begin == needed else {
            throw SafetensorsError(.invalidOffsets, path: path,
                                   "tensor '\(name)': data_offsets [\(begin), \(end)] span \(end - begin) bytes, "
                                   + "but shape \(shape) of \(dtype.rawValue) needs \(needed)")
        }
        guard end <= dataLength else {
            throw SafetensorsError(.truncated, path: path,
                                   "tensor '\(name)' ends at data byte \(end), but the file holds only \(dataLength) "
                                   + "bytes after the header (truncated file?)")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, elementCount: count, dataOffsets: begin..<end)
    }

    /// Rejects two non-empty tensors that share bytes. (Gaps between tensors and trailing bytes
    /// are tolerated: they do not make any tensor ambiguous.)
    private static func checkOverlaps(_ tensors: [TensorInfo], path: String) throws {
        let occupied = tensors.filter { !$0.dataOffsets.isEmpty }.sorted {
            ($0.dataOffsets.lowerBound, $0.name) < ($1.dataOffsets.lowerBound, $1.name)
        }
        for (previous, next) in zip(occupied, occupied.dropFirst())
        where next.dataOffsets.lowerBound < previous.dataOffsets.upperBound {
            throw SafetensorsError(.overlappingTensors, path: path,
                                   "tensors '\(previous.name)' [\(previous.dataOffsets.lowerBound), "
                                   + "\(previous.dataOffsets.upperBound)] and '\(next.name)' "
                                   + "[\(next.dataOffsets.lowerBound), \(next.dataOffsets.upperBound)] overlap")
        }
    }
}
