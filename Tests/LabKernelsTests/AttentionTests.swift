import LabKernels
import Testing
import TestSupport

/// One attention problem with random inputs: q [B*T, H*(dn+dr)], kv [B*T, H*(dn+dv)], kRope [B*T, dr].
struct AttentionCase: CustomStringConvertible, Sendable {
    let batch: Int, seqLen: Int, heads: Int, nope: Int, rope: Int, value: Int
    var rows: Int { batch * seqLen }
    var qCount: Int { rows * heads * (nope + rope) }
    var kvCount: Int { rows * heads * (nope + value) }
    var krCount: Int { rows * rope }
    var outCount: Int { rows * heads * value }
    var lseCount: Int { batch * heads * seqLen }
    var scale: Float { 1 / Float(nope + rope).squareRoot() }
    var description: String { "B \(batch) T \(seqLen) H \(heads) dn \(nope) dr \(rope) dv \(value)" }

    func forward(out: FloatBuffer, lse: FloatBuffer, q: FloatBuffer, kv: FloatBuffer, kr: FloatBuffer) {
        attentionForward(out: out.ptr, lse: lse.ptr, q: q.ptr, kv: kv.ptr, kRope: kr.ptr, batch: batch,
                         seqLen: seqLen, heads: heads, nopeDim: nope, ropeDim: rope, valueDim: value, scale: scale)
    }

    func backward(dq: FloatBuffer, dkv: FloatBuffer, dkr: FloatBuffer, dOut: FloatBuffer, out: FloatBuffer,
                  lse: FloatBuffer, q: FloatBuffer, kv: FloatBuffer, kr: FloatBuffer) {
        attentionBackward(dq: dq.ptr, dkv: dkv.ptr, dkRope: dkr.ptr, dOut: dOut.ptr, out: out.ptr, lse: lse.ptr,
                          q: q.ptr, kv: kv.ptr, kRope: kr.ptr, batch: batch, seqLen: seqLen, heads: heads,
                          nopeDim: nope, ropeDim: rope, valueDim: value, scale: scale)
    }

    func inputs(seed: UInt64) -> (q: FloatBuffer, kv: FloatBuffer, kr: FloatBuffer) {
        (randomBuffer(qCount, seed: seed), randomBuffer(kvCount, seed: seed + 1), randomBuffer(krCount, seed: seed + 2))
    }
}

@Suite("Attention")
struct AttentionTests {
    // T = 1 (a single visible key), T = 5 (one partial block), T = 64 (exactly one block of
    // `attentionBlockRows`), T = 70 (two row blocks, the second partial), T = 129 (three, the
    // last a single row); dims odd so no lane count divides them.
    static let cases = [
        AttentionCase(batch: 2, seqLen: 1, heads: 2, nope: 3, rope: 2, value: 4),
        AttentionCase(batch: 2, seqLen: 5, heads: 3, nope: 3, rope: 2, value: 5),
        AttentionCase(batch: 1, seqLen: 64, heads: 2, nope: 3, rope: 2, value: 3),
        AttentionCase(batch: 1, seqLen: 70, heads: 2, nope: 5, rope: 4, value: 3),
        AttentionCase(batch: 2, seqLen: 129, heads: 2, nope: 3, rope: 3, value: 2),
    ]

    /// Finite-difference cases: a single key, a sequence inside one block, and one that spans a
    /// partial second block (the recomputed probabilities of a later block).
    static let gradCases = [
        AttentionCase(batch: 2, seqLen: 1, heads: 2, nope: 3, rope: 2, value: 3),
        AttentionCase(batch: 2, seqLen: 4, heads: 2, nope: 3, rope: 2, value: 3),
        AttentionCase(batch: 1, seqLen: 67, heads: 2, nope: 3, rope: 2, value: 3),
    ]

    /// Guards against indexing, masking or normalisation errors in the blocked forward pass.
    @Test("forward matches the plain loop", arguments: AttentionTests.cases)
    func forwardMatchesReference(_ c: AttentionCase) {
        let (q, kv, kr) = c.inputs(seed: 1)
        let out = FloatBuffer(count: c.outCount), lse = FloatBuffer(count: c.lseCount)
        let refOut = FloatBuffer(count: c.outCount), refLse = FloatBuffer(count: c.lseCount)
        c.forward(out: out, lse: lse, q: q, kv: kv, kr: kr)
        attentionReference(out: refOut.ptr, lse: refLse.ptr, q: q.ptr, kv: kv.ptr, kRope: kr.ptr,
                           batch: c.batch, seqLen: c.seqLen, heads: c.heads, nopeDim: c.nope,
                           ropeDim: c.rope, valueDim: c.value, scale: c.scale)
        #expect(maxAbsDifference(out, refOut) < 1e-5, "\(c)")
        #expect(maxAbsDifference(lse, refLse) < 1e-5, "\(c)")
    }

