import Foundation
import LabConfig

/// One domain's model tokens in one split of a multi-domain corpus.
public struct CorpusSegment: Sendable, Equatable {
    public var domain: String
    public var split: Split
    /// Corpus-wide model-token indices.
    public var range: Range<Int>
    /// Relative sampling weight of this span's training windows (train spans only).
    public var weight: Double
    public init(domain: String, split: Split, range: Range<Int>, weight: Double) {
        self.domain = domain; self.split = split; self.range = range; self.weight = weight
    }
}

/// The part of a corpus a batch comes from: the first `1 - validation_fraction` of the bytes
/// train, the last `validation_fraction` validate.
public enum Split: String, Sendable, CaseIterable {
    case train, validation
}

/// A corpus split into train and validation: byte tokens (vocabulary 256) by default, or the
/// subword ids of a `BytePairTokenizer` trained on its train split.
///
/// The spans are views into storage the corpus owns: a memory mapping for text files (so a
/// byte corpus larger than memory works) or one allocation for synthetic data and subword
/// ids. Immutable after `init`, hence safe to share between threads. The model's tokens are
/// `token(at:)` over `range(split)`; for byte corpora they are the bytes of `tokens`.
public final class Corpus: @unchecked Sendable {
    /// "tinyshakespeare", "text:<file name>" or "synthetic:<generator>".
    public let name: String
    /// Every byte, train then validation.
    public let tokens: UnsafeBufferPointer<UInt8>
    /// The first `trainCount` bytes.
    public let train: UnsafeBufferPointer<UInt8>
    /// The remaining bytes.
    public let validation: UnsafeBufferPointer<UInt8>
    /// Subword ids of a corpus with a tokenizer (train ids, then validation ids); nil for bytes.
    public let subwords: UnsafeBufferPointer<UInt16>?
    /// The tokenizer behind `subwords`, trained on `train`; save it with the run.
    public let tokenizer: BytePairTokenizer?
    /// Model tokens in the train split.
    public let trainTokenCount: Int
    /// Stored per-token label ids, one per model token (synthetic and subword corpora). Nil for
    /// byte text, whose labels are token classes computed from each byte and the one before it.
    public let labels: UnsafeBufferPointer<UInt8>?
    /// Names of the label ids: the generator's labels, or `TokenClass.labelNames` for text.
    public let labelNames: [String]
    /// The generator of a synthetic corpus (for `analyticEntropy(label:)`), nil for text.
    public let generator: (any SyntheticGenerator)?
    /// Domain spans of a multi-domain corpus (model-token ranges, per split), with the weight
    /// of each train span's windows; empty for single-domain corpora.
    public let segments: [CorpusSegment]
    /// Keeps the mapping or allocations behind the spans alive.
    private let owners: [AnyObject]

    /// Splits `tokens` (owned by `owners`) at the first `1 - validationFraction`.
    init(name: String, tokens: UnsafeBufferPointer<UInt8>, labels: UnsafeBufferPointer<UInt8>?,
         labelNames: [String], generator: (any SyntheticGenerator)?, validationFraction: Double,
         owners: [AnyObject]) throws {
        try Corpus.checkFraction(validationFraction)
        let trainCount = Corpus.trainCount(total: tokens.count, validationFraction: validationFraction)
        self.name = name
        self.tokens = tokens
        self.train = UnsafeBufferPointer(rebasing: tokens[0..<trainCount])
        self.validation = UnsafeBufferPointer(rebasing: tokens[trainCount...])
        self.labels = labels
        self.labelNames = labelNames
        self.generator = generator
        self.owners = owners
        subwords = nil
        tokenizer = nil
        trainTokenCount = trainCount
        segments = []
    }

    /// A corpus whose split points and spans are already known (the mix corpus): `bytes` split
    /// after `trainBytes`, model tokens `subwords` (or the bytes) split after `trainTokenCount`.
    init(name: String, bytes: UnsafeBufferPointer<UInt8>, trainBytes: Int, subwords: UnsafeBufferPointer<UInt16>?,
         tokenizer: BytePairTokenizer?, trainTokenCount: Int, labels: UnsafeBufferPointer<UInt8>?,
         labelNames: [String], segments: [CorpusSegment], owners: [AnyObject]) {
        self.name = name
        tokens = bytes
        train = UnsafeBufferPointer(rebasing: bytes[0..<trainBytes])
        validation = UnsafeBufferPointer(rebasing: bytes[trainBytes...])
        self.subwords = subwords
        self.tokenizer = tokenizer
        self.trainTokenCount = trainTokenCount
        self.labels = labels
        self.labelNames = labelNames
        self.segments = segments
        generator = nil
        self.owners = owners
    }

