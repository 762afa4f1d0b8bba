/// Softmax cross-entropy over the vocabulary, fused with its gradient.
///
/// Shapes: logits, dLogits [rows, V]; targets [rows] (Int32; a negative target marks a row to
/// ignore: no loss, zero gradient). Loss per counted row: logsumexp(logits) - logits[target].

/// Rows per partial loss sum; fixed so the sum's bits do not depend on the thread count.
let crossEntropyChunkRows = 16

/// Loss and gradient in one pass: dLogits = (softmax(logits) - onehot(target)) * gradScale
/// (OVERWRITTEN; it may be the logits buffer itself). Returns the loss summed over counted rows
/// and the number of counted rows; the caller divides (and sets gradScale = 1 / counted for a mean).
public func crossEntropyForwardBackward(dLogits: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                                        targets: UnsafePointer<Int32>, rows: Int, vocab: Int,
                                        gradScale: Float) -> (lossSum: Double, counted: Int) {
    crossEntropy(dLogits: dLogits, logits: logits, targets: targets, rows: rows, vocab: vocab, gradScale: gradScale)
}

/// Loss only: the loss summed over counted rows and the number of counted rows.
public func crossEntropyLoss(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int,
                             vocab: Int) -> (lossSum: Double, counted: Int) {
    crossEntropy(dLogits: nil, logits: logits, targets: targets, rows: rows, vocab: vocab, gradScale: 0)
}

private func crossEntropy(dLogits: UnsafeMutablePointer<Float>?, logits: UnsafePointer<Float>,
                          targets: UnsafePointer<Int32>, rows: Int, vocab V: Int,
                          gradScale: Float) -> (lossSum: Double, counted: Int) {
    var counted = 0
    for r in 0..<rows where targets[r] >= 0 {
        precondition(Int(targets[r]) < V, "cross-entropy target \(targets[r]) in row \(r) is outside vocab 0..<\(V)")
        counted += 1
    }
    let pD = dLogits.map { SendablePointer($0) }
    let pL = SendablePointer(UnsafeMutablePointer(mutating: logits))
    let pT = SendablePointer(UnsafeMutablePointer(mutating: targets))
    let lossSum = parallelSum(rows, chunkSize: crossEntropyChunkRows, costPerItem: 12 * V) { range in
        var partial = 0.0
        for r in range {
            let l = UnsafePointer(pL.base + r * V)
            let target = Int(pT[r])
            if target < 0 {
                pD?.base.advanced(by: r * V).update(repeating: 0, count: V)
                continue
            }
            let m = maxOf(l, V)
            let targetLogit = l[target] // read before the gradient may overwrite it
            guard let d = pD?.base.advanced(by: r * V) else {
                partial += Double(m + _logf(sumExpShifted(l, V, sub: m))) - Double(targetLogit)
                continue
            }
            // d = exp(l - m), then scaled by gradScale / sum: one exp per element.
            let sum = expShifted(l, d, V, sub: m)
            partial += Double(m + _logf(sum)) - Double(targetLogit)
            scaleSerial(d, V, by: gradScale / sum)
            d[target] -= gradScale
        }
        return partial
    }
    return (lossSum, counted)
}
