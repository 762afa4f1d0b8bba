import Foundation

/// The mix corpus's subword tokens: a byte-level BPE tokenizer trained once on a sample of the
/// train split, and the whole corpus encoded with it, document by document (no token crosses
/// a document), both cached beside the text.
extension MixCorpus {
    /// Blocks of this many bytes, evenly spaced over the train split, make the tokenizer's sample.
    static let sampleBlock = 65_536

    static func bpeTokens(docs: [IndexedDocument], text: MappedFile, trainBytes: Int, vocabSize: Int, sampleBytes: Int,
                          folder: String, report: inout MixLoadReport, log: (String) -> Void) throws -> TokenStore {
        report.tokenFolder = folder
        let fm = FileManager.default
        do { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw DataError.mixBuildFailed(reason: "cannot create \(folder): \(error.localizedDescription)")
        }
        let bpePath = folder + "/bpe.json"
        let tokenizer: BytePairTokenizer
        if let json = try? String(contentsOfFile: bpePath, encoding: .utf8) {
            tokenizer = try BytePairTokenizer(json: json, source: bpePath)
        } else {
            let sample = trainingSample(UnsafeBufferPointer(rebasing: text.bytes[0..<trainBytes]), bytes: sampleBytes)
            let began = Date()
            tokenizer = sample.withUnsafeBufferPointer {
                BytePairTokenizer.train(on: $0, vocabSize: vocabSize, distinctTokens: true)
            }
            report.trainSeconds = Date().timeIntervalSince(began)
            report.trainBytes = sample.count
            report.tokenizerTrained = true
            log(String(format: "trained a %d-token BPE on %.1f MB of the train split in %.1f s (%.2f MB/s)",
                       tokenizer.vocabSize, Double(sample.count) / 1e6, report.trainSeconds,
                       Double(sample.count) / 1e6 / max(report.trainSeconds, 1e-9)))
            guard let hf = tokenizer.huggingFaceJSON else {
                throw DataError.mixBuildFailed(reason: "the tokenizer has two tokens with the same bytes")
            }
            try write(hf, to: folder + "/tokenizer.json")
            try write(tokenizer.json, to: bpePath)
        }
        report.tokenizerHash = tokenizer.hash
        let metaPath = folder + "/meta.txt"
        var counts = readMeta(metaPath, tokenizerHash: tokenizer.hash, documents: docs.count)
        if counts == nil {
            let began = Date()
            counts = try encode(docs: docs, text: text, tokenizer: tokenizer, folder: folder)
            report.encodeSeconds = Date().timeIntervalSince(began)
            report.encodeBytes = text.bytes.count
            report.encoded = true
            log(String(format: "encoded %.1f MB into %d tokens in %.1f s (%.2f MB/s)", Double(text.bytes.count) / 1e6,
                       counts!.reduce(0, +), report.encodeSeconds,
                       Double(text.bytes.count) / 1e6 / max(report.encodeSeconds, 1e-9)))
            try write("tokenizer \(tokenizer.hash)\n" + counts!.map(String.init).joined(separator: "\n") + "\n", to: metaPath)
        }
        let ids = try MappedFile(path: folder + "/ids.u16"), labels = try MappedFile(path: folder + "/labels.u8")
        let n = labels.bytes.count
        guard ids.bytes.count == 2 * n, n == counts!.reduce(0, +) else {
            throw DataError.mixBuildFailed(reason: "\(folder) holds token files of different lengths; delete the folder to rebuild it")
        }
        let raw = UnsafeRawPointer(ids.bytes.baseAddress!)
        let view = UnsafeBufferPointer(start: raw.bindMemory(to: UInt16.self, capacity: n), count: n)
        return TokenStore(ids: view, labels: labels.bytes, tokenizer: tokenizer, documentTokens: counts!, owners: [ids, labels])
    }

    /// About `bytes` bytes of `train`: the whole of it when smaller, else evenly spaced blocks.
    static func trainingSample(_ train: UnsafeBufferPointer<UInt8>, bytes: Int) -> [UInt8] {
        guard train.count > bytes else { return Array(train) }
        let blocks = max(1, bytes / sampleBlock), size = min(sampleBlock, bytes)
        var out: [UInt8] = []
        out.reserveCapacity(blocks * size)
        for b in 0..<blocks {
            let start = blocks == 1 ? 0 : (train.count - size) * b / (blocks - 1)
            out.append(contentsOf: train[start..<(start + size)])
        }
        return out
    }

    /// The per-document token counts of `meta.txt` when it exists for this tokenizer and these documents.
    static func readMeta(_ path: String, tokenizerHash: String, documents: Int) -> [Int]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n")
        guard lines.first == "tokenizer \(tokenizerHash)"[...], lines.count == documents + 1 else { return nil }
        let counts = lines.dropFirst().compactMap { Int($0) }
        return counts.count == documents ? counts : nil
    }

    /// Encodes every document into `ids.u16` and `labels.u8` (its domain per token), streaming;
    /// returns each document's token count.
    static func encode(docs: [IndexedDocument], text: MappedFile, tokenizer: BytePairTokenizer,
                       folder: String) throws -> [Int] {
        let idWriter = try DocumentWriter(path: folder + "/ids.u16.tmp")
        let labelWriter = try DocumentWriter(path: folder + "/labels.u8.tmp")
        var encoder = BytePairTokenizer.Encoder(tokenizer)
        var ids: [UInt16] = []
        ids.reserveCapacity(1 << 20)
        var counts: [Int] = []
        for d in docs {
            let before = ids.count
            var count = 0
            encoder.encode(UnsafeBufferPointer(rebasing: text.bytes[d.offset..<(d.offset + d.length)])) {
                ids.append(contentsOf: $0)
                count += $0.count
            }
            labelWriter.buffer += [UInt8](repeating: UInt8(d.domain), count: ids.count - before)
            counts.append(count)
            if ids.count >= 1 << 20 {
                ids.withUnsafeBytes { idWriter.buffer += $0 }
                ids.removeAll(keepingCapacity: true)
                try idWriter.flush()
                try labelWriter.flush()
            }
        }
        ids.withUnsafeBytes { idWriter.buffer += $0 }
        try idWriter.close()
        try labelWriter.close()
        try move(folder + "/ids.u16.tmp", to: folder + "/ids.u16")
        try move(folder + "/labels.u8.tmp", to: folder + "/labels.u8")
        return counts
    }
}
