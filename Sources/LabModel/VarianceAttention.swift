import Foundation
import LabKernels

// Attention scores of one MLA block recomputed from its saved q, kv and rope key, for the
// variance probe (the attention kernel never materialises them). Letters as in MLA.swift:
// B batch, T positions, H heads, dn/dr/dv head dims; dqk = dn + dr.
//
//   score[b,h,i,j] = scale * (q_nope[i] . k_nope[j] + q_rope[i] . k_rope[j])   for j <= i
//   p[i, :]        = softmax(score[i, 0...i]),   entropy[i] = -sum_j p log p = lse - sum_j p s

/// Statistics of the causal (unmasked) pre-softmax scores of one MLA block.
struct AttentionScoreStatistics {
    /// Moments over every unmasked score of every head and batch element.
    var logits = Moments()
    /// Mean over (batch, head, query) rows of the softmax entropy in nats.
    var meanEntropy = 0.0
}

/// Recomputes the scores of the block whose forward saved `m` and measures them. With `lse`
/// [B*H*T] (index (b*H + h)*T + i, as the kernel's), writes each row's log-sum-exp there, so a
/// test can check the recomputation against the kernel's saved one.
func attentionScoreStatistics(saved m: MLASaved, shape s: MLAShape, batch: Int, seqLen: Int,
                              lse: UnsafeMutablePointer<Float>? = nil) -> AttentionScoreStatistics {
    let t = seqLen, h = s.heads, dqk = s.nope + s.rope, pairs = batch * h
    var perPair = [AttentionScoreStatistics](repeating: AttentionScoreStatistics(), count: pairs)
    let q = SendablePointer(m.q.ptr), kv = SendablePointer(m.kv.ptr), kr = SendablePointer(m.kr.ptr)
    let lseOut = lse.map { SendablePointer($0) }
    perPair.withUnsafeMutableBufferPointer { out in
        let o = SendablePointer(out.baseAddress!)
        parallelFor(pairs) { pair in
            let b = pair / h, head = pair % h
            let qh = UnsafeMutablePointer<Float>.allocate(capacity: t * dqk)
            let kh = UnsafeMutablePointer<Float>.allocate(capacity: t * dqk)
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: t * t)
            defer { qh.deallocate(); kh.deallocate(); scores.deallocate() }
            for i in 0..<t {
                let row = b * t + i
                (qh + i * dqk).update(from: q.base + row * s.qWidth + head * dqk, count: dqk)
                (kh + i * dqk).update(from: kv.base + row * s.kvWidth + head * (s.nope + s.value), count: s.nope)
                (kh + i * dqk + s.nope).update(from: kr.base + row * s.rope, count: s.rope)
            }
            gemmSerial(transA: false, transB: true, m: t, n: t, k: dqk, alpha: s.scoreScale,
                       a: qh, lda: dqk, b: kh, ldb: dqk, beta: 0, c: scores, ldc: t)
            var result = AttentionScoreStatistics()
            var entropySum = 0.0
            for i in 0..<t {
                let row = scores + i * t
                var top = -Double.infinity
                for j in 0...i {
                    result.logits.add(row[j])
                    top = max(top, Double(row[j]))
                }
                var z = 0.0, weighted = 0.0
                for j in 0...i {
                    let e = exp(Double(row[j]) - top)
                    z += e; weighted += e * Double(row[j])
                }
                let logZ = top + log(z)
                entropySum += logZ - weighted / z
                if let lseOut { lseOut[pair * t + i] = Float(logZ) }
            }
            result.meanEntropy = entropySum / Double(t)
            o[pair] = result
        }
    }
    var total = AttentionScoreStatistics()
    for p in perPair {
        total.logits.merge(p.logits)
        total.meanEntropy += p.meanEntropy / Double(pairs)
    }
    return total
}
