import Foundation
import LabRecords
import Testing

@Suite("Round trip")
struct RoundTripTests {
    /// Guards against a column written to the wrong place, a lost row kind, or a query that
    /// filters or orders wrongly: everything read back equals what was recorded.
    @Test func runRoundTripReadsBackEqualValues() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let info = runInfo("round-trip")
            let id = try store.beginRun(info)
            let records = (0..<4).map { makeRecord(runID: id, step: $0) }
            for record in records { try store.record(record) }
            try store.recordCheckpoint(runID: id, step: 3, path: "ckpt/round-trip-3.safetensors")
            try store.finishRun(id, status: .finished, message: nil)

            let run = try #require(try store.run(named: "round-trip"))
            #expect(try store.run(id: id) == run)
            #expect(run.id == id && run.status == .finished && run.kind == .train && run.message == nil)
            #expect(run.configTOML == info.configTOML && run.configHash == info.configHash)
            #expect(run.seed == 7 && run.gitCommit == "abc123" && run.threads == 2)
            #expect(run.host == RecordStore.currentHost && run.pid == Int(getpid()))
            #expect(run.createdAt.count == 20 && run.createdAt.hasSuffix("Z"))
            #expect(run.finishedAt != nil)

            #expect(try store.steps(runID: id) == records.map(\.step))
            #expect(try store.lastStep(runID: id) == 3)
            #expect(try store.layerSteps(runID: id) == records.flatMap(\.layers))
            #expect(try store.layerSteps(runID: id, layer: 1) == records.flatMap(\.layers).filter { $0.layer == 1 })
            for record in records {
                #expect(try store.expertSteps(runID: id, step: record.step.step) == record.experts)
                #expect(try store.tokenSamples(runID: id, step: record.step.step) == record.tokenSamples)
            }
            #expect(try store.activatedParams(runID: id) == records.flatMap(\.activatedParams))
            #expect(try store.activatedParams(runID: id, steps: 1...2)
                    == records[1...2].flatMap(\.activatedParams))
            #expect(try store.varianceStats(runID: id) == records.flatMap(\.variance))
            #expect(try store.evalByLabel(runID: id) == records.flatMap(\.evalByLabel))
            #expect(try store.evalByLabel(runID: id, step: 2) == records[2].evalByLabel && !records[2].evalByLabel.isEmpty)
            let checkpoints = try store.checkpoints(runID: id)
            #expect(checkpoints.map(\.step) == [3] && checkpoints.map(\.path) == ["ckpt/round-trip-3.safetensors"])
            #expect(try store.query("SELECT experts FROM token_samples WHERE run_id = ? AND step = 2 AND layer = 1",
                                    [.integer(id)]) == [[.text("1 5")]])
        }
    }

    /// Guards against a wrong run list: step count, last loss, last eval loss and median throughput.
    @Test func runSummaryCountsStepsAndTakesMedians() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let id = try store.beginRun(runInfo("summary"))
            let empty = try store.beginRun(runInfo("empty"))
            let records = (0..<6).map { makeRecord(runID: id, step: $0) }
            for record in records { try store.record(record) }
            try store.finishRun(empty, status: .failed, message: "NaN loss at step 0")

            let runs = try store.runs()
            #expect(runs.map(\.name) == ["summary", "empty"])
            let summary = runs[0]
            #expect(summary.id == id && summary.status == .running && summary.stepsRecorded == 6)
            #expect(summary.lastStep == 5 && summary.lastLoss == records[5].step.loss)
            #expect(summary.lastEvalLoss == records[5].step.evalLoss)  // step 5 is an eval step
            let speeds = records.map(\.step.tokensPerS).sorted()
            #expect(summary.medianTokensPerS == (speeds[2] + speeds[3]) / 2)
            #expect(runs[1].stepsRecorded == 0 && runs[1].lastLoss == nil && runs[1].medianTokensPerS == nil)
            #expect(runs[1].status == .failed && runs[1].finishedAt != nil)
            #expect(try store.run(id: empty)?.message == "NaN loss at step 0")
        }
    }

    /// Guards against a NaN loss being refused (NOT NULL) or read back as 0.
    @Test func nanReadsBackAsNaN() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let id = try store.beginRun(runInfo("nan"))
            var record = makeRecord(runID: id, step: 0)
            record.step.loss = .nan
            record.experts[0].meanGate = .nan
            try store.record(record)
            #expect(try store.steps(runID: id)[0].loss.isNaN)
            #expect(try store.expertSteps(runID: id, step: 0)[0].meanGate.isNaN)
        }
    }

    /// Guards against record_ms staying empty when the caller leaves it to the store.
    @Test func recordMsIsMeasuredWhenNotGiven() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let id = try store.beginRun(runInfo("timed"))
            var record = makeRecord(runID: id, step: 0)
            record.step.recordMs = nil
            try store.record(record)
            let stored = try #require(try store.steps(runID: id).first?.recordMs)
            #expect(stored > 0 && stored < 10_000)
        }
    }

    /// Guards against rows re-recorded for a step being duplicated instead of replaced.
    @Test func recordingAStepAgainReplacesItsRows() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let id = try store.beginRun(runInfo("again"))
            try store.record(makeRecord(runID: id, step: 0))
            let second = makeRecord(runID: id, step: 0, lossOffset: 1)
            try store.record(second)
            #expect(try store.steps(runID: id) == [second.step])
            #expect(try count(store, "expert_steps", runID: id) == second.experts.count)
        }
    }

    /// Guards against the generic query losing types, ignoring arguments, or running two statements.
    @Test func genericQueryBindsAndTypesValues() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let id = try store.beginRun(runInfo("query"))
            let records = (0..<3).map { makeRecord(runID: id, step: $0) }
            for record in records { try store.record(record) }
            let rows = try store.query("""
                SELECT step, loss, eval_loss, (SELECT name FROM runs WHERE run_id = ?1)
                FROM steps WHERE run_id = ?1 AND step >= ?2 ORDER BY step
                """, [.integer(id), 1])
            #expect(rows == [
                [.integer(1), .real(records[1].step.loss), .null, .text("query")],
                [.integer(2), .real(records[2].step.loss), .real(try #require(records[2].step.evalLoss)), .text("query")],
            ])
            #expect(rows[1][1].double == records[2].step.loss && rows[1][0].int == 2 && rows[0][2].isNull)
            let wrongArity = try #require(throws: RecordsError.self) { try store.query("SELECT ?1, ?2", [1]) }
            #expect(wrongArity.kind == .invalidInput && wrongArity.message.contains("2 parameter(s) but 1"))
            let twoStatements = try #require(throws: RecordsError.self) {
                try store.query("SELECT 1; DELETE FROM steps")
            }
            #expect(twoStatements.message.contains("only one statement"))
            #expect(try count(store, "steps") == 3)
            let badSQL = try #require(throws: RecordsError.self) { try store.query("SELECT nope FROM steps") }
            #expect(badSQL.message.contains("no such column: nope"))
        }
    }
}
