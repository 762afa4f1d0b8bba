import Foundation
import LabRecords
import Testing
@testable import LabPlots

@Suite("Specialisation and marginal-benefit figures")
struct SpecialisationFigureTests {
    /// Guards against a marginal-benefit figure drawn as an empty axis for a run never probed:
    /// the error names the table and the command that fills it, and no image is written.
    @Test func missingProbeRowsNameTheProbeCommand() throws {
        let out = Fixture.outputDirectory("no-probe")
        let error = #expect(throws: PlotError.self) {
            try Plotter(store: Fixture.store()).plot(.marginalBenefit, runs: ["bare"], options: PlotOptions(outputDirectory: out))
        }
        let message = error?.message ?? ""
        #expect(message.contains("'bare' has no rows in table probe_tokens") && message.contains("longcat-lab probe bare"), "\(message)")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        #expect(!written.contains { $0.hasSuffix(".png") }, "an image was written: \(written)")
    }

    /// Guards against benefits with the wrong sign or grouped by the wrong count: the fixture's
    /// +1 benefit is 0.04 (K - c) and its -1 benefit 0.03 (K + 1 - c) at FFN count c, exactly.
    @Test func marginalBenefitDataHoldsTheMeansByCount() throws {
        let f = try #require(Plotter(store: Fixture.store()).plot(.marginalBenefit, runs: ["none-s1"],
                                                                 options: PlotOptions(outputDirectory: Fixture.outputDirectory("mb"))).first)
        let rows = try dataBlock(f.dataFiles[0], index: 1) // layer 1
        #expect(rows.map { $0[0] } == [0, 1, 2, 3])
        for r in rows {
            let c = r[0]
            #expect(abs(r[1] - 0.04 * (4 - c)) < 1e-5, "\(r)")
            #expect(c == 0 ? r[4].isNaN && r[6] == 0 : abs(r[4] - 0.03 * (5 - c)) < 1e-5, "\(r)")
        }
    }

    /// Guards against load rows that do not sum to 100 % in the drawn data, and a heat map
    /// per layer missing: labels easy / hard of the fixture give two rows per expert scan.
    @Test func loadHeatMapRowsSumToAHundred() throws {
        let figures = try Plotter(store: Fixture.store()).plot(.specialisation, runs: ["none-s1"],
                                                               options: PlotOptions(outputDirectory: Fixture.outputDirectory("spec")))
        #expect(figures.map(\.name) == ["specialisation-load-layer0", "specialisation-coactivation-layer0",
                                        "specialisation-load-layer1", "specialisation-coactivation-layer1"])
        let text = try String(contentsOfFile: figures[0].dataFiles[0], encoding: .utf8)
        let values = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ").map { Double($0)! } }
        var byRow: [Double: Double] = [:]
        for v in values { byRow[v[1], default: 0] += v[2] }
        #expect(byRow.count == 2)
        for (_, sum) in byRow { #expect(abs(sum - 100) < 1e-3) }
    }
}
