import LabKernels
import LabRouting
import Testing
@testable import LabModel

/// The sorted, chunked MoE against a plain per-token oracle, and against finite differences.
@Suite("MoE oracle")
struct MoEOracleTests {
    /// Guards against a slip in the expert-sorted path (gather, chunking, the SwiGLU halves,
    /// the combine's row lookup, a zero-expert term, the constant expert's mix, any backward
    /// term): forward output, gates, input gradient and every MoE weight gradient must match a
    /// per-token loop in Double, for each zero_expert_type. 1000 rows so that experts run more
    /// than one chunk of `expertChunkRows`. Tolerance: 1e-3 relative to max(|oracle|, 1e-2)
    /// (Float sums over ~330 rows per expert reach about 2e-4; a wrong term is off by O(1)).
    @Test(arguments: ["identity", "zero", "drop", "constant"])
    func sortedChunkedPathMatchesPerTokenOracle(zeroKind: String) throws {
        let problem = MoEProblem(zeroKind: zeroKind, rows: 1000)
        var rng = LabRandom(seed: 21)
        let dy = (0..<problem.u.count).map { _ in rng.nextNormal() }
        let fast = problem.fast(dy: dy)
        let s = problem.shape, plan = fast.plan
        // The test only means something if both kinds of slot occur and some expert is chunked.
        let zeroSlots = plan.offsets[s.experts] - plan.offsets[s.routed]
        #expect(zeroSlots >= 50 && plan.ffnSlots >= 50, "zero slots \(zeroSlots), FFN slots \(plan.ffnSlots)")
        #expect((0..<s.routed).contains { plan.load(expert: $0) > expertChunkRows }, "no expert spans two chunks")

        let oracle = problem.oracle(plan: plan, dy: dy)
        let tolerance = 1e-3, floor = 1e-2
        #expect(worstRelativeError(fast.y, oracle.y, floor: floor) <= tolerance, "output")
        #expect(worstRelativeError(Array(plan.gate), oracle.gate, floor: floor) <= tolerance, "gates")
        #expect(worstRelativeError(fast.du, oracle.du, floor: floor) <= tolerance, "input gradient")
        for t in problem.tensors {
            let range = t.offset..<(t.offset + t.count)
            let err = worstRelativeError(Array(fast.grads[range]), Array(oracle.grads[range]), floor: floor)
            #expect(err <= tolerance, "gradient of \(t.name): worst relative error \(err)")
            #expect(fast.grads[range].contains { $0 != 0 }, "\(t.name) got no gradient")
        }
    }

    /// Guards against a wrong or missing gradient term of the MoE module (router softmax,
    /// gates, experts, zero and constant experts, balance loss) that a whole-model check would
    /// dilute: central differences of L = <MoE(u), c> + balance on the module alone. Only
    /// coordinates that carry gradient (|analytic| >= 1% of the tensor's largest) are sampled;
    /// a sample whose perturbation changes the routing is counted, and fewer than 6 checked
    /// samples per tensor fails the test. Tolerance: 5e-3 relative to max(|numeric|, 1e-3)
    /// (the worst seen is about 7e-4; eps = 1e-2 in Float).
    @Test(arguments: ["identity", "zero", "constant"])
    func moduleGradientsMatchFiniteDifferences(zeroKind: String) throws {
        var problem = MoEProblem(zeroKind: zeroKind, rows: 8, balance: 0.05, seed: 9)
        var rng = LabRandom(seed: 31)
        let c = (0..<problem.u.count).map { _ in rng.nextNormal() }
        let base = problem.fast(dy: c)
        let baseRouting = Array(base.plan.expert)
        func loss(_ p: MoEProblem) -> (Double, [Int32]) {
            let r = p.fast()
            return (zip(r.y, c).reduce(r.balance) { $0 + Double($1.0) * Double($1.1) }, Array(r.plan.expert))
        }
        let eps: Float = 1e-2, tolerance = 5e-3, floor = 1e-3
        var tensors = problem.tensors.map { (name: $0.name, offset: $0.offset, count: $0.count, input: false) }
        tensors.append((name: "input u", offset: 0, count: problem.u.count, input: true))
        for t in tensors {
            let analytic = t.input ? base.du : Array(base.grads[t.offset..<(t.offset + t.count)])
            let largest = analytic.map(abs).max() ?? 0
            let carrying = analytic.indices.filter { abs(analytic[$0]) >= 0.01 * largest && largest > 0 }
            var checked = 0, skipped = 0, worst = 0.0
            for i in carrying.shuffledDeterministically(seed: 7).prefix(12) {
                let keep = t.input ? problem.u[i] : problem.params[t.offset + i]
                func set(_ value: Float) {
                    if t.input { problem.u[i] = value } else { problem.params[t.offset + i] = value }
                }
                set(keep + eps)
                let (plus, routingPlus) = loss(problem)
                set(keep - eps)
                let (minus, routingMinus) = loss(problem)
                set(keep)
                if routingPlus != baseRouting || routingMinus != baseRouting { skipped += 1; continue }
                let numeric = (plus - minus) / (2 * Double(eps))
                worst = max(worst, abs(Double(analytic[i]) - numeric) / max(abs(numeric), floor))
                checked += 1
            }
            #expect(checked >= 6, "\(t.name): only \(checked) of \(carrying.count) gradient-carrying samples checked (\(skipped) changed the routing)")
            #expect(worst <= tolerance, "\(t.name): worst relative error \(worst) over \(checked) samples")
            print("MoE gradient check (\(zeroKind)) \(t.name): \(checked) checked of \(carrying.count) carrying gradient, "
                  + "\(skipped) changed the routing, worst relative error \(worst)")
        }
    }
}

extension Array {
    /// The elements in a fixed pseudo-random order (Fisher-Yates with `LabRandom`).
    func shuffledDeterministically(seed: UInt64) -> [Element] {
        var out = self, rng = LabRandom(seed: seed)
        if out.count < 2 { return out }
        for i in stride(from: out.count - 1, to: 0, by: -1) { out.swapAt(i, rng.nextInt(below: i + 1)) }
        return out
    }
}
