import LabKernels
import Testing
import TestSupport

/// Runs `body` with `LabThreads` set to `threads`, then restores the default. Other tests running
/// meanwhile only see their loops run with fewer or more threads, which (this suite checks) does
/// not change their results.
private func withThreads<T>(_ threads: Int, _ body: () -> T) -> T {
    let saved = LabThreads.count
    LabThreads.set(threads)
    defer { LabThreads.set(saved) }
    return body()
}

@Suite("Thread-count independence", .serialized)
struct ThreadCountTests {
    /// Guards against reductions whose chunking follows the thread count: the same inputs on 1,
    /// 2 or 3 threads must give identical bits (reproducible runs across machines). Sizes are
    /// above every parallel threshold. (Large GEMMs are the documented exception.)
    @Test("kernels give identical bits on 1, 2 and 3 threads")
    func identicalAcrossThreadCounts() {
        let c = AttentionCase(batch: 3, seqLen: 40, heads: 4, nope: 4, rope: 2, value: 4)
        let (q, kv, kr) = c.inputs(seed: 1)
        let dOut = randomBuffer(c.outCount, seed: 4)
        let (rows, dim, vocab) = (600, 200, 90)
        let x = randomBuffer(rows * dim, seed: 5), w = randomBuffer(dim, seed: 6)
        let logits = randomBuffer(rows * vocab, seed: 7)
        let targets = (0..<rows).map { Int32($0 % 7 == 0 ? -1 : ($0 * 13) % vocab) }

        func run() -> (buffers: [FloatBuffer], sums: [Double]) {
            let out = FloatBuffer(count: c.outCount), lse = FloatBuffer(count: c.lseCount)
            let dq = FloatBuffer(count: c.qCount), dkv = FloatBuffer(count: c.kvCount)
            let dkr = FloatBuffer(count: c.krCount)
            c.forward(out: out, lse: lse, q: q, kv: kv, kr: kr)
            c.backward(dq: dq, dkv: dkv, dkr: dkr, dOut: dOut, out: out, lse: lse, q: q, kv: kv, kr: kr)
            let normed = FloatBuffer(count: rows * dim), rstd = FloatBuffer(count: rows)
            let dx = FloatBuffer(count: rows * dim), dw = FloatBuffer(count: dim)
            rmsNormForward(out: normed.ptr, rstd: rstd.ptr, x: x.ptr, weight: w.ptr, rows: rows, dim: dim, eps: 1e-5)
            rmsNormBackward(dx: dx.ptr, dWeight: dw.ptr, dOut: x.ptr, x: x.ptr, rstd: rstd.ptr, weight: w.ptr,
                            rows: rows, dim: dim)
            let dz = FloatBuffer(count: rows * dim)
            let zLoss = hiddenZLossForwardBackward(dz: dz.ptr, z: x.ptr, rows: rows, dim: dim, coef: 0.01)
            let dLogits = FloatBuffer(count: rows * vocab)
            let ce = targets.withUnsafeBufferPointer {
                crossEntropyForwardBackward(dLogits: dLogits.ptr, logits: logits.ptr, targets: $0.baseAddress!,
                                            rows: rows, vocab: vocab, gradScale: 0.01)
            }
            let squares = sumSquares(x.ptr, x.count)
            return ([out, lse, dq, dkv, dkr, normed, dx, dw, dz, dLogits], [zLoss, ce.lossSum, squares])
        }

        let reference = withThreads(1) { run() }
        for threads in [2, 3] {
            let other = withThreads(threads) { run() }
            for (i, (a, b)) in zip(reference.buffers, other.buffers).enumerated() {
                #expect(bitwiseEqual(a, b), "buffer \(i) differs on \(threads) threads")
            }
            for (i, (a, b)) in zip(reference.sums, other.sums).enumerated() {
                #expect(a.bitPattern == b.bitPattern, "sum \(i) differs on \(threads) threads")
            }
        }
    }
}
