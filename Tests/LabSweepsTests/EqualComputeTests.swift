import LabConfig
import Testing
@testable import LabSweeps

@Suite("Equal-compute baseline")
struct EqualComputeTests {
    func zeroExpertConfig(k: Int, z: Int, ke: Double) -> LabConfig {
        var c = LabConfig()
        c.model.moeTopk = k
        c.model.zeroExpertNum = z
        c.controller.kind = .pid
        c.controller.targetFfnExperts = ke
        return c
    }

    /// With a whole K_e the baseline routes to exactly K_e experts; what remains is the router
    /// rows of the zero experts (L*D*Z), guarding against a baseline that silently differs in
    /// compute by whole experts.
    @Test func wholeTargetGivesTopKeAndOnlyTheRouterResidual() throws {
        let c = zeroExpertConfig(k: 4, z: 8, ke: 2)
        let b = try EqualComputeBaseline(of: c)
        #expect(b.baseline.model.moeTopk == 2)
        #expect(b.baseline.model.zeroExpertNum == 0)
        #expect(b.baseline.controller.targetFfnExperts == 0)
        #expect(b.baseline.controller.kind == .pid)
        let m = c.model
        #expect(b.residual == -Double(m.numLayers * m.hiddenSize * m.zeroExpertNum))
        try validate(b.baseline)
    }

    /// The activated parameters are those `ParameterCount` gives, never an estimate.
    @Test func activatedParametersComeFromParameterCount() throws {
        let c = zeroExpertConfig(k: 6, z: 16, ke: 3)
        let b = try EqualComputeBaseline(of: c)
        #expect(b.sourceActivated == ParameterCount(model: c.model).activatedParameters(meanFfnExperts: 3))
        #expect(b.baselineActivated == Double(ParameterCount(model: b.baseline.model).activatedParameters(ffnExperts: 3 * c.model.numLayers)))
    }

    /// A fractional K_e picks the neighbouring whole top-k with the smaller residual and says so.
    @Test func fractionalTargetPicksTheCloserWholeTopK() throws {
        let low = try EqualComputeBaseline(of: zeroExpertConfig(k: 4, z: 8, ke: 2.3))
        #expect(low.baseline.model.moeTopk == 2)
        let high = try EqualComputeBaseline(of: zeroExpertConfig(k: 4, z: 8, ke: 2.7))
        #expect(high.baseline.model.moeTopk == 3)
        #expect(high.residual > 0 && low.residual < 0)
        #expect(abs(high.relativeResidual) < 0.2)
        #expect(high.summary.contains("residual"))
    }

    @Test func configWithoutZeroExpertsIsRejected() {
        var c = LabConfig()
        c.model.zeroExpertNum = 0
        #expect(throws: ConfigError.self) { try EqualComputeBaseline(of: c) }
    }
}

@Suite("Sweep metrics")
struct MetricsTests {
    @Test func overshootIsTheLargestExcursionPastTheTargetAfterCrossing() {
        #expect(overshoot([4.0, 3.0, 1.5, 1.8, 2.0], target: 2) == 0.25)
        #expect(overshoot([4.0, 3.0, 2.5], target: 2) == 0)
        #expect(overshoot([1.0, 2.4, 2.1], target: 2)! > 0.19)
    }

    @Test func slurmArraySpecIsCompact() {
        #expect(SlurmArray.arraySpec([0, 1, 2, 3, 5, 7, 8]) == "0-3,5,7-8")
        #expect(SlurmArray.arraySpec([4]) == "4")
    }

    @Test func shellQuotingSurvivesQuotes() {
        #expect(shellQuoted("it's") == "'it'\\''s'")
    }
}