    /// `bytes` with its train split re-tokenised by `tokenizer` (trained on that split): each
    /// split is encoded on its own, so no token straddles the split point. Labels are the
    /// token classes of the subwords (`subwordClassLabels`), also for a synthetic corpus, whose
    /// difficulty labels belong to bytes.
    init(subwordsOf bytes: Corpus, tokenizer: BytePairTokenizer) {
        let train = tokenizer.encode(bytes.train), validation = tokenizer.encode(bytes.validation)
        let ids = OwnedBuffer(train + validation)
        let labelStore = OwnedBytes(subwordClassLabels(train, tokenizer: tokenizer)
                                    + subwordClassLabels(validation, tokenizer: tokenizer))
        name = bytes.name + "+bpe\(tokenizer.vocabSize)"
        tokens = bytes.tokens
        self.train = bytes.train
        self.validation = bytes.validation
        subwords = ids.bytes
        self.tokenizer = tokenizer
        trainTokenCount = train.count
        labels = labelStore.bytes
        labelNames = TokenClass.labelNames
        generator = nil
        owners = [bytes, ids, labelStore]
        segments = []
    }

    /// A corpus over in-memory bytes, e.g. for tests or a custom generator. `labels`, when
    /// given, has one id per token, each below `labelNames.count`; without labels the corpus
    /// reports token classes like a text corpus.
    public convenience init(name: String, tokens: [UInt8], labels: [UInt8]? = nil, labelNames: [String] = [],
                            generator: (any SyntheticGenerator)? = nil, validationFraction: Double) throws {
        let tokenStore = OwnedBytes(tokens)
        var owners: [AnyObject] = [tokenStore]
        var labelView: UnsafeBufferPointer<UInt8>? = nil
        if let labels {
            precondition(labels.count == tokens.count, "one label per token")
            precondition(labels.allSatisfy { Int($0) < labelNames.count }, "label id without a name")
            let labelStore = OwnedBytes(labels)
            owners.append(labelStore)
            labelView = labelStore.bytes
        }
        try self.init(name: name, tokens: tokenStore.bytes, labels: labelView,
                      labelNames: labels == nil ? TokenClass.labelNames : labelNames,
                      generator: generator, validationFraction: validationFraction, owners: owners)
    }

    /// Tokens before the split point: `floor(n * (1 - f))`, as in nanoGPT's `int(n * 0.9)`.
    public static func trainCount(total n: Int, validationFraction f: Double) -> Int {
        min(n, max(0, Int((Double(n) * (1 - f)).rounded(.down))))
    }

    /// The bytes of one split.
    public func tokens(_ split: Split) -> UnsafeBufferPointer<UInt8> {
        split == .train ? train : validation
    }

    /// Model tokens in the corpus (bytes, or subwords).
    public var count: Int { subwords?.count ?? tokens.count }

    /// The model token at corpus-wide `index`: a byte, or a subword id.
    @inlinable
    public func token(at index: Int) -> Int32 {
        if let subwords { return Int32(subwords[index]) }
        return Int32(tokens[index])
    }

    /// Corpus-wide index range of one split's model tokens.
    public func range(_ split: Split) -> Range<Int> {
        split == .train ? 0..<trainTokenCount : trainTokenCount..<count
    }

    /// Label id of the model token at corpus-wide `index`: stored, or the token class.
    @inlinable
    public func label(at index: Int) -> UInt8 {
        if let labels { return labels[index] }
        return tokenClass(previous: index > 0 ? tokens[index - 1] : nil, current: tokens[index]).labelID
    }

    /// Ordinal difficulty of each label id (the generator's, or `TokenClass.difficulty`).
    public var difficulty: [Int] { generator?.difficulty ?? TokenClass.difficulty }

    /// The achievable loss (nats per token) of tokens with this label, where the generator
    /// knows it; nil for text corpora and for labels without a closed form.
    public func analyticEntropy(label: Int) -> Double? {
        generator?.analyticEntropy(label: label)
    }

