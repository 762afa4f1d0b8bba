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
            let points = routingChurn(RoutingTraces(try store.routingTraces(runID: run.id)))
            guard !points.isEmpty else {
                throw PlotError("run '\(run.name)' has no routing traces at two evaluations (train.trace_tokens = 0, one evaluation, or recorded before schema version 4)")
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
