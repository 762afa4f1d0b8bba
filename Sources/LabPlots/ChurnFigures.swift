import LabAnalysis

/// `churn`: routing churn per layer against step, from the routing traces (`routing_traces`).
extension FigureContext {
    /// Mean Jaccard distance of the traced tokens' FFN expert sets between consecutive
    /// evaluations, per layer, drawn at the later evaluation's step; one colour per layer (one
    /// run) or per run with a dash per layer (several).
    func churnFigure() throws -> FigureSpec {
        var plot = SeriesPlot(name: "churn",
                              title: title("routing churn (mean Jaccard distance of a token's FFN experts, consecutive evaluations)"),
                              ylabel: "churn", yrange: "[0:1]")
        for run in runs {
            let rows = try store.routingTraces(runID: run.id)
            guard !rows.isEmpty else { throw records(run).empty("routing_traces") }
            let points = routingChurn(RoutingTraces(rows))
            guard !points.isEmpty else {
                throw PlotError("run '\(run.name)' has routing traces at one evaluation only; churn needs two (train.eval_interval below train.steps)")
            }
            for layer in Set(points.map(\.layer)).sorted() {
                if let only = options.layer, only != layer { continue }
                let series = points.filter { $0.layer == layer }
                plot.series.append(.init(title: seriesTitle(run, "layer \(layer)"), colour: single ? layer : run.colour,
                                         dash: single ? 1 : layer + 1, x: series.map { Double($0.to) },
                                         y: series.map(\.churn), markers: true))
            }
        }
        return plot.spec()
    }
}
