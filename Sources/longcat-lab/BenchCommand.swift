import ArgumentParser
import Foundation
import LabConfig
import LabKernels
import LabSweeps
import LabTraining

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training throughput on the bench-tiny preset (or any config) and show where the time goes.",
        discussion: """
        Trains a few steps after a warm-up and prints tokens/s (median step), the split of a \
        step into forward, backward, optimizer, controller and recording, each module's share, \
        the achieved GFLOP/s against this machine's measured sgemm rate, the worker pool's parallel loops per step, its helpers' idle share (the step's serial parts) and the caller's waits at loops' ends (imbalance), the sgemm calls' share of the threads' time and their rate (and so the share of sgemm a step would reach with no time outside them), and peak memory with the bytes the model's buffers and the optimizer hold, by role. \
        Attention FLOPs count the causal half only (the mean context of a sequence of T is \
        (T + 1) / 2 keys). The presets: experiments/bench-tiny.toml (the default) and \
        experiments/bench-medium.toml (d 512, 4 layers, 64 + 32 experts, top-8, vocabulary 4096, \
        batch 8 x 512).
        """)

    @Option(help: "Config to benchmark.")
    var config = "experiments/bench-tiny.toml"

    @OptionGroup var overrideOptions: ConfigOverrides

    @Option(help: "Warm-up steps (not measured).")
    var warmup = 3

    @Option(help: "Measured steps.")
    var steps = 10

    @Option(help: "Worker threads (0 = all cores).")
    var threads = 0

    @Flag(help: "Do not record into a temporary database (by default the bench records, to measure that cost).")
    var noRecord = false

    func run() throws {
        var cfg = try ConfigOrSweep.load(path: config, overrides: overrideOptions.overrides).config
        cfg.train.threads = threads
        LabThreads.set(threads)
        print("kernel \(try verifiedBLASKernel()) (checked against the plain loop), \(LabThreads.count) threads; measuring sgemm...")
        let sgemm = measureSgemmGFlops(size: 1024, repeats: 5)
        let dbPath = NSTemporaryDirectory() + "longcat-bench-\(getpid()).sqlite"
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dbPath + s) } }
        let r = try runBenchmark(config: cfg, warmup: warmup, steps: steps, recordTo: noRecord ? nil : dbPath)
        // Measured again after the steps: on a shared machine the rate moves, and the share is
        // stated against the higher of the two (the conservative figure).
        let sgemmAfter = measureSgemmGFlops(size: 1024, repeats: 5)
        let sgemmBest = max(sgemm, sgemmAfter)
        let m = cfg.model
        print("""
        config     \(config): d \(m.hiddenSize), \(m.numLayers) layers, N \(m.nRoutedExperts) + Z \(m.zeroExpertNum), top-\(m.moeTopk), batch \(cfg.train.batchSize)x\(cfg.train.seqLen)\(cfg.train.gradAccum > 1 ? " x \(cfg.train.gradAccum) micro-batches per step" : "")
        throughput \(String(format: "%.0f", r.tokensPerSecond)) tokens/s (median of \(r.steps) steps, \(String(format: "%.1f", r.medianStepMs)) ms/step)
        compute    \(String(format: "%.2f", r.flopsPerToken / 1e6)) MFLOP/token at \(String(format: "%.2f", r.meanFfnExperts)) FFN experts/token/layer -> \(String(format: "%.1f", r.achievedGFlops)) GFLOP/s (sgemm 1024^3 here: \(String(format: "%.1f", sgemm)) before, \(String(format: "%.1f", sgemmAfter)) after GFLOP/s; \(String(format: "%.0f", 100 * r.achievedGFlops / sgemmBest))% of the higher)
        threads    \(r.threads) (\(r.pool.helpers) pool helper\(r.pool.helpers == 1 ? "" : "s")): \(r.pool.loops / max(r.steps, 1)) parallel loops per step; helpers idle \(String(format: "%.1f", 100 * r.helperIdleShare))% of the steps' wall time (serial parts), caller waited \(String(format: "%.2f", r.pool.callerWaitSeconds * 1000 / Double(max(r.steps, 1)))) ms per step at loops' ends
        BLAS       \(r.blas.calls / max(r.steps, 1)) sgemm calls per step executing \(String(format: "%.2f", r.blasFlopRatio))x the model's FLOPs (attention's diagonal blocks, recomputed scores); the threads spent \(String(format: "%.0f", 100 * r.blasTimeShare))% of their time in them, at \(String(format: "%.1f", r.blas.gflopsPerThread)) GFLOP/s per thread (\(String(format: "%.0f", 100 * r.blas.gflopsPerThread * Double(r.threads) / sgemmBest))% of the higher sgemm's per-thread rate)
        ceiling    with no time outside sgemm, this step would reach \(String(format: "%.0f", 100 * r.gflopsWithBLASOnly / sgemmBest))% of the higher sgemm
        memory     peak resident \(String(format: "%.0f", r.peakMemoryMiB)) MiB
        """)
        let total = r.medianStepMs
        func row(_ label: String, _ ms: Double) -> String {
            "  " + pad(label, 40) + String(format: " %8.2f ms  %5.1f%%", ms, 100 * ms / max(total, 1e-9))
        }
        print("step split (mean per step)")
        print(row("forward", r.forwardMs))
        print(row("backward", r.backwardMs))
        print(row("gradient clip + AdamW", r.optimizerMs))
        print(row("bias controllers", r.controllerMs))
        print(row(noRecord ? "recording (off)" : "recording (SQLite)", r.recordMs))
        print("by module (forward / backward ms per step, share of the step; the share of the threads' time in sgemm, its rate against the higher sgemm's per-thread rate, and the ms per step outside sgemm)")
        let perThreadSgemm = sgemmBest / Double(max(r.threads, 1))
        for (i, (label, f, b)) in r.modules.enumerated() where f + b > 0.005 {
            let threadMs = (f + b) * Double(r.threads), blasMs = r.moduleBLASms[i]
            let rate = blasMs > 0 ? String(format: "at %3.0f%%", 100 * r.moduleBLASgflops[i] / perThreadSgemm) : "      "
            print("  " + pad(label, 40)
                  + String(format: " %8.2f / %8.2f ms  %5.1f%%   sgemm %3.0f%% ", f, b, 100 * (f + b) / max(total, 1e-9),
                           100 * blasMs / max(threadMs, 1e-9))
                  + rate + String(format: ", outside %7.2f ms", max(0, threadMs - blasMs) / Double(r.threads)))
        }
        print("memory split (buffers held, MiB; share of the peak resident)")
        let mib = 1024.0 * 1024.0
        for (role, bytes) in r.memorySplit + [("other (runtime, BLAS, corpus, records)", Int(r.peakMemoryMiB * mib) - r.memorySplit.reduce(0) { $0 + $1.bytes })] {
            print("  " + pad(role, 40) + String(format: " %8.1f MiB  %5.1f%%", Double(bytes) / mib, 100 * Double(bytes) / mib / max(r.peakMemoryMiB, 1e-9)))
        }
    }
}

/// Left-aligns `s` in a field of `width` characters.
func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}
