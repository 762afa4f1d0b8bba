import Foundation
import LabData

/// A batch as arrays, filled through the sampler's pointer interface.
struct BatchArrays: Equatable {
    var tokens: [Int32]
    var targets: [Int32]
    var labels: [UInt8]

    init(count: Int, fill: (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<UInt8>) -> Void) {
        var tokens = [Int32](repeating: -7, count: count)
        var targets = [Int32](repeating: -7, count: count)
        var labels = [UInt8](repeating: 255, count: count)
        tokens.withUnsafeMutableBufferPointer { t in
            targets.withUnsafeMutableBufferPointer { y in
                labels.withUnsafeMutableBufferPointer { l in fill(t.baseAddress!, y.baseAddress!, l.baseAddress!) }
            }
        }
        self.tokens = tokens
        self.targets = targets
        self.labels = labels
    }
}

extension BatchSampler {
    func batch(atStep step: Int) -> BatchArrays {
        BatchArrays(count: batchSize * seqLen) { batch(atStep: step, into: $0, targets: $1, labels: $2) }
    }

    func evaluationBatch(index: Int, of count: Int) -> BatchArrays {
        BatchArrays(count: batchSize * seqLen) { evaluationBatch(index: index, of: count, into: $0, targets: $1, labels: $2) }
    }
}

/// A file in a fresh temporary folder holding `bytes`; returns its path.
func temporaryFile(_ bytes: [UInt8], name: String = "corpus.txt") throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("labdata-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}

/// Plug-in entropy (nats) of observed counts.
func empiricalEntropy<K: Hashable>(_ counts: [K: Int]) -> Double {
    let total = Double(counts.values.reduce(0, +))
    return -counts.values.reduce(0.0) { acc, c in
        let p = Double(c) / total
        return acc + p * log(p)
    }
}

/// Plug-in conditional entropy H(X | context) from (context, symbol) pairs.
func empiricalConditionalEntropy<C: Hashable, K: Hashable>(_ pairs: [(C, K)]) -> Double {
    var byContext: [C: [K: Int]] = [:]
    for (c, k) in pairs { byContext[c, default: [:]][k, default: 0] += 1 }
    let total = Double(pairs.count)
    return byContext.values.reduce(0.0) { acc, counts in
        acc + Double(counts.values.reduce(0, +)) / total * empiricalEntropy(counts)
    }
}
