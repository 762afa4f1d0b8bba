import Foundation

/// A Jupyter notebook in nbformat 4.5: markdown and code cells, written as the JSON that
/// Jupyter reads (sources as lists of lines, code cells without outputs, cell ids).
public struct Notebook: Sendable {
    /// One cell.
    public struct Cell: Sendable, Equatable {
        public enum Kind: String, Sendable { case markdown, code }
        public var kind: Kind
        public var source: String

        public static func markdown(_ s: String) -> Cell { Cell(kind: .markdown, source: s) }
        public static func code(_ s: String) -> Cell { Cell(kind: .code, source: s) }
    }

    public var cells: [Cell] = []

    public init(cells: [Cell] = []) { self.cells = cells }

    /// The notebook as a JSON object: `nbformat` 4, `nbformat_minor` 5, a Python 3 kernelspec,
    /// cells with ids `cell-0`, `cell-1`, ...
    public var jsonObject: [String: Any] {
        let cellObjects: [[String: Any]] = cells.enumerated().map { i, cell in
            var o: [String: Any] = ["id": "cell-\(i)", "cell_type": cell.kind.rawValue, "metadata": [String: Any](),
                                    "source": Self.lines(cell.source)]
            if cell.kind == .code {
                o["outputs"] = [Any]()
                o["execution_count"] = NSNull()
            }
            return o
        }
        return [
            "nbformat": 4, "nbformat_minor": 5,
            "metadata": [
                "kernelspec": ["name": "python3", "display_name": "Python 3", "language": "python"],
                "language_info": ["name": "python"],
            ] as [String: Any],
            "cells": cellObjects,
        ]
    }

    /// Pretty-printed JSON with sorted keys, as Jupyter writes it.
    public func data() throws -> Data {
        try JSONSerialization.data(withJSONObject: jsonObject, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// nbformat's multiline string: every line keeps its `\n` except the last.
    static func lines(_ s: String) -> [String] {
        var out: [String] = []
        var current = ""
        for c in s {
            current.append(c)
            if c == "\n" { out.append(current); current = "" }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
