import LabRecords

/// `activated-params`: how many parameters each token activated, from `activated_params`
/// (tokens per count c of FFN experts summed over all layers; parameters are affine in c).
extension FigureContext {
    func activatedParamsFigures() throws -> [FigureSpec] {
        var specs = [try activatedParamsHistogram()]
        for run in runs { specs.append(try activatedParamsHeatMap(run)) }
        return specs
    }

    /// The histogram over a step window: share of tokens per activated-parameter count, one bar
    /// colour per run, the K_e target dashed, each run's mean dotted; FFN-expert counts on top.
    func activatedParamsHistogram() throws -> FigureSpec {
        var data = DataFile(name: "activated-params.dat",
                            columns: ["activated_params_scaled", "share_percent", "ffn_experts", "activated_params"],
                            note: "one block per run: " + runs.map(\.label).joined(separator: " | "))
        var terms: [String] = [], extra = ""
        var fits: [ParamsFit] = [], windows: [ClosedRange<Int>] = []
        for run in runs {
            let all = try records(run).activatedParams()
            let window = options.window ?? Self.finalWindow(all.map(\.step))
            windows.append(window)
            fits.append(ParamsFit(all))
        }
        let unit = ParamsUnit(largest: fits.map(\.maxParams).max() ?? 1)
        let spacing = (fits.compactMap(\.perExpert).min() ?? fits[0].maxParams / 4) / unit.divisor
        let barWidth = 0.8 * spacing / Double(runs.count)
        var maxShare = 1.0
        for (i, run) in runs.enumerated() {
            let rows = try records(run).activatedParams(windows[i])
            var tokens: [Int: Int] = [:], params: [Int: Int] = [:]
            for r in rows { tokens[r.ffnExperts, default: 0] += r.tokens; params[r.ffnExperts] = r.activatedParams }
            let total = Double(tokens.values.reduce(0, +))
            let offset = (Double(i) - Double(runs.count - 1) / 2) * barWidth
            for c in tokens.keys.sorted() {
                let p = Double(params[c]!), share = Double(tokens[c]!) / max(total, 1)
                data.row([p / unit.divisor + offset, 100 * share, Double(c), p])
                maxShare = max(maxShare, 100 * share)
            }
            // The mean the reports print for this window (LabAnalysis's).
            let mean = meanActivatedParams(rows) ?? .nan
            data.endBlock()
            let lt = Palette.lineType(run.colour)
            let label = single ? "steps \(windows[i].lowerBound)-\(windows[i].upperBound)" : run.label
            terms.append("'activated-params.dat' index \(i) using 1:2 with boxes lt \(lt) fs solid 0.75 title \(quoted(label))")
            extra += "set arrow from \(DataFile.number(mean / unit.divisor)), graph 0 to \(DataFile.number(mean / unit.divisor)), graph 1 nohead lt \(lt) dt 3 lw 2 front\n"
            terms.append("keyentry with lines lt \(lt) dt 3 lw 2 title \(quoted("mean " + unit.format(mean) + (single ? "" : " (\(run.label))")))")
        }
        // K_e per layer times the layer count is the target FFN-expert count of a token.
        for (i, run) in runs.enumerated() {
            guard let ke = run.config.targetFFNExperts, let layers = run.config.layers,
                  let target = fits[i].params(ffnExperts: ke * Double(layers)) else { continue }
            if i > 0, runs[..<i].contains(where: { $0.config.targetFFNExperts == ke && $0.config.layers == layers }) { continue }
            let x = DataFile.number(target / unit.divisor)
            extra += "set arrow from \(x), graph 0 to \(x), graph 1 nohead lc rgb '\(Palette.reference)' dt 2 lw 1.5 front\n"
            terms.append("keyentry with lines lc rgb '\(Palette.reference)' dt 2 lw 1.5 title \(quoted("target: K_e = \(short(ke)) per layer, " + unit.format(target)))")
        }
        if fits.allSatisfy({ $0 == fits[0] }), let perExpert = fits[0].perExpert {
            let counts = fits[0].counts
            let tics = counts.map { "\"\($0)\" \(DataFile.number(fits[0].base / unit.divisor + Double($0) * perExpert / unit.divisor))" }
            extra += "set x2tics (\(tics.joined(separator: ", "))) nomirror\nset x2label 'FFN experts per token, all layers'\n"
            extra += "set link x2 via x inverse x\n"
        }
        let window = single ? FinalWindow.standard.header(windows[0]) : "final window of each run (\(FinalWindow.standard.description))"
        let body = """
            set xlabel \(quoted("activated parameters per token (\(unit.name))"))
            set ylabel 'share of tokens (%)'
            set boxwidth \(DataFile.number(barWidth)) absolute
            set yrange [0:\(DataFile.number((maxShare * 1.5).rounded(.up)))]
            set offsets \(DataFile.number(spacing)), \(DataFile.number(spacing)), 0, 0
            set key top left
            \(extra)plot \(terms.joined(separator: ", \\\n     "))

            """
        return FigureSpec(name: "activated-params", title: title("activated parameters per token, \(options.window == nil ? window : "steps \(windows[0].lowerBound)-\(windows[0].upperBound)")"),
                          body: body, data: [data])
    }

