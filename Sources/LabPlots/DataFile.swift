import Foundation

/// A whitespace-separated gnuplot data file, built row by row, with a header comment naming
/// the columns. Blocks (`index` in gnuplot) are separated by two blank lines, scans of a grid
/// (`with image`) by one.
struct DataFile {
    var name: String
    private(set) var text: String
    private(set) var rows = 0

    init(name: String, columns: [String], note: String? = nil) {
        self.name = name
        text = note.map { "# \($0)\n" } ?? ""
        text += "# " + columns.joined(separator: " ") + "\n"
    }

    /// One row of numbers; NaN and infinities are written `NaN`, which the script reads as missing.
    mutating func row(_ values: [Double]) {
        text += values.map(Self.number).joined(separator: " ") + "\n"
        rows += 1
    }

    /// One row of pre-formatted fields (a quoted label then numbers, for bar charts).
    mutating func row(fields: [String]) {
        text += fields.joined(separator: " ") + "\n"
        rows += 1
    }

    /// Starts the next block (`index` i+1).
    mutating func endBlock() { text += "\n\n" }

    /// Starts the next scan line of a grid (`with image`).
    mutating func endScan() { text += "\n" }

    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "NaN" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(format: "%.6g", v)
    }

    /// A label field: double-quoted, with quotes inside replaced.
    static func label(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\"", with: "'") + "\""
    }
}

/// A gnuplot single-quoted string literal (a quote inside is doubled).
func quoted(_ s: String) -> String {
    "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
}
