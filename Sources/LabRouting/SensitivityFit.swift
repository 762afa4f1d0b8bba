/// The sensitivity of an expert's load share to its own routing bias, S = +d(share_i)/d(b_i)
/// (raising an expert's bias raises its load), fitted from a bias controller's own trajectory,
/// and the controller's effective integral gain on the same records.
///
/// Closed-loop identification: the controller's bias change at step t answers that step's load,
/// b_i(t) - b_i(t-1) = k * (target - s_i(t)), so it carries step t's sampling noise, and the
/// slope of the load *change* on the bias change (the plain difference regression) is biased
/// upward by k * var(noise) / var(bias change), several times S when the loop gain is small.
/// This fit uses the *level* instead: s_i(t+1) = a_i + c_i * t + S * b_i(t) + noise(t+1), where
/// b_i(t), set by step t's update, does not depend on step t+1's noise. Per step the shares and
/// biases are first centred over the FFN experts (the balance mode, the differences the
/// controller balances; the common part is the budget mode), then per expert the mean and a
/// linear trend over the window are removed (the router's slow drift, which the bias tracks),
/// and S is the pooled least-squares slope. Within-window centring leaves the dynamic-panel
/// bias of order (2 - g) / (g * W) for loop gain g and W steps; `ControllerSimulationTests`
/// and `LoopGainTests` bound the total error against perturbing the simulator's router.
public struct SensitivityFit: Sendable, Equatable {
    /// S, load share per unit bias.
    public var sensitivity: Double
    /// Standard error of S from the residuals (nil when too few degrees of freedom).
    public var standardError: Double?
    /// (expert, step) pairs behind the fit.
    public var samples: Int

    /// Fits S over `bias[t][i]` (the bias after step t's update, which routes step t+1) and
    /// `share[t][i]` (load share T_i / (K * T) of step t) of consecutive steps, the FFN experts
    /// only, every row the same length. Nil with fewer than 4 steps or 2 experts, or when the
    /// centred, detrended bias does not vary.
    public init?(bias: [[Double]], share: [[Double]]) {
        precondition(bias.count == share.count, "SensitivityFit: bias and share need the same steps")
        let T = bias.count - 1, N = bias.first?.count ?? 0
        guard T >= 3, N >= 2 else { return nil }
        // x[i][t] = b_i(t), y[i][t] = s_i(t + 1), centred over the experts.
        var x = [[Double]](repeating: [Double](repeating: 0, count: T), count: N)   // [N, T]
        var y = x                                                                   // [N, T]
        for t in 0..<T {
            let mb = bias[t].reduce(0, +) / Double(N), ms = share[t + 1].reduce(0, +) / Double(N)
            for i in 0..<N { x[i][t] = bias[t][i] - mb; y[i][t] = share[t + 1][i] - ms }
        }
        var sxx = 0.0, sxy = 0.0
        for i in 0..<N {
            x[i] = detrended(x[i]); y[i] = detrended(y[i])
            for t in 0..<T { sxx += x[i][t] * x[i][t]; sxy += x[i][t] * y[i][t] }
        }
        guard sxx > 1e-30 else { return nil }
        let slope = sxy / sxx
        sensitivity = slope
        samples = N * T
        let dof = N * T - 3 * N - 1
        if dof > 0 {
            var rss = 0.0
            for i in 0..<N { for t in 0..<T { let r = y[i][t] - slope * x[i][t]; rss += r * r } }
            standardError = (rss / Double(dof) / sxx).squareRoot()
        } else {
            standardError = nil
        }
    }

    /// The effective integral gain on the balance mode: the least-squares slope (through the
    /// origin) of the bias change b_i(t) - b_i(t-1) on the error -s_i(t), both centred over the
    /// FFN experts, over the same rows as `init`. For the paper's rule b_i += ki * c(t) * e_i it
    /// is ki * c(t) exactly; for other rules (budget_gain_ratio, the adaptive gain, a load
    /// window, the sign rule) it is the gain the balance mode saw. Nil when no share varies.
    public static func effectiveGain(bias: [[Double]], share: [[Double]]) -> Double? {
        precondition(bias.count == share.count, "SensitivityFit: bias and share need the same steps")
        guard bias.count >= 2, let N = bias.first?.count, N >= 2 else { return nil }
        var see = 0.0, sbe = 0.0
        for t in 1..<bias.count {
            let mdb = (0..<N).reduce(0.0) { $0 + bias[t][$1] - bias[t - 1][$1] } / Double(N)
            let ms = share[t].reduce(0, +) / Double(N)
            for i in 0..<N {
                let e = -(share[t][i] - ms), db = bias[t][i] - bias[t - 1][i] - mdb
                see += e * e; sbe += db * e
            }
        }
        return see > 1e-30 ? sbe / see : nil
    }
}

/// `v` minus its least-squares line a + c * t over t = 0..<count.
private func detrended(_ v: [Double]) -> [Double] {
    let n = Double(v.count), mt = (n - 1) / 2
    let mv = v.reduce(0, +) / n
    var stt = 0.0, stv = 0.0
    for (t, value) in v.enumerated() { let d = Double(t) - mt; stt += d * d; stv += d * (value - mv) }
    let c = stt > 0 ? stv / stt : 0
    return v.enumerated().map { t, value in value - mv - c * (Double(t) - mt) }
}
