import ArgumentParser
import Foundation
import LabRecords

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine records databases (e.g. the per-task databases of a Slurm sweep) into one.",
        discussion: """
        Every run of each source is copied with all its rows, in one transaction per source. A run already present with the same config hash and step count is skipped (so merging a file twice copies nothing the second time); one present with another config or step count is copied renamed (name~2). A folder stands for the *.sqlite files inside it.

        Example:
          longcat-lab merge --into results/lab.sqlite results/sweeps/controllers/db
        """)

    @Option(help: "The database to merge into (created when missing).")
    var into = "results/lab.sqlite"

    @Argument(help: "Databases to merge, or folders of them.")
    var sources: [String]

    func validate() throws {
        if sources.isEmpty { throw ValidationError("give at least one database (or folder of databases) to merge") }
    }

    func run() throws {
        // A folder may hold the target itself (merging the task databases into one of their own folder).
        let target = URL(fileURLWithPath: into).standardizedFileURL.path
        let files = try sources.flatMap(expand).filter { URL(fileURLWithPath: $0).standardizedFileURL.path != target }
        if files.isEmpty { throw ValidationError("no *.sqlite files in \(sources.joined(separator: ", "))") }
        let store = try RecordStore(path: into)
        defer { store.close() }
        var runs = 0, rows = 0, skipped = 0, renamed = 0
        for path in files {
            let r = try store.merge(from: path)
            runs += r.copied.count; rows += r.rowsCopied; skipped += r.duplicates.count; renamed += r.conflicts.count
            var line = "\(path): \(r.copied.count) run(s), \(r.rowsCopied) rows copied"
            if !r.duplicates.isEmpty { line += "; \(r.duplicates.count) already present" }
            for c in r.conflicts { line += "; \(c.name) copied as \(c.renamedTo) (\(c.reason))" }
            print(line)
        }
        print("merged \(files.count) database(s) into \(into): \(runs) run(s), \(rows) rows copied, \(skipped) already present, \(renamed) renamed")
    }

    /// A file as itself; a folder as its `*.sqlite` files, sorted.
    private func expand(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("\(path): no such file or folder")
        }
        guard isDirectory.boolValue else { return [path] }
        return try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { $0.hasSuffix(".sqlite") }.sorted().map { path + "/" + $0 }
    }
}
