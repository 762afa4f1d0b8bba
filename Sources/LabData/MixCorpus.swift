import Foundation
import LabConfig

/// What one load of the mix corpus did and found (for the CLI, the tests and the report).
public struct MixLoadReport: Sendable {
    /// The cache folder of the extracted text, `<cache_dir>/mix-<hash of the inputs>`.
    public var textFolder = ""
    /// The folder of the tokenizer and token ids inside it.
    public var tokenFolder = ""
    /// This load extracted the text (no cache for these inputs yet).
    public var extracted = false
    /// This load trained the tokenizer.
    public var tokenizerTrained = false
    /// This load encoded the corpus (ran the tokenizer over it).
    public var encoded = false
    /// Documents, bytes and model tokens per domain and split: [domain: (train, validation)].
    public var documents: [String: SplitCounts] = [:]
    public var bytes: [String: SplitCounts] = [:]
    public var tokens: [String: SplitCounts] = [:]
    /// Seconds and bytes of the steps this load ran (0 when cached).
    public var extractSeconds = 0.0
    public var trainSeconds = 0.0, trainBytes = 0
    public var encodeSeconds = 0.0, encodeBytes = 0
    /// Hash of the tokenizer (nil for byte tokens).
    public var tokenizerHash: String? = nil
}

/// The multi-domain corpus (`data.corpus = "mix"`): documents of five domains, split into
/// train and validation by document, cached and memory-mapped.
///
/// Cache layout under `data.cache_dir`: `mix-<H>/` with `text.bin` (every document's bytes:
/// the train documents domain by domain, then the validation ones) and `docs.tsv` (split,
/// domain, offset, length, name per document), H the FNV-1a hash of every input's path, size
/// and time, `data.c_bytes`, `data.validation_fraction` and the format; inside it `byte/` or
/// `bpe-<V>-<sample bytes>/` with `labels.u8` (the domain id of each model token) and, for
/// BPE, `tokenizer.json` (the `tokenizers` library's format), `bpe.json` (the lab's),
/// `ids.u16` and `meta.txt` (the tokenizer hash and each document's token count), written
/// last. A document is in validation when the hash of its domain and name, as a fraction of
/// 2^64, is below the validation fraction (each domain with two or more documents keeps at
/// least one on each side), so the split never cuts a document and does not depend on the
/// training seed or on which other documents exist.
public enum MixCorpus {
    /// Format version, part of the text hash.
    static let format = "mix-2"

