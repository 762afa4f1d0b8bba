/// A router without a model: logits are a random projection of each token's latent features,
/// and the projection drifts from step to step the way a router's weights move while it learns.
///
/// ```
/// l[c, e] = x_c . W_e + o_e(t)          W [E, f] ~ N(0, sigma^2), stored transposed [f, E]
/// W      += drift * sigma * N(0, 1)     every step, every entry (a random walk)
/// o_e(t)  = zero experts: zeroStart + (zeroEnd - zeroStart) * t / steps; FFN experts: 0
/// p[c, :] = softmax(l[c, :])            over all N+Z experts jointly, fp32
/// ```
/// The zero-expert offset stands for the router's changing taste for zero experts (positive:
/// it prefers them, so fewer FFN experts than K_e without a controller).
///
/// Dimension letters: C distinct tokens, f latent features, N FFN experts, Z zero experts,
/// E = N + Z.
struct DriftingRouter {
    let routedExperts: Int
    let zeroExperts: Int
    let features: Int
    let sigma: Float
    let drift: Float
    /// `[f, E]` the projection, transposed so that a token's logits are f row updates.
    private(set) var weightT: [Float]
    /// `[E]` the offsets of the current step.
    private(set) var offset: [Float]

    init(routedExperts N: Int, zeroExperts Z: Int, features f: Int, sigma: Double, drift: Double,
         random: inout SimulationRandom) {
        routedExperts = N; zeroExperts = Z; features = f
        self.sigma = Float(sigma)
        self.drift = Float(drift)
        weightT = (0..<(f * (N + Z))).map { _ in Float(sigma * random.normal()) }
        offset = Array(repeating: 0, count: N + Z)
    }

    var experts: Int { routedExperts + zeroExperts }

    /// Moves the projection one step of the random walk and sets the zero experts' offset.
    mutating func advance(zeroOffset: Double, random: inout SimulationRandom) {
        if drift > 0 {
            let step = drift * sigma
            for i in weightT.indices { weightT[i] += step * Float(random.normal()) }
        }
        for e in routedExperts..<experts { offset[e] = Float(zeroOffset) }
    }

    /// Router probabilities of the listed distinct tokens: row r of `probs` `[n, E]` and
    /// `entropy[r]` belong to token `ids[r]`.
    func probabilities(_ tokens: TokenPopulation, ids: UnsafeBufferPointer<Int32>,
                       probs: UnsafeMutablePointer<Float>, entropy: UnsafeMutablePointer<Float>) {
        let E = experts, f = features
        precondition(tokens.features == f)
        tokens.latent.withUnsafeBufferPointer { x in
            weightT.withUnsafeBufferPointer { w in
                offset.withUnsafeBufferPointer { o in
                    for (r, id) in ids.enumerated() {
                        let row = probs + r * E
                        logits(x.baseAddress! + Int(id) * f, w.baseAddress!, o.baseAddress!, into: row)
                        entropy[r] = softmaxInPlace(row, count: E)
                    }
                }
            }
        }
    }

    /// l[e] = o[e] + sum_j x[j] * wT[j, e]: 64 experts at a time in eight fused multiply-add
    /// chains (one store each), then 8 at a time, then one by one.
    @inline(__always)
    private func logits(_ x: UnsafePointer<Float>, _ wT: UnsafePointer<Float>, _ o: UnsafePointer<Float>,
                        into l: UnsafeMutablePointer<Float>) {
        let E = experts, f = features
        let wr = UnsafeRawPointer(wT), orr = UnsafeRawPointer(o), lr = UnsafeMutableRawPointer(l)
        let rowBytes = E &* 4
        @inline(__always) func load(_ r: UnsafeRawPointer, _ byte: Int) -> SIMD8<Float> {
            r.loadUnaligned(fromByteOffset: byte, as: SIMD8<Float>.self)
        }
        var e = 0
        while e &+ 64 <= E {
            let b = e &* 4
            var a0 = load(orr, b), a1 = load(orr, b &+ 32), a2 = load(orr, b &+ 64), a3 = load(orr, b &+ 96)
            var a4 = load(orr, b &+ 128), a5 = load(orr, b &+ 160), a6 = load(orr, b &+ 192), a7 = load(orr, b &+ 224)
            var w = b
            for j in 0..<f {
                let xj = SIMD8<Float>(repeating: x[j])
                a0 = a0.addingProduct(xj, load(wr, w))
                a1 = a1.addingProduct(xj, load(wr, w &+ 32))
                a2 = a2.addingProduct(xj, load(wr, w &+ 64))
                a3 = a3.addingProduct(xj, load(wr, w &+ 96))
                a4 = a4.addingProduct(xj, load(wr, w &+ 128))
                a5 = a5.addingProduct(xj, load(wr, w &+ 160))
                a6 = a6.addingProduct(xj, load(wr, w &+ 192))
                a7 = a7.addingProduct(xj, load(wr, w &+ 224))
                w = w &+ rowBytes
            }
            lr.storeBytes(of: a0, toByteOffset: b, as: SIMD8<Float>.self)
            lr.storeBytes(of: a1, toByteOffset: b &+ 32, as: SIMD8<Float>.self)
            lr.storeBytes(of: a2, toByteOffset: b &+ 64, as: SIMD8<Float>.self)
            lr.storeBytes(of: a3, toByteOffset: b &+ 96, as: SIMD8<Float>.self)
            lr.storeBytes(of: a4, toByteOffset: b &+ 128, as: SIMD8<Float>.self)
            lr.storeBytes(of: a5, toByteOffset: b &+ 160, as: SIMD8<Float>.self)
            lr.storeBytes(of: a6, toByteOffset: b &+ 192, as: SIMD8<Float>.self)
            lr.storeBytes(of: a7, toByteOffset: b &+ 224, as: SIMD8<Float>.self)
            e = e &+ 64
        }
        while e &+ 8 <= E {
            let b = e &* 4
            var acc = load(orr, b), w = b
            for j in 0..<f {
                acc = acc.addingProduct(SIMD8<Float>(repeating: x[j]), load(wr, w))
                w = w &+ rowBytes
            }
            lr.storeBytes(of: acc, toByteOffset: b, as: SIMD8<Float>.self)
            e = e &+ 8
        }
        while e < E {
            var acc = o[e]
            for j in 0..<f { acc += x[j] * wT[j &* E &+ e] }
            l[e] = acc
            e &+= 1
        }
    }
}
