import LabAnalysis

/// `loop-gain`: the bias controller's loop gain g = k * S per layer over training (`LoopGain`:
/// S the sensitivity of an expert's load share to its own bias, k the gain read off the bias
/// changes, both on the balance mode) in consecutive windows of steps, with the integrator's
/// margins at 1 (ringing above) and 2 (unstable above). A run with too few consecutive expert
/// rows (or no bias changes) adds no curve; when no run has one, the figure says so in its title
/// and draws the margins alone.
extension FigureContext {
    func loopGainFigure() throws -> FigureSpec {
        var plot = SeriesPlot(name: "loop-gain", title: title("loop gain of the bias controller, k x measured sensitivity"),
                              ylabel: "loop gain g = k * S")
        var firstStep = 0.0, lastStep = 1.0
        for run in runs {
            let steps = try store.steps(runID: run.id).map(\.step)
            guard let first = steps.first, let last = steps.last else { continue }
            firstStep = min(firstStep, Double(first)); lastStep = max(lastStep, Double(last))
            let width = max(20, min(100, steps.count / 12))
            let windows = try LoopGain.windows(store, runID: run.id, windowSteps: width)
            for (layer, list) in windows.sorted(by: { $0.key < $1.key }) {
                let points = list.compactMap { g in g.loopGain.map { (Double(g.firstStep + g.lastStep) / 2, $0) } }
                guard !points.isEmpty else { continue }
                plot.series.append(.init(title: seriesTitle(run, "layer \(layer)"), colour: single ? layer : run.colour,
                                         dash: single ? 1 : layer + 1, x: points.map(\.0), y: points.map(\.1), markers: true))
            }
        }
        if plot.series.isEmpty {
            plot.title += " (nothing to measure: no run has 20+ consecutive steps of expert rows with bias changes)"
            plot.series.append(.init(title: "g = 0", colour: 0, dash: 1, x: [firstStep, lastStep], y: [0, 0], markers: false))
        }
        plot.references = [(1, "g = 1: rings above"), (2, "g = 2: unstable above")]
        return plot.spec()
    }
}
