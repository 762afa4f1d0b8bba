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
