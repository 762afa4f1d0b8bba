import Foundation
import Testing
@testable import LabRecords

@Suite("Routing trace rows")
struct TraceRowsTests {
    func trace(step: Int, sequence: Int, layer: Int) -> RoutingTraceRow {
        RoutingTraceRow(step: step, sequence: sequence, position: 7, layer: layer, token: 101, ffnExperts: 2,
                        experts: [3, 11, 16, 19], gates: [0.3141593, 1.0e-7, 0.25, 0.123456789], loss: 2.5 + Double(layer))
    }

    /// Guards against traces that do not survive the database: expert ids (FFN and zero) and
    /// gates must read back exactly (gates as shortest round-trip decimals), with the step's
    /// other rows, and a trace row of another step must be refused.
    @Test func tracesRoundTripWithTheirStep() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let id = try store.beginRun(runInfo("r"))
            var record = makeRecord(runID: id, step: 9)
            record.routingTraces = [trace(step: 9, sequence: 0, layer: 0), trace(step: 9, sequence: 0, layer: 1),
                                    trace(step: 9, sequence: 4, layer: 0)]
            try store.record(record)
            #expect(try store.routingTraces(runID: id) == record.routingTraces)
            #expect(try store.routingTraces(runID: id).first?.ffnSet == [3, 11])
            var stray = makeRecord(runID: id, step: 10)
            stray.routingTraces = [trace(step: 9, sequence: 1, layer: 0)]
            #expect(throws: RecordsError.self) { try store.record(stray) }
        }
    }

    /// Guards against a version-3 database that cannot hold traces or loses data on upgrade:
    /// opening it writes a `.v3-backup`, creates `routing_traces`, sets the current version and
    /// keeps the runs and steps it had; the backup still says version 3.
    @Test func version3IsUpgradedWithABackup() throws {
        try withTempDirectory { dir in
            let path = dir + "/lab.sqlite"
            let old: StepRecord
            do {
                let store = try RecordStore(path: path)
                let id = try store.beginRun(runInfo("old"))
                old = makeRecord(runID: id, step: 3)
                try store.record(old)
                _ = try store.query("DROP TABLE routing_traces")
                _ = try store.query("UPDATE schema_version SET version = 3")
                try store.finishRun(id, status: .finished)
            }
            let store = try RecordStore(path: path)
            let upgrade = try #require(store.upgrade)
            #expect(upgrade.fromVersion == 3 && upgrade.toVersion == Schema.version && Schema.version == 4)
            #expect(upgrade.backupPath == path + ".v3-backup")
            #expect(upgrade.message.contains("routing_traces"))
            #expect(try store.query("SELECT version FROM schema_version") == [[.integer(4)]])
            let id = try #require(try store.runID(named: "old"))
            #expect(try store.steps(runID: id) == [old.step])
            #expect(try store.layerSteps(runID: id) == old.layers)
            #expect(try store.routingTraces(runID: id).isEmpty)
            var record = makeRecord(runID: id, step: 4)
            record.routingTraces = [trace(step: 4, sequence: 2, layer: 1)]
            try store.record(record)
            #expect(try store.routingTraces(runID: id) == record.routingTraces)

            let backup = try Connection(path: upgrade.backupPath)
            defer { backup.close() }
            #expect(try RecordStore.schemaVersion(backup, schema: "main") == 3)
            #expect(try !RecordStore.tableNames(backup, schema: "main").contains("routing_traces"))
        }
    }
}
