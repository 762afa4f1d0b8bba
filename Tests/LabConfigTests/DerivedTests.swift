import Testing
import LabConfig

/// Derived quantities follow their formulas (LONGCAT.md sections 2, 4, 6).
@Suite struct DerivedTests {
    @Test func headWidthAndExpertCount() {
        var m = ModelConfig()
        m.qkNopeHeadDim = 16
        m.qkRopeHeadDim = 8
        m.nRoutedExperts = 12
        m.zeroExpertNum = 3
        #expect(m.qHeadDim == 24)
        #expect(m.totalExperts == 15)
    }

    /// alpha_q = sqrt(D/rq) and alpha_kv = sqrt(D/rkv) when switched on, 1 when off.
    @Test func mlaScales() {
        var m = ModelConfig()
        m.hiddenSize = 96
        m.qLoraRank = 24
        m.kvLoraRank = 8
        #expect(m.mlaScaleQ == 2)
        #expect(abs(m.mlaScaleKV - 12.0.squareRoot()) < 1e-15)
        m.mlaScaleQLora = false
        m.mlaScaleKvLora = false
        #expect(m.mlaScaleQ == 1)
        #expect(m.mlaScaleKV == 1)
    }

    /// Guards against a target of 0 reaching the controller as "no FFN experts".
    @Test func targetFfnExpertsZeroMeansK() {
        var c = LabConfig()
        c.model.moeTopk = 6
        #expect(c.effectiveTargetFfnExperts == 6)
        c.controller.targetFfnExperts = 4.5
        #expect(c.effectiveTargetFfnExperts == 4.5)
    }

    @Test func moeOutputScaleAppliesGammaOnlyWithCompensation() {
        var c = LabConfig()
        c.model.routedScalingFactor = 1.5
        c.initialization.fineGrainFactor = 6
        #expect(c.moeOutputScale == 1.5)
        c.initialization.varianceCompensation = true
        #expect(c.moeOutputScale == 9)
    }
}
