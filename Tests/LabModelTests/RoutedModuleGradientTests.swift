import LabConfig
import LabKernels
import LabRouting
import Testing
import TestSupport
@testable import LabModel

// Finite-difference checks of the modules around the router: the router with the device-level
// balance loss, the MTP head, and one whole ScMoE layer in both layouts. Tolerances as in
// ModuleGradientTests.swift unless a test says otherwise.

/// B, T and R = B*T of every check here.
private let batch = 2, seqLen = 5, rows = batch * seqLen

@Suite("Routed module gradients")
struct RoutedModuleGradientTests {
    /// Guards the device-level balance loss's gradient with respect to the router: groups of
    /// FFN experts (balance.groups = 2 of N = 4), the zero experts as group D+1 with their own
    /// factor 1 / ((K - K_e) T), and the chain through the softmax to W_router and the router
    /// input. f is a constant of the step (computed from the routing), so the finite difference
    /// keeps the base routing's f; the check also compares dL/dp itself on every coordinate.
    @Test("Router with the device-level balance loss (groups 2, zero experts as a group)")
    func routerWithBalanceLoss() throws {
        let c = tinyConfig()          // N 4, Z 2, K 2, K_e 1.5, balance.groups 2
        let m = c.model, d = m.hiddenSize, n = m.nRoutedExperts, z = m.zeroExpertNum, e = n + z
        let groups = c.balance.groups, ke = c.controller.targetFfnExperts, alpha: Float = 1
        let tokens = 24
        let w = ModuleWeights(c)
        let router = w.layout.layers[0].moe.router
        let u = randomBuffer(tokens * d, seed: 41)                         // [T, D]
        let bias = randomBuffer(e, seed: 42, std: 0.05)                     // [E]
        let logits = FloatBuffer(count: tokens * e), probs = FloatBuffer(count: tokens * e)   // [T, E]
        let forward = {
            linearForward(y: logits.ptr, x: u.constPtr, w: w.params.constPtr + router, rows: tokens,
                          inFeatures: d, outFeatures: e)
            softmaxRowsForward(y: probs.ptr, x: logits.constPtr, rows: tokens, cols: e)
        }
        forward()
        var routing = RoutingPlan()
        route(probs: probs.constPtr, bias: bias.constPtr, tokens: tokens, routedExperts: n, zeroExperts: z,
              topK: m.moeTopk, gateScale: 1, into: &routing)
        let plan = routing
        let f = try balanceFactors(plan: plan, groups: groups, targetFfnExperts: ke)
        print("router with balance loss: f = \(f)")
        // Equal factors make the loss alpha * f * sum(p) = constant: nothing would be checked.
        #expect(f.count == groups + 1 && f.allSatisfy { $0 > 0 }, "a group was never chosen: f = \(f)")
        #expect((f.max()! - f.min()!) > 0.2, "balance factors nearly equal: f = \(f)")
        let balance = { () -> Double in
            try! deviceBalanceLoss(dProbs: nil, probs: probs.constPtr, plan: plan, groups: groups,
                                   targetFfnExperts: ke, alpha: alpha)
        }
        let loss = { () -> Double in forward(); return balance() }
        _ = loss()
        let dprobs = gradientIncrements([tokens * e], seed: 43) { b in
            _ = try! deviceBalanceLoss(dProbs: b[0].ptr, probs: probs.constPtr, plan: plan, groups: groups,
                                       targetFfnExperts: ke, alpha: alpha)
        }[0]
        let dlogits = FloatBuffer(count: tokens * e)
        softmaxRowsBackward(dx: dlogits.ptr, dy: dprobs.constPtr, y: probs.constPtr, rows: tokens, cols: e)
        let du = w.increments(inputCount: tokens * d, seed: 44) { du, g in
            linearBackward(dx: du, dw: g + router, dy: dlogits.constPtr, x: u.constPtr, w: w.params.constPtr + router,
                           rows: tokens, inFeatures: d, outFeatures: e)
        }
        // dL/dp is constant in p (the loss is linear in p for a fixed f).
        let direct = checkEveryCoordinate("dL/dp", probs, analytic: dprobs, eps: 1e-2, floor: 1e-3, loss: balance)
        var checks = w.checkTensors(["model.layers.0.mlp.router."], eps: 1e-2, floor: 1e-4, loss: loss)
        checks.append(checkEveryCoordinate("u", u, analytic: du, eps: 1e-2, floor: 1e-4, loss: loss))
        print("router with balance loss:\n  \(direct)")
        #expect(direct.carrying == direct.checked && direct.worst <= 1e-4, "\(direct)")
        // Measured: worst coordinate 0.006, worst tensor L2 2e-4, 85% of u carrying (floor 1e-4:
        // the balance gradient's share through the softmax is small for some rows).
        expectChecks(checks, tolerance: 2e-2, l2Tolerance: 2e-3, minCarrying: 0.8)
    }

    /// The MTP head alone on a random last hidden state: every coordinate of its weights, the
    /// shared embedding and LM head, and the hidden state.
    static func checkMTP(eps: Float = 1e-2, floor: Double = 1e-3) -> [CoordinateCheck] {
        let c = tinyConfig(mtp: 0.3)
        let model = LongCatModel(config: c, batch: batch, seqLen: seqLen)
        let w = ModuleWeights(c, model: model)
        let head = model.mtp!
        let d = c.model.hiddenSize, v = c.model.vocabSize
        var rng = LabRandom(seed: 51)
        let tokens = (0..<rows).map { _ in Int32(rng.nextInt(below: v)) }
        var targets = (0..<rows).map { _ in Int32(rng.nextInt(below: v)) }
        targets[3] = -1                                       // an ignored target embeds token 0
        let mtpTargets = (0..<rows).map { i in i % seqLen == seqLen - 1 ? -1 : Int32(rng.nextInt(below: v)) }
        let last = randomBuffer(rows * d, seed: 52)             // [R, D] the main model's last hidden
        let coef = c.model.mtpLossCoef
        let run = { (dLast: UnsafeMutablePointer<Float>?) -> Double in
            tokens.withUnsafeBufferPointer { tk in
                targets.withUnsafeBufferPointer { tg in
                    mtpTargets.withUnsafeBufferPointer { mt in
                        head.pass(model: model, last: last.constPtr, dLast: dLast, tokens: tk.baseAddress!,
                                  targets: tg.baseAddress!, mtpTargets: mt.baseAddress!, batch: batch)
                    }
                }
            }
        }
        let loss = { coef * run(nil) }
        let dLast = w.increments(inputCount: rows * d, seed: 53) { dLast, _ in _ = run(dLast) }
        var checks = w.checkTensors(["mtp.", "model.embed_tokens.", "lm_head."], eps: eps, floor: floor, loss: loss)
        checks.append(checkEveryCoordinate("last hidden", last, analytic: dLast, eps: eps, floor: floor, loss: loss))
        return checks
    }

    /// Guards the MTP head's backward: the shared embedding (of token t+1) and LM head, its MLA
    /// and FFN, W_eh's two halves, the two input norms, the loss coefficient, and the gradient it
    /// sends back into the main model's last hidden state.
    @Test("MTP head")
    func mtpHead() throws {
        let checks = Self.checkMTP()
        print("MTP head:")
        // Only the embedding rows of the next tokens (at most R = 10 of V = 24) carry gradient.
        // Measured: worst coordinate 0.006, worst tensor L2 7e-4.
        expectChecks(checks, tolerance: 2e-2, l2Tolerance: 5e-3, minCarrying: 0.5, sparse: ["model.embed_tokens.": 0.2])
    }
}
