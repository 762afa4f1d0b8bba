import LabKernels

/// Random inputs and buffer comparisons for tests.

/// A buffer of `count` normal samples with standard deviation `std`, reproducible from `seed`.
public func randomBuffer(_ count: Int, seed: UInt64, std: Float = 1) -> FloatBuffer {
    let buffer = FloatBuffer(count: count)
    var rng = LabRandom(seed: seed)
    rng.fillNormal(buffer.ptr, count, std: std)
    return buffer
}

/// A copy of `buffer` (same contents, separate storage).
public func clone(_ buffer: FloatBuffer) -> FloatBuffer {
    let copy = FloatBuffer(count: buffer.count)
    copy.ptr.update(from: buffer.ptr, count: buffer.count)
    return copy
}

/// Largest |a_i - b_i| (inf when either holds a NaN).
public func maxAbsDifference(_ a: FloatBuffer, _ b: FloatBuffer) -> Float {
    precondition(a.count == b.count, "buffers differ in size: \(a.count) vs \(b.count)")
    var worst: Float = 0
    for i in 0..<a.count {
        let d = abs(a[i] - b[i])
        if d.isNaN { return .infinity }
        worst = max(worst, d)
    }
    return worst
}

/// Largest |a_i| (inf when a NaN is present).
public func maxAbs(_ a: FloatBuffer) -> Float {
    var worst: Float = 0
    for i in 0..<a.count {
        if a[i].isNaN { return .infinity }
        worst = max(worst, abs(a[i]))
    }
    return worst
}

/// True when both buffers hold exactly the same bits.
public func bitwiseEqual(_ a: FloatBuffer, _ b: FloatBuffer) -> Bool {
    a.count == b.count && (0..<a.count).allSatisfy { a[$0].bitPattern == b[$0].bitPattern }
}
