import Foundation
import LabAnalysis
import LabRecords
import Testing
@testable import LabSweeps

@Suite("Per-domain comparison of a sweep")
struct DomainComparisonTests {
    /// A sweep of two variants (a, b) x seeds 1-3, recorded by hand: each run evaluates at steps
    /// 5 and 9 on domains c (800 tokens) and bible (200). At step 9, a's c loss is 2 + seed/100
    /// and b's is 2.1 + seed/100 + (seed == 2 ? 0.03 : 0); bible is 3 for both arms. b seed 3
    /// is still running (step 5 only, not finished).
    func recorded() throws -> (runs: [SweepRun], store: RecordStore) {
        let file = try sweep(smallConfig + """
            [sweep]
            seeds = [1, 2, 3]

            [variants.a]

            [variants.b]
            "train.learning_rate" = 2e-3
            """)
        let runs = try file.expand()
        let store = try RecordStore(path: NSTemporaryDirectory() + "domains-\(UUID().uuidString).sqlite")
        for r in runs {
            let seed = r.config.train.seed
            let isB = r.variant == "b"
            let id = try store.beginRun(RunInfo(name: r.name, configTOML: "", configHash: r.name, seed: seed, threads: 1))
            // b seed 3 is still running at step 5: its rows must not be read as final ones.
            let running = isB && seed == 3
            for step in running ? [5] : [5, 9] {
                var record = StepRecord(runID: id, step: StepRow(step: step, tokensSeen: 0, loss: 1, lmLoss: 1, balanceLoss: 0,
                                                                 zLoss: 0, mtpLoss: nil, lr: 0, gradNorm: 0, stepMs: 1, tokensPerS: 1))
                let early = step == 5 ? 1.0 : 0.0  // the step-5 rows must not be read
                let c = (isB ? 2.1 : 2.0) + Double(seed) / 100 + (isB && seed == 2 ? 0.03 : 0) + early
                record.evalByLabel = [EvalLabelRow(step: step, label: "bible", loss: 3 + early, tokens: 200),
                                      EvalLabelRow(step: step, label: "c", loss: c, tokens: 800)]
                try store.record(record)
            }
            if !running { try store.finishRun(id, status: .finished) }
        }
        return (runs, store)
    }

    /// Guards against a per-domain table that reads an early evaluation, pairs seeds that one arm
    /// lacks or one still running, orders domains by name instead of tokens, or puts the difference the wrong way round.
    @Test func pairsFinalLossesPerDomainOverSharedSeeds() throws {
        let (runs, store) = try recorded()
        let table = try DomainComparison(title: "test", runs: runs, store: store, baseline: "test-a")
        #expect(table.groups == ["test-a", "test-b"] && table.arms == ["test-b"] && table.steps == [9] && table.unfinished == 1)
        #expect(table.rows.map(\.label) == ["c", "bible"] && table.rows.map(\.tokens) == [800, 200])
        let c = table.rows[0]
        #expect(abs(c.means["test-a"]! - 2.02) < 1e-12)           // seeds 1-3
        #expect(abs(c.means["test-b"]! - (2.1 + 0.015 + 0.015)) < 1e-12)  // seeds 1-2: 2.11, 2.15
        let d = try #require(c.differences["test-b"])
        #expect(d.seeds == [1, 2] && d.differences.count == 2)
        #expect(abs(d.differences[0] - 0.1) < 1e-12 && abs(d.differences[1] - 0.13) < 1e-12)
        let half = StudentT.quantile(0.975, df: 1) * d.sd! / 2.0.squareRoot()
        #expect(abs(d.interval!.lowerBound - (0.115 - half)) < 1e-9)
        let bible = try #require(table.rows[1].differences["test-b"])
        #expect(bible.mean == 0 && !bible.isResolved)

        let md = table.rendered(.md)
        #expect(md.contains("| c | 800 | 2.0200 | 2.1300 | +0.1150 ["), "\(md)")
        #expect(md.contains("step 9") && md.contains("1 run(s) of the sweep not finished"))
        let csv = table.rendered(.csv).split(separator: "\n")
        #expect(csv.first == "domain,tokens,arm,mean,baseline,baseline_mean,diff,diff_lo,diff_hi,n,resolved")
        #expect(csv.contains { $0.hasPrefix("c,800,test-b,2.130000,test-a,2.020000,0.115000,") && $0.hasSuffix(",2,no") })
        let json = try #require(try JSONSerialization.jsonObject(with: Data(table.rendered(.json).utf8)) as? [[String: Any]])
        #expect(json.count == 4 && json.contains { ($0["arm"] as? String) == "test-b" && ($0["n"] as? Int) == 2 })
    }

    /// Guards against a silent empty table: an unknown baseline names the groups, and a sweep
    /// with no per-domain rows says where they come from.
    @Test func errorsNameTheGroupsAndTheMissingRows() throws {
        let (runs, store) = try recorded()
        #expect {
            try DomainComparison(title: "test", runs: runs, store: store, baseline: "test-z")
        } throws: { "\($0)".contains("test-a, test-b") }
        let empty = try RecordStore(path: NSTemporaryDirectory() + "domains-empty-\(UUID().uuidString).sqlite")
        #expect {
            try DomainComparison(title: "test", runs: runs, store: empty)
        } throws: { "\($0)".contains("eval_by_label") }
    }
}
