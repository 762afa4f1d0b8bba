import Foundation
import LabAnalysis
import LabConfig
import LabRecords

// Plain-text tables for `longcat-lab runs` and `longcat-lab show`.

/// The run list: name, status, steps, last loss, eval loss, median tokens/s, created (UTC).
public func runListText(_ rows: [RunSummaryRow]) -> String {
    guard !rows.isEmpty else { return "no runs recorded yet" }
    let header = ["name", "status", "steps", "last loss", "eval loss", "tokens/s", "created (UTC)"]
    let body = rows.map { r in
        [r.name, r.status.rawValue, String(r.stepsRecorded), fixed(r.lastLoss, 4), fixed(r.lastEvalLoss, 4),
         fixed(r.medianTokensPerS, 0), r.createdAt]
    }
    return textTable(header: header, rows: body, rightAligned: [2, 3, 4, 5])
}

extension RunReport {
    /// The report as printed by `longcat-lab show`; the resolved config last when `includeConfig`.
    public func text(includeConfig: Bool = true) -> String {
        var out: [String] = []
        let r = run
        out.append("run \(r.name) (id \(r.id), \(r.kind.rawValue)): \(r.status.rawValue), \(summary.stepsRecorded) steps recorded")
        out.append("  created \(r.createdAt)" + (r.finishedAt.map { ", ended \($0)" } ?? "")
                   + (r.host.map { " on \($0)" } ?? "") + (r.threads.map { ", \($0) threads" } ?? "")
                   + (r.seed.map { ", seed \($0)" } ?? "") + (r.gitCommit.map { ", commit \($0.prefix(12))" } ?? ""))
        if let message = r.message { out.append("  message: \(message)") }
        if let s = last {
            var line = "final losses (step \(s.step)): total \(fixed(s.loss, 4)), lm \(fixed(s.lmLoss, 4))"
            line += ", balance \(fixed(s.balanceLoss, 5)), z \(fixed(s.zLoss, 5))"
            if let mtp = s.mtpLoss { line += ", mtp \(fixed(mtp, 4))" }
            out.append(line)
        }
        if let e = lastEval { out.append("eval loss (step \(e.step)): \(fixed(e.loss, 4)) nats/token") }
        var speed = "throughput: median \(fixed(summary.medianTokensPerS, 0)) tokens/s"
        if let share = recordShare { speed += "; recording \(fixed(100 * share, 2))% of step time" }
        out.append(speed)
        out.append(contentsOf: routingLines())
        out.append(contentsOf: telemetryLines())
        out.append(contentsOf: churnLines())
        if checkpoints.isEmpty {
            out.append("checkpoints: none")
        } else {
            out.append("checkpoints:")
            for c in checkpoints { out.append("  step \(c.step): \(c.path)") }
        }
        if includeConfig, let toml = r.configTOML {
            out.append("config (resolved, hash \(r.configHash ?? "?")):")
            out.append(contentsOf: toml.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 })
        }
        return out.joined(separator: "\n")
    }

    /// The final window's numbers (LabAnalysis's, as `compare` and `sweep --report` print them),
    /// then per layer over it: mean FFN experts per token against K_e, its step-to-step
    /// fluctuation, the spread across tokens, MaxVio (first window -> final window), and the
    /// stability of the loads (per-step against windowed MaxVio, CV, lag-1 autocorrelation,
    /// period, the `oscillating` flag).
    private func routingLines() -> [String] {
        guard let window, let a = analysis, !layers.isEmpty else { return ["routing: no layer rows recorded"] }
        var out: [String] = []
        let target = targetFfnExperts
        let k = config.map { String($0.model.moeTopk) } ?? "?"
        out.append(FinalWindow.standard.header(window) + ": train loss \(fixed(a.trainLoss, 4)), FFN experts/token "
                   + "\(fixed(a.ffnExperts, 4)), activated params/token \(fixed(a.activatedParams, 0)), MaxVio \(fixed(a.maxVio, 3))")
        if target != nil {
            out.append("settling (\(Settling.standard.description) K_e): "
                       + (a.settlingStep.map { "step \($0)" } ?? "not settled"))
        }
        out.append("FFN experts per token, steps \(window.lowerBound)-\(window.upperBound) (final window)"
                   + (target.map { ", target K_e = \(fixed($0, 2)) of K = \(k)" } ?? ""))
        let header = ["layer", "mean", "vs K_e", "sd/K_e", "max|dev|/K_e", "token sd", "zero share",
                      "MaxVio first", "MaxVio final"]
        let rows = layers.map { l -> [String] in
            let early = earlyLayers.first { $0.layer == l.layer }
            let ke = target ?? .nan
            let worst = max(abs(l.ffnMax - ke), abs(l.ffnMin - ke))
            return [String(l.layer), fixed(l.ffnMean, 4), signedPercent((l.ffnMean - ke) / ke),
                    fixed(100 * l.ffnStepSD / ke, 2) + "%", fixed(100 * worst / ke, 2) + "%",
                    fixed(l.tokenSpread, 3), fixed(l.zeroExpertShare, 3), fixed(early?.maxVio, 3), fixed(l.maxVio, 3)]
        }
        out.append(contentsOf: textTable(header: header, rows: rows, rightAligned: Array(1..<header.count))
            .split(separator: "\n").map { "  " + $0 })
        out.append(contentsOf: stabilityLines(a, target: target))
        out.append(contentsOf: loopGainLines())
        return out
    }

    /// Per layer over the final window: the budget error next to the load stability metrics.
    private func stabilityLines(_ a: RunAnalysis, target: Double?) -> [String] {
        let measured = a.layers.filter { $0.stability != nil }
        guard !measured.isEmpty else { return ["load stability: no expert rows in the final window"] }
        var out = ["load stability of the FFN experts' loads, final window (\(LoadStability.Thresholds.standard.description)):"]
        let header = ["layer", "budget err", "MaxVio/step", "MaxVio window", "CV/step", "lag-1 autocorr", "period", "flag"]
        let rows = measured.map { l -> [String] in
            let s = l.stability!
            let budget = target.map { signedPercent((l.ffnExperts - $0) / $0) } ?? "-"
            return [String(l.layer), budget, fixed(s.stepMaxVio, 3), fixed(s.windowMaxVio, 3), fixed(s.stepCV, 3),
                    fixed(s.lag1Autocorrelation, 2), s.period.map(String.init) ?? "-", s.oscillating ? "oscillating" : ""]
        }
        out.append(contentsOf: textTable(header: header, rows: rows, rightAligned: Array(1..<header.count - 1))
            .split(separator: "\n").map { "  " + $0 })
        return out
    }

    /// Per layer, the loop gain over the last window of consecutive expert rows.
    private func loopGainLines() -> [String] {
        guard !loopGain.isEmpty else { return [] }
        var out = ["loop gain of the bias controller over the last \(Self.loopGainWindow) steps (balance mode: S = "
                   + "d(load share)/d(own bias) fitted on the share one step after the bias, k = the gain read off "
                   + "the bias changes, g = k * S; monotone below 1, ringing 1-2, unstable above 2):"]
        let header = ["layer", "steps", "sensitivity S", "+- se", "gain k", "loop gain g", "regime"]
        let rows = loopGain.map { layer, g -> [String] in
            [String(layer), "\(g.firstStep)-\(g.lastStep)", fixed(g.sensitivity, 2), fixed(g.standardError, 2),
             fixed(g.effectiveGain, 4), fixed(g.loopGain, 2), g.loopGain == nil ? "-" : g.regime.rawValue]
        }
        out.append(contentsOf: textTable(header: header, rows: rows, rightAligned: Array(1..<header.count - 1))
            .split(separator: "\n").map { "  " + $0 })
        return out
    }

    /// Per layer, the first and last churn between traced evaluations and the freeze step.
    private func churnLines() -> [String] {
        guard !churn.isEmpty else { return [] }
        var out = ["routing churn between traced evaluations (mean Jaccard distance of a traced token's FFN expert set, "
                   + "0 = same set; frozen from = first evaluation after which it stays below "
                   + String(format: "%g", RoutingFreeze.standardTolerance) + "; longcat-lab churn for the rest):"]
        let header = ["layer", "first", "churn", "last", "churn", "frozen from"]
        let rows = Dictionary(grouping: churn, by: \.layer).sorted { $0.key < $1.key }.map { layer, points -> [String] in
            let first = points.first!, last = points.last!
            let freeze = freezes.first { $0.layer == layer }?.step.map(String.init) ?? "not frozen"
            return [String(layer), "\(first.from)-\(first.to)", fixed(first.churn, 3), "\(last.from)-\(last.to)",
                    fixed(last.churn, 3), freeze]
        }
        out.append(contentsOf: textTable(header: header, rows: rows, rightAligned: Array(1..<header.count))
            .split(separator: "\n").map { "  " + $0 })
        return out
    }

    private func telemetryLines() -> [String] {
        guard let step = telemetry.first?.step else { return [] }
        let parts = telemetry.map { t in
            "layer \(t.layer) R_g \(fixed(t.gradNormRatio, 4)), router similarity \(fixed(t.routerSimilarity, 4))"
        }
        return ["telemetry (step \(step)): " + parts.joined(separator: "; ")]
    }
}

/// `x` with `digits` decimals; "-" for nil, "nan" for NaN.
func fixed(_ x: Double?, _ digits: Int) -> String {
    guard let x else { return "-" }
    return x.isNaN ? "nan" : String(format: "%.\(digits)f", x)
}

/// "+0.12%" style.
func signedPercent(_ x: Double) -> String {
    x.isNaN ? "-" : String(format: "%+.2f%%", 100 * x)
}

/// Columns padded to their widest cell, two spaces apart.
func textTable(header: [String], rows: [[String]], rightAligned: [Int]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
    return all.map { row in
        row.indices.map { c in
            let gap = String(repeating: " ", count: widths[c] - row[c].count)
            return rightAligned.contains(c) ? gap + row[c] : row[c] + gap
        }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
}
