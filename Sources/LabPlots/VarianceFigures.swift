import LabRecords

/// `variance`: the statistics of `variance_stats` (activation and gradient variances per layer
/// and module), at the first recorded step across runs as grouped bars, and over training.
/// One pair of figures per statistic; `--layer` keeps one layer (and the model-wide rows).
extension FigureContext {
    func varianceFigures() throws -> [FigureSpec] {
        var rowsByRun: [[VarianceRow]] = []
        for run in runs {
            var rows = try records(run).variance()
            if let l = options.layer { rows = rows.filter { $0.layer == l || $0.layer < 0 } }
            rowsByRun.append(rows)
        }
        var statistics: [String] = []
        for rows in rowsByRun { for r in rows where !statistics.contains(r.statistic) { statistics.append(r.statistic) } }
        var specs: [FigureSpec] = []
        for statistic in statistics {
            specs.append(varianceBars(statistic, rowsByRun))
            let steps = Set(rowsByRun.flatMap { $0.filter { $0.statistic == statistic }.map(\.step) })
            if steps.count > 1 { specs.append(varianceOverSteps(statistic, rowsByRun)) }
        }
        return specs
    }

    /// Grouped bars: one group per (layer, module), one bar per run, at each run's first step.
    func varianceBars(_ statistic: String, _ rowsByRun: [[VarianceRow]]) -> FigureSpec {
        var groups: [String] = [], values: [[String: Double]] = []
        var firstSteps: [Int] = []
        for rows in rowsByRun {
            let mine = rows.filter { $0.statistic == statistic }
            let first = mine.map(\.step).min() ?? 0
            firstSteps.append(first)
            var v: [String: Double] = [:]
            for r in mine where r.step == first {
                let g = Self.groupName(r)
                if !groups.contains(g) { groups.append(g) }
                v[g] = r.value
            }
            values.append(v)
        }
        let name = "variance-step0-" + RunSet.fileSafe(statistic)
        var data = DataFile(name: name + ".dat", columns: ["group"] + runs.map { RunSet.fileSafe($0.name) })
        for g in groups { data.row(fields: [DataFile.label(g)] + values.map { DataFile.number($0[g] ?? .nan) }) }
        let all = values.flatMap(\.values).filter(\.isFinite)
        let logY = (all.min() ?? 0) > 0 && (all.max() ?? 0) / (all.min() ?? 1) > 100
        var body = """
            set style data histograms
            set style histogram clustered gap 1
            set style fill solid 0.8 border rgb '#333333'
            set boxwidth 0.9
            set ylabel \(quoted(statistic))
            set xtics rotate by -35 left
            set key top right
            set grid noxtics
            \(logY ? "set logscale y\n" : "set yrange [0:*]\n")
            """
        let terms = runs.enumerated().map { i, run in
            "\(quoted(data.name)) using \(i + 2)\(i == 0 ? ":xtic(1)" : "") lt \(Palette.lineType(run.colour)) title \(quoted(run.label + (firstSteps[i] == 0 ? "" : " (step \(firstSteps[i]))")))"
        }
        body += "plot " + terms.joined(separator: ", \\\n     ") + "\n"
        let at = firstSteps.allSatisfy { $0 == 0 } ? "at step 0" : "at the first recorded step"
        return FigureSpec(name: name, title: title("\(statistic) \(at), per layer and module"), body: body, data: [data])
    }

    /// Lines over steps: a colour per (layer, module), a dash per run.
    func varianceOverSteps(_ statistic: String, _ rowsByRun: [[VarianceRow]]) -> FigureSpec {
        var plot = SeriesPlot(name: "variance-steps-" + RunSet.fileSafe(statistic),
                              title: title("\(statistic) over training"), ylabel: statistic)
        var groups: [String] = []
        for rows in rowsByRun { for r in rows where r.statistic == statistic && !groups.contains(Self.groupName(r)) { groups.append(Self.groupName(r)) } }
        var all: [Double] = []
        for (i, run) in runs.enumerated() {
            let mine = rowsByRun[i].filter { $0.statistic == statistic }
            for (g, group) in groups.enumerated() {
                let points = mine.filter { Self.groupName($0) == group }
                guard !points.isEmpty else { continue }
                all += points.map(\.value)
                plot.series.append(.init(title: single ? group : "\(run.label): \(group)", colour: g, dash: i + 1,
                                         x: points.map { Double($0.step) }, y: points.map(\.value)))
            }
        }
        let finite = all.filter { $0.isFinite }
        plot.logY = (finite.min() ?? 0) > 0 && (finite.max() ?? 0) / (finite.min() ?? 1) > 100
        if single {
            plot.keyPosition = groups.count <= 20 ? "outside right top" : nil
        } else {
            // Colour = layer and module, dash = run: a key entry for each, not for each curve.
            plot.factoredKey = (colours: groups.enumerated().map { (colour: $0.offset, title: $0.element) },
                                dashes: runs.enumerated().map { (dash: $0.offset + 1, title: $0.element.label) })
        }
        return plot.spec()
    }

    /// `L0 moe.output`, or `model embedding` for model-wide rows (layer -1).
    static func groupName(_ r: VarianceRow) -> String {
        r.layer < 0 ? "model \(r.module)" : "L\(r.layer) \(r.module)"
    }
}