    /// Throws unless each split holds enough tokens: `batch` windows of `seqLen + 1` tokens in
    /// train (so a batch can hold distinct windows) and one window in validation.
    public func check(batch: Int, seqLen: Int) throws {
        guard batch >= 1 else {
            throw DataError.invalidValue(key: "train.batch_size", value: "\(batch)", allowed: "at least 1")
        }
        guard seqLen >= 1 else {
            throw DataError.invalidValue(key: "train.seq_len", value: "\(seqLen)", allowed: "at least 1")
        }
        let needs: [(Split, Int)] = [(.train, batch * (seqLen + 1)), (.validation, seqLen + 1)]
        for (split, needed) in needs where range(split).count < needed {
            throw DataError.corpusTooSmall(corpus: name, split: split.rawValue, bytes: range(split).count,
                                           needed: needed, batchSize: batch, seqLen: seqLen)
        }
    }

    static func checkFraction(_ f: Double) throws {
        guard f > 0, f < 1 else {
            throw DataError.invalidValue(key: "data.validation_fraction", value: "\(f)",
                                         allowed: "strictly between 0 and 1 (0.1 holds out the last 10%)")
        }
    }
}

extension Corpus {
    /// The corpus kinds `data.corpus` accepts.
    public static let kinds = CorpusKind.allCases.map(\.rawValue)

    /// Loads the corpus `[data]` describes. `seed` seeds synthetic generators (the training
    /// seed, so a run's corpus is fixed by its config). With `data.tokenizer = "bpe"` a
    /// tokenizer of `vocabSize` tokens (`model.vocab_size`) is trained on the train split and
    /// the corpus re-tokenised with it (the subword ids are held in memory, 2 bytes each).
    public static func load(_ data: DataConfig, seed: Int, vocabSize: Int = 256) throws -> Corpus {
        if data.corpus == .mix { return try MixCorpus.load(data, vocabSize: vocabSize).corpus }
        let bytes = try loadBytes(data, seed: seed)
        switch data.tokenizer {
        case .byte:
            return bytes
        case .bpe:
            guard (257...65_536).contains(vocabSize) else {
                throw DataError.invalidValue(key: "model.vocab_size", value: "\(vocabSize)",
                                             allowed: "257...65536 with data.tokenizer = \"bpe\" (256 bytes plus the merges)")
            }
            return Corpus(subwordsOf: bytes, tokenizer: BytePairTokenizer.train(on: bytes.train, vocabSize: vocabSize))
        }
    }

    /// The byte corpus `[data]` describes.
    static func loadBytes(_ data: DataConfig, seed: Int) throws -> Corpus {
        try checkFraction(data.validationFraction)
        switch data.corpus {
        case .tinyshakespeare:
            guard let url = Bundle.module.url(forResource: "tinyshakespeare", withExtension: "txt") else {
                throw DataError.missingResource("tinyshakespeare.txt")
            }
            return try text(path: url.path, name: "tinyshakespeare", validationFraction: data.validationFraction)
        case .text:
            guard !data.path.isEmpty else { throw DataError.missingPath }
            let path = NSString(string: data.path).expandingTildeInPath
            let file = URL(fileURLWithPath: path).lastPathComponent
            return try text(path: path, name: "text:" + file, validationFraction: data.validationFraction)
        case .synthetic:
            let generator = try SyntheticCorpora.generator(for: data)
            guard data.syntheticBytes >= 2 else {
                throw DataError.invalidValue(key: "data.synthetic_bytes", value: "\(data.syntheticBytes)",
                                             allowed: "at least 2 (enough for the batches of train.batch_size x train.seq_len)")
            }
            let (tokens, labels) = generator.generate(bytes: data.syntheticBytes,
                                                      seed: UInt64(bitPattern: Int64(seed)))
            return try Corpus(name: "synthetic:" + data.synthetic.rawValue, tokens: tokens, labels: labels,
                              labelNames: generator.labelNames, generator: generator,
                              validationFraction: data.validationFraction)
        case .kjv:
            let path = try KingJamesBible.cachedText(cacheDirectory: data.cacheDir)
            return try text(path: path, name: "kjv", validationFraction: data.validationFraction)
        case .mix:
            return try MixCorpus.load(data, vocabSize: 256).corpus
        }
    }

    /// Maps a UTF-8 file and checks it is well formed; throws naming the path (and the byte
    /// offset of the first ill-formed sequence).
    public static func text(path: String, name: String, validationFraction: Double) throws -> Corpus {
        let file = try MappedFile(path: path)
        if let offset = firstInvalidUTF8Offset(file.bytes) {
            throw DataError.notUTF8(path: path, offset: offset, line: lineNumber(of: offset, in: file.bytes))
        }
        return try Corpus(name: name, tokens: file.bytes, labels: nil, labelNames: TokenClass.labelNames,
                          generator: nil, validationFraction: validationFraction, owners: [file])
    }
}
