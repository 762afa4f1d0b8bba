import Foundation
import Testing

/// `plot`, `compare` and `export` on a real (tiny) training run, through the executable.
@Suite("Plot, compare and export commands", .serialized)
struct PlotCommandTests {
    /// Two 6-step runs differing in controller.kind, trained once for the suite.
    static let trained: (dir: String, db: String, setup: String) = {
        let dir = temporaryDirectory()
        let db = dir + "/lab.sqlite"
        var log = ""
        for (name, kind) in [("tiny-pid", "pid"), ("tiny-none", "none")] {
            let r = try? Lab.run(["train", Lab.root + "/experiments/quickstart.toml", "--results", dir, "--db", db,
                                  "--name", name, "--quiet", "--set", "train.steps=6", "--set", "train.warmup_steps=2",
                                  "--set", "train.eval_interval=3", "--set", "train.batch_size=2", "--set", "train.seq_len=16",
                                  "--set", "controller.kind=\(kind)", "--set", "train.token_sample_batches=0"])
            log += "\(name): status \(r?.status ?? -1)\n\(r?.output ?? "")"
        }
        return (dir, db, log)
    }()

    /// Every kind with data draws (and the kinds whose tables a training run leaves empty are
    /// skipped with the table's name); the image, script and data sit side by side.
    @Test func plotAllDrawsEveryKindWithData() throws {
        let (dir, db, setup) = Self.trained
        let out = dir + "/plots-all"
        let r = try Lab.run(["plot", "all", "tiny-pid", "tiny-none", "--db", db, "--out", out])
        #expect(r.status == 0, "\(setup)\n\(r.output)")
        for name in ["loss", "ffn-experts", "zero-share", "max-vio", "activated-params", "bias-layer0-tiny-pid",
                     "expert-load-strip-layer0-tiny-none"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(name).png"), "\(name).png missing: \(r.output)")
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(name).gp"))
        }
        for line in r.output.split(separator: "\n") where line.hasPrefix("skipped") {
            #expect(line.contains("no rows in table"), "\(line)")
        }
    }

    /// The default output folder is results/plots/<a>-vs-<b> under the working directory.
    @Test func defaultOutputFolderNamesTheRuns() throws {
        let (dir, db, _) = Self.trained
        let r = try Lab.run(["plot", "loss", "tiny-pid", "tiny-none", "--db", db, "--format", "svg"], cwd: dir)
        #expect(r.status == 0, "\(r.output)")
        #expect(FileManager.default.fileExists(atPath: dir + "/results/plots/tiny-pid-vs-tiny-none/loss.svg"))
    }

    @Test func comparePrintsTheTableAndDrawsOverlays() throws {
        let (dir, db, _) = Self.trained
        let r = try Lab.run(["compare", "tiny-pid", "tiny-none", "--db", db, "--out", dir + "/cmp",
                             "--metric", "loss", "--metric", "zero-share"])
        #expect(r.status == 0, "\(r.output)")
        let lines = r.output.split(separator: "\n")
        #expect(lines.first?.contains("controller.kind") == true && lines.first?.contains("FFN experts (K_e)") == true)
        #expect(lines.contains { $0.hasPrefix("tiny-none") && $0.contains(" none ") })
        #expect(FileManager.default.fileExists(atPath: dir + "/cmp/compare-zero-share.png"))
    }

    /// Wrong input: a clear message and a non-zero exit, never an empty picture.
    @Test func mistakesGiveClearMessages() throws {
        let (dir, db, _) = Self.trained
        let missing = try Lab.run(["plot", "loss", "tiny-pdi", "--db", db, "--out", dir + "/x"])
        #expect(missing.status != 0 && missing.output.contains("no run named 'tiny-pdi'") && missing.output.contains("tiny-pid"))
        let kind = try Lab.run(["plot", "lossy", "tiny-pid", "--db", db])
        #expect(kind.status != 0 && kind.output.contains("unknown figure kind 'lossy'"))
        let empty = try Lab.run(["plot", "allocation", "tiny-pid", "--db", db, "--out", dir + "/y"])
        #expect(empty.status != 0 && empty.output.contains("no rows in table token_samples"), "\(empty.output)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/y/allocation.png"))
        let table = try Lab.run(["export", "csv", "tiny-pid", "--table", "nope", "--db", db])
        #expect(table.status != 0 && table.output.contains("unknown table 'nope'"))
    }

    @Test func exportsCSVNotebookAndHTML() throws {
        let (dir, db, _) = Self.trained
        let csv = try Lab.run(["export", "csv", "tiny-pid", "--table", "steps", "--db", db])
        #expect(csv.status == 0)
        #expect(csv.output.hasPrefix("run_id,step,tokens_seen,loss,"))
        #expect(csv.output.split(separator: "\r\n").count == 7, "header + 6 steps: \(csv.output)")
        let nb = try Lab.run(["export", "notebook", "tiny-pid", "tiny-none", "--db", db, "--out", dir + "/nb"])
        #expect(nb.status == 0, "\(nb.output)")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/nb/tiny-pid-vs-tiny-none.ipynb"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["nbformat"] as? Int == 4)
        let html = try Lab.run(["export", "html", "tiny-pid", "--db", db, "--out", dir + "/html"])
        #expect(html.status == 0, "\(html.output)")
        let page = try String(contentsOfFile: dir + "/html/report.html", encoding: .utf8)
        #expect(page.contains("data:image/png;base64,"))
    }
}
