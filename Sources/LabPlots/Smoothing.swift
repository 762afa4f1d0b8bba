/// The exponential moving average drawn over noisy per-step curves.
///
/// `s_0 = x_0`, `s_t = w * s_{t-1} + (1 - w) * x_t`, with weight w in [0, 1) (`--smooth`,
/// default 0.8: the last 5 steps carry 67% of the weight, and the curve lags the data by
/// about w / (1 - w) = 4 steps). NaN inputs (a diverged step)
/// leave the average unchanged and come out as NaN, so a gap stays visible.
func movingAverage(_ xs: [Double], weight w: Double) -> [Double] {
    var s = Double.nan
    return xs.map { x in
        guard x.isFinite else { return .nan }
        s = s.isNaN ? x : w * s + (1 - w) * x
        return s
    }
}
