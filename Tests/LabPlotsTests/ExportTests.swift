import Foundation
import LabRecords
import Testing
@testable import LabPlots

@Suite("CSV and HTML export")
struct ExportTests {
    /// Every row of the run's table, header first, in key order; other runs' rows excluded.
    @Test func csvHoldsEveryRowOfTheRun() throws {
        let store = try Fixture.store()
        let csv = try TableExport.csv(store: store, run: "pid-s1", table: "layer_steps")
        let lines = csv.split(separator: "\r\n").map(String.init)
        #expect(lines[0] == "run_id,step,layer,zero_expert_share,ffn_experts_mean,ffn_experts_std,max_vio,router_entropy,balance_loss,grad_norm_ratio,router_similarity,load_cv,group_imbalance")
        #expect(lines.count == 1 + Fixture.steps * Fixture.layers)
        #expect(lines[1].hasPrefix("1,0,0,") && lines[2].hasPrefix("1,0,1,") && lines[3].hasPrefix("1,1,0,"))
        #expect(lines[1].contains(",0.005,,,") && lines[1].hasSuffix(","), "NULL columns are empty fields")
        let runs = try TableExport.csv(store: store, run: "none-s1", table: "runs")
        #expect(runs.split(separator: "\r\n").count == 2)
        // The config holds quotes and newlines: quoted, quotes doubled.
        #expect(runs.contains("\"[model]\n") && runs.contains("kind = \"\"none\"\""))
    }

    @Test func csvRefusesUnknownTablesAndEmptyOnes() throws {
        let store = try Fixture.store()
        let unknown = #expect(throws: PlotError.self) { try TableExport.csv(store: store, run: "pid-s1", table: "losses") }
        #expect(unknown?.message.contains("tables: runs, activated_params") == true, "\(unknown?.message ?? "")")
        #expect(throws: PlotError.self) { try TableExport.csv(store: store, run: "pid-s1", table: "schema_version") }
        let empty = #expect(throws: PlotError.self) { try TableExport.csv(store: store, run: "bare", table: "expert_steps") }
        #expect(empty?.message.contains("no rows in table expert_steps") == true)
        #expect(throws: PlotError.self) { try TableExport.csv(store: store, run: "nobody", table: "steps") }
    }

    /// The report embeds every figure it drew, and lists what it could not draw.
    @Test func htmlReportEmbedsTheFigures() throws {
        let store = try Fixture.store()
        let out = Fixture.outputDirectory("html")
        let path = try HTMLReport(store: store).write(runs: ["pid-s1", "none-s1"], options: PlotOptions(outputDirectory: out))
        let html = try String(contentsOfFile: path, encoding: .utf8)
        let images = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".png") }
        #expect(images.count > 15)
        #expect(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1 == images.count)
        #expect(html.contains("compare-loss.gp") && html.contains("controller.kind"))
        let bare = try HTMLReport(store: store).write(runs: ["bare"], options: PlotOptions(outputDirectory: Fixture.outputDirectory("html2")))
        let bareHTML = try String(contentsOfFile: bare, encoding: .utf8)
        #expect(bareHTML.contains("Not drawn") && bareHTML.contains("no rows in table layer_steps"))
    }
}
