@testable import LabKernels
import Testing

/// The BLAS accounting behind `bench`'s sgemm line. This is the only test that turns
/// accounting on; other tests may make BLAS calls meanwhile, and those are counted too while it
/// is on, so the counts on are checked as lower bounds (and exactly when no other call slipped
/// in), the counts off exactly.
@Suite(.serialized) struct BLASAccountingTests {
    private func product(_ times: Int) {
        let (m, n, k) = (5, 7, 11)
        let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), c = FloatBuffer(count: m * n)
        for i in 0..<a.count { a[i] = Float(i % 5) }
        for i in 0..<b.count { b[i] = Float(i % 3) }
        for _ in 0..<times {
            gemmSerial(transA: false, transB: false, m: m, n: n, k: k, a: a.ptr, lda: k, b: b.ptr, ldb: n,
                       beta: 0, c: c.ptr, ldc: n)
        }
    }

    @Test func countsCallsAndOperationsOnlyWhileOn() {
        blasAccounting = false
        let off0 = BLASCounters.now
        product(4)
        #expect(BLASCounters.now.since(off0) == BLASCounters(), "calls were counted with accounting off")

        blasAccounting = true
        let on0 = BLASCounters.now
        product(4)
        let on = BLASCounters.now.since(on0)
        blasAccounting = false
        let each = 2.0 * 5 * 7 * 11
        #expect(on.calls >= 4 && on.flops >= 4 * each && on.seconds > 0, "\(on)")
        if on.calls == 4 { #expect(on.flops == 4 * each) }
        #expect(on.gflopsPerThread > 0)
    }

    @Test func emptyProductsAreNotBLASCalls() {
        blasAccounting = true
        let start = BLASCounters.now
        let c = FloatBuffer(count: 4)
        // k = 0 is handled without BLAS (C = beta * C); m = 0 returns at once.
        gemmSerial(transA: false, transB: false, m: 2, n: 2, k: 0, a: c.ptr, lda: 1, b: c.ptr, ldb: 2,
                   beta: 0, c: c.ptr, ldc: 2)
        gemmSerial(transA: false, transB: false, m: 0, n: 2, k: 2, a: c.ptr, lda: 2, b: c.ptr, ldb: 2,
                   beta: 0, c: c.ptr, ldc: 2)
        let d = BLASCounters.now.since(start)
        blasAccounting = false
        // Other tests' calls may land in the window; none of these two may add operations.
        #expect(d.calls == 0 || d.flops >= 1, "\(d)")
    }

    @Test func sinceSubtractsEveryField() {
        let a = BLASCounters(calls: 10, seconds: 3, flops: 800), b = BLASCounters(calls: 4, seconds: 1, flops: 200)
        #expect(a.since(b) == BLASCounters(calls: 6, seconds: 2, flops: 600))
        #expect(BLASCounters(calls: 1, seconds: 2, flops: 4e9).gflopsPerThread == 2)
        #expect(BLASCounters().gflopsPerThread == 0)
    }
}
