import LabKernels

/// One measured statistic of the model's activations or gradients: a row of `variance_stats`
/// without its run and step. `layer` is -1 for model-wide modules (embedding, final hidden
/// state, whole-model gradient groups).
public struct VarianceStatistic: Sendable, Equatable {
    public var layer: Int
    public var module: String
    public var statistic: String
    public var value: Double

    public init(layer: Int, module: String, statistic: String, value: Double) {
        self.layer = layer; self.module = module; self.statistic = statistic; self.value = value
    }
}

/// Count, sum, sum of squares and largest magnitude of a set of floats, in Double.
/// `variance` is the population variance around the set's own mean.
public struct Moments: Sendable, Equatable {
    public var count = 0
    public var sum = 0.0
    public var sumSquares = 0.0
    public var maxAbs = 0.0

    public init() {}

    public var mean: Double { count == 0 ? 0 : sum / Double(count) }
    public var meanSquare: Double { count == 0 ? 0 : sumSquares / Double(count) }
    public var variance: Double { max(0, meanSquare - mean * mean) }
    public var rms: Double { meanSquare.squareRoot() }

    @inlinable public mutating func add(_ x: Float) {
        let v = Double(x)
        count += 1; sum += v; sumSquares += v * v
        maxAbs = Swift.max(maxAbs, abs(v))
    }

    public mutating func merge(_ o: Moments) {
        count += o.count; sum += o.sum; sumSquares += o.sumSquares
        maxAbs = Swift.max(maxAbs, o.maxAbs)
    }
}

/// Moments of the blocks `p[r*rowStride + g*groupStride + offset ..< ... + width]` for every row
/// r < rows and group g < groups (a head's slice of a row, say). Rows are split into fixed
/// chunks whose partial moments are merged in order, so the result never depends on threads.
func stridedMoments(_ p: UnsafePointer<Float>, rows: Int, rowStride: Int, groups: Int = 1, groupStride: Int = 0,
                    offset: Int = 0, width: Int) -> Moments {
    let chunk = 64
    let chunks = chunkCount(rows, chunkSize: chunk)
    var partial = [Moments](repeating: Moments(), count: chunks)
    let src = ReadPointer(p)
    partial.withUnsafeMutableBufferPointer { out in
        let o = SendablePointer(out.baseAddress!)
        parallelChunks(rows, chunkSize: chunk, costPerItem: groups * width) { c, range in
            var m = Moments()
            for r in range {
                for g in 0..<groups {
                    let base = src.base + r * rowStride + g * groupStride + offset
                    for i in 0..<width { m.add(base[i]) }
                }
            }
            o[c] = m
        }
    }
    return partial.reduce(into: Moments()) { $0.merge($1) }
}

/// Moments of a contiguous `[rows, width]` buffer.
func rowMoments(_ p: UnsafePointer<Float>, rows: Int, width: Int) -> Moments {
    stridedMoments(p, rows: rows, rowStride: width, width: width)
}

/// Moments of a whole `[rows, width]` buffer; taking the buffer (not its pointer) keeps a
/// temporary alive while it is read.
func rowMoments(_ b: FloatBuffer, rows: Int, width: Int) -> Moments {
    withExtendedLifetime(b) { rowMoments(b.ptr, rows: rows, width: width) }
}
