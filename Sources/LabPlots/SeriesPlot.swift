/// A line chart over steps: one curve per series (run, layer, ...), optionally a moving average
/// over faint raw values, a shaded band (spread), and dashed reference lines (targets).
struct SeriesPlot {
    /// One curve.
    struct Series {
        var title: String
        /// Palette entry (colour).
        var colour: Int
        /// gnuplot dash type: 1 solid, 2 dashed, 3 dotted...
        var dash = 1
        var x: [Double]
        var y: [Double]
        /// Lower and upper edge of a shaded band around the curve, same length as `x`.
        var band: (lo: [Double], hi: [Double])? = nil
        /// Points joined by a thin line (sparse values such as evaluation losses).
        var markers = false
    }

    var name: String
    var title: String
    var xlabel = "training step"
    var ylabel: String
    var series: [Series] = []
    /// Moving-average weight; 0 draws raw values at full strength.
    var smoothing = 0.0
    /// Horizontal dashed lines at `value`, titled in the key.
    var references: [(value: Double, title: String)] = []
    var yrange: String? = nil
    var logY = false
    /// Ends the y axis a little above what the curves reach after their first tenth when the
    /// first steps (a loss near ln V) would otherwise squash the rest; the title says so.
    var clipEarlyPeaks = false
    /// Where the key goes; nil: top right, or below the plot when it holds more than three
    /// entries (which would cover the curves).
    var keyPosition: String? = nil
    /// When set, the key names each colour once and each dash once instead of every curve:
    /// for curves that cross two factors (e.g. layer-module groups by colour, runs by dash),
    /// whose product would not fit in a key.
    var factoredKey: (colours: [(colour: Int, title: String)], dashes: [(dash: Int, title: String)])? = nil
    /// Extra lines before `plot` (labels, arrows).
    var extra = ""

    /// The axis top that shows the bulk of the curves, or nil when the early values stay
    /// within twice the later range above it.
    static func clippedTop(_ series: [Series]) -> Double? {
        var later: [Double] = [], all: [Double] = []
        for s in series {
            guard let first = s.x.first, let last = s.x.last else { continue }
            let cut = first + (last - first) / 10
            for (x, y) in zip(s.x, s.y) where y.isFinite {
                all.append(y)
                if x > cut { later.append(y) }
            }
        }
        guard let lo = later.min(), let hi = later.max(), let top = all.max(), hi > lo else { return nil }
        return top > hi + 2 * (hi - lo) ? hi + 0.3 * (hi - lo) : nil
    }

    func spec() -> FigureSpec {
        var data = DataFile(name: name + ".dat", columns: ["x", "y", "moving_average", "band_lo", "band_hi"],
                            note: "one block per curve, in key order: " + series.map(\.title).joined(separator: " | "))
        for s in series {
            let avg = smoothing > 0 && !s.markers ? movingAverage(s.y, weight: smoothing) : s.y
            for i in s.x.indices {
                data.row([s.x[i], s.y[i], avg[i], s.band?.lo[i] ?? .nan, s.band?.hi[i] ?? .nan])
            }
            data.endBlock()
        }
        var body = "set xlabel \(quoted(xlabel))\nset ylabel \(quoted(ylabel))\n"
        let keyTitles = (factoredKey.map { $0.colours.map(\.title) + $0.dashes.map(\.title) } ?? series.map(\.title))
            + references.map(\.title)
        let entries = keyTitles.count
        if let keyPosition {
            body += "set key \(keyPosition)\n"
        } else if entries > 3 {
            // Under the x label, in as many columns as the titles allow (at ~6.5 px a character
            // in an 800 px image); the bottom margin makes room for the rows.
            let longest = keyTitles.map(\.count).max() ?? 0
            let columns = longest > 45 ? 1 : longest > 24 || entries <= 8 ? 2 : 3
            body += "set key below maxcols \(columns)\nset bmargin \(4 + (entries + columns - 1) / columns)\n"
        } else {
            body += "set key top right\n"
        }
        var title = title
        var yrange = yrange
        if clipEarlyPeaks, yrange == nil, let top = Self.clippedTop(series) {
            yrange = "[*:\(DataFile.number(top))]"
            title += " (first steps above the axis)"
        }
        if let yrange { body += "set yrange \(yrange)\n" } else if let flat = flatRange(series.flatMap { $0.y + ($0.band?.lo ?? []) + ($0.band?.hi ?? []) } + references.map(\.value)) {
            body += "set yrange \(flat)\n"
        }
        if let flat = flatRange(series.flatMap(\.x)) { body += "set xrange \(flat)\n" }
        if logY { body += "set logscale y\n" }
        body += extra
        let file = quoted(data.name)
        var terms: [String] = []
        let factored = factoredKey != nil
        for (i, s) in series.enumerated() {
            let lt = Palette.lineType(s.colour)
            let key = factored ? "notitle" : "title \(quoted(s.title))"
            if s.band != nil {
                terms.append("\(file) index \(i) using 1:4:5 with filledcurves lc rgb '\(Palette.colour(s.colour, alpha: 0xC8))' notitle")
            }
            if s.markers {
                terms.append("\(file) index \(i) using 1:2 with linespoints lt \(lt) dt \(s.dash) lw 1.2 pt 7 ps 0.8 \(key)")
            } else if smoothing > 0 {
                terms.append("\(file) index \(i) using 1:2 with lines lc rgb '\(Palette.colour(s.colour, alpha: 0x98))' lw 0.6 notitle")
                terms.append("\(file) index \(i) using 1:3 with lines lt \(lt) dt \(s.dash) lw 2 \(key)")
            } else {
                terms.append("\(file) index \(i) using 1:2 with lines lt \(lt) dt \(s.dash) lw 1.6 \(key)")
            }
        }
        if let factoredKey {
            // Key-only entries: NaN draws nothing but shows its line style in the key.
            for c in factoredKey.colours {
                terms.append("NaN with lines lt \(Palette.lineType(c.colour)) dt 1 lw 2 title \(quoted(c.title))")
            }
            for d in factoredKey.dashes {
                terms.append("NaN with lines lc rgb '\(Palette.reference)' dt \(d.dash) lw 2 title \(quoted(d.title))")
            }
        }
        for r in references {
            terms.append("\(DataFile.number(r.value)) with lines lc rgb '\(Palette.reference)' dt 2 lw 1.4 title \(quoted(r.title))")
        }
        body += "plot " + terms.joined(separator: ", \\\n     ") + "\n"
        return FigureSpec(name: name, title: title, body: body, data: [data])
    }
}

/// A range around values that are all equal (a constant learning rate, a one-step run),
/// where gnuplot's autoscale would warn of an empty range; nil otherwise.
func flatRange(_ values: [Double]) -> String? {
    let finite = values.filter(\.isFinite)
    guard let lo = finite.min(), let hi = finite.max(), lo == hi else { return nil }
    let d = lo == 0 ? 1 : abs(lo) * 0.1
    return "[\(DataFile.number(lo - d)):\(DataFile.number(hi + d))]"
}
