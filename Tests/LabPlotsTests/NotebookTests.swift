import Foundation
import LabRecords
import Testing
@testable import LabPlots

/// The Python that executes notebooks: `LAB_PYTHON` (scripts/test.sh points it at a virtual
/// environment it fills from PyPI when the system Python lacks the packages), else `python3`.
let notebookPython = ProcessInfo.processInfo.environment["LAB_PYTHON"] ?? "python3"

/// Whether that Python can import what executing a notebook needs; without it the execution
/// test is skipped with a note.
let pythonCanRunNotebooks: Bool = {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [notebookPython, "-c", "import nbformat, nbclient, ipykernel, pandas, matplotlib"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return false }
    p.waitUntilExit()
    if p.terminationStatus != 0 {
        print("note: \(notebookPython) lacks nbformat/nbclient/ipykernel/pandas/matplotlib; the notebook execution test is skipped")
    }
    return p.terminationStatus == 0
}()

@Suite("Notebook export")
struct NotebookTests {
    func exported(_ runs: [String]) throws -> (path: String, data: Data) {
        let export = try NotebookExport(store: Fixture.store(), runs: runs)
        let path = try export.write(into: Fixture.outputDirectory("nb"))
        return (path, try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The export passes the nbformat 4 rules and carries each run's config and the summary.
    @Test func exportIsValidNbformat4() throws {
        let (path, data) = try exported(["pid-s1", "none-s1"])
        #expect(path.hasSuffix("/pid-s1-vs-none-s1.ipynb"))
        #expect(NotebookValidator.problems(in: data) == [])
        let nb = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cells = try #require(nb["cells"] as? [[String: Any]])
        let markdown = cells.filter { $0["cell_type"] as? String == "markdown" }
            .map { ($0["source"] as? [String] ?? []).joined() }.joined(separator: "\n")
        #expect(markdown.contains("kind = \"none\"") && markdown.contains("kind = \"pid\""))
        #expect(markdown.contains("controller.kind") && markdown.contains("final loss"))
        let code = cells.filter { $0["cell_type"] as? String == "code" }.map { ($0["source"] as? [String] ?? []).joined() }
        #expect(code.count >= 5)
        #expect(code[0].contains(Fixture.path) && code[0].contains("\"pid-s1\", \"none-s1\""))
        // Source lines keep their newline except the last.
        let lines = try #require(cells[0]["source"] as? [String])
        #expect(lines.dropLast().allSatisfy { $0.hasSuffix("\n") } && !(lines.last ?? "\n").hasSuffix("\n"))
    }

    /// Guards against a validator that accepts anything: each broken notebook is named.
    @Test func validatorRejectsBrokenNotebooks() throws {
        let (_, data) = try exported(["pid-s1"])
        let good = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        func problems(_ edit: (inout [String: Any]) -> Void) throws -> [String] {
            var nb = good
            edit(&nb)
            return NotebookValidator.problems(in: try JSONSerialization.data(withJSONObject: nb))
        }
        func editCell(_ i: Int, _ nb: inout [String: Any], _ body: (inout [String: Any]) -> Void) {
            var cells = nb["cells"] as! [[String: Any]]
            body(&cells[i])
            nb["cells"] = cells
        }
        #expect(try problems { $0["nbformat"] = 3 }.contains { $0.contains("nbformat is 3") })
        #expect(try problems { $0["nbformat"] = true }.contains { $0.contains("not 4") })
        #expect(try problems { $0.removeValue(forKey: "metadata") }.contains { $0.contains("'metadata'") })
        #expect(try problems { $0["extra"] = 1 }.contains { $0.contains("unknown top-level key 'extra'") })
        #expect(try problems { editCell(0, &$0) { $0["source"] = 5 } }.contains { $0.contains("cells[0].source") })
        #expect(try problems { editCell(0, &$0) { $0["outputs"] = [Any]() } }.contains { $0.contains("unknown key 'outputs'") })
        #expect(try problems { editCell(0, &$0) { $0.removeValue(forKey: "id") } }.contains { $0.contains("cells[0].id is missing") })
        #expect(try problems { editCell(1, &$0) { $0["id"] = "cell-0" } }.contains { $0.contains("not unique") })
        #expect(try problems { editCell(0, &$0) { $0["cell_type"] = "heading" } }.contains { $0.contains("cell_type") })
        let codeIndex = (good["cells"] as! [[String: Any]]).firstIndex { $0["cell_type"] as? String == "code" }!
        #expect(try problems { editCell(codeIndex, &$0) { $0.removeValue(forKey: "execution_count") } }
            .contains { $0.contains("execution_count") })
        #expect(try problems { editCell(codeIndex, &$0) { $0["execution_count"] = -1 } }.contains { $0.contains("execution_count") })
        #expect(NotebookValidator.problems(in: Data("[1]".utf8)) == ["the file is not a JSON object"])
    }

    /// The notebook runs top to bottom in a fresh kernel, and Python's own nbformat accepts
    /// it: for runs with every table filled and for a run with most tables empty.
    @Test(.enabled(if: pythonCanRunNotebooks, "needs python3 with nbformat, nbclient, ipykernel, pandas, matplotlib"),
          .timeLimit(.minutes(5)))
    func notebookExecutesInAFreshKernel() throws {
        for runs in [["pid-s1", "none-s1"], ["bare"]] {
            let (path, _) = try exported(runs)
            let script = """
                import sys, nbformat, nbclient
                nb = nbformat.read(sys.argv[1], as_version=4)
                nbformat.validate(nb)
                nbclient.NotebookClient(nb, timeout=240, kernel_name="python3").execute()
                images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
                print("images", images)
                """
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [notebookPython, "-c", script, path]
            // The kernel's own (inline) backend turns every plt.show() into a PNG output.
            p.environment = ProcessInfo.processInfo.environment.filter { $0.key != "MPLBACKEND" }
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(runs): \(output.suffix(3000))")
            // Seven figures from the step, layer, expert and variance tables, one specialisation
            // figure (only none-s1's token samples are labelled), one marginal-benefit figure
            // (both runs have probe rows) and one churn figure (both runs have routing traces).
            if runs.count == 2 { #expect(output.contains("images 10"), "\(output.suffix(500))") }
        }
    }
}