    public static func load(_ data: DataConfig, vocabSize: Int, sources: MixSources = MixSources(),
                            log: (String) -> Void = { FileHandle.standardError.write(Data(("mix: " + $0 + "\n").utf8)) })
        throws -> (corpus: Corpus, report: MixLoadReport) {
        try Corpus.checkFraction(data.validationFraction)
        guard let weights = data.parsedDomainWeights else {
            throw DataError.invalidValue(key: "data.domain_weights", value: "\"\(data.domainWeights)\"",
                                         allowed: "\"\" or a list like \"c:0.4, python:0.2\" over " + DataConfig.mixDomains.joined(separator: ", "))
        }
        let cache = NSString(string: data.cacheDir).expandingTildeInPath
        var report = MixLoadReport()
        let print = "c_bytes \(data.cBytes) validation_fraction \(data.validationFraction) format \(format)\n"
            + (try sources.fingerprint(cBytes: data.cBytes, cacheDirectory: cache))
        report.textFolder = cache + "/mix-" + fnv1aHex(Array(print.utf8))
        if !FileManager.default.fileExists(atPath: report.textFolder + "/docs.tsv") {
            let began = Date()
            log("extracting the corpus into \(report.textFolder) (once)")
            try extract(sources: sources, data: data, cache: cache, into: report.textFolder)
            report.extracted = true
            report.extractSeconds = Date().timeIntervalSince(began)
        }
        let docs = try readIndex(report.textFolder + "/docs.tsv")
        let text = try MappedFile(path: report.textFolder + "/text.bin")
        let trainBytes = docs.filter { $0.split == .train }.reduce(0) { $0 + $1.length }
        for d in docs {
            let name = DataConfig.mixDomains[d.domain]
            report.documents[name, default: SplitCounts()].add(1, d.split)
            report.bytes[name, default: SplitCounts()].add(d.length, d.split)
        }
        let tokens: TokenStore
        switch data.tokenizer {
        case .byte:
            tokens = try byteTokens(docs: docs, text: text, folder: report.textFolder + "/byte", report: &report)
        case .bpe:
            guard (257...65_536).contains(vocabSize) else {
                throw DataError.invalidValue(key: "model.vocab_size", value: "\(vocabSize)",
                                             allowed: "257...65536 with data.tokenizer = \"bpe\" (4096...16384 suits the mix corpus)")
            }
            tokens = try bpeTokens(docs: docs, text: text, trainBytes: trainBytes, vocabSize: vocabSize,
                                   sampleBytes: data.bpeSampleBytes,
                                   folder: report.textFolder + "/bpe-\(vocabSize)-\(data.bpeSampleBytes)", report: &report, log: log)
        }
        // Spans of consecutive documents of one split and domain (the text's order makes each contiguous).
        var segments: [CorpusSegment] = []
        var position = 0
        for (d, count) in zip(docs, tokens.documentTokens) {
            let name = DataConfig.mixDomains[d.domain]
            report.tokens[name, default: SplitCounts()].add(count, d.split)
            if let last = segments.last, last.domain == name, last.split == d.split {
                segments[segments.count - 1].range = last.range.lowerBound..<(position + count)
            } else {
                segments.append(CorpusSegment(domain: name, split: d.split, range: position..<(position + count), weight: 0))
            }
            position += count
        }
        for i in segments.indices where segments[i].split == .train {
            segments[i].weight = weights.isEmpty ? Double(segments[i].range.count)
                : weights.first { $0.0 == segments[i].domain }?.1 ?? 0
        }
        let trainTokens = segments.filter { $0.split == .train }.reduce(0) { $0 + $1.range.count }
        let corpus = Corpus(name: tokens.tokenizer.map { "mix+bpe\($0.vocabSize)" } ?? "mix", bytes: text.bytes,
                            trainBytes: trainBytes, subwords: tokens.ids, tokenizer: tokens.tokenizer,
                            trainTokenCount: trainTokens, labels: tokens.labels, labelNames: DataConfig.mixDomains,
                            segments: segments, owners: [text] + tokens.owners)
        return (corpus, report)
    }

    /// One document of `docs.tsv`.
    struct IndexedDocument {
        var split: Split
        var domain: Int
        var offset: Int
        var length: Int
        var name: String
    }

    /// Model tokens of the corpus, with what keeps them mapped.
    struct TokenStore {
        var ids: UnsafeBufferPointer<UInt16>?
        var labels: UnsafeBufferPointer<UInt8>
        var tokenizer: BytePairTokenizer?
        var documentTokens: [Int]
        var owners: [AnyObject]
    }

    /// A document's place in [0, 1): FNV-1a of its domain and name, mixed by SplitMix64's
    /// output function (FNV's high bits barely move when names differ in their last
    /// characters, as "kjv#12" and "kjv#13" do); validation when below the fraction.
    static func hashFraction(domain: Int, name: String) -> Double {
        let hex = fnv1aHex(Array("\(DataConfig.mixDomains[domain])/\(name)".utf8))
        return Double(DataRandom.mix(UInt64(hex, radix: 16)!) >> 11) * 0x1p-53
    }

    /// The split of every document: validation below `fraction`, with at least one document on
    /// each side in every domain that has two or more.
    static func assignSplits(_ documents: [MixDocument], fraction: Double) -> [Split] {
        let u = documents.map { hashFraction(domain: $0.domain, name: $0.name) }
        var splits = u.map { $0 < fraction ? Split.validation : Split.train }
        for domain in Set(documents.map(\.domain)) {
            let members = documents.indices.filter { documents[$0].domain == domain }
            guard members.count >= 2 else { continue }
            if !members.contains(where: { splits[$0] == .validation }) {
                splits[members.min { u[$0] < u[$1] }!] = .validation
            }
            if !members.contains(where: { splits[$0] == .train }) {
                splits[members.max { u[$0] < u[$1] }!] = .train
            }
        }
        return splits
    }

