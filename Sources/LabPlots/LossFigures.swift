/// `loss`: training loss (raw and moving average), evaluation loss, and tokens/s over steps.
extension FigureContext {
    func lossFigures() throws -> [FigureSpec] {
        let w = options.smoothing
        let smoothNote = w > 0 ? " (moving average, w = \(short(w)))" : ""
        var loss = SeriesPlot(name: "loss", title: title("training and evaluation loss" + smoothNote),
                              ylabel: "loss (nats per token)", smoothing: w)
        var throughput = SeriesPlot(name: "throughput", title: title("throughput" + smoothNote),
                                    ylabel: "tokens per second", smoothing: w, keyPosition: "bottom right")
        var evals: [SeriesPlot.Series] = []
        var lossless: [String] = []
        for run in runs {
            let steps = try records(run).steps()
            let x = steps.map { Double($0.step) }
            if steps.contains(where: { $0.loss.isFinite }) {
                loss.series.append(.init(title: seriesTitle(run, "train"), colour: run.colour, x: x, y: steps.map(\.loss)))
            } else {
                lossless.append(run.name)
            }
            throughput.series.append(.init(title: single ? "tokens/s" : run.label,
                                           colour: run.colour, x: x, y: steps.map(\.tokensPerS)))
            let evaluated = steps.filter { $0.evalLoss?.isFinite == true }
            if !evaluated.isEmpty {
                evals.append(.init(title: seriesTitle(run, "evaluation"), colour: run.colour, dash: 2,
                                   x: evaluated.map { Double($0.step) }, y: evaluated.map { $0.evalLoss! }, markers: true))
            }
        }
        loss.series += evals
        loss.clipEarlyPeaks = true
        // A simulation run records steps without losses: its throughput still shows.
        guard !loss.series.isEmpty else {
            throw PlotError("run(s) \(lossless.map { "'\($0)'" }.joined(separator: ", ")) recorded no finite loss "
                            + "(simulation runs record none); nothing to draw for loss")
        }
        return [loss.spec(), throughput.spec()]
    }
}
