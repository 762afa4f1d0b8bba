import Foundation
import LabRecords
import Testing

@Suite("Run life cycle")
struct RunLifecycleTests {
    /// Guards against a second run silently sharing (and mixing rows into) an existing name.
    @Test func duplicateRunNameIsRefusedNamingTheRun() throws {
        try withTempDirectory { dir in
            let path = dir + "/lab.sqlite"
            let store = try RecordStore(path: path)
            let id = try store.beginRun(runInfo("twice"))
            let error = try #require(throws: RecordsError.self) { try store.beginRun(runInfo("twice")) }
            #expect(error.kind == .duplicateRun)
            #expect(error.message.hasPrefix("\(path): a run named 'twice' already exists (run_id \(id)"))
            #expect(try count(store, "runs") == 1)
        }
    }

    /// Guards against a resumed run duplicating the steps it replays, keeping rows of the
    /// abandoned trajectory, or staying marked as ended.
    @Test func resumeAndDeleteStepsRewriteLaterStepsWithoutDuplicates() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let id = try store.beginRun(runInfo("resumable"))
            for step in 0..<10 { try store.record(makeRecord(runID: id, step: step)) }
            try store.recordCheckpoint(runID: id, step: 5, path: "c5")
            try store.recordCheckpoint(runID: id, step: 8, path: "c8")
            try store.finishRun(id, status: .interrupted, message: "SIGINT")

            #expect(try store.resumeRun(named: "resumable") == id)
            let resumed = try #require(try store.run(id: id))
            #expect(resumed.status == .running && resumed.finishedAt == nil && resumed.message == nil)
            try store.deleteSteps(runID: id, after: 5)
            #expect(try store.lastStep(runID: id) == 5)
            #expect(try store.expertSteps(runID: id, step: 7).isEmpty)
            #expect(try store.checkpoints(runID: id).map(\.step) == [5])
            #expect(try store.query("SELECT MAX(step) FROM token_samples") == [[.integer(5)]])

            let replay = (6..<10).map { makeRecord(runID: id, step: $0, lossOffset: 0.5) }
            for record in replay { try store.record(record) }
            let steps = try store.steps(runID: id)
            #expect(steps.map(\.step) == Array(0..<10))
            #expect(Array(steps[6...]) == replay.map(\.step))
            let expected = makeRecord(runID: id, step: 0)
            for table in stepTables where table != "eval_by_label" {  // written on evaluation steps only
                let perStep = try count(store, table, runID: id) / 10
                #expect(try store.query("SELECT COUNT(*) FROM \(table) WHERE run_id = ? AND step = 0", [.integer(id)])
                        == [[.integer(Int64(perStep))]], "\(table)")
            }
            #expect(try count(store, "expert_steps", runID: id) == 10 * expected.experts.count)
        }
    }

    /// Guards against resuming a name that does not exist.
    @Test func resumingAnUnknownRunErrors() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let error = try #require(throws: RecordsError.self) { try store.resumeRun(named: "ghost") }
            #expect(error.kind == .unknownRun && error.message.contains("'ghost'"))
            let finish = try #require(throws: RecordsError.self) { try store.finishRun(9, status: .finished) }
            #expect(finish.kind == .unknownRun)
        }
    }

    /// Guards against a killed run showing as running forever, and against marking runs whose
    /// process is alive, or runs of another host (whose pids mean nothing here).
    @Test func staleRunningRunIsMarkedInterrupted() throws {
        try withTempDirectory { dir in
            let path = dir + "/lab.sqlite"
            let store = try RecordStore(path: path)
            let dead = try store.beginRun(runInfo("killed"))
            let alive = try store.beginRun(runInfo("alive"))
            let remote = try store.beginRun(runInfo("remote"))
            let deadPID = try pidOfAFinishedProcess()
            _ = try store.query("UPDATE runs SET pid = ? WHERE run_id IN (?, ?)",
                                [.integer(Int64(deadPID)), .integer(dead), .integer(remote)])
            _ = try store.query("UPDATE runs SET host = 'some-other-host' WHERE run_id = ?", [.integer(remote)])

            let statuses = Dictionary(uniqueKeysWithValues: try store.runs().map { ($0.name, $0.status) })
            #expect(statuses == ["killed": .interrupted, "alive": .running, "remote": .running])
            let killed = try #require(try store.run(id: dead))
            #expect(killed.message?.contains("process \(deadPID)") == true)
            #expect(try store.run(id: alive)?.status == .running)

            // Opening the database marks stale runs too.
            _ = try store.query("UPDATE runs SET status = 'running' WHERE run_id = ?", [.integer(dead)])
            _ = try RecordStore(path: path)
            #expect(try store.run(id: dead)?.status == .interrupted)
            #expect(try store.markStaleRunsInterrupted() == 0)
        }
    }

    /// Guards against `close` leaving a usable handle behind (use after close must error).
    @Test func closedStoreErrors() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            store.close()
            let error = try #require(throws: RecordsError.self) { try store.runs() }
            #expect(error.kind == .closed)
        }
    }
}

/// The pid of a child process that has exited and been reaped, so no process has it (until reuse).
func pidOfAFinishedProcess() throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "exit 0"]
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
}
