// See labcpu.h for why this target exists.
#include "labcpu.h"
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *openblas_get_corename(void);
void openblas_set_num_threads(int);
void gotoblas_dynamic_init(void);
extern void *gotoblas; // the library's table of kernels; NULL makes dynamic_init choose again

static char initial_kernel[64] = "unknown";
static const char *kernel_source = "library";

static unsigned long long xgetbv0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static int os_saves_ymm(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & bit_OSXSAVE)) return 0;
    return (xgetbv0() & 0x6) == 0x6;
}

int labcpu_has_avx2_fma(void) {
    unsigned int a, b, c, d;
    if (!os_saves_ymm()) return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int fma = (c & bit_FMA) != 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b & bit_AVX2) != 0;
    return fma && avx2;
}

int labcpu_has_avx512(void) {
    unsigned int a, b, c, d;
    if (!os_saves_ymm()) return 0;
    if ((xgetbv0() & 0xE6) != 0xE6) return 0; // opmask and upper ZMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const unsigned int need = bit_AVX512F | bit_AVX512BW | bit_AVX512DQ | bit_AVX512VL;
    return (b & need) == need;
}

const char *labcpu_initial_kernel(void) { return initial_kernel; }
const char *labcpu_current_kernel(void) { return openblas_get_corename(); }
const char *labcpu_kernel_source(void) { return kernel_source; }
void labcpu_set_blas_threads(int n) { openblas_set_num_threads(n); }

// Kernels that already use AVX2/FMA or better; anything else is replaced when the CPU allows.
static int is_wide_kernel(const char *name) {
    static const char *wide[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    for (int i = 0; wide[i]; i++)
        if (strcasecmp(name, wide[i]) == 0) return 1;
    return 0;
}

__attribute__((constructor)) static void labcpu_choose_kernel(void) {
    if (!labcpu_has_avx2_fma()) {
        fprintf(stderr,
                "longcat-lab: this CPU lacks AVX2/FMA, which this build of the lab is compiled for.\n"
                "Rebuild without '-target-cpu haswell' in Package.swift to run here.\n");
        exit(3);
    }
    snprintf(initial_kernel, sizeof initial_kernel, "%s", openblas_get_corename());
    const char *user = getenv("OPENBLAS_CORETYPE");
    if (user && *user) {
        kernel_source = "environment";
    } else {
        const char *want = labcpu_has_avx512() ? "SkylakeX" : "Haswell";
        int better = labcpu_has_avx512() ? strcasecmp(initial_kernel, "SkylakeX") != 0
                                         : !is_wide_kernel(initial_kernel);
        if (better) {
            setenv("OPENBLAS_CORETYPE", want, 1);
            gotoblas = NULL;
            gotoblas_dynamic_init();
            kernel_source = "cpu-features";
        }
    }
    // The lab parallelises in Swift around single-threaded BLAS calls (deterministic, and no
    // idle BLAS workers spinning between calls).
    openblas_set_num_threads(1);
}

// MARK: - BLAS accounting (see labcpu.h)

#include <stdatomic.h>
#include <time.h>

static atomic_long blas_calls = 0;
static atomic_long blas_ns = 0;
static atomic_long blas_flops = 0;

long labcpu_clock_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

void labcpu_blas_note(long start_ns, long flops) {
    long elapsed = labcpu_clock_ns() - start_ns;
    atomic_fetch_add_explicit(&blas_calls, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&blas_ns, elapsed, memory_order_relaxed);
    atomic_fetch_add_explicit(&blas_flops, flops, memory_order_relaxed);
}

void labcpu_blas_counters(long *calls, long *ns, long *flops) {
    *calls = atomic_load(&blas_calls);
    *ns = atomic_load(&blas_ns);
    *flops = atomic_load(&blas_flops);
}
