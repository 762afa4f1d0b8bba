import LabAnalysis

/// `loop-gain`: the bias controller's loop gain g = ki * s per layer over training, s the
/// sensitivity of an expert's load share to its own bias estimated from the records
/// (`LoopGain`) in consecutive windows of steps, with the integrator's margins at 1 (ringing
/// above) and 2 (unstable above). Runs without a fixed-gain pid controller with a constant
/// schedule (whose ki the records do not give) are left out; a figure with none throws.
extension FigureContext {
    func loopGainFigure() throws -> FigureSpec {
        var plot = SeriesPlot(name: "loop-gain", title: title("loop gain of the bias controller, ki x measured sensitivity"),
                              ylabel: "loop gain g = ki * s")
        for run in runs {
            let c = run.config
            guard c.controllerKind == "pid", let ki = c.number("controller.ki"),
                  (c["controller.gain_schedule"] ?? "constant") == "constant",
                  (c.number("controller.loop_gain_target") ?? 0) == 0 else { continue }
            let steps = try store.steps(runID: run.id).count
            let width = max(10, min(100, steps / 20))
            let windows = try LoopGain.windows(store, runID: run.id, windowSteps: width) { _ in ki }
            for (layer, list) in windows.sorted(by: { $0.key < $1.key }) {
                let points = list.compactMap { g in g.loopGain.map { (Double(g.firstStep + g.lastStep) / 2, $0) } }
                guard !points.isEmpty else { continue }
                plot.series.append(.init(title: seriesTitle(run, "layer \(layer)"), colour: single ? layer : run.colour,
                                         dash: single ? 1 : layer + 1, x: points.map(\.0), y: points.map(\.1), markers: true))
            }
        }
        guard !plot.series.isEmpty else {
            throw PlotError("loop-gain: no run has a fixed-gain pid controller (constant schedule) with expert_steps "
                            + "rows on consecutive steps and bias changes to measure")
        }
        plot.references = [(1, "g = 1: rings above"), (2, "g = 2: unstable above")]
        return plot.spec()
    }
}
