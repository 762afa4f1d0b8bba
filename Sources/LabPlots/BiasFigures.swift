/// `bias`: the controller's routing bias per expert over steps, and the P, I and D terms it
/// is made of (`expert_steps`), for one layer (`--layer`, default 0) of each run.
extension FigureContext {
    func biasFigures() throws -> [FigureSpec] {
        var specs: [FigureSpec] = []
        for run in runs {
            let layer = options.layer ?? 0
            _ = try layers(of: run)  // throws when --layer names a layer the run lacks
            let series = try records(run).expertSeries(layer: layer, column: "bias")
            let kind = run.config.controllerKind.map { ", controller \($0)" } ?? ""
            let name = fileName("bias-layer\(layer)", run)
            let panel = ExpertLinesPanel(name: name, series: series)
            var body = "set xlabel 'training step'\nset ylabel 'routing bias b_i'\nset key top left\n"
            body += panel.plotCommand()
            specs.append(FigureSpec(name: name, title: title("routing bias per expert, layer \(layer)\(kind)", run: run),
                                    body: body, data: [panel.data]))

            let termsName = fileName("bias-terms-layer\(layer)", run)
            var data: [DataFile] = []
            var body2 = "set multiplot layout 3,1 title \(quoted(title("controller terms per expert, layer \(layer)\(kind)", run: run))) font ',11'\n"
            body2 += "unset title\nset key top left\nset lmargin 12\n"
            for (column, label) in [("p_term", "P term"), ("i_term", "I term"), ("d_term", "D term")] {
                let p = ExpertLinesPanel(name: "\(termsName)-\(column.prefix(1))",
                                         series: try records(run).expertSeries(layer: layer, column: column))
                let flat = p.allZero ? " (0 throughout)" : ""
                body2 += "set ylabel \(quoted(label + flat))\n"
                body2 += column == "d_term" ? "set xlabel 'training step'\n" : "unset xlabel\n"
                body2 += p.plotCommand()
                body2 += "unset key\n"  // the top panel's key names both groups
                data.append(p.data)
            }
            body2 += "unset multiplot\n"
            specs.append(FigureSpec(name: termsName, title: title("controller terms per expert, layer \(layer)", run: run),
                                    body: body2, data: data, height: options.height * 8 / 5))
        }
        return specs
    }
}

/// Thin lines, one per expert, routed experts in one colour and zero experts in another, with
/// one key entry per group.
struct ExpertLinesPanel {
    var data: DataFile
    var routed = 0
    var zero = 0
    var allZero = true
    private var steps: [Double] = []
    private var values: [Double] = []

    init(name: String, series: [(expert: Int, isZero: Bool, points: [(step: Int, value: Double)])]) {
        // Routed experts first, then zero experts: blocks 0..<routed and routed..<routed+zero.
        let ordered = series.filter { !$0.isZero } + series.filter(\.isZero)
        data = DataFile(name: name + ".dat", columns: ["step", "value"],
                        note: "one block per expert: routed experts first, then zero experts")
        for s in ordered {
            for p in s.points {
                data.row([Double(p.step), p.value])
                steps.append(Double(p.step))
                values.append(p.value)
                if p.value != 0 && p.value.isFinite { allZero = false }
            }
            data.endBlock()
            if s.isZero { zero += 1 } else { routed += 1 }
        }
    }

    /// Axis ranges (fixed only where every value is equal) and `plot` over every block; an
    /// empty group is left out.
    func plotCommand() -> String {
        let file = quoted(data.name)
        let ranges = "set xrange \(flatRange(steps) ?? "[*:*]")\nset yrange \(flatRange(values) ?? "[*:*]")\n"
        var terms: [String] = []
        if routed > 0 {
            terms.append("for [i=0:\(routed - 1)] \(file) index i using 1:2 with lines lc rgb '#600072B2' lw 0.8 "
                         + "title (i == 0 ? '\(routed) routed experts' : '')")
        }
        if zero > 0 {
            terms.append("for [i=\(routed):\(routed + zero - 1)] \(file) index i using 1:2 with lines lc rgb '#40D55E00' lw 0.8 "
                         + "title (i == \(routed) ? '\(zero) zero experts' : '')")
        }
        return ranges + "plot " + terms.joined(separator: ", \\\n     ") + "\n"
    }
}
