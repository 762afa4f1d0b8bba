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
