// LabCPU: picks OpenBLAS's kernel from this CPU's features before any Swift code runs.
//
// Debian's OpenBLAS 0.3.21 does not recognise some recent CPUs and falls back to its slowest
// kernel. The library reads OPENBLAS_CORETYPE only while it loads, so a constructor here sets it
// from CPUID and re-runs the library's kernel selection. It also refuses to continue on a CPU
// without AVX2 and FMA, which the Swift code is compiled for, with a message instead of SIGILL.
#pragma once

/// 1 when the CPU (and the OS) support AVX2 and FMA.
int labcpu_has_avx2_fma(void);
/// 1 when the CPU (and the OS) support AVX-512 F, BW, DQ and VL.
int labcpu_has_avx512(void);
/// The OpenBLAS kernel the library chose by itself while loading (before our choice).
const char *labcpu_initial_kernel(void);
/// The OpenBLAS kernel in use now.
const char *labcpu_current_kernel(void);
/// How the kernel was chosen: "cpu-features", "environment" (OPENBLAS_CORETYPE was set by the
/// user) or "library" (the library's own choice was kept).
const char *labcpu_kernel_source(void);
/// Sets OpenBLAS's own thread count (the lab keeps it at 1 and parallelises in Swift).
void labcpu_set_blas_threads(int n);

// The lab's worker pool: parallel loops whose helpers spin between loops instead of sleeping.
//
// Dispatch's concurrentPerform wakes a sleeping worker for every loop; on the 2-core machines the
// lab runs on, that wake costs about 40 microseconds per loop (measured: two 20-microsecond
// iterations took 60 microseconds, longer than running both on one thread), and a training step
// of bench-tiny runs several hundred loops. Here the helpers spin for up to a millisecond after
// a loop ends, so the next loop of the same step starts at once; after that they sleep.

/// One iteration of a loop: `task(context, index)`.
typedef void (*labpool_task)(void *context, long index);

/// Runs task(context, i) for i in 0..<count on the calling thread and up to threads - 1 pool
/// helpers (started on first use), iterations claimed one at a time, and returns when all are
/// done. Returns 0 when it ran them; -1 (nothing ran) when called from inside a loop of the pool
/// (the caller runs the iterations itself); -2 (nothing ran) when another thread's loop holds
/// the pool (the caller uses another way).
int labpool_parallel_for(long count, int threads, labpool_task task, void *context);

/// Helpers started so far.
int labpool_helpers(void);

/// Running totals since start-up: loops the pool ran; nanoseconds helpers spent outside a loop
/// (spinning or asleep; summed over helpers, counted up to each helper's latest loop); and
/// nanoseconds callers waited at loops' ends for helpers to finish their share.
void labpool_counters(long *loops, long *helper_idle_ns, long *caller_wait_ns);

// Accounting of BLAS calls, for `bench`: how much of the threads' time a step spends inside
// sgemm, and at what rate. The lab's GEMM wrapper calls these only while accounting is on.

/// A monotonic clock in nanoseconds.
long labcpu_clock_ns(void);

/// Adds one BLAS call that started at `start_ns` (from labcpu_clock_ns) and did `flops`
/// floating-point operations (2 m n k) to the running totals.
void labcpu_blas_note(long start_ns, long flops);

/// Running totals since start-up: BLAS calls noted, nanoseconds inside them (summed over the
/// threads that made them), and their floating-point operations.
void labcpu_blas_counters(long *calls, long *ns, long *flops);
