import LabKernels
import Testing
import TestSupport

@Suite("Embedding")
struct EmbeddingTests {
    /// Guards against wrong row lookup and against lost updates when a token repeats
    /// (its gradient rows must all be summed into the table).
    @Test("forward copies rows and backward sums repeated tokens")
    func lookupAndScatter() {
        let (vocab, dim) = (7, 70) // dim spans two column pieces of the backward pass
        let table = randomBuffer(vocab * dim, seed: 1)
        let tokens: [Int32] = [3, 0, 3, 6, 3]
        let out = FloatBuffer(count: tokens.count * dim)
        tokens.withUnsafeBufferPointer {
            embeddingForward(out: out.ptr, tokens: $0.baseAddress!, table: table.ptr, rows: tokens.count, dim: dim)
        }
        for (r, t) in tokens.enumerated() {
            #expect((0..<dim).allSatisfy { out[r * dim + $0] == table[Int(t) * dim + $0] })
        }
        let dOut = randomBuffer(tokens.count * dim, seed: 2)
        let dTable = FloatBuffer(count: vocab * dim)
        dTable[1 * dim] = 5 // backward adds
        tokens.withUnsafeBufferPointer {
            embeddingBackward(dTable: dTable.ptr, dOut: dOut.ptr, tokens: $0.baseAddress!, rows: tokens.count, dim: dim)
        }
        for v in 0..<vocab {
            for i in 0..<dim {
                var expected: Float = v == 1 && i == 0 ? 5 : 0
                for (r, t) in tokens.enumerated() where Int(t) == v { expected += dOut[r * dim + i] }
                #expect(abs(dTable[v * dim + i] - expected) < 1e-6, "token \(v) column \(i)")
            }
        }
    }

    /// Guards against a backward pass that is not the exact adjoint of the lookup.
    @Test("backward matches finite differences")
    func gradCheckEmbedding() {
        let (vocab, dim) = (5, 9)
        let table = randomBuffer(vocab * dim, seed: 3)
        let tokens: [Int32] = [4, 1, 4, 2]
        let r = randomBuffer(tokens.count * dim, seed: 4)
        let out = FloatBuffer(count: tokens.count * dim)
        let loss = {
            tokens.withUnsafeBufferPointer {
                embeddingForward(out: out.ptr, tokens: $0.baseAddress!, table: table.ptr, rows: tokens.count, dim: dim)
            }
            return projectionLoss(out, r)
        }
        let dTable = gradientIncrements([vocab * dim]) { g in
            tokens.withUnsafeBufferPointer {
                embeddingBackward(dTable: g[0].ptr, dOut: r.ptr, tokens: $0.baseAddress!, rows: tokens.count, dim: dim)
            }
        }[0]
        let report = gradCheck(table, analytic: dTable, samples: 45, eps: 1e-2, floor: 1e-2, loss: loss)
        #expect(report.maxRelativeError < 1e-3, "\(report)")
    }
}
