/// All four generators in one corpus: chunks of `chunkBytes`, each from a generator chosen
/// uniformly, with labels prefixed by the generator (`copy/novel`, `mixture/markov`, ...).
///
/// Each chunk is generated afresh from a seed derived from (seed, chunk index) and cut at the
/// chunk's end, so its last line or span may be incomplete.
///
/// Ideal allocation of compute: that of each part (see the four generators); the suite asks
/// whether one router learns all four allocations at once, e.g. result digits and copy starts
/// high, random bytes and filler low.
///
/// Difficulty order: each part's own order, unchanged (ranks of different parts are not
/// calibrated against each other; compare labels within a part).
public struct SuiteGenerator: SyntheticGenerator {
    public var chunkBytes = 2048
    public var parts: [any SyntheticGenerator] = [
        CopyGenerator(), MixtureGenerator(), ArithmeticGenerator(), StructuredGenerator(),
    ]

    public init() {}

    public var name: String { "suite" }

    public var labelNames: [String] {
        parts.flatMap { part in part.labelNames.map { part.name + "/" + $0 } }
    }

    /// First suite label id of each part.
    public var labelOffsets: [Int] {
        var offsets: [Int] = []
        var next = 0
        for part in parts {
            offsets.append(next)
            next += part.labelNames.count
        }
        return offsets
    }

    public func analyticEntropy(label: Int) -> Double? {
        for (part, offset) in zip(parts, labelOffsets) where (offset..<offset + part.labelNames.count).contains(label) {
            return part.analyticEntropy(label: label - offset)
        }
        return nil
    }

    public var difficulty: [Int] { parts.flatMap(\.difficulty) }

    public func generate(bytes: Int, seed: UInt64) -> (tokens: [UInt8], labels: [UInt8]) {
        precondition(chunkBytes >= 1 && !parts.isEmpty, "chunks need bytes and parts")
        precondition(labelNames.count <= 256, "label ids are bytes")
        var random = DataRandom(seed: seed)
        let offsets = labelOffsets
        var out = LabelledBytes(capacity: bytes)
        var chunk: UInt64 = 0
        while out.count < bytes {
            let p = random.below(parts.count)
            let size = min(chunkBytes, bytes - out.count)
            let (tokens, labels) = parts[p].generate(bytes: size, seed: DataRandom.derive(seed, chunk))
            for (token, label) in zip(tokens, labels) { out.append(token, UInt8(offsets[p] + Int(label))) }
            chunk += 1
        }
        return out.truncated(to: bytes)
    }
}
