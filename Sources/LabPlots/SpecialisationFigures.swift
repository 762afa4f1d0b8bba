import LabAnalysis
import LabRecords

/// `specialisation`: from the token samples of one evaluation step (`--step`, default the last
/// sampled), per run and layer (`--layer`, default every layer), two heat maps:
///
/// - `specialisation-load-layer<l>`: expert (x) by label (y), colour = % of the label's
///   FFN-expert slots served by the expert (each row sums to 100; `ExpertLabelLoad`); the
///   title carries the layer's mutual information between expert choice and label;
/// - `specialisation-coactivation-layer<l>`: expert by expert, colour = % of tokens that chose
///   both (`ExpertCoActivation`); the diagonal (tokens that chose the expert) is left blank so
///   that the pairs set the colour range.
///
/// Labels are what the run's corpus records: token class, synthetic label or mix domain
/// (unlabelled rows: their byte class).
extension FigureContext {
    func specialisationFigures() throws -> [FigureSpec] {
        var specs: [FigureSpec] = []
        for run in runs {
            var (step, rows) = try records(run).tokenSamples(step: options.step)
            // Rows recorded without a label (byte text before labels were stored) go under
            // their byte class, as in the allocation figure.
            let classes = TokenClassifier(rows)
            for i in rows.indices where rows[i].label == nil { rows[i].label = classes.group(of: rows[i]) }
            let layerCount = run.config.layers ?? ((rows.map(\.layer).max() ?? -1) + 1)
            let report: SpecialisationReport
            do {
                report = try SpecialisationReport(run: run.name, step: step, labels: SpecialisationLabels(config: run.config),
                                                  rows: rows, layers: layerCount, experts: run.config.routedExperts)
            } catch let e as AnalysisError {
                throw PlotError("run '\(run.name)': \(e.description)")
            }
            guard report.tokens > 0 else {
                throw PlotError("run '\(run.name)' has no labelled token samples at step \(step); nothing to draw")
            }
            if let l = options.layer, l >= layerCount {
                throw PlotError("run '\(run.name)' has no layer \(l); its layers are 0...\(layerCount - 1)")
            }
            for layer in report.layers where options.layer == nil || options.layer == layer.layer {
                specs.append(loadHeatMap(run, report, layer))
                specs.append(coActivationHeatMap(run, report, layer))
            }
        }
        return specs
    }

    private func loadHeatMap(_ run: PlotRun, _ report: SpecialisationReport, _ layer: LayerSpecialisation) -> FigureSpec {
        let load = layer.load
        let kept = load.labels.indices.filter { load.tokens[$0] > 0 }
        let name = fileName("specialisation-load-layer\(layer.layer)", run)
        var data = DataFile(name: name + ".dat", columns: ["expert", "label_row", "share_percent"],
                            note: "grid: one scan per expert; label rows: "
                                + kept.enumerated().map { "\($0)=\(load.labels[$1])" }.joined(separator: " "))
        let grid = HeatGrid(xs: (0..<report.experts).map(Double.init), ys: kept.indices.map(Double.init),
                            values: (0..<report.experts).map { e in kept.map { 100 * load.share[$0][e] } })
        grid.write(into: &data)
        let tics = kept.enumerated().map { "\(quoted("\(load.labels[$1]) (\(load.tokens[$1]))")) \($0)" }.joined(separator: ", ")
        let info = layer.information
        let body = """
            set xlabel 'routed expert'
            set ylabel '\(report.labels.noun) (sampled tokens)'
            set cblabel '% of the label''s FFN-expert slots'
            \(grid.settings)set ytics (\(tics))
            set xtics \(report.experts > 32 ? 8 : report.experts > 16 ? 4 : 1)
            set grid noxtics noytics
            set style fill solid 1 noborder
            plot \(quoted(data.name)) using 1:2:3 with image notitle

            """
        let what = "load by \(report.labels.noun), layer \(layer.layer), step \(report.step): "
            + "I = \(short(info.nats)) nats, \(short(100 * info.share, 2))% of log \(info.labels)"
        return FigureSpec(name: name, title: title(what, run: run), body: body, data: [data],
                          height: max(options.height, 140 + 28 * kept.count))
    }

    private func coActivationHeatMap(_ run: PlotRun, _ report: SpecialisationReport, _ layer: LayerSpecialisation) -> FigureSpec {
        let a = layer.coActivation, n = report.experts
        let name = fileName("specialisation-coactivation-layer\(layer.layer)", run)
        var data = DataFile(name: name + ".dat", columns: ["expert_i", "expert_j", "both_percent"],
                            note: "grid: one scan per expert i; diagonal NaN (blank)")
        let grid = HeatGrid(xs: (0..<n).map(Double.init), ys: (0..<n).map(Double.init),
                            values: (0..<n).map { i in (0..<n).map { j in i == j ? .nan : 100 * a.share(i, j) } })
        grid.write(into: &data)
        let body = """
            set xlabel 'routed expert i'
            set ylabel 'routed expert j'
            set cblabel '% of tokens that chose both'
            \(grid.settings)set xtics \(n > 32 ? 8 : n > 16 ? 4 : 1)
            set ytics \(n > 32 ? 8 : n > 16 ? 4 : 1)
            set size ratio -1
            set grid noxtics noytics
            set style fill solid 1 noborder
            plot \(quoted(data.name)) using 1:2:3 with image notitle

            """
        return FigureSpec(name: name, title: title("expert co-activation, layer \(layer.layer), step \(report.step) (\(a.tokens) tokens)", run: run),
                          body: body, data: [data])
    }
}
