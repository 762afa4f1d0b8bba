import Foundation
import LabRecords

/// `marginal-benefit`: from the rows of `longcat-lab probe` (`probe_tokens`) of one probed
/// checkpoint (`--step`, default the last probed), the mean marginal benefit in nats per token
/// against the FFN experts the router gave the token in that layer, one pair of curves per
/// layer (`--layer` for one):
///
///   +1: loss - loss(+1)   what one FFN expert more would buy (solid)
///   -1: loss(-1) - loss   what the token's last FFN expert buys (dashed)
///
/// with bars of one standard error over the token rows of the point. A run without probe rows
/// is refused, naming the command that writes them.
extension FigureContext {
    func marginalBenefitFigure() throws -> FigureSpec {
        var data = DataFile(name: "marginal-benefit.dat",
                            columns: ["ffn_experts", "benefit_plus", "se_plus", "n_plus", "benefit_minus", "se_minus", "n_minus"],
                            note: "one block per series (run, layer); nats per token")
        var terms: [String] = [], steps: [Int] = [], block = 0
        for run in runs {
            let (step, rows) = try probeRows(run)
            steps.append(step)
            let layers = Set(rows.map(\.layer)).sorted()
            if let l = options.layer, !layers.contains(l) {
                throw PlotError("run '\(run.name)' has no probe rows of layer \(l) at step \(step); probed layers: "
                    + layers.map(String.init).joined(separator: ", "))
            }
            for layer in layers where options.layer == nil || options.layer == layer {
                let mine = rows.filter { $0.layer == layer }
                for count in Set(mine.map(\.ffnExperts)).sorted() {
                    let at = mine.filter { $0.ffnExperts == count }
                    let plus = meanAndError(at.compactMap { r in r.lossPlus.map { r.loss - $0 } })
                    let minus = meanAndError(at.compactMap { r in r.lossMinus.map { $0 - r.loss } })
                    data.row([Double(count), plus.mean, plus.error, Double(plus.n), minus.mean, minus.error, Double(minus.n)])
                }
                data.endBlock()
                let colour = single ? layer : run.colour * 4 + layer
                let detail = seriesTitle(run, "layer \(layer)")
                let shift = DataFile.number(0.06 * Double(block))
                terms.append("\(quoted(data.name)) index \(block) using ($1+\(shift)):2:3 with yerrorlines lt \(Palette.lineType(colour)) "
                    + "lw 2 pt 7 title \(quoted("\(detail): +1, loss - loss(+1)"))")
                terms.append("\(quoted(data.name)) index \(block) using ($1-\(shift)):5:6 with yerrorlines lt \(Palette.lineType(colour)) "
                    + "dt 2 lw 2 pt 6 title \(quoted("\(detail): -1, loss(-1) - loss"))")
                block += 1
            }
        }
        let body = """
            set xlabel 'FFN experts the router gave the token in the layer'
            set ylabel 'mean marginal benefit (nats per token, bar = 1 s.e.)'
            set xtics 1
            set grid
            set key top right
            set arrow from graph 0, first 0 to graph 1, first 0 nohead lc rgb '\(Palette.reference)' lw 1
            plot \(terms.joined(separator: ", \\\n     "))

            """
        let at = Set(steps).count == 1 ? "checkpoint of step \(steps[0])" : "each run's last probe"
        return FigureSpec(name: "marginal-benefit", title: title("marginal benefit of one FFN expert more or less, \(at)"),
                          body: body, data: [data])
    }

    /// The probe rows of `--step` (default the last probed checkpoint); throws when the run has
    /// none, naming `longcat-lab probe`.
    func probeRows(_ run: PlotRun) throws -> (step: Int, rows: [ProbeTokenRow]) {
        let steps = try store.query("SELECT DISTINCT step FROM probe_tokens WHERE run_id = ?1 ORDER BY step", [.integer(run.id)])
            .compactMap { $0[0].int }
        guard let last = steps.last else {
            throw PlotError("run '\(run.name)' has no rows in table probe_tokens of \(store.path); run "
                + "`longcat-lab probe \(run.name) --db \(store.path)` first, then plot again")
        }
        let step = options.step ?? last
        guard steps.contains(step) else {
            throw PlotError("run '\(run.name)' has no probe of the checkpoint at step \(step); probed steps: "
                + steps.map(String.init).joined(separator: ", "))
        }
        return (step, try store.probeTokens(runID: run.id, step: step))
    }

    /// Mean and standard error of the mean (NaN mean for no values, NaN error for one).
    private func meanAndError(_ xs: [Double]) -> (mean: Double, error: Double, n: Int) {
        guard !xs.isEmpty else { return (.nan, .nan, 0) }
        let m = xs.reduce(0, +) / Double(xs.count)
        guard xs.count > 1 else { return (m, .nan, 1) }
        let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
        return (m, (v / Double(xs.count)).squareRoot(), xs.count)
    }
}
