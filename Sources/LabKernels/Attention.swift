/// Causal multi-head attention for MLA, flash-style: the T x T probabilities are never stored;
/// the forward pass saves one log-sum-exp per (batch, head, row) and the backward pass
/// recomputes the probabilities from it.
///
/// Letters: B batch, T sequence, H heads, dn nope dim, dr rope dim, dv value dim, dqk = dn + dr.
/// Layouts (row-major, rows are tokens b * T + t):
///   q     [B*T, H*dqk]    per head: q_nope (dn) then q_rope (dr)
///   kv    [B*T, H*(dn+dv)] per head: k_nope (dn) then v (dv)
///   kRope [B*T, dr]       one rope key shared by all heads
///   out   [B*T, H*dv]
///   lse   [B*H*T]         index (b * H + h) * T + t
/// score(i, j) = scale * (q_nope_i . k_nope_j + q_rope_i . kRope_j) for j <= i, else masked.
///
/// Each (batch, head) runs as single-threaded GEMMs on strided views, the (b, h) pairs spread
/// over the threads. Rows are taken in blocks of `attentionBlockRows`; a block of rows i0..<i1
/// only needs keys 0..<i1, so the GEMMs, exponentials and memsets cover the causal triangle
/// plus half a block square per block: for T = 512 and 64-row blocks, 1.12x the causal half
/// instead of 2x (`ParameterCount` counts the causal half only).
///
/// Memory: the largest scratch is one [blockRows, T] score block per thread (two in backward),
/// linear in T; the T x T scores of a head are never held. A row's scores are complete within
/// its block, so one pass gives its exact max and sum (no running rescale as in a key-tiled
/// online softmax), and the backward rebuilds P from the saved lse.

/// Query rows per block (the scratch per thread is 2 * blockRows * T floats). A tuning knob: set
/// it, if at all, at start-up. Measured at B=16, T=256, H=4, one thread: 16 rows 31 ms,
/// 32 rows 28.5, 64 rows 28.8, 128 rows 31.6, 256 rows (no causal skipping) 39.5 (fwd + bwd).
public nonisolated(unsafe) var attentionBlockRows = 64

/// The dimensions of one attention call, with the strides derived from them.
struct AttentionShape {
    let batch: Int, seqLen: Int, heads: Int, nopeDim: Int, ropeDim: Int, valueDim: Int
    /// Per-head query/key width dn + dr.
    var qkDim: Int { nopeDim + ropeDim }
    /// Row strides of q, kv and out.
    var qStride: Int { heads * qkDim }
    var kvStride: Int { heads * (nopeDim + valueDim) }
    var outStride: Int { heads * valueDim }

    /// Offset of head h's query (or dq) for token 0 of batch element b.
    func qOffset(_ b: Int, _ h: Int) -> Int { b * seqLen * qStride + h * qkDim }
    /// Offset of head h's k_nope (value at + nopeDim) for token 0 of batch element b.
    func kvOffset(_ b: Int, _ h: Int) -> Int { b * seqLen * kvStride + h * (nopeDim + valueDim) }
    /// Offset of head h's output for token 0 of batch element b.
    func outOffset(_ b: Int, _ h: Int) -> Int { b * seqLen * outStride + h * valueDim }
    /// Query rows per block (the tuning knob `attentionBlockRows`, at most T).
    var blockRows: Int { max(1, min(attentionBlockRows, seqLen)) }
    /// Multiply-adds of one (b, h) pair, for the parallel split.
    var workPerHead: Int { seqLen * seqLen * (qkDim + valueDim) }
}

/// The read-only inputs q, kv, kRope as pointers that may cross into the parallel loop.
struct AttentionInputs: @unchecked Sendable {
    let q: UnsafeMutablePointer<Float>, kv: UnsafeMutablePointer<Float>, kRope: UnsafeMutablePointer<Float>
    init(_ q: UnsafePointer<Float>, _ kv: UnsafePointer<Float>, _ kRope: UnsafePointer<Float>) {
        self.q = UnsafeMutablePointer(mutating: q)
        self.kv = UnsafeMutablePointer(mutating: kv)
        self.kRope = UnsafeMutablePointer(mutating: kRope)
    }
}

