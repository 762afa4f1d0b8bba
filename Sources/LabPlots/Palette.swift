import Foundation

/// The lab's colours: one palette for every figure, so run 1 is the same blue everywhere.
///
/// Lines use the Okabe-Ito colours, which stay distinguishable for the common forms of colour
/// blindness; heat maps use a viridis-like sequential scale (dark = small, yellow = large).
enum Palette {
    /// Line colours, `linetype` 1...8 of every script.
    static let lines = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#B8A000"]
    /// Target and reference lines.
    static let reference = "#444444"
    /// Zero (identity) experts in per-expert figures.
    static let zeroExperts = "#D55E00"
    /// Routed (FFN) experts in per-expert figures.
    static let routedExperts = "#0072B2"

    /// The gnuplot linetype of palette entry `i` (1-based, cycling).
    static func lineType(_ i: Int) -> Int { i % lines.count + 1 }

    /// Colour of palette entry `i` with `alpha` (0 opaque ... 255 invisible) as gnuplot's `#AARRGGBB`.
    static func colour(_ i: Int, alpha: Int = 0) -> String {
        let hex = lines[i % lines.count].dropFirst()
        return "#" + String(format: "%02X", alpha) + hex
    }

    /// Script lines defining linetypes 1...8 and the heat-map palette.
    static var preamble: String {
        var s = ""
        for (i, c) in lines.enumerated() {
            s += "set linetype \(i + 1) lc rgb '\(c)' lw 1.6 pt 7 ps 0.5\n"
        }
        s += "set linetype cycle \(lines.count)\n"
        s += """
            set palette defined (0 '#440154', 1 '#46327E', 2 '#365C8D', 3 '#277F8E', 4 '#1FA187', \
            5 '#4AC16D', 6 '#A0DA39', 7 '#FDE725')

            """
        return s
    }
}
