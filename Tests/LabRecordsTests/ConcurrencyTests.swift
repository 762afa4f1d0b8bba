import Foundation
import LabRecords
import Testing

@Suite("Concurrent writers")
struct ConcurrencyTests {
    /// Guards against "database is locked" when two trainers (separate connections, as two
    /// processes would have) create and write one database at the same time: both must finish
    /// with every row.
    @Test func twoStoresWritingOneDatabaseBothComplete() throws {
        try withTempDirectory { dir in
            let path = dir + "/shared/lab.sqlite"
            let writers = 2, steps = 40
            let failures = Failures()
            DispatchQueue.concurrentPerform(iterations: writers) { w in
                do {
                    let store = try RecordStore(path: path)  // both create the schema at once
                    let id = try store.beginRun(runInfo("writer-\(w)"))
                    for step in 0..<steps {
                        try store.record(makeRecord(runID: id, step: step, layers: 2, experts: 40, zeroExperts: 8))
                    }
                    try store.finishRun(id, status: .finished)
                } catch {
                    failures.add("writer \(w): \(error)")
                }
            }
            #expect(failures.all == [])
            let store = try RecordStore(path: path)
            let runs = try store.runs()
            #expect(runs.map(\.name).sorted() == (0..<writers).map { "writer-\($0)" })
            for run in runs {
                #expect(run.status == .finished && run.stepsRecorded == steps)
                #expect(try count(store, "expert_steps", runID: run.id) == steps * 96)
                #expect(try count(store, "layer_steps", runID: run.id) == steps * 2)
            }
        }
    }

    /// Guards against "database is locked while opening the database": several connections
    /// opening one fresh file at the same instant race to create the schema and to switch it to
    /// WAL; every one of them must open and write, in every round.
    @Test func freshDatabaseOpenedByManyAtOnce() throws {
        try withTempDirectory { dir in
            let rounds = 60, openers = 4
            let failures = Failures()
            for round in 0..<rounds {
                let path = dir + "/round-\(round).sqlite"
                DispatchQueue.concurrentPerform(iterations: openers) { w in
                    do {
                        let store = try RecordStore(path: path)
                        let id = try store.beginRun(runInfo("opener-\(w)"))
                        try store.record(makeRecord(runID: id, step: 0))
                        try store.finishRun(id, status: .finished)
                    } catch {
                        failures.add("round \(round), opener \(w): \(error)")
                    }
                }
                let runs = try RecordStore(path: path).runs()
                #expect(runs.count == openers)
            }
            #expect(failures.all == [])
        }
    }

    /// Guards against the store's lock failing one connection's callers from several threads.
    @Test func oneStoreSharedByThreads() throws {
        try withTempDirectory { dir in
            let store = try RecordStore(path: dir + "/lab.sqlite")
            let ids = try (0..<4).map { try store.beginRun(runInfo("thread-\($0)")) }
            let failures = Failures()
            DispatchQueue.concurrentPerform(iterations: ids.count) { t in
                do {
                    for step in 0..<10 { try store.record(makeRecord(runID: ids[t], step: step)) }
                    _ = try store.runs()
                } catch {
                    failures.add("\(error)")
                }
            }
            #expect(failures.all == [])
            #expect(try count(store, "steps") == 40)
        }
    }
}

/// Error messages collected from concurrent workers.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []

    func add(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}
