/// `expert-load`: where the routing slots went, per layer and expert (`expert_steps`), and the
/// imbalance MaxVio over steps (`layer_steps`).
extension FigureContext {
    func expertLoadFigures() throws -> [FigureSpec] {
        var specs: [FigureSpec] = []
        for run in runs {
            specs.append(try loadSnapshot(run))
            specs.append(try loadStrip(run))
        }
        specs.append(try maxVioFigure())
        return specs
    }

    /// Heat map layer x expert of the load share at one step (`--step`, default the last).
    func loadSnapshot(_ run: PlotRun) throws -> FigureSpec {
        let step = try options.step ?? records(run).lastStep(table: "expert_steps")
        let (shares, isZero) = try records(run).loadShares(step: step)
        let name = fileName("expert-load-step\(step)", run)
        var data = DataFile(name: name + ".dat", columns: ["expert", "layer", "load_share_percent"],
                            note: "grid: one scan per expert")
        let experts = isZero.count, routed = isZero.filter { !$0 }.count
        let grid = HeatGrid(xs: (0..<experts).map(Double.init), ys: shares.indices.map(Double.init),
                            values: (0..<experts).map { e in shares.map { 100 * $0[e] } })
        grid.write(into: &data)
        var body = """
            set xlabel 'expert (routed, then zero)'
            set ylabel 'MoE layer'
            set cblabel 'share of the layer''s routing slots (%)'
            \(grid.settings)set ytics 1
            set xtics \(experts > 32 ? 8 : experts > 16 ? 4 : 2)
            set grid noxtics noytics
            set style fill solid 1 noborder

            """
        if routed < experts {
            let x = DataFile.number(Double(routed) - 0.5)
            body += "set arrow from \(x), graph 0 to \(x), graph 1 nohead lc rgb 'white' lw 2.5 front\n"
            body += "set label 'zero experts' at \(DataFile.number(Double(routed + experts) / 2 - 0.5)), graph 1.03 center\n"
            body += "set label 'routed experts' at \(DataFile.number(Double(routed) / 2 - 0.5)), graph 1.03 center\n"
            body += "set title offset 0,1\n"
        }
        body += "plot \(quoted(data.name)) using 1:2:3 with image notitle\n"
        return FigureSpec(name: name, title: title("expert load share at step \(step)", run: run), body: body, data: [data])
    }

    /// A strip over training: x = step, y = expert, colour = load share, one layer (`--layer`,
    /// default 0). Long runs are averaged over bins of steps, at most 500 columns.
    func loadStrip(_ run: PlotRun) throws -> FigureSpec {
        let layer = options.layer ?? 0
        _ = try layers(of: run)  // throws when --layer names a layer the run lacks
        let series = try records(run).expertSeries(layer: layer, column: "load_share")
        let columns = StepColumns(steps: series.flatMap { $0.points.map(\.step) })
        var values = [[Double]](repeating: [Double](repeating: .nan, count: series.count), count: columns.count)
        for (row, s) in series.enumerated() {
            var sum = [Double](repeating: 0, count: columns.count), n = sum
            for p in s.points where p.value.isFinite {
                sum[columns.column(of: p.step)] += p.value
                n[columns.column(of: p.step)] += 1
            }
            for c in 0..<columns.count where n[c] > 0 { values[c][row] = 100 * sum[c] / n[c] }
        }
        let name = fileName("expert-load-strip-layer\(layer)", run)
        var data = DataFile(name: name + ".dat", columns: ["step", "expert", "load_share_percent"],
                            note: "grid: one scan per step" + columns.note)
        let grid = HeatGrid(xs: (0..<columns.count).map(columns.centre), ys: series.map { Double($0.expert) }, values: values)
        grid.write(into: &data)
        let routed = series.filter { !$0.isZero }.count
        var body = """
            set xlabel 'training step'
            set ylabel 'expert (routed below the line, zero above)'
            set cblabel 'share of the layer''s routing slots (%)'
            \(grid.settings)set grid noxtics noytics
            set style fill solid 1 noborder

            """
        if routed < series.count {
            let y = DataFile.number(Double(routed) - 0.5)
            body += "set arrow from graph 0, first \(y) to graph 1, first \(y) nohead lc rgb 'white' lw 2 front\n"
        }
        body += "plot \(quoted(data.name)) using 1:2:3 with image notitle\n"
        return FigureSpec(name: name, title: title("expert load share over training, layer \(layer)", run: run),
                          body: body, data: [data])
    }

    /// MaxVio = (max_i load_i - mean load) / mean load, per layer over steps (0 = perfect balance).
    func maxVioFigure() throws -> FigureSpec {
        let w = options.smoothing > 0 ? " (moving average, w = \(short(options.smoothing)))" : ""
        var plot = SeriesPlot(name: "max-vio", title: title("load imbalance MaxVio" + w),
                              ylabel: "MaxVio (max load / mean load - 1)", smoothing: options.smoothing)
        for run in runs {
            for layer in try layers(of: run) {
                let rows = try records(run).layers(layer)
                plot.series.append(.init(title: seriesTitle(run, "layer \(layer)"),
                                         colour: single ? layer : run.colour, dash: single ? 1 : layer + 1,
                                         x: rows.map { Double($0.step) }, y: rows.map(\.maxVio)))
            }
        }
        plot.yrange = "[0:*]"
        return plot.spec()
    }
}