    /// Extracts every document, splits them and writes `text.bin` and `docs.tsv` into `folder`
    /// (through a temporary folder renamed at the end, so a crash leaves no half cache).
    static func extract(sources: MixSources, data: DataConfig, cache: String, into folder: String) throws {
        let temporary = folder + ".tmp-\(getpid())"
        try? FileManager.default.removeItem(atPath: temporary)
        do { try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true) } catch {
            throw DataError.mixBuildFailed(reason: "cannot create \(temporary): \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let raw = try DocumentWriter(path: temporary + "/raw.bin")
        try sources.extract(into: raw, cBytes: data.cBytes, cacheDirectory: cache)
        try raw.close()
        let splits = assignSplits(raw.documents, fraction: data.validationFraction)
        let order = raw.documents.indices.sorted {
            (splits[$0] == .validation ? 1 : 0, raw.documents[$0].domain, $0)
                < (splits[$1] == .validation ? 1 : 0, raw.documents[$1].domain, $1)
        }
        let source = try MappedFile(path: temporary + "/raw.bin")
        let out = try DocumentWriter(path: temporary + "/text.bin")
        var index = ""
        for i in order {
            let d = raw.documents[i]
            index += "\(splits[i].rawValue)\t\(d.domain)\t\(out.written)\t\(d.length)\t\(d.name)\n"
            try out.add(domain: d.domain, name: d.name, bytes: UnsafeBufferPointer(rebasing: source.bytes[d.offset..<(d.offset + d.length)]))
        }
        try out.close()
        try? FileManager.default.removeItem(atPath: temporary + "/raw.bin")
        try write(index, to: temporary + "/docs.tsv")
        if rename(temporary, folder) != 0 && !FileManager.default.fileExists(atPath: folder + "/docs.tsv") {
            throw DataError.mixBuildFailed(reason: "cannot rename \(temporary) to \(folder): \(String(cString: strerror(errno)))")
        }
    }

    static func readIndex(_ path: String) throws -> [IndexedDocument] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw DataError.unreadable(path: path, reason: "the mix corpus's document index is missing")
        }
        return try text.split(separator: "\n").map { line in
            let f = line.split(separator: "\t", maxSplits: 4, omittingEmptySubsequences: false)
            guard f.count == 5, let split = Split(rawValue: String(f[0])), let domain = Int(f[1]),
                  DataConfig.mixDomains.indices.contains(domain), let offset = Int(f[2]), let length = Int(f[3]) else {
                throw DataError.unreadable(path: path, reason: "malformed line '\(line.prefix(80))'; delete the folder to rebuild it")
            }
            return IndexedDocument(split: split, domain: domain, offset: offset, length: length, name: String(f[4]))
        }
    }

    /// Byte tokens: the text itself, with a cached label file (one domain id per byte).
    static func byteTokens(docs: [IndexedDocument], text: MappedFile, folder: String,
                           report: inout MixLoadReport) throws -> TokenStore {
        report.tokenFolder = folder
        let labelPath = folder + "/labels.u8"
        if !FileManager.default.fileExists(atPath: labelPath) {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let writer = try DocumentWriter(path: labelPath + ".tmp")
            for d in docs { writer.buffer += [UInt8](repeating: UInt8(d.domain), count: d.length); try writer.flush() }
            try writer.close()
            try move(labelPath + ".tmp", to: labelPath)
        }
        let labels = try MappedFile(path: labelPath)
        return TokenStore(ids: nil, labels: labels.bytes, tokenizer: nil, documentTokens: docs.map(\.length), owners: [labels])
    }

    static func write(_ text: String, to path: String) throws {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw DataError.mixBuildFailed(reason: "cannot write \(path): \(error.localizedDescription)")
        }
    }

    static func move(_ from: String, to path: String) throws {
        guard rename(from, path) == 0 else {
            throw DataError.mixBuildFailed(reason: "cannot rename \(from): \(String(cString: strerror(errno)))")
        }
    }
}

/// A count per split.
public struct SplitCounts: Sendable, Equatable {
    public var train = 0, validation = 0
    public init() {}
    public var total: Int { train + validation }
    mutating func add(_ n: Int, _ split: Split) {
        if split == .train { train += n } else { validation += n }
    }
}
