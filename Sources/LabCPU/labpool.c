// The worker pool declared in labcpu.h. One loop at a time: a loop is published by bumping
// `epoch` after its task, context and count are written; every helper acknowledges each epoch (after running its
// share, or at once when the loop needs fewer helpers), and the caller waits for all
// acknowledgements before the next loop can overwrite the loop's fields.
#include "labcpu.h"
#include <immintrin.h>
#include <pthread.h>
#include <stdatomic.h>

#define LABPOOL_MAX_HELPERS 63
#define LABPOOL_SPIN_NS 1000000L  // how long an idle helper spins before it sleeps

static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;  // helper start-up and sleep
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static atomic_int pool_helpers = 0;
static atomic_int pool_busy = 0;
static atomic_int pool_sleepers = 0;
static atomic_ulong pool_epoch = 0;
static atomic_ulong pool_ack[LABPOOL_MAX_HELPERS];

// The current loop (written by its caller before the epoch is bumped).
static labpool_task loop_task;
static void *loop_context;
static long loop_count;
static int loop_helpers;
static atomic_long loop_next;

static _Thread_local int inside_loop = 0;

// Counters for the bench: loops run, helper time not spent in a loop (summed over helpers: the
// step's serial parts as seen from the other cores), and the caller's wait for helpers at loops'
// ends (load imbalance).
static atomic_long stat_loops = 0;
static atomic_long stat_helper_idle_ns = 0;
static atomic_long stat_caller_wait_ns = 0;

static void run_claims(void) {
    for (;;) {
        long i = atomic_fetch_add_explicit(&loop_next, 1, memory_order_relaxed);
        if (i >= loop_count) return;
        loop_task(loop_context, i);
    }
}

static void *helper_main(void *argument) {
    int index = (int)(long)argument;
    unsigned long seen = atomic_load(&pool_ack[index]);
    inside_loop = 1;  // a helper's own nested loops run on the helper alone
    long idle_from = labcpu_clock_ns();
    for (;;) {
        unsigned long epoch;
        long spun = 0, since = idle_from;
        while ((epoch = atomic_load(&pool_epoch)) == seen) {
            _mm_pause();
            if (++spun % 256 != 0 || labcpu_clock_ns() - since < LABPOOL_SPIN_NS) continue;
            pthread_mutex_lock(&pool_mutex);
            atomic_fetch_add(&pool_sleepers, 1);
            while (atomic_load(&pool_epoch) == seen) pthread_cond_wait(&pool_wake, &pool_mutex);
            atomic_fetch_sub(&pool_sleepers, 1);
            pthread_mutex_unlock(&pool_mutex);
            since = labcpu_clock_ns();
        }
        seen = epoch;
        atomic_fetch_add_explicit(&stat_helper_idle_ns, labcpu_clock_ns() - idle_from, memory_order_relaxed);
        if (index < loop_helpers) run_claims();
        idle_from = labcpu_clock_ns();
        atomic_store_explicit(&pool_ack[index], epoch, memory_order_release);
    }
    return 0;
}

// Starts helpers until there are `wanted` (at most LABPOOL_MAX_HELPERS). Called by the pool's
// holder only, so no loop is running.
static void start_helpers(int wanted) {
    if (wanted > LABPOOL_MAX_HELPERS) wanted = LABPOOL_MAX_HELPERS;
    while (atomic_load(&pool_helpers) < wanted) {
        int index = atomic_load(&pool_helpers);
        atomic_store(&pool_ack[index], atomic_load(&pool_epoch));
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attributes, helper_main, (void *)(long)index);
        pthread_attr_destroy(&attributes);
        if (failed) return;  // run with the helpers there are
        atomic_store(&pool_helpers, index + 1);
    }
}

int labpool_parallel_for(long count, int threads, labpool_task task, void *context) {
    if (inside_loop) return -1;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&pool_busy, &expected, 1)) return -2;
    start_helpers(threads - 1);
    int helpers = atomic_load(&pool_helpers);
    int used = threads - 1 < helpers ? threads - 1 : helpers;
    if (used > count - 1) used = (int)(count - 1);
    loop_task = task;
    loop_context = context;
    loop_count = count;
    loop_helpers = used < 0 ? 0 : used;
    atomic_store_explicit(&loop_next, 0, memory_order_relaxed);
    unsigned long epoch = atomic_fetch_add(&pool_epoch, 1) + 1;  // publishes the fields above
    if (atomic_load(&pool_sleepers) > 0) {
        pthread_mutex_lock(&pool_mutex);
        pthread_cond_broadcast(&pool_wake);
        pthread_mutex_unlock(&pool_mutex);
    }
    inside_loop = 1;
    run_claims();
    inside_loop = 0;
    long wait_from = labcpu_clock_ns();
    for (int h = 0; h < helpers; h++) {
        while (atomic_load_explicit(&pool_ack[h], memory_order_acquire) != epoch) _mm_pause();
    }
    atomic_fetch_add_explicit(&stat_caller_wait_ns, labcpu_clock_ns() - wait_from, memory_order_relaxed);
    atomic_fetch_add_explicit(&stat_loops, 1, memory_order_relaxed);
    atomic_store(&pool_busy, 0);
    return 0;
}

int labpool_helpers(void) { return atomic_load(&pool_helpers); }

void labpool_counters(long *loops, long *helper_idle_ns, long *caller_wait_ns) {
    *loops = atomic_load(&stat_loops);
    *helper_idle_ns = atomic_load(&stat_helper_idle_ns);
    *caller_wait_ns = atomic_load(&stat_caller_wait_ns);
}
