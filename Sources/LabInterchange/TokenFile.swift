import Foundation

/// A batch of token sequences read from text: one sequence per line, ids separated by spaces
/// (or tabs); blank lines are skipped. Every sequence must have the same length.
public struct TokenBatch: Sendable, Equatable {
    /// B.
    public let batch: Int
    /// T.
    public let seqLen: Int
    /// `[B*T]` ids, row-major.
    public let tokens: [Int32]

    /// Parses `text`; `path` names the source in errors, which also give the line number.
    /// Ids must lie in `0..<vocabSize`.
    public init(text: String, path: String, vocabSize: Int) throws {
        var rows: [[Int32]] = []
        // "\r\n" is one Character in Swift, and a newline.
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty { continue }
            var row: [Int32] = []
            row.reserveCapacity(fields.count)
            for field in fields {
                guard let id = Int32(field), id >= 0, Int(id) < vocabSize else {
                    throw InterchangeError("\(path):\(index + 1): '\(field)' is not a token id in 0..<\(vocabSize) "
                                           + "(the model's vocab_size)")
                }
                row.append(id)
            }
            if let first = rows.first, first.count != row.count {
                throw InterchangeError("\(path):\(index + 1): \(row.count) tokens, but the first sequence has "
                                       + "\(first.count); every line must have the same length")
            }
            rows.append(row)
        }
        guard let first = rows.first else {
            throw InterchangeError("\(path): no token sequences (one per line, ids separated by spaces)")
        }
        batch = rows.count
        seqLen = first.count
        tokens = rows.flatMap { $0 }
    }

    /// Reads and parses the file at `path`.
    public static func read(path: String, vocabSize: Int) throws -> TokenBatch {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InterchangeError("\(path): cannot read the token file (missing or unreadable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InterchangeError("\(path): not UTF-8 text")
        }
        return try TokenBatch(text: text, path: path, vocabSize: vocabSize)
    }
}
