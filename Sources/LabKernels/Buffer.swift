/// Flat float storage and the lab's deterministic random numbers.

/// A fixed-size, zero-initialised, 64-byte aligned block of `Float`s.
///
/// Every activation, parameter and gradient in the lab lives in one of these; kernels take its
/// `ptr`. The buffer never grows, so `ptr` stays valid for the buffer's lifetime. Keep the buffer
/// itself referenced while its pointer is in use: `FloatBuffer(count: n).ptr` passed straight to
/// a kernel may be freed before the kernel runs (hold it in a stored property or use
/// `withExtendedLifetime`).
/// Elements (1 MiB of Float) from which clearing or copying a buffer is split across the worker
/// threads: below it, a parallel loop's hand-off costs more than the second thread saves.
public let largeBufferElements = 1 << 18

public final class FloatBuffer: @unchecked Sendable {
    /// First element; valid while the buffer is alive.
    public let ptr: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int

    /// Allocates `count` zeros (`count` may be 0).
    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer count must be >= 0, got \(count)")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: 64)
        ptr = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        ptr.initialize(repeating: 0, count: max(count, 1))
    }

    /// Copies `values` into a new buffer.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { ptr.update(from: base, count: values.count) }
        }
    }

    deinit { ptr.deallocate() }

    /// Sets every element to 0; a buffer of `largeBufferElements` (1 MiB) or more is cleared by the worker threads
    /// together (the gradient buffer and the backward's [R, D] scratch were cleared by one thread
    /// while the other waited).
    public func zero() {
        let p = SendablePointer(ptr)
        parallelRanges(count, minWork: largeBufferElements) { range in
            (p.base + range.lowerBound).update(repeating: 0, count: range.count)
        }
    }

    /// Read-only view of the elements.
    public var constPtr: UnsafePointer<Float> { UnsafePointer(ptr) }

    /// The elements as an array (a copy; for tests and small reads).
    public var array: [Float] { Array(UnsafeBufferPointer(start: ptr, count: count)) }

    public subscript(i: Int) -> Float {
        get { ptr[i] }
        set { ptr[i] = newValue }
    }
}

/// Seeded, deterministic random numbers: xoshiro256** seeded through SplitMix64.
///
/// The same seed gives the same sequence on every machine (no platform generator involved),
/// which makes initialisation, data order and routing tie-breaks reproducible.
public struct LabRandom: Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    /// Second value of the last Box-Muller pair, handed out by the next `nextNormal()`.
    private var spareNormal: Float?

    public init(seed: UInt64) {
        var sm = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&sm); s1 = splitMix(&sm); s2 = splitMix(&sm); s3 = splitMix(&sm)
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }

    /// 64 random bits.
    public mutating func nextUInt64() -> UInt64 {
        let result = LabRandom.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = LabRandom.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1), 24 random bits.
    public mutating func nextFloat() -> Float {
        Float(nextUInt64() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [0, 1), 53 random bits.
    public mutating func nextDouble() -> Double {
        Double(nextUInt64() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Standard normal (Box-Muller, computed in Double; pairs are used in turn).
    public mutating func nextNormal() -> Float {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        let u1 = 1.0 - nextDouble() // (0, 1]: log stays finite
        let u2 = nextDouble()
        let radius = (-2.0 * _log(u1)).squareRoot()
        let angle = 2.0 * Double.pi * u2
        spareNormal = Float(radius * _sin(angle))
        return Float(radius * _cos(angle))
    }

    /// Fills `count` floats with normal samples of standard deviation `std`.
    public mutating func fillNormal(_ ptr: UnsafeMutablePointer<Float>, _ count: Int, std: Float) {
        for i in 0..<count { ptr[i] = nextNormal() * std }
    }

    /// Uniform integer in 0..<bound (bound > 0), without modulo bias (Lemire's method).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound, got \(bound)")
        let b = UInt64(bound)
        var m = nextUInt64().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = nextUInt64().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }
}