/// Forward: out = softmax(causal scores) * V per head; lse saved for the backward pass.
public func attentionForward(out: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>,
                             q: UnsafePointer<Float>, kv: UnsafePointer<Float>, kRope: UnsafePointer<Float>,
                             batch: Int, seqLen: Int, heads: Int, nopeDim: Int, ropeDim: Int,
                             valueDim: Int, scale: Float) {
    let shape = AttentionShape(batch: batch, seqLen: seqLen, heads: heads, nopeDim: nopeDim,
                               ropeDim: ropeDim, valueDim: valueDim)
    let T = seqLen, dqk = shape.qkDim, blockRows = shape.blockRows
    let pOut = SendablePointer(out), pLse = SendablePointer(lse), inputs = AttentionInputs(q, kv, kRope)
    parallelRanges(batch * heads, costPerItem: shape.workPerHead) { range in
        let keys = FloatBuffer(count: T * dqk)          // [T, dqk] k_nope | kRope of this head
        let probs = FloatBuffer(count: blockRows * T)   // [blockRows, T] scores, then probabilities
        for pair in range {
            let b = pair / heads, h = pair % heads
            let qHead = inputs.q + shape.qOffset(b, h), kvHead = inputs.kv + shape.kvOffset(b, h)
            gatherKeys(keys.ptr, kvHead, inputs.kRope + b * T * ropeDim, shape)
            var i0 = 0
            while i0 < T {
                let i1 = min(T, i0 + blockRows), rowsInBlock = i1 - i0
                causalProbabilities(probs.ptr, lse: pLse.base + pair * T, qHead: qHead, keys: keys.ptr,
                                    rows: i0..<i1, shape: shape, scale: scale, recompute: false)
                // out[i0..<i1] = P [rowsInBlock, i1] * V[0..<i1]
                gemmSerial(transA: false, transB: false, m: rowsInBlock, n: valueDim, k: i1,
                           a: probs.ptr, lda: T, b: kvHead + nopeDim, ldb: shape.kvStride, beta: 0,
                           c: pOut.base + shape.outOffset(b, h) + i0 * shape.outStride, ldc: shape.outStride)
                i0 = i1
            }
        }
    }
}

