/// Plain-loop causal MLA attention, forward and backward, in Double: the oracle for
/// `attentionForward` / `attentionBackward` (same arguments and layouts; see Attention.swift).
/// It stores each head's full T x T probability matrix and is meant for small test sizes only.

/// Reference forward: out [B*T, H*dv] and lse [B*H*T] (written, not added).
public func attentionReference(out: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>,
                               q: UnsafePointer<Float>, kv: UnsafePointer<Float>, kRope: UnsafePointer<Float>,
                               batch: Int, seqLen: Int, heads: Int, nopeDim: Int, ropeDim: Int,
                               valueDim: Int, scale: Float) {
    let s = AttentionShape(batch: batch, seqLen: seqLen, heads: heads, nopeDim: nopeDim,
                           ropeDim: ropeDim, valueDim: valueDim)
    for b in 0..<batch {
        for h in 0..<heads {
            let p = referenceProbabilities(q, kv, kRope, b, h, s, scale)
            for i in 0..<seqLen {
                lse[(b * heads + h) * seqLen + i] = Float(p.lse[i])
                for c in 0..<valueDim {
                    var acc = 0.0
                    for j in 0...i {
                        acc += p.probs[i * seqLen + j] * Double(kv[s.kvOffset(b, h) + j * s.kvStride + nopeDim + c])
                    }
                    out[s.outOffset(b, h) + i * s.outStride + c] = Float(acc)
                }
            }
        }
    }
}

/// Reference backward: adds into dq, dkv and dkRope like `attentionBackward`, recomputing the
/// probabilities from q, kv and kRope (no saved state needed).
public func attentionBackwardReference(dq: UnsafeMutablePointer<Float>, dkv: UnsafeMutablePointer<Float>,
                                       dkRope: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                       q: UnsafePointer<Float>, kv: UnsafePointer<Float>,
                                       kRope: UnsafePointer<Float>, batch: Int, seqLen: Int, heads: Int,
                                       nopeDim: Int, ropeDim: Int, valueDim: Int, scale: Float) {
    let s = AttentionShape(batch: batch, seqLen: seqLen, heads: heads, nopeDim: nopeDim,
                           ropeDim: ropeDim, valueDim: valueDim)
    let T = seqLen
    for b in 0..<batch {
        for h in 0..<heads {
            let p = referenceProbabilities(q, kv, kRope, b, h, s, scale)
            let qo = s.qOffset(b, h), kvo = s.kvOffset(b, h), oo = s.outOffset(b, h)
            for i in 0..<T {
                // dP_ij = dOut_i . v_j ; dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik)
                var dp = [Double](repeating: 0, count: i + 1)
                for j in 0...i {
                    var acc = 0.0
                    for c in 0..<valueDim {
                        let dy = Double(dOut[oo + i * s.outStride + c])
                        acc += dy * Double(kv[kvo + j * s.kvStride + nopeDim + c])
                        dkv[kvo + j * s.kvStride + nopeDim + c] += Float(p.probs[i * T + j] * dy)
                    }
                    dp[j] = acc
                }
                var rowTerm = 0.0
                for j in 0...i { rowTerm += p.probs[i * T + j] * dp[j] }
                for j in 0...i {
                    let ds = p.probs[i * T + j] * (dp[j] - rowTerm) * Double(scale)
                    for c in 0..<s.qkDim {
                        let key = c < nopeDim ? kv[kvo + j * s.kvStride + c]
                                              : kRope[(b * T + j) * ropeDim + c - nopeDim]
                        let query = Double(q[qo + i * s.qStride + c])
                        dq[qo + i * s.qStride + c] += Float(ds * Double(key))
                        if c < nopeDim {
                            dkv[kvo + j * s.kvStride + c] += Float(ds * query)
                        } else {
                            dkRope[(b * T + j) * ropeDim + c - nopeDim] += Float(ds * query)
                        }
                    }
                }
            }
        }
    }
}

/// Causal softmax probabilities [T, T] (zero above the diagonal) and log-sum-exp [T] of one head.
private func referenceProbabilities(_ q: UnsafePointer<Float>, _ kv: UnsafePointer<Float>,
                                    _ kRope: UnsafePointer<Float>, _ b: Int, _ h: Int,
                                    _ s: AttentionShape, _ scale: Float) -> (probs: [Double], lse: [Double]) {
    let T = s.seqLen
    var probs = [Double](repeating: 0, count: T * T)
    var lse = [Double](repeating: 0, count: T)
    for i in 0..<T {
        var scores = [Double](repeating: 0, count: i + 1)
        for j in 0...i {
            var acc = 0.0
            for c in 0..<s.qkDim {
                let key = c < s.nopeDim ? kv[s.kvOffset(b, h) + j * s.kvStride + c]
                                        : kRope[(b * T + j) * s.ropeDim + c - s.nopeDim]
                acc += Double(q[s.qOffset(b, h) + i * s.qStride + c]) * Double(key)
            }
            scores[j] = acc * Double(scale)
        }
        let m = scores.max()!
        var sum = 0.0
        for j in 0...i { sum += _exp(scores[j] - m) }
        lse[i] = m + _log(sum)
        for j in 0...i { probs[i * T + j] = _exp(scores[j] - lse[i]) }
    }
    return (probs, lse)
}
