import Dispatch
import LabCPU

/// Quick measurements for the `doctor` command: BLAS speed, BLAS correctness, kernel name.

/// The OpenBLAS kernel in use (e.g. "Haswell", "SkylakeX", "Zen").
public var blasKernelName: String { String(cString: labcpu_current_kernel()) }

/// GFLOP/s of a square `size` sgemm through `gemm` (best of `repeats` runs after one warm-up).
public func measureSgemmGFlops(size: Int, repeats: Int) -> Double {
    let a = FloatBuffer(count: size * size), b = FloatBuffer(count: size * size)
    let c = FloatBuffer(count: size * size)
    var rng = LabRandom(seed: 1)
    rng.fillNormal(a.ptr, a.count, std: 1)
    rng.fillNormal(b.ptr, b.count, std: 1)
    var best = Double.infinity
    for run in 0...max(1, repeats) {
        let start = DispatchTime.now().uptimeNanoseconds
        gemm(transA: false, transB: false, m: size, n: size, k: size, a: a.ptr, lda: size,
             b: b.ptr, ldb: size, beta: 0, c: c.ptr, ldc: size)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        if run > 0 { best = min(best, seconds) }
    }
    return 2 * Double(size) * Double(size) * Double(size) / best * 1e-9
}

/// Largest |gemm - gemmReference| over a random square `size` product (inputs N(0, 1)).
public func checkSgemmAgainstReference(size: Int) -> Float {
    let a = FloatBuffer(count: size * size), b = FloatBuffer(count: size * size)
    let fast = FloatBuffer(count: size * size), slow = FloatBuffer(count: size * size)
    var rng = LabRandom(seed: 2)
    rng.fillNormal(a.ptr, a.count, std: 1)
    rng.fillNormal(b.ptr, b.count, std: 1)
    gemm(transA: false, transB: true, m: size, n: size, k: size, a: a.ptr, lda: size,
         b: b.ptr, ldb: size, beta: 0, c: fast.ptr, ldc: size)
    gemmReference(transA: false, transB: true, m: size, n: size, k: size, a: a.ptr, lda: size,
                  b: b.ptr, ldb: size, beta: 0, c: slow.ptr, ldc: size)
    var worst: Float = 0
    for i in 0..<fast.count { worst = max(worst, abs(fast[i] - slow[i])) }
    return worst
}

/// A BLAS kernel that computes wrong products (an older OpenBLAS on a CPU it misreads can).
public struct BLASCheckError: Error, CustomStringConvertible {
    public let description: String
}

/// Checks the BLAS kernel in use against the plain loop on a small odd-sized product (well
/// under a millisecond) and returns its name; run once at start-up of every command that trains.
public func verifiedBLASKernel() throws -> String {
    let error = checkSgemmAgainstReference(size: 67)
    guard error < 1e-3 else {
        throw BLASCheckError(description: "OpenBLAS kernel \(blasKernelName) disagrees with the plain loop (max error \(error)); "
            + "set OPENBLAS_CORETYPE to a kernel this CPU supports (e.g. Haswell) and rerun `longcat-lab doctor`")
    }
    return blasKernelName
}