/// Backward: adds into dq, dkv (k_nope and v parts) and dkRope (summed over heads).
///
/// With P the probabilities and D_i = dOut_i . out_i: dV += P^T dOut, dS = P * (dOut V^T - D),
/// dq += scale * dS K, dK += scale * dS^T q. The shared rope key's gradient is summed over
/// heads in head order after the parallel loop (deterministic, no races).
public func attentionBackward(dq: UnsafeMutablePointer<Float>, dkv: UnsafeMutablePointer<Float>,
                              dkRope: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                              out: UnsafePointer<Float>, lse: UnsafePointer<Float>,
                              q: UnsafePointer<Float>, kv: UnsafePointer<Float>, kRope: UnsafePointer<Float>,
                              batch: Int, seqLen: Int, heads: Int, nopeDim: Int, ropeDim: Int,
                              valueDim: Int, scale: Float) {
    let shape = AttentionShape(batch: batch, seqLen: seqLen, heads: heads, nopeDim: nopeDim,
                               ropeDim: ropeDim, valueDim: valueDim)
    let T = seqLen, dqk = shape.qkDim, blockRows = shape.blockRows
    let ropeGrads = FloatBuffer(count: batch * heads * T * ropeDim) // [B*H, T, dr] per-head dkRope
    let pRopeGrads = SendablePointer(ropeGrads.ptr)
    let pDq = SendablePointer(dq), pDkv = SendablePointer(dkv)
    let pDy = SendablePointer(UnsafeMutablePointer(mutating: dOut))
    let pY = SendablePointer(UnsafeMutablePointer(mutating: out))
    let pLse = SendablePointer(UnsafeMutablePointer(mutating: lse)), inputs = AttentionInputs(q, kv, kRope)
    parallelRanges(batch * heads, costPerItem: 3 * shape.workPerHead) { range in
        let keys = FloatBuffer(count: T * dqk)          // [T, dqk] k_nope | kRope of this head
        let dKeys = FloatBuffer(count: T * dqk)         // [T, dqk] their gradient
        let probs = FloatBuffer(count: blockRows * T)   // [blockRows, T] P
        let dScores = FloatBuffer(count: blockRows * T) // [blockRows, T] dP, then dS
        let rowTerm = FloatBuffer(count: T)             // D_i = dOut_i . out_i
        for pair in range {
            let b = pair / heads, h = pair % heads
            let qHead = inputs.q + shape.qOffset(b, h), kvHead = inputs.kv + shape.kvOffset(b, h)
            let dyHead = pDy.base + shape.outOffset(b, h), yHead = pY.base + shape.outOffset(b, h)
            gatherKeys(keys.ptr, kvHead, inputs.kRope + b * T * ropeDim, shape)
            dKeys.zero()
            for t in 0..<T {
                rowTerm[t] = dotFloat(dyHead + t * shape.outStride, yHead + t * shape.outStride, valueDim)
            }
            var i0 = 0
            while i0 < T {
                let i1 = min(T, i0 + blockRows), rowsInBlock = i1 - i0
                let dyBlock = dyHead + i0 * shape.outStride
                causalProbabilities(probs.ptr, lse: pLse.base + pair * T, qHead: qHead, keys: keys.ptr,
                                    rows: i0..<i1, shape: shape, scale: scale, recompute: true)
                // dP = dOut[i0..<i1] V[0..<i1]^T   [rowsInBlock, i1]
                zeroColumns(dScores.ptr, rows: rowsInBlock, cols: i1, stride: T)
                gemmSerial(transA: false, transB: true, m: rowsInBlock, n: i1, k: valueDim,
                           a: dyBlock, lda: shape.outStride, b: kvHead + nopeDim, ldb: shape.kvStride,
                           beta: 1, c: dScores.ptr, ldc: T)
                // dS = P * (dP - D_i)
                for r in 0..<rowsInBlock {
                    softmaxGradRow(dScores.ptr + r * T, probs.ptr + r * T, rowTerm[i0 + r], count: i1)
                }
                // dV[0..<i1] += P^T dOut[i0..<i1]
                gemmSerial(transA: true, transB: false, m: i1, n: valueDim, k: rowsInBlock,
                           a: probs.ptr, lda: T, b: dyBlock, ldb: shape.outStride, beta: 1,
                           c: pDkv.base + shape.kvOffset(b, h) + nopeDim, ldc: shape.kvStride)
                // dq[i0..<i1] += scale * dS K[0..<i1]
                gemmSerial(transA: false, transB: false, m: rowsInBlock, n: dqk, k: i1, alpha: scale,
                           a: dScores.ptr, lda: T, b: keys.ptr, ldb: dqk, beta: 1,
                           c: pDq.base + shape.qOffset(b, h) + i0 * shape.qStride, ldc: shape.qStride)
                // dK[0..<i1] += scale * dS^T q[i0..<i1]
                gemmSerial(transA: true, transB: false, m: i1, n: dqk, k: rowsInBlock, alpha: scale,
                           a: dScores.ptr, lda: T, b: qHead + i0 * shape.qStride, ldb: shape.qStride,
                           beta: 1, c: dKeys.ptr, ldc: dqk)
                i0 = i1
            }
            // Scatter dK: k_nope part into dkv, rope part into this head's slot of ropeGrads.
            let dkvHead = pDkv.base + shape.kvOffset(b, h)
            for t in 0..<T {
                let src = dKeys.ptr + t * dqk
                addInPlaceSerial(dkvHead + t * shape.kvStride, src, nopeDim)
                copy(pRopeGrads.base + (pair * T + t) * ropeDim, src + nopeDim, ropeDim)
            }
        }
    }
    // dkRope[b, t] += sum over heads, in head order.
    let pDkr = SendablePointer(dkRope)
    parallelRanges(batch * T, costPerItem: heads * ropeDim) { range in
        for row in range {
            let b = row / T, t = row % T
            for h in 0..<heads {
                addInPlaceSerial(pDkr.base + row * ropeDim,
                                 pRopeGrads.base + ((b * heads + h) * T + t) * ropeDim, ropeDim)
            }
        }
    }
}

