import Foundation
import LabRecords
import Testing
@testable import LabPlots

/// Every figure kind drawn from the fixture database: images exist, are real PNGs of the asked
/// size, and gnuplot said nothing (the renderer throws on any stderr output).
@Suite("Figures")
struct FigureTests {
    /// Guards against a figure kind that silently draws nothing or fails in gnuplot for one run.
    @Test(arguments: FigureKind.allCases)
    func everyKindDrawsANonEmptyImageForOneRun(kind: FigureKind) throws {
        let out = Fixture.outputDirectory(kind.rawValue)
        let figures = try Plotter(store: Fixture.store()).plot(kind, runs: ["pid-s1"], options: PlotOptions(outputDirectory: out))
        #expect(!figures.isEmpty)
        for f in figures {
            let size = try #require(pngSize(f.image), "\(f.image) is not a PNG")
            #expect(size.width == 800)
            #expect(size.height >= 500)
            #expect(FileManager.default.fileExists(atPath: f.script))
            #expect(!f.dataFiles.isEmpty && f.dataFiles.allSatisfy { FileManager.default.fileExists(atPath: $0) })
            let bytes = try #require(FileManager.default.attributesOfItem(atPath: f.image)[.size] as? Int)
            #expect(bytes > 5000, "\(f.image) is suspiciously small: \(bytes) bytes")
        }
    }

