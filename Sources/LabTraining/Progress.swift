import Foundation
import LabModel

/// Prints a progress line (step, losses, learning rate, tokens/s, ETA) every few steps and
/// keeps the step times for the run's median throughput.
final class Progress {
    let totalSteps, startStep, tokensPerStep: Int
    let verbose: Bool
    private var stepMs: [Double] = []
    private var lastPrint = Date.distantPast

    init(totalSteps: Int, startStep: Int, tokensPerStep: Int, verbose: Bool) {
        self.totalSteps = totalSteps; self.startStep = startStep; self.tokensPerStep = tokensPerStep
        self.verbose = verbose
    }

    var medianTokensPerSecond: Double {
        guard !stepMs.isEmpty else { return 0 }
        let sorted = stepMs.sorted()
        return Double(tokensPerStep) / (sorted[sorted.count / 2] / 1000)
    }

    func report(step: Int, losses: Losses, lr: Float, stepMs ms: Double, evalLoss: Double?) {
        stepMs.append(ms)
        guard verbose else { return }
        let done = step + 1
        let now = Date()
        let due = now.timeIntervalSince(lastPrint) >= 2 || done == totalSteps || evalLoss != nil || done == startStep + 1
        guard due else { return }
        lastPrint = now
        let recent = stepMs.suffix(20)
        let meanMs = recent.reduce(0, +) / Double(recent.count)
        let eta = Double(totalSteps - done) * meanMs / 1000
        var line = String(format: "step %5d/%d | loss %.4f", done, totalSteps, losses.lm)
        if losses.balance != 0 { line += String(format: " | bal %.4f", losses.balance) }
        if losses.mtp != 0 { line += String(format: " | mtp %.4f", losses.mtp) }
        if let evalLoss { line += String(format: " | val %.4f", evalLoss) }
        line += String(format: " | lr %.2e | %6.0f tok/s | ETA ", lr, Double(tokensPerStep) / (meanMs / 1000))
            + formatDuration(eta)
        print(line)
        fflush(nil)
    }
}

/// "1:05:09" or "5:09".
public func formatDuration(_ seconds: Double) -> String {
    let s = max(0, Int(seconds.rounded()))
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}
