/// Small vectorised helpers over flat float arrays (8 lanes), parallel above about 100k elements.
///
/// Reductions (`dot`, `sumSquares`) sum fixed-size chunks and add the chunk results in order,
/// so their bits never depend on the thread count.

/// Elements per chunk of the parallel element-wise loops and reductions.
let vectorChunk = 16_384

/// out = a + b.
public func add(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                _ count: Int) {
    let po = SendablePointer(out), pa = SendablePointer(UnsafeMutablePointer(mutating: a))
    let pb = SendablePointer(UnsafeMutablePointer(mutating: b))
    parallelChunks(count, chunkSize: vectorChunk) { _, range in
        let o = po.base + range.lowerBound, x = pa.base + range.lowerBound, y = pb.base + range.lowerBound
        let n = range.count
        var i = 0
        while i + 8 <= n {
            store8(load8(x + i) + load8(y + i), o + i)
            i += 8
        }
        while i < n {
            o[i] = x[i] + y[i]
            i += 1
        }
    }
}

/// y += scale * x (axpy).
public func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int,
                       scale: Float = 1) {
    let py = SendablePointer(y), px = SendablePointer(UnsafeMutablePointer(mutating: x))
    parallelChunks(count, chunkSize: vectorChunk) { _, range in
        addInPlaceSerial(py.base + range.lowerBound, px.base + range.lowerBound, range.count, scale: scale)
    }
}

/// x *= factor.
public func scale(_ x: UnsafeMutablePointer<Float>, _ count: Int, by factor: Float) {
    let px = SendablePointer(x)
    parallelChunks(count, chunkSize: vectorChunk) { _, range in
        scaleSerial(px.base + range.lowerBound, range.count, by: factor)
    }
}

/// dst = src (`count` floats; the ranges must not overlap).
public func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
    if count > 0 { dst.update(from: src, count: count) }
}

/// dst = src on the worker threads together from `largeBufferElements` on (as `FloatBuffer.zero`),
/// for the [R, D] copies between a layer's passes; the ranges must not overlap.
public func parallelCopy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
    let pd = SendablePointer(dst), ps = SendablePointer(UnsafeMutablePointer(mutating: src))
    parallelRanges(count, minWork: largeBufferElements) { range in
        (pd.base + range.lowerBound).update(from: ps.base + range.lowerBound, count: range.count)
    }
}

/// sum_i a_i * b_i, accumulated in Float within chunks and in Double across chunks.
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    let pa = SendablePointer(UnsafeMutablePointer(mutating: a))
    let pb = SendablePointer(UnsafeMutablePointer(mutating: b))
    return Float(parallelSum(count, chunkSize: vectorChunk) { range in
        Double(dotFloat(pa.base + range.lowerBound, pb.base + range.lowerBound, range.count))
    })
}

/// sum_i x_i^2 (for gradient norms), accumulated in Float within chunks and Double across them.
public func sumSquares(_ x: UnsafePointer<Float>, _ count: Int) -> Double {
    let px = SendablePointer(UnsafeMutablePointer(mutating: x))
    return parallelSum(count, chunkSize: vectorChunk) { range in
        Double(sumOfSquares(px.base + range.lowerBound, range.count))
    }
}

/// out[r] = a[r, :] . b[r, :] for each of `rows` rows of `cols` floats.
public func rowDot(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                   rows: Int, cols: Int) {
    let po = SendablePointer(out), pa = SendablePointer(UnsafeMutablePointer(mutating: a))
    let pb = SendablePointer(UnsafeMutablePointer(mutating: b))
    parallelRanges(rows, costPerItem: cols) { range in
        for r in range { po[r] = dotFloat(pa.base + r * cols, pb.base + r * cols, cols) }
    }
}

/// sum_i a_i * b_i in 8 Float lanes, then a fixed-order reduction.
@inlinable
func dotFloat(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= count {
        acc += load8(a + i) * load8(b + i)
        i += 8
    }
    var total = horizontalSum(acc)
    while i < count {
        total += a[i] * b[i]
        i += 1
    }
    return total
}

/// dotFloat for mutable pointers.
@inlinable
func dotFloat(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ count: Int) -> Float {
    dotFloat(UnsafePointer(a), UnsafePointer(b), count)
}

/// y += scale * x on the calling thread (for small rows inside parallel loops).
@inlinable
public func addInPlaceSerial(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int,
                             scale: Float = 1) {
    var i = 0
    while i + 8 <= count {
        store8(load8(y + i) + scale * load8(x + i), y + i)
        i += 8
    }
    while i < count {
        y[i] += scale * x[i]
        i += 1
    }
}

/// x *= factor on the calling thread.
@inlinable
public func scaleSerial(_ x: UnsafeMutablePointer<Float>, _ count: Int, by factor: Float) {
    var i = 0
    while i + 8 <= count {
        store8(load8(x + i) * factor, x + i)
        i += 8
    }
    while i < count {
        x[i] *= factor
        i += 1
    }
}