/// keys[t] = [k_nope(t) | kRope(t)] for one head, so each score block is one GEMM with k = dqk.
private func gatherKeys(_ keys: UnsafeMutablePointer<Float>, _ kvHead: UnsafeMutablePointer<Float>,
                        _ kRopeBatch: UnsafeMutablePointer<Float>, _ shape: AttentionShape) {
    let dn = shape.nopeDim, dr = shape.ropeDim, dqk = shape.qkDim
    for t in 0..<shape.seqLen {
        copy(keys + t * dqk, kvHead + t * shape.kvStride, dn)
        copy(keys + t * dqk + dn, kRopeBatch + t * dr, dr)
    }
}

/// Fills probs [rows.count, T] with the causal softmax of the rows' scores against keys
/// 0..<rows.upperBound (entries right of the diagonal set to 0). The forward pass normalises
/// by the row sum and saves lse; `recompute` rebuilds P as exp(score - saved lse).
private func causalProbabilities(_ probs: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>,
                                 qHead: UnsafeMutablePointer<Float>, keys: UnsafeMutablePointer<Float>,
                                 rows: Range<Int>, shape: AttentionShape, scale: Float, recompute: Bool) {
    let T = shape.seqLen, cols = rows.upperBound
    // scores = scale * q[rows] K[0..<cols]^T (zeroed here and accumulated: memset is faster
    // than OpenBLAS's own beta = 0 pass)
    zeroColumns(probs, rows: rows.count, cols: cols, stride: T)
    gemmSerial(transA: false, transB: true, m: rows.count, n: cols, k: shape.qkDim, alpha: scale,
               a: qHead + rows.lowerBound * shape.qStride, lda: shape.qStride, b: keys, ldb: shape.qkDim,
               beta: 1, c: probs, ldc: T)
    for i in rows {
        let row = probs + (i - rows.lowerBound) * T
        let valid = i + 1
        if recompute {
            _ = expShifted(row, row, valid, sub: lse[i])
        } else {
            let m = maxOf(row, valid)
            let sum = expShifted(row, row, valid, sub: m)
            scaleSerial(row, valid, by: 1 / sum)
            lse[i] = m + _logf(sum)
        }
        if cols > valid { (row + valid).update(repeating: 0, count: cols - valid) }
    }
}

/// Zeroes the first `cols` entries of `rows` rows `stride` apart: the part of a [rows, T] block
/// that a causal block's GEMM writes (keys right of the block's last row are never read).
@inline(__always)
private func zeroColumns(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride: Int) {
    if cols == stride { p.update(repeating: 0, count: rows * stride); return }
    for r in 0..<rows { (p + r * stride).update(repeating: 0, count: cols) }
}

/// dS = P * (dP - d) over one row (dS written over dP).
@inline(__always)
private func softmaxGradRow(_ dp: UnsafeMutablePointer<Float>, _ p: UnsafeMutablePointer<Float>, _ d: Float,
                            count: Int) {
    var i = 0
    while i + 8 <= count {
        store8(load8(p + i) * (load8(dp + i) - d), dp + i)
        i += 8
    }
    while i < count {
        dp[i] = p[i] * (dp[i] - d)
        i += 1
    }
}
