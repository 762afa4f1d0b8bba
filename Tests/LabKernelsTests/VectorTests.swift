import LabKernels
import Testing
import TestSupport

@Suite("Vector helpers")
struct VectorTests {
    // 250_003 elements: above the parallel threshold, several chunks, and a ragged tail.
    static let sizes = [13, 250_003]

    /// Guards against wrong chunk offsets or tails in the element-wise helpers.
    @Test("add, addInPlace, scale and copy are element-wise", arguments: VectorTests.sizes)
    func elementWise(count: Int) {
        let a = randomBuffer(count, seed: 1), b = randomBuffer(count, seed: 2)
        let out = FloatBuffer(count: count)
        add(out.ptr, a.ptr, b.ptr, count)
        #expect((0..<count).allSatisfy { out[$0] == a[$0] + b[$0] })
        let y = clone(a)
        addInPlace(y.ptr, b.ptr, count, scale: -0.5)
        #expect((0..<count).allSatisfy { abs(y[$0] - (a[$0] - 0.5 * b[$0])) < 1e-6 })
        scale(y.ptr, count, by: 2)
        #expect((0..<count).allSatisfy { abs(y[$0] - 2 * (a[$0] - 0.5 * b[$0])) < 1e-5 })
        copy(y.ptr, b.ptr, count)
        #expect(bitwiseEqual(y, b))
    }

    /// Guards against lost chunks in the reductions and scheduling-dependent sums.
    @Test("dot and sumSquares match Double sums and are deterministic", arguments: VectorTests.sizes)
    func reductions(count: Int) {
        let a = randomBuffer(count, seed: 3), b = randomBuffer(count, seed: 4)
        var exactDot = 0.0, exactSquares = 0.0
        for i in 0..<count {
            exactDot += Double(a[i]) * Double(b[i])
            exactSquares += Double(a[i]) * Double(a[i])
        }
        let d = dot(a.ptr, b.ptr, count), s = sumSquares(a.ptr, count)
        #expect(abs(Double(d) - exactDot) < 1e-5 * Double(count))
        #expect(abs(s - exactSquares) < 1e-6 * exactSquares)
        #expect(dot(a.ptr, b.ptr, count).bitPattern == d.bitPattern)
        #expect(sumSquares(a.ptr, count).bitPattern == s.bitPattern)
    }

    /// Guards against row offsets mixing rows in rowDot.
    @Test("rowDot gives each row's dot product")
    func rowDots() {
        let (rows, cols) = (5, 19)
        let a = randomBuffer(rows * cols, seed: 5), b = randomBuffer(rows * cols, seed: 6)
        let out = FloatBuffer(count: rows)
        rowDot(out.ptr, a.ptr, b.ptr, rows: rows, cols: cols)
        for r in 0..<rows {
            var exact = 0.0
            for i in 0..<cols { exact += Double(a[r * cols + i]) * Double(b[r * cols + i]) }
            #expect(abs(Double(out[r]) - exact) < 1e-5)
        }
    }

    /// Guards against chunk partials combined in a scheduling-dependent order.
    @Test("parallelSum adds chunk results in chunk order")
    func parallelSumOrder() {
        let total = parallelSum(1000, chunkSize: 7, minWork: 1) { range in Double(range.reduce(0, +)) }
        #expect(total == Double(999 * 1000 / 2))
    }
}
