import Foundation
import LabConfig

/// A tensor as the reference checkpoint names and shapes it (LONGCAT.md section 9), and where
/// its values live in the lab's flat parameter buffer.
public struct ReferenceTensor: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// `count` floats starting at `offset` of the parameter buffer.
        case parameters(offset: Int)
        /// The routing bias of one layer (controller state, not a trained parameter).
        case bias(layer: Int)
        /// Written as zeros, ignored when read: the zero experts' unused gate/up weights.
        case zeros
    }
    public let name: String
    public let shape: [Int]
    public let source: Source
    public var count: Int { shape.reduce(1, *) }
}

public extension ParameterLayout {
    /// Every tensor of the model under the reference checkpoint's names, in a fixed order.
    /// Stacked tensors (experts, gate|up) are split into the reference's per-expert and
    /// per-projection tensors; each piece is a contiguous block of the flat buffer.
    func referenceTensors(_ c: ModelConfig) -> [ReferenceTensor] {
        var out: [ReferenceTensor] = []
        let d = c.hiddenSize, f = c.expertFfnHiddenSize, n = c.nRoutedExperts, z = c.zeroExpertNum
        for s in slices {
            if s.name.hasSuffix("gate_up_proj.weight") {            // dense FFN: [2F, D]
                let prefix = String(s.name.dropLast("gate_up_proj.weight".count))
                let half = s.shape[0] / 2
                out.append(.init(name: prefix + "gate_proj.weight", shape: [half, d], source: .parameters(offset: s.offset)))
                out.append(.init(name: prefix + "up_proj.weight", shape: [half, d],
                                 source: .parameters(offset: s.offset + half * d)))
            } else if s.name.hasSuffix("mlp.experts.gate_up_proj") { // [N, 2F, D]
                let prefix = String(s.name.dropLast("gate_up_proj".count))
                for e in 0..<n {
                    let base = s.offset + e * 2 * f * d
                    out.append(.init(name: prefix + "\(e).gate_proj.weight", shape: [f, d], source: .parameters(offset: base)))
                    out.append(.init(name: prefix + "\(e).up_proj.weight", shape: [f, d],
                                     source: .parameters(offset: base + f * d)))
                }
                for e in n..<(n + z) {
                    out.append(.init(name: prefix + "\(e).gate_proj.weight", shape: [f, d], source: .zeros))
                    out.append(.init(name: prefix + "\(e).up_proj.weight", shape: [f, d], source: .zeros))
                }
            } else if s.name.hasSuffix("mlp.experts.down_proj") {     // [N, D, F]
                let prefix = String(s.name.dropLast("down_proj".count))
                for e in 0..<n {
                    out.append(.init(name: prefix + "\(e).down_proj.weight", shape: [d, f],
                                     source: .parameters(offset: s.offset + e * d * f)))
                }
            } else {
                out.append(.init(name: s.name, shape: s.shape, source: .parameters(offset: s.offset)))
                if s.name.hasSuffix("mlp.router.classifier.weight") {
                    let layer = Int(s.name.split(separator: ".")[2])!
                    out.append(.init(name: s.name.replacingOccurrences(of: "classifier.weight", with: "e_score_correction_bias"),
                                     shape: [n + z], source: .bias(layer: layer)))
                }
            }
        }
        return out
    }
}
