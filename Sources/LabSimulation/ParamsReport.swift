import LabConfig

/// The text `longcat-lab params` prints: components, totals, activated parameters as a
/// function of the FFN experts a token uses, FLOPs per token.
public struct ParamsReport: Sendable {
    public var count: ParameterCount
    public var name: String
    /// K_e per layer.
    public var targetFfnExperts: Double
    public var seqLen: Int
    public var context: Int

    public init(count: ParameterCount, name: String, targetFfnExperts: Double, seqLen: Int, context: Int) {
        self.count = count; self.name = name; self.targetFfnExperts = targetFfnExperts
        self.seqLen = seqLen; self.context = context
    }

    public var text: String {
        let m = count.model, L = m.numLayers, K = m.moeTopk
        var out = ["\(name)", "D \(m.hiddenSize), L \(L), H \(m.numAttentionHeads), N \(m.nRoutedExperts), "
            + "Z \(m.zeroExpertNum) (\(m.zeroExpertType)), K \(K), F \(m.expertFfnHiddenSize), V \(m.vocabSize)", ""]
        out.append(pad("component", 44) + lpad("count", 9) + lpad("each", 16) + lpad("total", 18))
        for row in count.components {
            out.append(pad(row.name, 44) + lpad(grouped(row.count), 9) + lpad(grouped(row.each), 16)
                + lpad(grouped(row.count * row.each), 18))
        }
        out.append(pad("total parameters", 69) + lpad(grouped(count.totalParameters), 18)
            + "  (\(billions(Double(count.totalParameters))))")
        out.append("")
        out.append("Activated parameters per token (one vocabulary matrix counted), by FFN experts per layer:")
        out.append(pad("FFN experts per layer", 24) + lpad("activated", 18))
        let low = count.minFfnExpertsPerToken / L, high = count.maxFfnExpertsPerToken / L
        for k in low...high {
            let note = k == low ? "  min" : (k == high ? "  max" : "")
            out.append(pad("\(k)", 24) + lpad(billions(Double(count.activatedParameters(ffnExperts: k * L))), 18) + note)
        }
        out.append(pad("K_e = \(format(targetFfnExperts, 2))", 24)
            + lpad(billions(count.activatedParameters(meanFfnExperts: targetFfnExperts)), 18) + "  mean at the target")
        out.append("")
        let train = count.trainingFlopsPerToken(meanFfnExperts: targetFfnExperts, seqLen: seqLen)
        let infer = count.inferenceFlopsPerToken(meanFfnExperts: targetFfnExperts, contextLength: context)
        out.append("FLOPs per token at K_e = \(format(targetFfnExperts, 2)):")
        out.append("  training (6 x matmul weights + attention, sequence \(seqLen)): \(scientific(train))")
        out.append("  inference (2 x matmul weights + attention over \(context) keys): \(scientific(infer))")
        out.append("  matmul weights per token: \(billions(count.matmulParameters(meanFfnExperts: targetFfnExperts)))"
            + (count.mtp ? " (MTP layer included)" : ""))
        return out.joined(separator: "\n") + "\n"
    }
}

/// 1234567 -> "1,234,567".
func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}

/// 18693773312 -> "18.69B"; below a billion in millions.
func billions(_ x: Double) -> String {
    abs(x) >= 1e9 ? format(x / 1e9, 2) + "B" : format(x / 1e6, 2) + "M"
}

/// 3.1e11 -> "3.10e11".
func scientific(_ x: Double) -> String {
    guard x > 0 else { return format(x, 0) }
    var e = 0, m = x
    while m >= 10 { m /= 10; e += 1 }
    while m < 1 { m *= 10; e -= 1 }
    return format(m, 2) + "e\(e)"
}

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
func lpad(_ s: String, _ width: Int) -> String { s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s }
