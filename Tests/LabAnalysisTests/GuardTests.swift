import Foundation
import Testing
@testable import LabAnalysis

/// The guards and verdicts of a comparison, on hand-made runs in a records database.
@Suite struct GuardTests {
    static let baseLoss = [1: 2.000, 2: 2.010, 3: 1.995, 4: 2.005, 5: 1.990]

    /// The fixture: a budget-holding baseline and one arm per guard, 5 seeds unless said.
    static func comparison() throws -> ArmComparison {
        let f = try RecordsFixture()
        var names: [String] = []
        func arm(_ stem: String, seeds: [Int] = [1, 2, 3, 4, 5], _ edit: (inout RecordsFixture.Run, Int) -> Void) throws {
            for s in seeds {
                var run = RecordsFixture.Run(name: "\(stem)-s\(s)", seed: s, evalLoss: baseLoss[s]!)
                edit(&run, s)
                try f.add(run)
                names.append(run.name)
            }
        }
        try arm("base") { _, _ in }
        // No controller on a zero-expert model: nothing holds K_e (here it also drifts to 2.3).
        try arm("none") { r, s in r.controller = "none"; r.ffn = { _, _ in 2.3 }; r.evalLoss += [0.004, -0.003, 0.002, -0.004, 0.001][s - 1] }
        // 2% more activated parameters per token, and a clearly higher loss.
        try arm("bigger") { r, s in r.denseParams = 1_028_000; r.evalLoss += 0.02 + 0.001 * Double(s % 2) }
        // A controller on, but layer 1 ends 2.5% above K_e over the final window.
        try arm("offbudget") { r, _ in r.ffn = { step, layer in layer == 1 && step >= 15 ? 2.05 : 2.0 } }
        // One run's loss went NaN.
        try arm("nan") { r, s in if s == 3 { r.nanStep = 7 } }
        // Three seeds only.
        try arm("few", seeds: [1, 2, 3]) { r, _ in r.evalLoss -= 0.01 }
        return try ArmComparison.load(runs: names, from: f.store, baseline: "base")
    }

    /// Guards against each guard firing on the wrong arm or not at all: controller.kind = none
    /// with zero experts is `budget`, +2% activated params is `compute`, a layer 2.5% off K_e
    /// is `budget`, a NaN loss is `diverged`, 3 seeds are `n<5`; the baseline has none.
    @Test func eachGuardMarksItsArm() throws {
        let c = try Self.comparison()
        let marks = Dictionary(uniqueKeysWithValues: c.rows.map { ($0.label, $0.guards) })
        #expect(marks["base"] == [])
        #expect(marks["none"] == [.budget])
        #expect(marks["bigger"] == [.compute])
        #expect(marks["offbudget"] == [.budget])
        #expect(marks["nan"] == [.diverged])
        #expect(marks["few"] == [.fewSeeds])
        let bigger = try #require(c.rows.first { $0.label == "bigger" })
        #expect(abs(bigger.activatedParams!.mean / c.rows[0].activatedParams!.mean - 1.02) < 1e-12)
        #expect(c.keyLabel("few") == "few [n<5]" && c.keyLabel("base") == "base")
    }

    /// Guards against an unresolved difference printed as a finding: "none" differs from the
    /// baseline by +-0.004 noise (interval contains 0: not resolved), "bigger" by +0.02
    /// (resolved: higher), with n = 5 matched seeds each.
    @Test func unresolvedDifferencesAreNotFindings() throws {
        let c = try Self.comparison()
        let none = try #require(c.rows.first { $0.label == "none" }), bigger = try #require(c.rows.first { $0.label == "bigger" })
        #expect(none.difference?.n == 5 && none.verdict == "not resolved")
        #expect(bigger.difference?.n == 5 && bigger.verdict == "higher")
        #expect(abs(bigger.difference!.mean - 0.0206) < 1e-9)
        #expect(c.rows[0].difference == nil && c.rows[0].verdict == nil)
        let md = c.rendered(.md)
        #expect(md.contains("not resolved") && md.contains("final window: last 10% of recorded steps (at least 10)"))
        for g in Guard.allCases { #expect(md.contains("guard \(g.rawValue): "), "missing \(g) in\n\(md)") }
    }

    /// Guards against formats that drift apart: CSV has one field per header column in every
    /// row, JSON parses and holds every arm with its guards.
    @Test func csvAndJSONCarryTheSameTable() throws {
        let c = try Self.comparison()
        let lines = c.rendered(.csv).split(separator: "\n")
        let width = lines[0].split(separator: ",", omittingEmptySubsequences: false).count
        #expect(lines.count == c.rows.count + 1)
        for line in lines { #expect(line.split(separator: ",", omittingEmptySubsequences: false).count == width, "\(line)") }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(c.rendered(.json).utf8)) as? [String: Any])
        let arms = try #require(json["arms"] as? [[String: Any]])
        #expect(arms.map { $0["arm"] as? String } == c.rows.map(\.label))
        #expect(arms.first { $0["arm"] as? String == "few" }?["guards"] as? [String] == ["n<5"])
        #expect(json["finalWindow"] as? String == FinalWindow.standard.description)
    }

    /// Guards against a baseline name that silently picks another arm.
    @Test func unknownBaselineIsRefused() throws {
        let f = try RecordsFixture()
        try f.add(.init(name: "a-s1", seed: 1))
        #expect(throws: AnalysisError.self) { try ArmComparison.load(runs: ["a-s1"], from: f.store, baseline: "b") }
        #expect(throws: AnalysisError.self) { try ArmComparison.load(runs: ["zz"], from: f.store, baseline: "a") }
        #expect(try ArmComparison.load(runs: ["a-s1"], from: f.store, baseline: "a-s1").baseline == "a")
    }
}
