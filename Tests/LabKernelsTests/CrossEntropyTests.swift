import Foundation
import LabKernels
import Testing
import TestSupport

@Suite("Cross-entropy")
struct CrossEntropyTests {
    static let (rows, vocab) = (6, 21)
    /// Row 2 and row 4 are ignored (negative targets).
    static let targets: [Int32] = [3, 20, -1, 0, -100, 7]

    /// Guards against a wrong log-sum-exp or counting ignored rows.
    @Test("loss matches the formula and skips ignored rows")
    func lossFormula() {
        let logits = randomBuffer(Self.rows * Self.vocab, seed: 1, std: 2)
        let (lossSum, counted) = Self.targets.withUnsafeBufferPointer {
            crossEntropyLoss(logits: logits.ptr, targets: $0.baseAddress!, rows: Self.rows, vocab: Self.vocab)
        }
        var expected = 0.0
        for (r, t) in Self.targets.enumerated() where t >= 0 {
            var sum = 0.0
            for i in 0..<Self.vocab { sum += exp(Double(logits[r * Self.vocab + i])) }
            expected += log(sum) - Double(logits[r * Self.vocab + Int(t)])
        }
        #expect(counted == 4)
        #expect(abs(lossSum - expected) < 1e-5 * expected)
    }

    /// Guards against a wrong gradient (softmax - onehot) * scale, ignored rows with nonzero
    /// gradient, and a fused loss that differs from the loss-only path. In place (dLogits
    /// aliasing logits) must give the same result.
    @Test("gradient matches finite differences, in place too")
    func gradCheckCrossEntropy() {
        let logits = randomBuffer(Self.rows * Self.vocab, seed: 2, std: 2)
        let gradScale: Float = 0.25
        let lossOf = {
            Self.targets.withUnsafeBufferPointer {
                crossEntropyLoss(logits: logits.ptr, targets: $0.baseAddress!, rows: Self.rows,
                                 vocab: Self.vocab).lossSum * Double(gradScale)
            }
        }
        let grad = FloatBuffer(count: logits.count)
        let fused = Self.targets.withUnsafeBufferPointer {
            crossEntropyForwardBackward(dLogits: grad.ptr, logits: logits.ptr, targets: $0.baseAddress!,
                                        rows: Self.rows, vocab: Self.vocab, gradScale: gradScale)
        }
        #expect(abs(fused.lossSum * Double(gradScale) - lossOf()) < 1e-9)
        let report = gradCheck(logits, analytic: grad, samples: 60, eps: 1e-2, floor: 0.01, loss: lossOf)
        #expect(report.maxRelativeError < 1e-2, "\(report)")
        for ignored in [2, 4] {
            #expect((0..<Self.vocab).allSatisfy { grad[ignored * Self.vocab + $0] == 0 })
        }
        // In place: the logits buffer becomes the gradient.
        let inPlace = clone(logits)
        let inPlaceLoss = Self.targets.withUnsafeBufferPointer {
            crossEntropyForwardBackward(dLogits: inPlace.ptr, logits: inPlace.ptr, targets: $0.baseAddress!,
                                        rows: Self.rows, vocab: Self.vocab, gradScale: gradScale)
        }
        #expect(bitwiseEqual(inPlace, grad))
        #expect(inPlaceLoss.lossSum == fused.lossSum && inPlaceLoss.counted == fused.counted)
    }

    /// Guards against a loss sum whose order depends on scheduling.
    @Test("loss sum is deterministic")
    func deterministic() {
        let (rows, vocab) = (200, 65)
        let logits = randomBuffer(rows * vocab, seed: 3)
        let targets = (0..<rows).map { Int32(($0 * 7) % vocab) }
        let losses = (0..<2).map { _ in
            targets.withUnsafeBufferPointer {
                crossEntropyLoss(logits: logits.ptr, targets: $0.baseAddress!, rows: rows, vocab: vocab).lossSum
            }
        }
        #expect(losses[0].bitPattern == losses[1].bitPattern)
    }
}
