/// Quantities derived from the config, used by several modules (pure functions of it).
public extension ModelConfig {
    /// dn + dr: per-head query/key width.
    var qHeadDim: Int { qkNopeHeadDim + qkRopeHeadDim }

    /// N + Z: routed and zero-computation experts, the router's output width.
    var totalExperts: Int { nRoutedExperts + zeroExpertNum }

    /// alpha_q = sqrt(D / rq) on the normalised query latent when `mla_scale_q_lora`, else 1
    /// (LONGCAT.md section 2).
    var mlaScaleQ: Double { mlaScaleQLora ? (Double(hiddenSize) / Double(qLoraRank)).squareRoot() : 1 }

    /// alpha_kv = sqrt(D / rkv) on the normalised key/value latent when `mla_scale_kv_lora`, else 1.
    var mlaScaleKV: Double { mlaScaleKvLora ? (Double(hiddenSize) / Double(kvLoraRank)).squareRoot() : 1 }
}

public extension LabConfig {
    /// K_e: the controller's target mean number of FFN experts per token; 0 in the file means K.
    var effectiveTargetFfnExperts: Double {
        controller.targetFfnExperts == 0 ? Double(model.moeTopk) : controller.targetFfnExperts
    }

    /// Scale on the aggregated MoE output: s * gamma with gamma = m when variance compensation
    /// is on, else 1 (LONGCAT.md section 6).
    var moeOutputScale: Double {
        model.routedScalingFactor * (initialization.varianceCompensation ? Double(initialization.fineGrainFactor) : 1)
    }

    /// Gate scale of the zero experts: `moeOutputScale` when gamma covers the whole output
    /// (`init.variance_compensation_scope = "all"`), s alone when it covers the FFN experts only.
    var zeroExpertOutputScale: Double {
        initialization.varianceCompensationScope == .all ? moeOutputScale : model.routedScalingFactor
    }
}