    /// Guards against errors in the recomputed probabilities or any of the five gradient GEMMs,
    /// and against races on the shared rope key's gradient (summed over heads).
    @Test("backward matches the plain loop", arguments: AttentionTests.cases)
    func backwardMatchesReference(_ c: AttentionCase) {
        let (q, kv, kr) = c.inputs(seed: 4)
        let dOut = randomBuffer(c.outCount, seed: 7)
        let out = FloatBuffer(count: c.outCount), lse = FloatBuffer(count: c.lseCount)
        c.forward(out: out, lse: lse, q: q, kv: kv, kr: kr)
        // Start from nonzero gradients: backward must add, not overwrite.
        let dq = randomBuffer(c.qCount, seed: 8), dkv = randomBuffer(c.kvCount, seed: 9)
        let dkr = randomBuffer(c.krCount, seed: 10)
        let refDq = clone(dq), refDkv = clone(dkv), refDkr = clone(dkr)
        c.backward(dq: dq, dkv: dkv, dkr: dkr, dOut: dOut, out: out, lse: lse, q: q, kv: kv, kr: kr)
        attentionBackwardReference(dq: refDq.ptr, dkv: refDkv.ptr, dkRope: refDkr.ptr, dOut: dOut.ptr,
                                   q: q.ptr, kv: kv.ptr, kRope: kr.ptr, batch: c.batch, seqLen: c.seqLen,
                                   heads: c.heads, nopeDim: c.nope, ropeDim: c.rope, valueDim: c.value,
                                   scale: c.scale)
        #expect(maxAbsDifference(dq, refDq) < 1e-4, "dq \(c)")
        #expect(maxAbsDifference(dkv, refDkv) < 1e-4, "dkv \(c)")
        #expect(maxAbsDifference(dkr, refDkr) < 1e-4, "dkRope \(c)")
    }

    /// Guards against a reference and kernel that agree but are both wrong: finite differences
    /// of loss = sum(out * R) with respect to q, kv and the shared rope key.
    @Test("backward matches finite differences", arguments: AttentionTests.gradCases)
    func gradCheckAttention(_ c: AttentionCase) {
        let (q, kv, kr) = c.inputs(seed: 11)
        let r = randomBuffer(c.outCount, seed: 14)
        let out = FloatBuffer(count: c.outCount), lse = FloatBuffer(count: c.lseCount)
        let loss = {
            c.forward(out: out, lse: lse, q: q, kv: kv, kr: kr)
            return projectionLoss(out, r)
        }
        _ = loss()
        let grads = gradientIncrements([c.qCount, c.kvCount, c.krCount]) { g in
            c.backward(dq: g[0], dkv: g[1], dkr: g[2], dOut: r, out: out, lse: lse, q: q, kv: kv, kr: kr)
        }
        let (dq, dkv, dkr) = (grads[0], grads[1], grads[2])
        // Float32 softmax, eps 1e-2 on O(1) inputs: relative error well under 1% above the floor.
        for (name, input, grad) in [("q", q, dq), ("kv", kv, dkv), ("kRope", kr, dkr)] {
            let report = gradCheck(input, analytic: grad, samples: 48, eps: 1e-2, floor: 0.05, loss: loss)
            #expect(report.maxRelativeError < 1e-2, "d\(name): \(report)")
        }
    }

    /// Guards against information flowing from the future: changing the key, value and rope
    /// key at position t leaves every output before t bit-for-bit unchanged (and changes row t).
    @Test("outputs never depend on later positions")
    func causalMask() {
        let c = AttentionCase(batch: 2, seqLen: 9, heads: 2, nope: 3, rope: 2, value: 4)
        let (q, kv, kr) = c.inputs(seed: 20)
        let before = FloatBuffer(count: c.outCount), after = FloatBuffer(count: c.outCount)
        let lse = FloatBuffer(count: c.lseCount)
        c.forward(out: before, lse: lse, q: q, kv: kv, kr: kr)
        let t = 6, kvWidth = c.heads * (c.nope + c.value), outWidth = c.heads * c.value
        for b in 0..<c.batch {
            let row = b * c.seqLen + t
            for i in 0..<kvWidth { kv[row * kvWidth + i] += 5 }
            for i in 0..<c.rope { kr[row * c.rope + i] -= 3 }
        }
        c.forward(out: after, lse: lse, q: q, kv: kv, kr: kr)
        for b in 0..<c.batch {
            for s in 0..<c.seqLen {
                let row = (b * c.seqLen + s) * outWidth
                let changed = (0..<outWidth).contains { before[row + $0] != after[row + $0] }
                #expect(changed == (s >= t), "batch \(b) position \(s)")
            }
        }
    }

    /// Guards against scheduling-dependent results (e.g. racing accumulation into dkRope).
    @Test("backward is deterministic")
    func deterministic() {
        let c = AttentionCase(batch: 3, seqLen: 20, heads: 4, nope: 4, rope: 2, value: 4)
        let (q, kv, kr) = c.inputs(seed: 30)
        let dOut = randomBuffer(c.outCount, seed: 33)
        let out = FloatBuffer(count: c.outCount), lse = FloatBuffer(count: c.lseCount)
        c.forward(out: out, lse: lse, q: q, kv: kv, kr: kr)
        var runs: [[FloatBuffer]] = []
        for _ in 0..<2 {
            let dq = FloatBuffer(count: c.qCount), dkv = FloatBuffer(count: c.kvCount)
            let dkr = FloatBuffer(count: c.krCount)
            c.backward(dq: dq, dkv: dkv, dkr: dkr, dOut: dOut, out: out, lse: lse, q: q, kv: kv, kr: kr)
            runs.append([dq, dkv, dkr])
        }
        for i in 0..<3 { #expect(bitwiseEqual(runs[0][i], runs[1][i])) }
    }
}
