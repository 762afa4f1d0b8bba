import LabKernels
import Testing

@Suite("Buffers and random numbers")
struct BufferTests {
    /// Guards against uninitialised or misaligned storage (SIMD loads assume neither).
    @Test("FloatBuffer starts zeroed, 64-byte aligned, and zero() clears it")
    func bufferBasics() {
        let buffer = FloatBuffer(count: 37)
        #expect(Int(bitPattern: buffer.ptr) % 64 == 0)
        #expect(buffer.array.allSatisfy { $0 == 0 })
        buffer[5] = 3
        #expect(buffer[5] == 3)
        buffer.zero()
        #expect(buffer[5] == 0)
        #expect(FloatBuffer(count: 0).count == 0)
        #expect(FloatBuffer([1, 2, 3]).array == [1, 2, 3])
    }

    /// Guards against a range left uncleared when a large buffer is cleared by several threads
    /// (sizes around the 2^18-element threshold and an odd split).
    @Test(arguments: [(1 << 18) - 1, 1 << 18, (1 << 18) + 7, 3_000_001])
    func largeZeroClearsEveryElement(count: Int) {
        let buffer = FloatBuffer(count: count + 1)
        buffer.ptr.update(repeating: 1, count: count + 1)
        buffer.zero()
        #expect((0...count).allSatisfy { buffer[$0] == 0 })
    }

    /// Guards against a range left uncopied, or written past, when a large copy is split over
    /// the threads (sizes around the 2^18-element threshold and an odd split).
    @Test(arguments: [5, (1 << 18) - 1, 1 << 18, (1 << 18) + 7, 3_000_001])
    func parallelCopyCopiesEveryElementAndNoMore(count: Int) {
        let src = FloatBuffer(count: count), dst = FloatBuffer(count: count + 1)
        for i in 0..<count { src[i] = Float(i % 1_000) + 0.5 }
        dst[count] = -7
        parallelCopy(dst.ptr, src.ptr, count)
        #expect((0..<count).allSatisfy { dst[$0] == src[$0] })
        #expect(dst[count] == -7)
    }

    /// Guards against platform-dependent randomness: the same seed must give the same stream,
    /// and different seeds different streams.
    @Test("LabRandom is deterministic per seed")
    func determinism() {
        var a = LabRandom(seed: 42), b = LabRandom(seed: 42), c = LabRandom(seed: 43)
        let streamA = (0..<16).map { _ in a.nextUInt64() }
        let streamB = (0..<16).map { _ in b.nextUInt64() }
        let streamC = (0..<16).map { _ in c.nextUInt64() }
        #expect(streamA == streamB)
        #expect(streamA != streamC)
    }

    /// Guards against values outside the documented ranges and biased moments.
    @Test("uniform, integer and normal samples have the right range and moments")
    func distributions() {
        var rng = LabRandom(seed: 7)
        let n = 20_000
        var uniformSum = 0.0
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<n {
            let u = rng.nextFloat()
            #expect(u >= 0 && u < 1)
            uniformSum += Double(u)
            counts[rng.nextInt(below: 5)] += 1
        }
        #expect(abs(uniformSum / Double(n) - 0.5) < 0.01)
        #expect(counts.allSatisfy { abs(Double($0) / Double(n) - 0.2) < 0.015 }, "\(counts)")
        var samples = [Float](repeating: 0, count: n)
        samples.withUnsafeMutableBufferPointer { rng.fillNormal($0.baseAddress!, n, std: 2) }
        let mean = samples.reduce(0.0) { $0 + Double($1) } / Double(n)
        let variance = samples.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n)
        #expect(abs(mean) < 0.05)
        #expect(abs(variance - 4) < 0.15, "variance \(variance)")
        #expect(samples.allSatisfy { $0.isFinite })
    }
}
