/// `ffn-experts` and `zero-share`: per-layer routing statistics over steps, against the
/// controller's target.
extension FigureContext {
    /// Mean FFN experts per token (line) +- one standard deviation over tokens (band), per layer,
    /// with K_e dashed. One run: a colour per layer; several: a colour per run, a dash per layer,
    /// and bands only when one layer is drawn (more overlapping bands hide each other).
    func ffnExpertsFigure() throws -> FigureSpec {
        let bands = single || options.layer != nil
        var plot = SeriesPlot(name: "ffn-experts",
                              title: title("FFN experts per token (mean" + (bands ? ", band = ±1 std over tokens)" : "; --layer L adds the spread)")),
                              ylabel: "FFN experts per token and layer")
        var topK = 0
        for run in runs {
            for layer in try layers(of: run) {
                let rows = try records(run).layers(layer)
                let mean = rows.map(\.ffnExpertsMean), std = rows.map(\.ffnExpertsStd)
                plot.series.append(.init(title: seriesTitle(run, "layer \(layer)"), colour: single ? layer : run.colour,
                                         dash: single ? 1 : layer + 1, x: rows.map { Double($0.step) }, y: mean,
                                         band: bands ? (zip(mean, std).map { $0 - $1 }, zip(mean, std).map { $0 + $1 }) : nil))
            }
            topK = max(topK, run.config.topK ?? 0)
        }
        plot.references = targets.map { ($0, "target K_e = \(short($0))") }
        if topK > 0 { plot.yrange = "[0:\(topK)]" }
        return plot.spec()
    }

    /// Share of routing slots that went to zero experts, per layer, with 1 - K_e/K dashed.
    func zeroShareFigure() throws -> FigureSpec {
        var plot = SeriesPlot(name: "zero-share", title: title("share of routing slots taken by zero experts"),
                              ylabel: "zero-expert share of slots", yrange: "[0:1]")
        var references: [(Double, String)] = []
        for run in runs {
            for layer in try layers(of: run) {
                let rows = try records(run).layers(layer)
                plot.series.append(.init(title: seriesTitle(run, "layer \(layer)"), colour: single ? layer : run.colour,
                                         dash: single ? 1 : layer + 1, x: rows.map { Double($0.step) },
                                         y: rows.map(\.zeroExpertShare)))
            }
            if let ke = run.config.targetFFNExperts, let k = run.config.topK, k > 0 {
                let share = 1 - ke / Double(k)
                if !references.contains(where: { $0.0 == share }) {
                    references.append((share, "target 1 - K_e/K = \(short(share))"))
                }
            }
        }
        plot.references = references
        return plot.spec()
    }
}
