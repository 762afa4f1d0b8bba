import Foundation
import LabConfig
import LabKernels
import Testing
@testable import LabModel
@testable import LabTraining

// Before/after oracle for refactors that must not change behaviour: bit patterns of the
// quickstart's first 50 training steps, and of one forward/backward pass of every preset in
// experiments/, hashed. The reference values were recorded before the redesign of the expert
// path, the config and the records; a change that moves any bit of a loss, a hidden state, a
// routing decision, a gradient or a parameter changes the hash.
//
// Floats are identical only for the same BLAS kernel and thread count (kernels reassociate
// sums differently), so the references are kept per OpenBLAS kernel; on a kernel without a
// recorded reference the tests are disabled and say so.

/// FNV-1a over raw bit patterns.
struct BitHash {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ x: UInt64) {
        for i in 0..<8 { value = (value ^ ((x >> (8 * UInt64(i))) & 0xff)) &* 0x0000_0100_0000_01b3 }
    }
    mutating func add(_ x: Double) { add(x.bitPattern) }
    mutating func add(_ p: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n { add(UInt64(p[i].bitPattern)) }
    }
    mutating func add(_ a: [Int32]) { for x in a { add(UInt64(UInt32(bitPattern: x))) } }
    mutating func add(_ a: [Float]) { for x in a { add(UInt64(x.bitPattern)) } }
    var hex: String { String(value, radix: 16) }
}

enum BehaviourReference {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let threads = 2

    /// Hashes recorded before the redesign, per OpenBLAS kernel: [kernel: [case: hash]].
    static let recorded: [String: [String: String]] = [
        "SkylakeX": [   // Xeon with AVX-512 and AMX, 2 threads
            "quickstart-50": "44b77460e360c7f5",
            "ablation-base": "cbb3c6080d7e3912",
            "bench-medium": "cf6fefb437561d26",
            "bench-tiny": "2255315b81645d26",
            "corpus-kjv": "c334c5185382c6d6",
            "corpus-mix": "bdbe355d03cbb907",
            "quickstart": "c334c5185382c6d6",
            "synthetic-arithmetic": "c334c5185382c6d6",
            "synthetic-copy": "c334c5185382c6d6",
            "synthetic-mixture": "c334c5185382c6d6",
            "synthetic-structured": "c334c5185382c6d6",
            "synthetic-suite": "c334c5185382c6d6",
            "variance-release-ratios": "d559ed7220124e8f",
            "variance-split4": "d35ec3cc1002ecf0",
            "option-sequential": "d0a2be147884560a",
            "option-losses": "4d42c59a7a1faf57",
            "option-zero-type-zero": "e9ff0f4f77e0eea1",
            "option-zero-type-drop": "e9ff0f4f77e0eea1",
            "option-zero-type-constant": "ef6482f4fe238bbe",
            "option-no-zero-experts": "f65a1c51cc3103ab",
            "option-no-mla-scale": "14058dafd0a273ce",
            "option-variance-compensation": "c68b76c3503ee628",
        ],
    ]
    static var current: [String: String]? { recorded[blasKernelName] }
    static var available: Bool { !(current ?? [:]).isEmpty }

    /// The presets in experiments/ that are plain configs (sweep files are not), and the
    /// quickstart with each option the presets leave off turned on.
    static func presets() -> [(name: String, config: LabConfig)] {
        let folder = root.appendingPathComponent("experiments")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let plain: [(name: String, config: LabConfig)] = files.filter { $0.hasSuffix(".toml") }.sorted().compactMap { file in
            guard let c = try? LabConfig.load(path: folder.appendingPathComponent(file).path) else { return nil }
            return (String(file.dropLast(5)), c)
        }
        let quickstart = folder.appendingPathComponent("quickstart.toml").path
        let variants: [(String, [String])] = [
            ("option-sequential", ["model.layout=\"sequential\""]),
            ("option-losses", ["model.hidden_z_loss_coef=1e-3", "model.mtp_loss_coef=0.3", "balance.alpha=0.01",
                               "balance.groups=4"]),
            ("option-zero-type-zero", ["model.zero_expert_type=\"zero\""]),
            ("option-zero-type-drop", ["model.zero_expert_type=\"drop\""]),
            ("option-zero-type-constant", ["model.zero_expert_type=\"constant\""]),
            ("option-no-zero-experts", ["model.zero_expert_num=0", "model.moe_topk=2"]),
            ("option-no-mla-scale", ["model.mla_scale_q_lora=false", "model.mla_scale_kv_lora=false"]),
            ("option-variance-compensation", ["init.variance_compensation=true", "init.fine_grain_factor=2"]),
        ]
        return plain + variants.compactMap { name, overrides in
            guard let c = try? LabConfig.load(path: quickstart, overrides: overrides) else { return nil }
            return (name, c)
        }
    }