    /// Heat map: x = step, y = FFN experts per token over all layers (labelled with their
    /// activated parameters), colour = share of the step's tokens; the mean per step as a white
    /// line, the K_e target dashed. Long runs are binned to at most 500 columns.
    func activatedParamsHeatMap(_ run: PlotRun) throws -> FigureSpec {
        let rows = try records(run).activatedParams()
        let fit = ParamsFit(rows)
        let unit = ParamsUnit(largest: fit.maxParams)
        let columns = StepColumns(steps: rows.map(\.step))
        let counts = fit.counts
        var tokens = [[Double]](repeating: [Double](repeating: 0, count: counts.count), count: columns.count)
        for r in rows { tokens[columns.column(of: r.step)][r.ffnExperts - counts[0]] += Double(r.tokens) }
        let name = fileName("activated-params-steps", run)
        var data = DataFile(name: name + ".dat", columns: ["step", "ffn_experts", "share_percent"],
                            note: "grid: one scan per step" + columns.note)
        var means = DataFile(name: name + "-mean.dat", columns: ["step", "mean_ffn_experts"])
        let xs = (0..<columns.count).map(columns.centre)
        var shares: [[Double]] = []
        for (col, cells) in tokens.enumerated() {
            let total = cells.reduce(0, +)
            shares.append(cells.map { total > 0 ? 100 * $0 / total : .nan })
            let mean = zip(counts, cells).map { Double($0) * $1 }.reduce(0, +) / total
            means.row([xs[col], total > 0 ? mean : .nan])
        }
        let grid = HeatGrid(xs: xs, ys: counts.map(Double.init), values: shares)
        grid.write(into: &data)
        var terms = ["\(quoted(data.name)) using 1:2:3 with image notitle",
                     "\(quoted(means.name)) using 1:2 with lines lc rgb 'white' lw 1.5 title 'mean'"]
        if let ke = run.config.targetFFNExperts, let layers = run.config.layers {
            terms.append("\(DataFile.number(ke * Double(layers))) with lines lc rgb 'white' dt 2 lw 1.5 "
                         + "title \(quoted("target (K_e = \(short(ke)) per layer)"))")
        }
        let tics = counts.map { c in
            "\"\(short((fit.params(ffnExperts: Double(c)) ?? 0) / unit.divisor)) (\(c))\" \(c)"
        }
        let body = """
            set xlabel 'training step'
            set ylabel \(quoted("activated parameters per token, \(unit.name) (FFN experts)"))
            set cblabel 'share of tokens (%)'
            set ytics (\(tics.joined(separator: ", ")))
            \(grid.settings)set grid noxtics noytics
            set style fill solid 1 noborder
            set key top right textcolor rgb 'white'
            plot \(terms.joined(separator: ", \\\n     "))

            """
        return FigureSpec(name: name, title: title("activated parameters per token over training", run: run),
                          body: body, data: [data, means])
    }

    /// The final window of the recorded steps (`FinalWindow.standard`, as every report uses);
    /// 0...0 when there are none.
    static func finalWindow(_ steps: [Int]) -> ClosedRange<Int> {
        FinalWindow.standard.range(of: steps) ?? 0...0
    }
}

/// Activated parameters as an affine function of the FFN-expert count c, fitted from two rows:
/// params(c) = base + c * perExpert.
struct ParamsFit: Equatable {
    var paramsByCount: [Int: Int] = [:]
    var base = 0.0
    /// nil when only one count was ever recorded.
    var perExpert: Double?

    init(_ rows: [ActivatedParamsRow]) {
        for r in rows { paramsByCount[r.ffnExperts] = r.activatedParams }
        let cs = paramsByCount.keys.sorted()
        if let lo = cs.first, let hi = cs.last, hi > lo {
            let slope = Double(paramsByCount[hi]! - paramsByCount[lo]!) / Double(hi - lo)
            perExpert = slope
            base = Double(paramsByCount[lo]!) - slope * Double(lo)
        } else if let only = cs.first {
            base = Double(paramsByCount[only]!)
        }
    }

    /// Every count from the smallest to the largest recorded.
    var counts: [Int] {
        guard let lo = paramsByCount.keys.min(), let hi = paramsByCount.keys.max() else { return [] }
        return Array(lo...hi)
    }

    var maxParams: Double { Double(paramsByCount.values.max() ?? 1) }

    func params(ffnExperts c: Double) -> Double? {
        if let perExpert { return base + c * perExpert }
        return paramsByCount[Int(c)].map(Double.init)
    }
}

/// Parameter counts scaled to thousands, millions or billions for axis labels.
struct ParamsUnit {
    var divisor: Double
    var name: String

    init(largest: Double) {
        switch largest {
        case 1e9...: (divisor, name) = (1e9, "billions")
        case 1e6...: (divisor, name) = (1e6, "millions")
        case 1e3...: (divisor, name) = (1e3, "thousands")
        default: (divisor, name) = (1, "parameters")
        }
    }

    func format(_ v: Double) -> String {
        let suffix = ["billions": "B", "millions": "M", "thousands": "k"][name] ?? ""
        return short(v / divisor, 4) + suffix
    }
}
