/// Rotary position embedding with interleaved pairs (x0,x1), (x2,x3), ... as in LongCat's
/// reference: pair i at position p is rotated by the angle p * theta^(-2i/dim).
///
/// The rotation is applied in place to `dim` floats per (row, head) inside a larger row, so the
/// rope half of each query head (q [B*T, H*(dn+dr)], offset dn) and the shared rope key
/// (kr [B*T, dr], one head) are rotated where they lie, without copies.

/// cos and sin of every (position, pair) angle, computed in Double once.
public struct RopeTable: Sendable {
    /// Rotated floats per head (even).
    public let dim: Int
    /// Positions covered (0..<maxPositions).
    public let maxPositions: Int
    /// Base of the frequencies.
    public let theta: Double
    /// [maxPositions, dim/2]
    let cosines: [Float]
    /// [maxPositions, dim/2]
    let sines: [Float]

    public init(dim: Int, maxPositions: Int, theta: Double) {
        precondition(dim > 0 && dim % 2 == 0, "RoPE dim must be positive and even, got \(dim)")
        precondition(maxPositions > 0, "RoPE needs at least one position, got \(maxPositions)")
        self.dim = dim
        self.maxPositions = maxPositions
        self.theta = theta
        let pairs = dim / 2
        var c = [Float](repeating: 0, count: maxPositions * pairs)
        var s = c
        for i in 0..<pairs {
            let frequency = _pow(theta, -2.0 * Double(i) / Double(dim))
            for p in 0..<maxPositions {
                let angle = Double(p) * frequency
                c[p * pairs + i] = Float(_cos(angle))
                s[p * pairs + i] = Float(_sin(angle))
            }
        }
        cosines = c
        sines = s
    }
}

/// Rotates, for each row r (position r % seqLen) and head h, the `table.dim` floats at
/// x + r * rowStride + h * headStride + offset by their position's angles.
public func ropeForward(x: UnsafeMutablePointer<Float>, rows: Int, seqLen: Int, heads: Int,
                        rowStride: Int, headStride: Int, offset: Int, table: RopeTable) {
    ropeRotate(x: x, rows: rows, seqLen: seqLen, heads: heads, rowStride: rowStride,
               headStride: headStride, offset: offset, table: table, direction: 1)
}

/// Backward of `ropeForward`: the rotation is orthogonal, so the gradient is rotated by the
/// opposite angles (the transpose), in place.
public func ropeBackward(dx: UnsafeMutablePointer<Float>, rows: Int, seqLen: Int, heads: Int,
                         rowStride: Int, headStride: Int, offset: Int, table: RopeTable) {
    ropeRotate(x: dx, rows: rows, seqLen: seqLen, heads: heads, rowStride: rowStride,
               headStride: headStride, offset: offset, table: table, direction: -1)
}

/// Rotation by `direction` (+1 or -1) times each angle.
private func ropeRotate(x: UnsafeMutablePointer<Float>, rows: Int, seqLen: Int, heads: Int,
                        rowStride: Int, headStride: Int, offset: Int, table: RopeTable, direction: Float) {
    precondition(seqLen <= table.maxPositions,
                 "RoPE table covers \(table.maxPositions) positions, sequence has \(seqLen)")
    let pairs = table.dim / 2
    let px = SendablePointer(x)
    table.cosines.withUnsafeBufferPointer { cosBuf in
        table.sines.withUnsafeBufferPointer { sinBuf in
            let pc = SendablePointer(UnsafeMutablePointer(mutating: cosBuf.baseAddress!))
            let ps = SendablePointer(UnsafeMutablePointer(mutating: sinBuf.baseAddress!))
            parallelRanges(rows, costPerItem: heads * table.dim * 3) { range in
                for r in range {
                    let cr = pc.base + (r % seqLen) * pairs, sr = ps.base + (r % seqLen) * pairs
                    for h in 0..<heads {
                        let v = px.base + r * rowStride + h * headStride + offset
                        for i in 0..<pairs {
                            let c = cr[i], s = direction * sr[i]
                            let x0 = v[2 * i], x1 = v[2 * i + 1]
                            v[2 * i] = x0 * c - x1 * s
                            v[2 * i + 1] = x0 * s + x1 * c
                        }
                    }
                }
            }
        }
    }
}
