import ArgumentParser
import Foundation
import LabRecords
import LabTraining

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List the runs of a records database: name, status, steps, last loss, eval loss, tokens/s, created.",
        discussion: """
        A run whose process died without finishing (killed, crashed) is marked interrupted when the list is made. `longcat-lab show NAME` prints one run in detail; docs/RECORDS.md describes the tables for your own SQL.
        """)

    @OptionGroup var records: RecordsOptions

    func run() throws {
        let store = try openExistingStore(records.db)
        print(runListText(try store.runs()))
    }
}

/// Opens a records database that must already exist (reading never creates an empty one).
func openExistingStore(_ path: String) throws -> RecordStore {
    guard FileManager.default.fileExists(atPath: path) else {
        throw ValidationError("no records database at \(path); pass --db PATH (train writes results/lab.sqlite by default)")
    }
    return try RecordStore(path: path)
}
