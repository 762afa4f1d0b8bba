import Foundation
import LabRecords
import Testing

@Suite("One transaction per step")
struct TransactionTests {
    /// Guards against a partial step: a row failing halfway through a step must leave none of
    /// that step's rows (not the layer rows written before it, nor the steps row), and must not
    /// touch earlier steps.
    @Test func failingRowRollsBackTheWholeStep() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let id = try store.beginRun(runInfo("atomic"))
            let good = (0..<2).map { makeRecord(runID: id, step: $0) }
            for record in good { try store.record(record) }
            var bad = makeRecord(runID: id, step: 2)
            bad.experts[bad.experts.count / 2].expert = -1  // violates CHECK (expert >= 0)
            let error = try #require(throws: RecordsError.self) { try store.record(bad) }
            #expect(error.kind == .constraint)
            #expect(error.message.hasPrefix(dir + "/lab.sqlite: writing step 2 of run 'atomic' failed"))
            for table in stepTables {
                #expect(try store.query("SELECT COUNT(*) FROM \(table) WHERE step = 2") == [[.integer(0)]], "\(table)")
            }
            #expect(try store.steps(runID: id) == good.map(\.step))
            #expect(try store.expertSteps(runID: id, step: 1) == good[1].experts)
            // The store is still usable after the rollback.
            let retry = makeRecord(runID: id, step: 2)
            try store.record(retry)
            #expect(try store.expertSteps(runID: id, step: 2) == retry.experts)
        }
    }

    /// Guards against a full disk leaving half a step or an open transaction, or a vague error.
    @Test func diskFullRollsBackTheStepWithAClearError() throws {
        try withTempDirectory { dir in
            let path = dir + "/lab.sqlite"
            let store = try RecordStore(path: path)
            let id = try store.beginRun(runInfo("full"))
            let first = makeRecord(runID: id, step: 0)
            try store.record(first)
            // Cap the file a few pages above its size: the next large step cannot fit.
            let pages = try #require(try store.query("PRAGMA page_count")[0][0].int)
            _ = try store.query("PRAGMA max_page_count = \(pages + 2)")
            let big = makeRecord(runID: id, step: 1, layers: 8, experts: 256, zeroExperts: 64)
            let error = try #require(throws: RecordsError.self) { try store.record(big) }
            #expect(error.kind == .diskFull)
            #expect(error.message.hasPrefix("\(path): disk full while writing step 1 of run 'full'"))
            for table in stepTables {
                #expect(try store.query("SELECT COUNT(*) FROM \(table) WHERE step = 1") == [[.integer(0)]], "\(table)")
            }
            #expect(try store.steps(runID: id) == [first.step])
            #expect(try store.expertSteps(runID: id, step: 0) == first.experts)
            _ = try store.query("PRAGMA max_page_count = 1073741823")
            try store.record(big)
            #expect(try count(store, "expert_steps", runID: id) == first.experts.count + big.experts.count)
        }
    }

    /// Guards against rows of another step slipping into a step's transaction.
    @Test func rowsOfAnotherStepAreRefusedBeforeWriting() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let id = try store.beginRun(runInfo("stray"))
            var record = makeRecord(runID: id, step: 4)
            record.activatedParams[1].step = 5
            let error = try #require(throws: RecordsError.self) { try store.record(record) }
            #expect(error.kind == .invalidInput)
            #expect(error.message.contains("activated-parameters row of step 5"))
            #expect(try count(store, "layer_steps") == 0)
        }
    }

    /// Guards against rows of a run that does not exist (foreign key), with a message naming it.
    @Test func unknownRunIsRefused() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let error = try #require(throws: RecordsError.self) { try store.record(makeRecord(runID: 42, step: 0)) }
            #expect(error.kind == .constraint)
            #expect(error.message.contains("writing step 0 of run id 42 (no such run)"))
            #expect(try count(store, "steps") == 0)
        }
    }

    /// Measures `record` for a step of 2 layers x 48 experts (+ 1 steps row, 5 activated-parameter
    /// rows, 2 token samples, 2 variance rows): wall time and this thread's CPU time (wall time
    /// includes waiting for a core on a busy machine). Prints them; asserts only the rows.
    @Test func recordCostOfATypicalStep() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let id = try store.beginRun(runInfo("cost"))
            let steps = 200
            let records = (0..<steps).map { makeRecord(runID: id, step: $0, layers: 2, experts: 40, zeroExperts: 8) }
            var wall: [Double] = [], cpu: [Double] = []
            for record in records {
                let (wall0, cpu0) = (clockMs(CLOCK_MONOTONIC), clockMs(CLOCK_THREAD_CPUTIME_ID))
                try store.record(record)
                wall.append(clockMs(CLOCK_MONOTONIC) - wall0)
                cpu.append(clockMs(CLOCK_THREAD_CPUTIME_ID) - cpu0)
            }
            wall.sort()
            cpu.sort()
            let rows = records[0].experts.count + records[0].layers.count + 1 + records[0].activatedParams.count
                + records[0].tokenSamples.count + records[0].variance.count
            print(String(format: "record cost, 2 layers x 48 experts (%d rows/step, %d steps): wall median %.3f ms, "
                         + "p95 %.3f ms, max %.3f ms; CPU median %.3f ms, p95 %.3f ms; median = %.3f%% of a 450 ms step",
                         rows, steps, wall[steps / 2], wall[steps * 95 / 100], wall[steps - 1],
                         cpu[steps / 2], cpu[steps * 95 / 100], wall[steps / 2] / 450 * 100))
            #expect(try count(store, "expert_steps", runID: id) == steps * 96)
        }
    }
}

/// A clock's reading in milliseconds.
private func clockMs(_ clock: clockid_t) -> Double {
    var t = timespec()
    clock_gettime(clock, &t)
    return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
}
