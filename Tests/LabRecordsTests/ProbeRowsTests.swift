import Foundation
import Testing
@testable import LabRecords

@Suite("Probe rows")
struct ProbeRowsTests {
    func token(step: Int, sequence: Int, loss: Double) -> ProbeTokenRow {
        ProbeTokenRow(step: step, sequence: sequence, position: 3, layer: 1, token: 65, label: "letter-word-start",
                      targetLabel: nil, ffnExperts: 2, loss: loss, lossPlus: loss - 0.1, lossMinus: nil)
    }

    /// Guards against a probe of a checkpoint leaving rows of an earlier probe of it behind,
    /// touching another checkpoint's rows, or losing NULLs: rows read back as written.
    @Test func aProbeReplacesTheSameCheckpointsRowsOnly() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let id = try store.beginRun(runInfo("r"))
            try store.recordProbe(runID: id, step: 200, tokens: [token(step: 200, sequence: 0, loss: 2), token(step: 200, sequence: 1, loss: 3)],
                                  summaries: [ProbeSummaryRow(step: 200, statistic: "gap_greedy", layer: -1, grouping: "all", value: 0.1, count: 2)])
            try store.recordProbe(runID: id, step: 400, tokens: [token(step: 400, sequence: 0, loss: 1)], summaries: [])
            try store.recordProbe(runID: id, step: 200, tokens: [token(step: 200, sequence: 5, loss: 4)], summaries: [])
            #expect(try store.probeTokens(runID: id, step: 200) == [token(step: 200, sequence: 5, loss: 4)])
            #expect(try store.probeTokens(runID: id, step: 400) == [token(step: 400, sequence: 0, loss: 1)])
            #expect(try store.probeSummaries(runID: id, step: 200).isEmpty)
            #expect(throws: RecordsError.self) {
                try store.recordProbe(runID: id, step: 200, tokens: [token(step: 400, sequence: 0, loss: 1)], summaries: [])
            }
        }
    }

    /// Guards against a version-2 database that cannot hold probes: opening it creates the
    /// probe tables (and every later table) and sets the current version, keeping its runs.
    @Test func version2GainsTheProbeTables() throws {
        try withTempDirectory { dir in
            let path = dir + "/lab.sqlite"
            do {
                let store = try RecordStore(path: path)
                _ = try store.beginRun(runInfo("old"))
                _ = try store.query("DROP TABLE probe_tokens")
                _ = try store.query("DROP TABLE probe_summaries")
                _ = try store.query("DROP TABLE routing_traces")
                _ = try store.query("UPDATE schema_version SET version = 2")
                try store.finishRun(try #require(try store.runID(named: "old")), status: .finished)
            }
            let store = try RecordStore(path: path)
            #expect(store.upgrade?.fromVersion == 2)
            #expect(try store.query("SELECT version FROM schema_version") == [[.integer(Int64(Schema.version))]])
            let id = try #require(try store.runID(named: "old"))
            try store.recordProbe(runID: id, step: 0, tokens: [token(step: 0, sequence: 0, loss: 1)], summaries: [])
            #expect(try store.probeTokens(runID: id, step: 0).count == 1)
        }
    }
}
