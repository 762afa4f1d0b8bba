/// An error reading or writing a safetensors file; `description` names the file and the problem.
public struct SafetensorsError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, for callers (and tests) that branch on it.
    public enum Kind: String, Sendable {
        /// The operating system refused an open, read, write, rename or fsync.
        case io
        /// Shorter than the 8-byte header length.
        case tooShort
        /// The header length exceeds the file or the 100 MB limit.
        case badHeaderLength
        /// The header is not UTF-8, not JSON, or not a JSON object of the expected form.
        case invalidHeader
        /// A tensor entry lacks `dtype`, `shape` or `data_offsets`, or one of them is malformed.
        case invalidTensorEntry
        /// A dtype string that the format does not define.
        case unknownDtype
        /// `data_offsets` disagree with shape * dtype size, or are reversed.
        case invalidOffsets
        /// Two tensors share bytes of the data section.
        case overlappingTensors
        /// A tensor ends beyond the end of the file.
        case truncated
        /// A name appears twice in a header (or a field twice in one entry).
        case duplicateName
        /// The tensor exists but its dtype cannot be converted to Float32 (integers, booleans, FP8).
        case unsupportedDtype
        /// No tensor of that name.
        case unknownTensor
        /// A caller's buffer or shape does not match the tensor.
        case sizeMismatch
        /// `model.safetensors.index.json` is malformed or points at missing shards.
        case invalidIndex
    }

    public let kind: Kind
    /// The file (or directory) concerned.
    public let path: String
    /// The problem, in words.
    public let message: String

    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
