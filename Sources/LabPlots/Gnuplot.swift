import Foundation

/// Writes a figure's data files and gnuplot script into the output folder and runs gnuplot
/// there, so the script reads its data by relative name and a user can restyle and rerun it
/// (`gnuplot loss.gp`) from that folder.
///
/// Anything gnuplot prints on stderr (an error, or a warning such as "Skipping data file with
/// no valid points") fails the figure: a figure that draws nothing must not pass silently.
struct Gnuplot {
    /// The program, looked up on PATH.
    var executable = "gnuplot"

    func render(_ spec: FigureSpec, options: PlotOptions, source: String) throws -> RenderedFigure {
        let dir = options.outputDirectory
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw PlotError("cannot create output folder '\(dir)': \(error.localizedDescription)")
        }
        let image = "\(spec.name).\(options.format.rawValue)"
        let scriptName = "\(spec.name).gp"
        var dataPaths: [String] = []
        for file in spec.data {
            let path = dir + "/" + file.name
            try write(file.text, to: path)
            dataPaths.append(path)
        }
        let script = header(spec, options: options, image: image, source: source) + spec.body
        let scriptPath = dir + "/" + scriptName
        try write(script, to: scriptPath)
        let imagePath = dir + "/" + image
        try? fm.removeItem(atPath: imagePath)
        try run(scriptName, in: dir, figure: spec.name, scriptPath: scriptPath)
        let size = (try? fm.attributesOfItem(atPath: imagePath)[.size] as? Int) ?? 0
        guard size > 0 else {
            throw PlotError("gnuplot wrote no image for \(spec.name) (\(imagePath) is missing or empty); script: \(scriptPath)")
        }
        return RenderedFigure(name: spec.name, title: spec.title, image: imagePath, script: scriptPath, dataFiles: dataPaths)
    }

    /// Terminal, output, palette, common style and the title.
    func header(_ spec: FigureSpec, options: PlotOptions, image: String, source: String) -> String {
        let w = options.width, h = spec.height ?? options.height
        let terminal: String
        switch options.format {
        case .png: terminal = "pngcairo size \(w),\(h) noenhanced font 'Sans,10' background rgb 'white'"
        case .svg: terminal = "svg size \(w),\(h) dynamic noenhanced font 'Sans,10' background rgb 'white'"
        case .pdf: terminal = String(format: "pdfcairo size %.2fin,%.2fin noenhanced font 'Sans,9'", Double(w) / 100, Double(h) / 100)
        }
        return """
            # \(spec.title)
            # Drawn by longcat-lab from \(source).
            # Data files sit beside this script; rerun it from this folder: gnuplot \(spec.name).gp
            set terminal \(terminal)
            set output \(quoted(image))
            set encoding utf8
            set datafile missing 'NaN'
            \(Palette.preamble)set style fill transparent solid 0.22 noborder
            set grid lc rgb '#e4e4e4' lw 1
            set border 3 lc rgb '#555555'
            set tics nomirror
            set key top right noopaque samplen 2.5 spacing 1.1
            set title \(quoted(spec.title)) font ',11'

            """
    }

    private func run(_ script: String, in dir: String, figure: String, scriptPath: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [executable, script]
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw PlotError("cannot start gnuplot: \(error.localizedDescription); install gnuplot-nox (scripts/setup.sh does)")
        }
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let stderr = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if p.terminationStatus == 127 {
            throw PlotError("gnuplot is not installed (not found on PATH); install gnuplot-nox (scripts/setup.sh does)")
        }
        guard p.terminationStatus == 0 && stderr.isEmpty else {
            throw PlotError("gnuplot reported a problem drawing \(figure) (script \(scriptPath)):\n\(stderr)")
        }
    }

    private func write(_ text: String, to path: String) throws {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw PlotError("cannot write '\(path)': \(error.localizedDescription)")
        }
    }
}
