import ArgumentParser
import Foundation
import LabCPU
import LabKernels

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check this machine: CPU features, the OpenBLAS kernel in use, threads, sgemm speed and correctness.")

    @Option(help: "Square sgemm size for the speed measurement.")
    var size = 1024

    func run() throws {
        let avx2 = labcpu_has_avx2_fma() != 0, avx512 = labcpu_has_avx512() != 0
        let initial = String(cString: labcpu_initial_kernel())
        let source = String(cString: labcpu_kernel_source())
        print("CPU features    AVX2+FMA \(avx2 ? "yes" : "no"), AVX-512 \(avx512 ? "yes" : "no")")
        print("BLAS kernel     \(blasKernelName) (library chose \(initial); chosen by \(source))")
        print("threads         \(LabThreads.count) worker threads, BLAS single-threaded inside them")
        let err = checkSgemmAgainstReference(size: 67)
        let ok = err < 1e-3
        print(String(format: "sgemm check     max |fast - plain loop| = %.2e on 67x67x67: ", err) + (ok ? "ok" : "MISMATCH"))
        let one = { () -> Double in LabThreads.set(1); defer { LabThreads.set(0) }; return measureSgemmGFlops(size: size, repeats: 5) }()
        let all = measureSgemmGFlops(size: size, repeats: 5)
        print(String(format: "sgemm speed     %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on %d (%dx%dx%d)", one, all, LabThreads.count, size, size, size))
        if !ok { throw ExitCode(1) }
    }
}