    /// One training pass (forward and backward) of a freshly initialised model on fixed tokens:
    /// losses, every layer's hidden state, the routing of every layer, the logits, all gradients.
    static func passHash(_ config: LabConfig) -> String {
        LabThreads.set(threads)
        let m = config.model
        let batch = 2, seqLen = min(config.train.seqLen, 64), r = batch * seqLen
        let model = LongCatModel(config: config, batch: batch, seqLen: seqLen)
        model.initializeWeights(seed: UInt64(config.train.seed))
        for l in 0..<m.numLayers {   // a non-zero bias, so bias-for-choice is exercised too
            for e in 0..<(m.nRoutedExperts + m.zeroExpertNum) { model.bias[l].ptr[e] = Float(e % 5) * 1e-3 }
        }
        let tokens = (0..<r).map { Int32(($0 * 7 + 3) % m.vocabSize) }
        let targets = (0..<r).map { Int32(($0 * 11 + 5) % m.vocabSize) }
        let mtpTargets = (0..<r).map { Int32(($0 * 13 + 1) % m.vocabSize) }
        let losses = tokens.withUnsafeBufferPointer { t in
            targets.withUnsafeBufferPointer { y in
                mtpTargets.withUnsafeBufferPointer { z in
                    model.pass(tokens: t.baseAddress!, targets: y.baseAddress!, mtpTargets: z.baseAddress!,
                               batch: batch, train: true)
                }
            }
        }
        var h = BitHash()
        for x in [losses.total, losses.lm, losses.balance, losses.z, losses.mtp] { h.add(x) }
        for hidden in model.hidden { h.add(UnsafePointer(hidden.ptr), r * m.hiddenSize) }
        for s in model.saved {
            h.add(Array(s.moe.plan.expert))
            h.add(Array(s.moe.plan.gate))
        }
        h.add(UnsafePointer(model.grads.ptr), model.layout.count)
        return h.hex
    }

    /// The quickstart's first 50 steps (no evaluation, no records): every loss, and the
    /// parameters and biases after the last step.
    static func quickstartHash() throws -> String {
        let path = root.appendingPathComponent("experiments/quickstart.toml").path
        var c = try LabConfig.load(path: path, overrides: ["train.steps=50", "train.threads=\(threads)"])
        c.train.evalInterval = 1000
        c.train.checkpointInterval = 1000
        var o = temporaryOptions("checksum")
        o.record = false
        let trainer = try Trainer(config: c, options: o)
        let summary = try trainer.run()
        var h = BitHash()
        for l in summary.losses { h.add(l) }
        h.add(UnsafePointer(trainer.model.params.ptr), trainer.model.layout.count)
        for b in trainer.model.bias { h.add(UnsafePointer(b.ptr), b.count) }
        return h.hex
    }
}

@Suite("Behaviour checksums", .serialized, .enabled(if: BehaviourReference.available,
       "no reference checksums are recorded for this BLAS kernel"))
struct BehaviourChecksumTests {
    /// Guards against a refactor that changes any bit of the quickstart's first 50 steps.
    @Test func quickstartFirst50StepsUnchanged() throws {
        let hash = try BehaviourReference.quickstartHash()
        #expect(hash == BehaviourReference.current?["quickstart-50"])
    }

    /// Guards against a refactor that changes the hidden states, routing, losses or gradients of
    /// any preset (every layout, zero-expert and loss option the presets use).
    @Test func everyPresetPassUnchanged() throws {
        let presets = BehaviourReference.presets()
        #expect(presets.count >= 19)
        for (name, config) in presets {
            let recorded = try #require(BehaviourReference.current?[name],
                                        "no recorded hash for preset \(name): record it with LAB_PRINT_CHECKSUMS=1")
            #expect(BehaviourReference.passHash(config) == recorded, "preset \(name)")
        }
    }
}

/// Prints the hashes to record (run with LAB_PRINT_CHECKSUMS=1 on a tree known to be right).
@Suite("Behaviour checksums (printing)", .enabled(if: ProcessInfo.processInfo.environment["LAB_PRINT_CHECKSUMS"] == "1"))
struct BehaviourChecksumPrinter {
    @Test func printHashes() throws {
        var lines = ["\"quickstart-50\": \"\(try BehaviourReference.quickstartHash())\","]
        for (name, config) in BehaviourReference.presets() {
            lines.append("\"\(name)\": \"\(BehaviourReference.passHash(config))\",")
        }
        print("checksums for kernel \(blasKernelName):\n" + lines.joined(separator: "\n"))
    }
}
