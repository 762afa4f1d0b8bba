/// Token embedding lookup: out[r] = table[tokens[r]].
///
/// Shapes: table [V, D]; tokens [rows] (Int32); out [rows, D].

/// Columns per piece of the backward pass (each piece visits every row, so pieces never
/// write the same element and the accumulation order is the row order: deterministic).
let embeddingColumnPiece = 64

/// Forward: copies each token's row of the table.
public func embeddingForward(out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
                             table: UnsafePointer<Float>, rows: Int, dim: Int) {
    let pOut = SendablePointer(out), pTable = SendablePointer(UnsafeMutablePointer(mutating: table))
    let pTok = SendablePointer(UnsafeMutablePointer(mutating: tokens))
    parallelRanges(rows, costPerItem: dim) { range in
        for r in range {
            assert(pTok[r] >= 0, "embedding: negative token id \(pTok[r]) in row \(r)")
            copy(pOut.base + r * dim, pTable.base + Int(pTok[r]) * dim, dim)
        }
    }
}

/// Backward: dTable[tokens[r]] += dOut[r], rows added in order. Parallel over column pieces.
public func embeddingBackward(dTable: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                              tokens: UnsafePointer<Int32>, rows: Int, dim: Int) {
    let pD = SendablePointer(dTable), pDy = SendablePointer(UnsafeMutablePointer(mutating: dOut))
    let pTok = SendablePointer(UnsafeMutablePointer(mutating: tokens))
    parallelChunks(dim, chunkSize: embeddingColumnPiece, costPerItem: rows) { _, cols in
        for r in 0..<rows {
            addInPlaceSerial(pD.base + Int(pTok[r]) * dim + cols.lowerBound,
                             pDy.base + r * dim + cols.lowerBound, cols.count)
        }
    }
}
