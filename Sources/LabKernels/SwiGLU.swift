/// SwiGLU activation: h = silu(gate) * up, with gate and up packed side by side in one row.
///
/// Shapes: gu [rows, 2F] (gate in columns 0..<F, up in F..<2F, as one GEMM with the stacked
/// [gate; up] weight produces them); h [rows, F].

/// Forward: h = silu(gate) * up.
public func swigluForward(h: UnsafeMutablePointer<Float>, gu: UnsafePointer<Float>, rows: Int, hidden: Int) {
    let F = hidden
    let pH = SendablePointer(h), pGu = SendablePointer(UnsafeMutablePointer(mutating: gu))
    parallelRanges(rows, costPerItem: 8 * F) { range in
        for r in range {
            let g = UnsafePointer(pGu.base + r * 2 * F), u = g + F, out = pH.base + r * F
            var i = 0
            while i + 8 <= F {
                store8(silu(load8(g + i)) * load8(u + i), out + i)
                i += 8
            }
            while i < F {
                out[i] = silu(g[i]) * u[i]
                i += 1
            }
        }
    }
}

/// Backward: dgate += dh * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))), dup += dh * silu(g).
public func swigluBackward(dgu: UnsafeMutablePointer<Float>, dh: UnsafePointer<Float>, gu: UnsafePointer<Float>,
                           rows: Int, hidden: Int) {
    let F = hidden
    let pDgu = SendablePointer(dgu), pDh = SendablePointer(UnsafeMutablePointer(mutating: dh))
    let pGu = SendablePointer(UnsafeMutablePointer(mutating: gu))
    parallelRanges(rows, costPerItem: 12 * F) { range in
        for r in range {
            let g = UnsafePointer(pGu.base + r * 2 * F), u = g + F
            let dg = pDgu.base + r * 2 * F, du = dg + F
            let d = UnsafePointer(pDh.base + r * F)
            var i = 0
            while i + 8 <= F {
                let gv = load8(g + i), dv = load8(d + i)
                let s = sigmoid(gv)
                store8(load8(dg + i) + dv * load8(u + i) * s * (1 + gv * (1 - s)), dg + i)
                store8(load8(du + i) + dv * gv * s, du + i)
                i += 8
            }
            while i < F {
                let s = sigmoid(g[i])
                dg[i] += d[i] * u[i] * s * (1 + g[i] * (1 - s))
                du[i] += d[i] * g[i] * s
                i += 1
            }
        }
    }
}

/// Backward that overwrites the saved pre-activations with their gradient (gu -> dgu), for
/// callers that no longer need gu: saves a [rows, 2F] buffer. Same arithmetic as
/// `swigluBackward` into a zeroed dgu.
public func swigluBackwardInPlace(gu: UnsafeMutablePointer<Float>, dh: UnsafePointer<Float>, rows: Int, hidden: Int) {
    let F = hidden
    let pGu = SendablePointer(gu), pDh = SendablePointer(UnsafeMutablePointer(mutating: dh))
    parallelRanges(rows, costPerItem: 12 * F) { range in
        for r in range {
            let g = pGu.base + r * 2 * F, u = g + F
            let d = UnsafePointer(pDh.base + r * F)
            var i = 0
            while i + 8 <= F {
                let gv = load8(g + i), uv = load8(u + i), dv = load8(d + i)
                let s = sigmoid(gv)
                store8(0 + dv * uv * s * (1 + gv * (1 - s)), g + i)
                store8(0 + dv * gv * s, u + i)
                i += 8
            }
            while i < F {
                let gv = g[i], s = sigmoid(gv)
                g[i] = 0 + d[i] * u[i] * s * (1 + gv * (1 - s))
                u[i] = 0 + d[i] * gv * s
                i += 1
            }
        }
    }
}
