import LabRecords

/// `allocation`: how many FFN experts tokens of each kind received, from the sampled tokens of
/// one evaluation step (`token_samples`; `--step`, default the last sampled step). Tokens are
/// grouped by their difficulty label (synthetic corpora) or, when unlabelled, by byte class.
extension FigureContext {
    func allocationFigure() throws -> FigureSpec {
        /// One bar series; several layers of one run share its colour and fade layer by layer.
        struct Column { var title: String; var colour: Int; var density: Double; var stats: [String: (mean: Double, std: Double, n: Int)] }
        var columns: [Column] = []
        var groups: [String] = []
        var steps: [Int] = []
        for run in runs {
            let (step, rows) = try records(run).tokenSamples(step: options.step)
            steps.append(step)
            let classes = TokenClassifier(rows)
            let layerList = options.layer.map { [$0] } ?? Array(Set(rows.map(\.layer))).sorted()
            if let l = options.layer, !rows.contains(where: { $0.layer == l }) {
                throw PlotError("run '\(run.name)' has no token samples of layer \(l) at step \(step)")
            }
            for (position, layer) in layerList.enumerated() {
                var byGroup: [String: [Double]] = [:]
                for r in rows where r.layer == layer {
                    byGroup[classes.group(of: r), default: []].append(Double(r.ffnExperts))
                }
                for g in byGroup.keys where !groups.contains(g) { groups.append(g) }
                let stats = byGroup.mapValues { xs -> (Double, Double, Int) in
                    let m = xs.reduce(0, +) / Double(xs.count)
                    let v = xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count)
                    return (m, v.squareRoot(), xs.count)
                }
                let detail = layerList.count > 1 || options.layer != nil ? "layer \(layer)" : nil
                columns.append(Column(title: seriesTitle(run, detail), colour: single ? layer : run.colour,
                                      density: single ? 0.75 : 0.85 - 0.5 * Double(position) / Double(max(1, layerList.count - 1)),
                                      stats: stats))
            }
        }
        groups = TokenClassifier.ordered(groups)
        let top = max(targets.max() ?? 0, columns.flatMap { $0.stats.values.map { $0.mean + $0.std } }.max() ?? 1)
        var data = DataFile(name: "allocation.dat",
                            columns: ["group"] + columns.indices.flatMap { ["mean_\($0)", "std_\($0)", "tokens_\($0)"] },
                            note: "columns per series: " + columns.map(\.title).joined(separator: " | "))
        for g in groups {
            let n = columns.first?.stats[g]?.n ?? 0
            var fields = [DataFile.label("\(g) (\(n))")]
            for c in columns {
                let s = c.stats[g]
                fields += [DataFile.number(s?.mean ?? .nan), DataFile.number(s?.std ?? .nan), String(s?.n ?? 0)]
            }
            data.row(fields: fields)
        }
        var body = """
            set style data histograms
            set style histogram errorbars gap 1 lw 1
            set style fill solid 0.75 border rgb '#333333'
            set boxwidth 0.9
            set ylabel 'FFN experts per token and layer (mean, bar = ±1 std)'
            set xlabel 'token group (tokens sampled per layer)'
            set xtics rotate by -25 left
            set yrange [0:\(DataFile.number((top * 1.45 * 2).rounded(.up) / 2))]
            set grid noxtics
            set key top right

            """
        var terms = columns.enumerated().map { i, c in
            "\(quoted(data.name)) using \(3 * i + 2):\(3 * i + 3)\(i == 0 ? ":xtic(1)" : "") lt \(Palette.lineType(c.colour)) fs solid \(short(c.density)) title \(quoted(c.title))"
        }
        for ke in targets {
            body += "set arrow from graph 0, first \(DataFile.number(ke)) to graph 1, first \(DataFile.number(ke)) nohead lc rgb '\(Palette.reference)' dt 2 lw 1.5 front\n"
            terms.append("keyentry with lines lc rgb '\(Palette.reference)' dt 2 lw 1.5 title \(quoted("target K_e = \(short(ke))"))")
        }
        body += "plot " + terms.joined(separator: ", \\\n     ") + "\n"
        let at = Set(steps).count == 1 ? "step \(steps[0])" : "each run's last sampled step"
        return FigureSpec(name: "allocation", title: title("FFN experts by token group, \(at)"), body: body, data: [data])
    }
}

/// Groups sampled tokens by difficulty label, or else by byte class (the lab's byte tokenizer:
/// letter or digit opening or continuing a word, whitespace, punctuation, other), using the
/// previous sampled position of the same sequence to tell word starts.
struct TokenClassifier {
    /// Byte-class names, in display order.
    static let classNames = ["letter-word-start", "letter-word-continuation", "digit-word-start",
                             "digit-word-continuation", "whitespace", "punctuation", "other"]
    private var tokens: [Int: Int] = [:]

    init(_ rows: [TokenSampleRow]) {
        for r in rows { tokens[Self.key(r.sample, r.position)] = r.token }
    }

    func group(of r: TokenSampleRow) -> String {
        if let label = r.label, !label.isEmpty { return label }
        let category = Self.category(r.token)
        guard category == "letter" || category == "digit" else { return category }
        // A word starts at position 0 or after a byte that is neither letter nor digit.
        let previous = r.position == 0 ? nil : tokens[Self.key(r.sample, r.position - 1)]
        let starts = r.position == 0 || previous.map { !["letter", "digit"].contains(Self.category($0)) } ?? false
        return category + (starts ? "-word-start" : "-word-continuation")
    }

    /// Byte classes first in their fixed order, then labels alphabetically.
    static func ordered(_ groups: [String]) -> [String] {
        classNames.filter(groups.contains) + groups.filter { !classNames.contains($0) }.sorted()
    }

    static func category(_ token: Int) -> String {
        switch token {
        case 0x61...0x7A, 0x41...0x5A, 0x80...0xFF: return "letter"
        case 0x30...0x39: return "digit"
        case 0x09...0x0D, 0x20: return "whitespace"
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return "punctuation"
        default: return "other"
        }
    }

    private static func key(_ sample: Int, _ position: Int) -> Int { sample << 32 | position }
}
