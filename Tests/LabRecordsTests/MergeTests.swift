import Foundation
import LabRecords
import Testing

@Suite("Merge")
struct MergeTests {
    /// Guards against a merge losing rows, copying a run twice, reusing the other database's
    /// run_ids, or overwriting a different run that happens to share a name.
    @Test func mergeCopiesEveryRunOnceWithFreshIDs() throws {
        try withTempDirectory { dir in
            let here = try RecordStore(path: dir + "/here.sqlite")
            let other = try RecordStore(path: dir + "/other.sqlite")
            func fill(_ store: RecordStore, _ name: String, hash: String, steps: Int) throws -> [StepRecord] {
                let id = try store.beginRun(runInfo(name, hash: hash))
                let records = (0..<steps).map { makeRecord(runID: id, step: $0) }
                for record in records { try store.record(record) }
                try store.recordCheckpoint(runID: id, step: steps - 1, path: "\(name).ckpt")
                try store.finishRun(id, status: .finished)
                return records
            }
            _ = try fill(here, "local", hash: "h-local", steps: 2)
            _ = try fill(here, "shared", hash: "h-shared", steps: 3)
            _ = try fill(here, "clash", hash: "h-one", steps: 2)
            _ = try other.beginRun(runInfo("padding"))  // shifts run_ids so they differ between files
            _ = try fill(other, "shared", hash: "h-shared", steps: 3)
            let remoteRecords = try fill(other, "remote", hash: "h-remote", steps: 4)
            _ = try fill(other, "clash", hash: "h-two", steps: 2)

            let tables = stepTables + ["checkpoints", "runs"]
            let before = try tables.map { try count(here, $0) }
            let report = try here.merge(from: dir + "/other.sqlite")

            #expect(report.duplicates == ["shared"])
            #expect(report.conflicts.map(\.name) == ["clash"] && report.conflicts.map(\.renamedTo) == ["clash~2"])
            #expect(report.copied.map(\.name) == ["padding", "remote", "clash~2"])
            #expect(report.copied.map(\.steps) == [0, 4, 2])
            // Every copied row arrived once: counts grow by exactly the copied runs' rows.
            let copiedRows = try report.copied.map(\.sourceName).reduce(0) { total, name in
                let id = try #require(try other.runID(named: name))
                return total + 1 + (stepTables + ["checkpoints"]).reduce(0) { $0 + ((try? count(other, $1, runID: id)) ?? 0) }
            }
            #expect(report.rowsCopied == copiedRows)
            let after = try tables.map { try count(here, $0) }
            #expect(zip(after, before).map { $0 - $1 }.reduce(0, +) == copiedRows)

            let remote = try #require(try here.run(named: "remote"))
            let remoteThere = try other.runID(named: "remote")
            #expect(remote.id == report.copied[1].runID && remote.id != remoteThere)
            #expect(remote.configHash == "h-remote" && remote.status == .finished)
            #expect(try here.steps(runID: remote.id) == remoteRecords.map(\.step))
            #expect(try here.expertSteps(runID: remote.id, step: 3) == remoteRecords[3].experts)
            #expect(try here.tokenSamples(runID: remote.id, step: 2) == remoteRecords[2].tokenSamples)
            #expect(try here.checkpoints(runID: remote.id).map(\.path) == ["remote.ckpt"])
            #expect(try here.run(named: "clash")?.configHash == "h-one")
            #expect(try here.run(named: "clash~2")?.configHash == "h-two")

            // Merging the same file again copies nothing: its renamed conflict is recognised too.
            let again = try here.merge(from: dir + "/other.sqlite")
            #expect(again.copied.isEmpty && again.rowsCopied == 0)
            #expect(Set(again.duplicates) == ["padding", "shared", "remote", "clash"])
            #expect(try tables.map { try count(here, $0) } == after)
        }
    }

    /// Guards against merging a database into itself (every row doubled) or from a bad file.
    @Test func mergeRefusesItselfAndNonDatabases() throws {
        try withTempDirectory { dir in
            let path = dir + "/lab.sqlite"
            let store = try RecordStore(path: path)
            _ = try store.beginRun(runInfo("only"))
            let selfMerge = try #require(throws: RecordsError.self) { try store.merge(from: path) }
            #expect(selfMerge.kind == .invalidInput)
            let missing = try #require(throws: RecordsError.self) { try store.merge(from: dir + "/nothing.sqlite") }
            #expect(missing.message.hasPrefix(dir + "/nothing.sqlite: no such database"))
            let text = dir + "/text.sqlite"
            #expect(FileManager.default.createFile(atPath: text, contents: Data(String(repeating: "x", count: 5000).utf8)))
            let notDB = try #require(throws: RecordsError.self) { try store.merge(from: text) }
            #expect(notDB.kind == .notALabDatabase && notDB.message.hasPrefix(text + ": not a lab database"))
            #expect(try count(store, "runs") == 1)
        }
    }
}
