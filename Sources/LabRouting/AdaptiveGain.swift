/// The adaptive integral gain of `controller.loop_gain_target`: ki = g* / S_hat, with S_hat the
/// sensitivity of an expert's load share to its own bias, refitted every update from the
/// controller's own recent updates (`SensitivityFit`), so that the loop gain ki * S stays at g*
/// as the router sharpens.
extension BiasController {
    /// Updates the sensitivity is fitted over (the fit needs this many before the first estimate;
    /// until then the configured ki is used).
    public static let sensitivityWindow = 64
    /// The adaptive ki stays within [ki / range, ki * range] of the configured ki (a guard against
    /// a fit that the noise drove near 0).
    public static let adaptiveGainRange = 10.0

    /// The adaptive gain's current sensitivity estimate S_hat (nil when off or before one).
    public var sensitivityEstimate: Double? { config.loopGainTarget > 0 ? state.sensitivity : nil }

    /// The integral gain of the next update before the schedule factor: ki, or with the adaptive
    /// gain on and an estimate made, loop_gain_target / S_hat within `adaptiveGainRange` of ki.
    public var integralGain: Double {
        guard let s = sensitivityEstimate, s > 0 else { return config.ki }
        let r = Self.adaptiveGainRange
        return min(max(config.loopGainTarget / s, config.ki / r), config.ki * r)
    }

    /// Refits S_hat over the remembered updates and this update's `[N]` instantaneous shares
    /// (routed with the bias the last remembered update left); keeps the last estimate when the
    /// history is short or the fit is not positive.
    static func refitSensitivity(_ state: inout State, shares: [Double]) {
        guard let biases = state.fitBiases, let past = state.fitShares,
              biases.count >= Self.sensitivityWindow - 1 else { return }
        // The fit pairs bias[t] with share[t + 1]; the last bias row is not read.
        if let fit = SensitivityFit(bias: biases + [biases[biases.count - 1]], share: past + [shares]),
           fit.sensitivity > 0 {
            state.sensitivity = fit.sensitivity
        }
    }

    /// Remembers this update's `[N]` instantaneous shares and the N FFN biases it left, keeping
    /// the last `sensitivityWindow - 1` updates.
    static func rememberForFit(_ state: inout State, shares: [Double]) {
        var biases = state.fitBiases ?? [], past = state.fitShares ?? []
        biases.append((0..<shares.count).map { Double(state.bias[$0]) })
        past.append(shares)
        let keep = Self.sensitivityWindow - 1
        if biases.count > keep { biases.removeFirst(biases.count - keep); past.removeFirst(past.count - keep) }
        state.fitBiases = biases
        state.fitShares = past
    }
}
