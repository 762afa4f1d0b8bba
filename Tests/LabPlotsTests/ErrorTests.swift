import Foundation
import LabRecords
import Testing
@testable import LabPlots

/// What a user can get wrong gives a message naming it, and no empty picture.
@Suite("Plot errors")
struct ErrorTests {
    /// A typo in a run name lists the runs that exist.
    @Test func missingRunListsTheRuns() throws {
        let error = #expect(throws: PlotError.self) {
            try Plotter(store: Fixture.store()).plot(.loss, runs: ["pid-s1", "pid-s9"],
                                                     options: PlotOptions(outputDirectory: Fixture.outputDirectory()))
        }
        let message = error?.message ?? ""
        #expect(message.contains("'pid-s9'") && message.contains("pid-s1, none-s1, pid-s2, one-step, sim, bare"), "\(message)")
    }

    @Test func unknownKindListsTheKinds() {
        let error = #expect(throws: PlotError.self) { try FigureKind(parsing: "heatmap") }
        #expect(error?.message.contains("'heatmap'") == true)
        for k in FigureKind.allCases { #expect(error?.message.contains(k.rawValue) == true) }
    }

    /// Guards against drawing an empty axis for a run that recorded no rows of the table.
    @Test(arguments: [FigureKind.activatedParams, .ffnExperts, .bias, .zeroShare, .expertLoad, .variance, .allocation, .churn])
    func emptyTableNamesTheTableAndDrawsNothing(kind: FigureKind) throws {
        let out = Fixture.outputDirectory("empty")
        let error = #expect(throws: PlotError.self) {
            try Plotter(store: Fixture.store()).plot(kind, runs: ["bare"], options: PlotOptions(outputDirectory: out))
        }
        let message = error?.message ?? ""
        #expect(message.contains("'bare'") && message.contains("no rows in table"), "\(message)")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        #expect(!written.contains { $0.hasSuffix(".png") }, "an image was written: \(written)")
    }

    @Test func layerOutOfRangeNamesTheLayers() throws {
        var options = PlotOptions(outputDirectory: Fixture.outputDirectory())
        options.layer = 7
        let error = #expect(throws: PlotError.self) { try Plotter(store: Fixture.store()).plot(.ffnExperts, runs: ["pid-s1"], options: options) }
        #expect(error?.message.contains("no layer 7; its layers are 0...1") == true, "\(error?.message ?? "")")
    }

    @Test func snapshotStepWithoutRowsNamesTheLastStep() throws {
        var options = PlotOptions(outputDirectory: Fixture.outputDirectory())
        options.step = 400
        let error = #expect(throws: PlotError.self) { try Plotter(store: Fixture.store()).plot(.expertLoad, runs: ["pid-s1"], options: options) }
        #expect(error?.message.contains("last recorded step is 39") == true, "\(error?.message ?? "")")
    }

    @Test func badSmoothingIsRefused() throws {
        var options = PlotOptions(outputDirectory: Fixture.outputDirectory())
        options.smoothing = 1
        #expect(throws: PlotError.self) { try Plotter(store: Fixture.store()).plot(.loss, runs: ["pid-s1"], options: options) }
    }

    /// Guards against a gnuplot error passing as a figure: any stderr output fails the figure
    /// and the message quotes gnuplot and names the kept script.
    @Test func gnuplotErrorIsReported() throws {
        let out = Fixture.outputDirectory("bad")
        let spec = FigureSpec(name: "broken", title: "broken", body: "plot 'no-such-file.dat' using 1:2 with lines\n", data: [])
        let error = #expect(throws: PlotError.self) {
            try Gnuplot().render(spec, options: PlotOptions(outputDirectory: out), source: "test")
        }
        let message = error?.message ?? ""
        #expect(message.contains("no-such-file.dat") && message.contains("broken.gp"), "\(message)")
    }
}
