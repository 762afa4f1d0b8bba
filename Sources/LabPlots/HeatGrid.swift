/// Values on a regular grid for gnuplot's `with image`: column centres `xs`, row centres `ys`
/// (each evenly spaced), `values[column][row]`.
///
/// gnuplot needs at least 2 x 2 points and warns of an empty range for one step or one
/// layer, so a grid one cell wide (or tall) is written twice, half a cell either side, and the
/// axis and colour ranges are set from the cell edges and the largest value.
struct HeatGrid {
    var xs: [Double]
    var ys: [Double]
    var values: [[Double]]

    /// Rows `x y value`, one scan per column.
    func write(into data: inout DataFile) {
        let cx = Self.centres(xs), cy = Self.centres(ys)
        for (i, x) in cx.enumerated() {
            let column = values[xs.count == 1 ? 0 : i]
            for (j, y) in cy.enumerated() { data.row([x, y, column[ys.count == 1 ? 0 : j]]) }
            data.endScan()
        }
    }

    /// `set xrange`, `set yrange` (cell edges), `set cbrange [0:largest]`, and NaN read as a
    /// number, which `with image` leaves blank (as missing data it would break the grid).
    var settings: String {
        let largest = values.joined().filter(\.isFinite).max() ?? 0
        let (x0, x1) = Self.edges(xs), (y0, y1) = Self.edges(ys)
        return """
            set xrange [\(DataFile.number(x0)):\(DataFile.number(x1))]
            set yrange [\(DataFile.number(y0)):\(DataFile.number(y1))]
            set cbrange [0:\(DataFile.number(largest > 0 ? largest : 1))]
            unset datafile missing

            """
    }

    private static func spacing(_ v: [Double]) -> Double { v.count > 1 ? (v[v.count - 1] - v[0]) / Double(v.count - 1) : 1 }

    private static func centres(_ v: [Double]) -> [Double] { v.count == 1 ? [v[0] - 0.25, v[0] + 0.25] : v }

    private static func edges(_ v: [Double]) -> (Double, Double) {
        let h = spacing(v) / 2
        return (v[0] - h, v[v.count - 1] + h)
    }
}

/// The columns of a heat map over training steps. Steps recorded at a regular interval (every
/// step, or every n-th as the controller simulator writes expert rows) map to consecutive
/// columns, the interval being the most common gap; long runs are binned to at most
/// `maxColumns` columns, whose values the caller averages.
struct StepColumns {
    let first: Int
    /// Steps between consecutive recorded steps.
    let spacing: Int
    /// Recorded steps per column.
    let bin: Int
    let count: Int

    init(steps: [Int], maxColumns: Int = 500) {
        let sorted = Set(steps).sorted()
        first = sorted.first ?? 0
        var gaps: [Int: Int] = [:]
        for (a, b) in zip(sorted, sorted.dropFirst()) { gaps[b - a, default: 0] += 1 }
        spacing = gaps.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key ?? 1
        let slots = Int((Double((sorted.last ?? first) - first) / Double(spacing)).rounded()) + 1
        bin = max(1, (slots + maxColumns - 1) / maxColumns)
        count = (slots - 1) / bin + 1
    }

    func column(of step: Int) -> Int {
        min(count - 1, Int((Double(step - first) / Double(spacing)).rounded()) / bin)
    }

    /// The step at the middle of column `c`.
    func centre(_ c: Int) -> Double { Double(first) + (Double(c * bin) + Double(bin - 1) / 2) * Double(spacing) }

    /// For the data file's header.
    var note: String {
        var parts: [String] = []
        if spacing > 1 { parts.append("steps recorded every \(spacing)") }
        if bin > 1 { parts.append("averaged over bins of \(bin) recorded steps") }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: "; ") + ")"
    }
}
