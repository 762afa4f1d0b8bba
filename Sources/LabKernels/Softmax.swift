/// Row-wise softmax in Float32 (the router's probabilities over all N + Z experts).
///
/// Shapes: x, y [rows, cols]. Numerically stable: the row maximum is subtracted before exp.

/// Forward: y = softmax(x) per row (y may be x itself).
public func softmaxRowsForward(y: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, rows: Int, cols: Int) {
    let pY = SendablePointer(y), pX = SendablePointer(UnsafeMutablePointer(mutating: x))
    parallelRanges(rows, costPerItem: 8 * cols) { range in
        for r in range {
            let xr = UnsafePointer(pX.base + r * cols), yr = pY.base + r * cols
            let sum = expShifted(xr, yr, cols, sub: maxOf(xr, cols))
            scaleSerial(yr, cols, by: 1 / sum)
        }
    }
}

/// Backward: dx += y * (dy - (dy . y)) per row.
public func softmaxRowsBackward(dx: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, y: UnsafePointer<Float>,
                                rows: Int, cols: Int) {
    let pDx = SendablePointer(dx), pDy = SendablePointer(UnsafeMutablePointer(mutating: dy))
    let pY = SendablePointer(UnsafeMutablePointer(mutating: y))
    parallelRanges(rows, costPerItem: 4 * cols) { range in
        for r in range {
            let dyr = UnsafePointer(pDy.base + r * cols), yr = UnsafePointer(pY.base + r * cols)
            let dxr = pDx.base + r * cols
            let d = dotFloat(dyr, yr, cols)
            var i = 0
            while i + 8 <= cols {
                store8(load8(dxr + i) + load8(yr + i) * (load8(dyr + i) - d), dxr + i)
                i += 8
            }
            while i < cols {
                dxr[i] += yr[i] * (dyr[i] - d)
                i += 1
            }
        }
    }
}
