import Foundation
import LabRecords

/// `export html`: one self-contained HTML page per run or comparison: the comparison table,
/// each run's config, and every figure with its images embedded (base64), so the page can be
/// mailed or archived alone.
public struct HTMLReport: Sendable {
    public let store: RecordStore
    public var gnuplot = "gnuplot"

    public init(store: RecordStore) { self.store = store }

    /// Draws every figure kind with data (and, for several runs, the comparison overlays of
    /// `metrics`) into `options.outputDirectory`, then writes `report.html` there; returns its
    /// path. PNG or SVG only (browsers do not show embedded PDF images).
    public func write(runs names: [String], options: PlotOptions,
                      metrics: [CompareMetric] = CompareMetric.defaults) throws -> String {
        guard options.format != .pdf else { throw PlotError("an HTML report embeds png or svg images, not pdf; use --format png or svg") }
        var plotter = Plotter(store: store)
        plotter.gnuplot = gnuplot
        let (figures, skipped) = try plotter.plotAll(runs: names, options: options)
        let comparison = try Comparison(store: store, runs: names)
        let overlays = names.count > 1 ? try comparison.overlays(metrics: metrics, options: options, gnuplot: gnuplot) : []
        let set = comparison.runSet
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <title>LongCat Lab: \(escape(set.runs.map(\.name).joined(separator: ", ")))</title>
            <style>
            body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }
            pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: 85%; }
            figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
            figcaption { font-size: 90%; color: #555; } code { font-size: 90%; }
            </style></head><body>
            <h1>LongCat Lab: \(escape(set.runs.map(\.name).joined(separator: " vs ")))</h1>
            <p>Records from <code>\(escape(set.databasePath))</code>. Each figure's gnuplot script and data sit
            beside its image in <code>\(escape(options.outputDirectory))</code>.</p>
            <h2>Runs and final metrics</h2>
            <pre>\(escape(comparison.table()))</pre>

            """
        for run in set.runs {
            let toml = try store.run(id: run.id)?.configTOML ?? "(no config recorded)"
            html += "<details><summary>Config of <code>\(escape(run.name))</code></summary><pre>\(escape(toml))</pre></details>\n"
        }
        if !overlays.isEmpty {
            html += "<h2>Comparison</h2>\n"
            for f in overlays { html += try figureHTML(f) }
        }
        html += "<h2>Figures</h2>\n"
        for f in figures { html += try figureHTML(f) }
        if !skipped.isEmpty {
            html += "<h2>Not drawn</h2><ul>\n"
            for (kind, reason) in skipped { html += "<li><code>\(kind.rawValue)</code>: \(escape(reason))</li>\n" }
            html += "</ul>\n"
        }
        html += "</body></html>\n"
        let path = options.outputDirectory + "/report.html"
        do { try html.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw PlotError("cannot write '\(path)': \(error.localizedDescription)")
        }
        return path
    }

    func figureHTML(_ f: RenderedFigure) throws -> String {
        guard let data = FileManager.default.contents(atPath: f.image) else { throw PlotError("cannot read '\(f.image)'") }
        let mime = f.image.hasSuffix(".svg") ? "image/svg+xml" : "image/png"
        return """
            <figure><img alt="\(escape(f.title))" src="data:\(mime);base64,\(data.base64EncodedString())">
            <figcaption>\(escape(f.title)) (<code>\(escape(URL(fileURLWithPath: f.script).lastPathComponent))</code>)</figcaption></figure>

            """
    }

    func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