    /// Guards against a kind that works for one run but breaks when runs are overlaid, and
    /// against two runs' per-run figures overwriting each other.
    @Test(arguments: FigureKind.allCases)
    func everyKindDrawsForTwoRuns(kind: FigureKind) throws {
        let out = Fixture.outputDirectory(kind.rawValue + "-2")
        let figures = try Plotter(store: Fixture.store()).plot(kind, runs: ["pid-s1", "none-s1"],
                                                               options: PlotOptions(outputDirectory: out))
        #expect(Set(figures.map(\.image)).count == figures.count, "two figures share a file name")
        for f in figures { #expect(pngSize(f.image) != nil, "\(f.image)") }
        let perRun = figures.filter { $0.name.hasSuffix("-pid-s1") || $0.name.hasSuffix("-none-s1") }
        if [.bias, .expertLoad].contains(kind) || kind == .activatedParams {
            #expect(perRun.count >= 2, "per-run figures must carry the run name: \(figures.map(\.name))")
        }
    }

    /// Guards against gnuplot's "empty range" and "image grid must be at least 2 x 2" on a run
    /// that recorded one step (the heat maps are one column wide, every curve one point).
    @Test(arguments: FigureKind.allCases)
    func everyKindDrawsForAOneStepRun(kind: FigureKind) throws {
        let out = Fixture.outputDirectory(kind.rawValue + "-1")
        if kind == .churn {   // churn compares two evaluations: one recorded step has none to draw
            let error = #expect(throws: PlotError.self) {
                try Plotter(store: Fixture.store()).plot(kind, runs: ["one-step"], options: PlotOptions(outputDirectory: out))
            }
            #expect(error?.message.contains("one evaluation only") == true, "\(error?.message ?? "")")
            return
        }
        let figures = try Plotter(store: Fixture.store()).plot(kind, runs: ["one-step"], options: PlotOptions(outputDirectory: out))
        for f in figures { #expect(pngSize(f.image) != nil, "\(f.image)") }
    }

    /// Guards against blank stripes and empty loss axes on controller-simulator runs, which
    /// record expert rows every n-th step and no losses: the load strip has one column per
    /// recorded step, and the loss figure says why it cannot be drawn.
    @Test func simulationRunsDrawTheirRoutingFigures() throws {
        let plotter = try Plotter(store: Fixture.store())
        for kind in [FigureKind.activatedParams, .ffnExperts, .bias, .zeroShare, .expertLoad] {
            let figures = try plotter.plot(kind, runs: ["sim"], options: PlotOptions(outputDirectory: Fixture.outputDirectory("sim")))
            for f in figures { #expect(pngSize(f.image) != nil, "\(f.image)") }
            if let strip = figures.first(where: { $0.name == "expert-load-strip-layer0" }) {
                let text = try String(contentsOfFile: strip.dataFiles[0], encoding: .utf8)
                #expect(text.contains("steps recorded every 5"))
                #expect(!text.contains("NaN"), "a recorded column is blank")
            }
        }
        let error = #expect(throws: PlotError.self) {
            try plotter.plot(.loss, runs: ["sim"], options: PlotOptions(outputDirectory: Fixture.outputDirectory()))
        }
        #expect(error?.message.contains("'sim' recorded no finite loss") == true, "\(error?.message ?? "")")
        let both = try plotter.plot(.loss, runs: ["pid-s1", "sim"], options: PlotOptions(outputDirectory: Fixture.outputDirectory()))
        #expect(both.map(\.name) == ["loss", "throughput"])
        let table = try Comparison(store: Fixture.store(), runs: ["pid-s1", "sim"]).table()
        #expect(table.split(separator: "\n")[3].hasPrefix("sim ") && !table.contains("nan"), "\(table)")
    }

    /// Guards against per-label evaluation losses (stored beside the variance statistics)
    /// turning into variance figures named after the labels.
    @Test func varianceFiguresLeaveOutPerLabelEvaluationRows() throws {
        let figures = try Plotter(store: Fixture.store()).plot(.variance, runs: ["none-s1"],
                                                               options: PlotOptions(outputDirectory: Fixture.outputDirectory("labels")))
        let names = figures.map(\.name)
        #expect(names.contains("variance-step0-variance"))
        #expect(!names.contains { $0.hasSuffix("-easy") || $0.hasSuffix("-hard") }, "\(names)")
    }

    /// The figure names are stable: scripts, README and reports refer to them.
    @Test func fileNamesAreStable() throws {
        let out = Fixture.outputDirectory("names")
        let store = try Fixture.store()
        let (figures, skipped) = try Plotter(store: store).plotAll(runs: ["pid-s1"], options: PlotOptions(outputDirectory: out))
        #expect(skipped.isEmpty, "\(skipped)")
        let names = Set(figures.map(\.name))
        for expected in ["activated-params", "activated-params-steps", "ffn-experts", "bias-layer0", "bias-terms-layer0",
                         "zero-share", "expert-load-step39", "expert-load-strip-layer0", "max-vio", "loss", "throughput",
                         "variance-step0-variance", "variance-steps-variance", "variance-step0-grad_rms", "allocation", "churn"] {
            #expect(names.contains(expected), "missing \(expected) in \(names.sorted())")
        }
    }

    /// Guards against scripts that only work from the lab's working directory: the kept script
    /// redraws the image from its own folder.
    @Test func keptScriptRedrawsTheImageFromItsFolder() throws {
        let out = Fixture.outputDirectory("redraw")
        let f = try #require(try Plotter(store: Fixture.store()).plot(.zeroShare, runs: ["pid-s1"],
                                                                      options: PlotOptions(outputDirectory: out)).first)
        try FileManager.default.removeItem(atPath: f.image)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["gnuplot", "zero-share.gp"]
        p.currentDirectoryURL = URL(fileURLWithPath: out)
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(pngSize(f.image) != nil)
    }

    /// SVG and PDF come out as what they claim to be.
    @Test(arguments: [ImageFormat.svg, .pdf])
    func otherFormats(format: ImageFormat) throws {
        var options = PlotOptions(outputDirectory: Fixture.outputDirectory(format.rawValue))
        options.format = format
        let figures = try Plotter(store: Fixture.store()).plot(.loss, runs: ["pid-s1", "none-s1"], options: options)
        for f in figures {
            #expect(f.image.hasSuffix("." + format.rawValue))
            let head = String(decoding: try #require(FileManager.default.contents(atPath: f.image)).prefix(200), as: UTF8.self)
            #expect(head.contains(format == .svg ? "<svg" : "%PDF"), "\(f.image)")
        }
    }

    /// Guards against plotting the wrong column or run: the zero-share data holds exactly the
    /// stored `zero_expert_share` of each layer, by step.
    @Test func zeroShareDataHoldsTheStoredValues() throws {
        let store = try Fixture.store()
        let out = Fixture.outputDirectory("zero")
        let f = try #require(try Plotter(store: store).plot(.zeroShare, runs: ["none-s1"], options: PlotOptions(outputDirectory: out)).first)
        let id = try #require(try store.runID(named: "none-s1"))
        for layer in 0..<Fixture.layers {
            let stored = try store.layerSteps(runID: id, layer: layer)
            let drawn = try dataBlock(f.dataFiles[0], index: layer)
            #expect(drawn.map { Int($0[0]) } == stored.map(\.step))
            for (d, s) in zip(drawn, stored) { #expect(abs(d[1] - s.zeroExpertShare) < 1e-5) }
        }
        let script = try String(contentsOfFile: f.script, encoding: .utf8)
        #expect(script.contains("target 1 - K_e/K = 0.5"), "the target line 1 - K_e/K is missing")
    }

    /// The histogram's bars of one run are shares of that run's tokens in the window: they sum
    /// to 100, and the target line sits at the parameters of K_e x layers FFN experts.
    @Test func histogramSharesSumToOneHundredAndTargetSitsAtKe() throws {
        var options = PlotOptions(outputDirectory: Fixture.outputDirectory("hist"))
        options.window = 30...39
        let figures = try Plotter(store: Fixture.store()).plot(.activatedParams, runs: ["pid-s1"], options: options)
        let hist = try #require(figures.first { $0.name == "activated-params" })
        let rows = try dataBlock(hist.dataFiles[0], index: 0)
        #expect(abs(rows.map { $0[1] }.reduce(0, +) - 100) < 1e-3)
        // params(c) = 500000 + 25000 c; K_e = 2 per layer x 2 layers = 4 -> 600000 = 600 thousand.
        let script = try String(contentsOfFile: hist.script, encoding: .utf8)
        #expect(script.contains("set arrow from 600, graph 0 to 600, graph 1"), "target not at 600k:\n\(script)")
        #expect(script.contains("steps 30-39"))
    }

    /// Legends name runs by the config keys that tell them apart, not by opaque names.
    @Test func legendsNameRunsByTheirDistinguishingKeys() throws {
        let out = Fixture.outputDirectory("legend")
        let f = try #require(try Plotter(store: Fixture.store()).plot(.ffnExperts, runs: ["pid-s1", "none-s1"],
                                                                      options: PlotOptions(outputDirectory: out)).first)
        let script = try String(contentsOfFile: f.script, encoding: .utf8)
        #expect(script.contains("controller.kind=pid, layer 0"))
        #expect(script.contains("controller.kind=none, layer 1"))
        #expect(script.contains("target K_e = 2"))
    }

    /// `--layer` keeps one layer; the bias figure of layer 1 reads layer 1's rows.
    @Test func layerOptionSelectsTheLayer() throws {
        var options = PlotOptions(outputDirectory: Fixture.outputDirectory("layer"))
        options.layer = 1
        let store = try Fixture.store()
        let figures = try Plotter(store: store).plot(.bias, runs: ["pid-s1"], options: options)
        #expect(figures.map(\.name) == ["bias-layer1", "bias-terms-layer1"])
        let id = try #require(try store.runID(named: "pid-s1"))
        let stored = try store.query("SELECT bias FROM expert_steps WHERE run_id = ?1 AND layer = 1 AND expert = 0 ORDER BY step",
                                     [.integer(id)]).map { $0[0].double! }
        let drawn = try dataBlock(figures[0].dataFiles[0], index: 0).map { $0[1] }
        #expect(drawn.count == stored.count)
        for (d, s) in zip(drawn, stored) { #expect(abs(d - s) < 1e-6 * max(1, abs(s))) }
    }

    /// The allocation figure groups unlabelled byte tokens by class and labelled ones by label.
    @Test func allocationGroupsByLabelOrByteClass() throws {
        let plotter = try Plotter(store: Fixture.store())
        let classes = try plotter.plot(.allocation, runs: ["pid-s1"], options: PlotOptions(outputDirectory: Fixture.outputDirectory("a1")))
        let labels = try plotter.plot(.allocation, runs: ["none-s1"], options: PlotOptions(outputDirectory: Fixture.outputDirectory("a2")))
        let classData = try String(contentsOfFile: classes[0].dataFiles[0], encoding: .utf8)
        let labelData = try String(contentsOfFile: labels[0].dataFiles[0], encoding: .utf8)
        for group in ["letter-word-start", "letter-word-continuation", "whitespace", "punctuation", "digit-word-start"] {
            #expect(classData.contains("\"\(group) ("), "missing \(group)")
        }
        #expect(labelData.contains("\"easy (") && labelData.contains("\"hard ("))
        #expect(!labelData.contains("whitespace"))
    }
}
