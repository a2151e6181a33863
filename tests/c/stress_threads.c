/* 16 threads sharing one device, context, queue, array and bundle, each
 * round: retain/release races on the shared handles; a bundle made from
 * the same SPIR-V bytes as every other thread (the bundle cache); kernel
 * launches on the shared queue with results checked; USM allocated and
 * freed now or after events (the deferred-release thread), arrays made on
 * one thread and released on another, arrays released after events; reads
 * of the shared array; and a failure of its own (a kernel name only this
 * thread uses) whose message it reads back from its own last-error record.
 * Run plain and under ASan by scripts/run-c.sh, and under ThreadSanitizer
 * by scripts/tsan.sh. DPCORE_STRESS_ROUNDS sets the rounds per thread. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dpcore.h"
#include "check_mt.h"

#define THREADS 16
#define N 1024
#define RING 8


static dpc_device dev;
static dpc_context ctx;
static dpc_queue shared_q;
static dpc_array shared_arr;
static dpc_bundle shared_bundle;
static char *spirv;
static size_t spirv_len;
static int rounds = 12;
/* DPCORE_STRESS_NO_WAITS=1: only what makes the runtime do no work on the
 * calling threads (scripts/tsan.sh's run on the real runtime). */
static int no_waits = 0;

/* Arrays handed from one thread to another for release. */
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static dpc_array ring[RING];

static const dpc_dlpack_dtype I32 = {DPC_DL_INT, 32, 1};

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s (run from the repository root)\n", path); exit(1); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fclose(f); exit(1); }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void retain_release_shared(void) {
    for (int i = 0; i < 8; ++i) {
        OK(dpc_queue_retain(shared_q));
        OK(dpc_array_retain(shared_arr));
        if (shared_bundle) OK(dpc_bundle_retain(shared_bundle));
        OK(dpc_context_retain(ctx));
        OK(dpc_context_release(ctx));
        if (shared_bundle) OK(dpc_bundle_release(shared_bundle));
        OK(dpc_array_release(shared_arr));
        OK(dpc_queue_release(shared_q));
    }
}

/* c = a + k*b with vadd_i32 from a bundle made from the shared SPIR-V
 * bytes, on the shared queue; the inputs freed after the launch's event,
 * the output checked and freed now. */
static void launch_round(int tid, int round) {
    dpc_bundle b = NULL;
    OK(dpc_bundle_create_from_spirv(ctx, dev, spirv, spirv_len, NULL, &b));
    dpc_kernel k = NULL;
    OK(dpc_bundle_get_kernel(b, "vadd_i32", &k));
    int32_t ha[N], hb[N], hc[N];
    int32_t kk = tid + 1;
    for (int i = 0; i < N; ++i) { ha[i] = i * round; hb[i] = tid - i; }
    int32_t *da = NULL, *db = NULL, *dc = NULL;
    OK(dpc_usm_alloc(shared_q, DPC_USM_DEVICE, sizeof ha, 0, (void **)&da));
    OK(dpc_usm_alloc(shared_q, DPC_USM_DEVICE, sizeof hb, 0, (void **)&db));
    OK(dpc_usm_alloc(shared_q, DPC_USM_SHARED, sizeof hc, 0, (void **)&dc));
    dpc_event e1 = NULL, e2 = NULL, run = NULL;
    OK(dpc_usm_memcpy(shared_q, da, ha, sizeof ha, NULL, 0, &e1));
    OK(dpc_usm_memcpy(shared_q, db, hb, sizeof hb, NULL, 0, &e2));
    dpc_event deps[2] = {e1, e2};
    dpc_kernel_arg args[4] = {{DPC_ARG_POINTER, 0, da}, {DPC_ARG_POINTER, 0, db},
                              {DPC_ARG_POINTER, 0, dc}, {DPC_ARG_SCALAR, sizeof kk, &kk}};
    size_t g = N;
    OK(dpc_kernel_launch(shared_q, k, 1, &g, NULL, args, 4, deps, 2, &run));
    /* Deferred frees: the inputs go once the kernel is done. */
    OK(dpc_usm_free_after(da, &run, 1));
    OK(dpc_usm_free_after(db, &run, 1));
    dpc_event out = NULL;
    OK(dpc_usm_memcpy(shared_q, hc, dc, sizeof hc, &run, 1, &out));
    OK(dpc_event_wait(out));
    int bad = 0;
    for (int i = 0; i < N; ++i) bad += hc[i] != ha[i] + kk * hb[i];
    EXPECT(bad == 0, "thread %d round %d: %d wrong sums", tid, round, bad);
    OK(dpc_usm_free(dc));
    OK(dpc_event_release(e1));
    OK(dpc_event_release(e2));
    OK(dpc_event_release(run));
    OK(dpc_event_release(out));
    OK(dpc_kernel_release(k));
    OK(dpc_bundle_release(b));
}

/* Without kernels (the mock plugin's device): the same pattern with a
 * copy in place of the launch: frees after its event, result checked. */
static void copy_round(int tid, int round) {
    int32_t ha[N], hc[N];
    for (int i = 0; i < N; ++i) ha[i] = i * round + tid;
    int32_t *da = NULL;
    OK(dpc_usm_alloc(shared_q, DPC_USM_DEVICE, sizeof ha, 0, (void **)&da));
    dpc_event e1 = NULL, out = NULL;
    OK(dpc_usm_memcpy(shared_q, da, ha, sizeof ha, NULL, 0, &e1));
    OK(dpc_usm_memcpy(shared_q, hc, da, sizeof hc, &e1, 1, &out));
    OK(dpc_usm_free_after(da, &out, 1));
    OK(dpc_event_wait(out));
    EXPECT(memcmp(ha, hc, sizeof ha) == 0, "thread %d round %d: copy differs", tid, round);
    OK(dpc_event_release(e1));
    OK(dpc_event_release(out));
}

/* Bundles from the shared SPIR-V bytes (the cache), without running them. */
static void build_round(void) {
    dpc_bundle b = NULL;
    OK(dpc_bundle_create_from_spirv(ctx, dev, spirv, spirv_len, NULL, &b));
    dpc_kernel k = NULL;
    OK(dpc_bundle_get_kernel(b, "vadd_i32", &k));
    OK(dpc_kernel_release(k));
    OK(dpc_bundle_release(b));
}

/* An array made here, read back, released after an event or handed to
 * another thread (which releases it), and a read of the shared array. */
static void array_round(int tid, int round) {
    int32_t h[N], back[N];
    for (int i = 0; i < N; ++i) h[i] = tid * 100000 + round * 1000 + i;
    int64_t shape = N;
    dpc_array a = NULL;
    OK(dpc_array_from_host(shared_q, I32, 1, &shape, h, NULL, DPC_USM_DEVICE, &a));
    OK(dpc_array_to_host(a, back, NULL));
    EXPECT(memcmp(h, back, sizeof h) == 0, "thread %d: array data differ", tid);
    if (round % 2 == 0) {
        dpc_event ev = NULL;
        OK(dpc_queue_barrier(shared_q, NULL, 0, &ev));
        OK(dpc_array_release_after(a, &ev, 1));
        OK(dpc_event_release(ev));
    } else {
        pthread_mutex_lock(&ring_lock);
        int slot = (tid + round) % RING;
        dpc_array other = ring[slot];
        ring[slot] = a;
        pthread_mutex_unlock(&ring_lock);
        if (other) OK(dpc_array_release(other)); /* made by another thread */
    }
    OK(dpc_array_to_host(shared_arr, back, NULL));
    int bad = 0;
    for (int i = 0; i < N; ++i) bad += back[i] != 7 * i;
    EXPECT(bad == 0, "thread %d: shared array has %d wrong values", tid, bad);
}

/* A failure only this thread provokes; its record must hold its own
 * message even though 15 other threads fail at the same time. */
static void own_error(int tid, int round) {
    char name[64], buf[2048];
    snprintf(name, sizeof name, "no_such_kernel_t%02d_r%d", tid, round);
    dpc_status st, want = DPC_ERROR_NOT_FOUND;
    if (shared_bundle) {
        dpc_kernel k = NULL;
        st = dpc_bundle_get_kernel(shared_bundle, name, &k);
    } else { /* no kernels: a filter string no device matches */
        dpc_queue nq = NULL;
        char filter[96];
        snprintf(filter, sizeof filter, "opencl:cpu:%d", 1000 + 100 * tid + round);
        snprintf(name, sizeof name, "%d", 1000 + 100 * tid + round);
        st = dpc_queue_create_from_filter(filter, 0, &nq);
        want = DPC_ERROR_DEVICE_NOT_FOUND;
    }
    EXPECT(st == want, "thread %d: %s", tid, dpc_status_name(st));
    /* A successful call in between does not clear the record. */
    uint32_t flags = 0;
    OK(dpc_queue_get_flags(shared_q, &flags));
    EXPECT(dpc_last_error_status() == want, "thread %d: status %s", tid,
           dpc_status_name(dpc_last_error_status()));
    msg(buf, sizeof buf);
    EXPECT(strstr(buf, name) != NULL, "thread %d: its message lacks %s: %s", tid, name, buf);
    /* A second, different failure of its own: a NULL output. */
    st = dpc_queue_get_flags(shared_q, NULL);
    EXPECT(st == DPC_ERROR_NULL_POINTER, "thread %d: %s", tid, dpc_status_name(st));
    msg(buf, sizeof buf);
    EXPECT(strstr(buf, "flags_out") != NULL && strstr(buf, name) == NULL,
           "thread %d: second message is not its own: %s", tid, buf);
}

static void *worker(void *arg) {
    int tid = (int)(intptr_t)arg;
    for (int r = 0; r < rounds; ++r) {
        retain_release_shared();
        own_error(tid, r);
        if (shared_bundle) build_round();
        /* Plain alloc/free races with everyone's frees. */
        void *h = NULL;
        OK(dpc_usm_alloc(shared_q, DPC_USM_DEVICE, 128 + 8 * (size_t)tid, 0, &h));
        OK(dpc_usm_free(h));
        if (no_waits) continue;
        if (shared_bundle) launch_round(tid, r);
        else copy_round(tid, r);
        array_round(tid, r);
        /* Plain alloc/free races with everyone's deferred frees. */
        void *p = NULL;
        OK(dpc_usm_alloc(shared_q, DPC_USM_HOST, 256 + 64 * (size_t)tid, 0, &p));
        OK(dpc_usm_memset(shared_q, p, tid, 256, NULL, 0, NULL));
        OK(dpc_queue_wait(shared_q));
        EXPECT(((unsigned char *)p)[255] == (unsigned char)tid, "thread %d: memset", tid);
        OK(dpc_usm_free(p));
    }
    return NULL;
}

int main(void) {
    const char *r = getenv("DPCORE_STRESS_ROUNDS");
    if (r && atoi(r) > 0) rounds = atoi(r);
    const char *nw = getenv("DPCORE_STRESS_NO_WAITS");
    no_waits = nw && strcmp(nw, "1") == 0;
    spirv = read_file("kernels/vadd.spv", &spirv_len);
    size_t count = 0;
    if (dpc_device_count(&count) != DPC_SUCCESS || count == 0) {
        fprintf(stderr, "stress_threads: FAIL: no device\n");
        return 1;
    }
    OK(dpc_device_get(0, &dev));
    OK(dpc_context_default(dev, &ctx));
    OK(dpc_queue_create_for_device(dev, DPC_QUEUE_IN_ORDER, &shared_q));
    int32_t h[N];
    for (int i = 0; i < N; ++i) h[i] = 7 * i;
    int64_t shape = N;
    if (no_waits) {
        OK(dpc_array_empty(shared_q, I32, 1, &shape, DPC_USM_DEVICE, &shared_arr));
    } else {
        OK(dpc_array_from_host(shared_q, I32, 1, &shape, h, NULL, DPC_USM_DEVICE, &shared_arr));
    }
    /* The mock plugin's device runs no kernels: then copies stand in. */
    dpc_status bst = dpc_bundle_create_from_spirv(ctx, dev, spirv, spirv_len, NULL, &shared_bundle);
    EXPECT(bst == DPC_SUCCESS || bst == DPC_ERROR_UNSUPPORTED, "shared bundle: %s", dpc_status_name(bst));
    if (bst != DPC_SUCCESS) shared_bundle = NULL;

    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; ++i) pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; ++i) pthread_join(t[i], NULL);

    for (int i = 0; i < RING; ++i) OK(dpc_array_release(ring[i]));
    OK(dpc_usm_wait_deferred_frees());
    int shared_bundle_made = shared_bundle != NULL;
    OK(dpc_bundle_release(shared_bundle));
    OK(dpc_array_release(shared_arr));
    OK(dpc_queue_release(shared_q));
    OK(dpc_context_release(ctx));
    OK(dpc_device_release(dev));
    OK(dpc_usm_wait_deferred_frees());
    uint64_t handles = 1, allocs = 1, bytes = 1;
    OK(dpc_census_live_handles(DPC_HANDLE_ALL, &handles));
    OK(dpc_census_live_usm(&allocs, &bytes));
    EXPECT(handles == 0 && allocs == 0 && bytes == 0, "census: %llu handles, %llu allocations, %llu bytes",
           (unsigned long long)handles, (unsigned long long)allocs, (unsigned long long)bytes);
    free(spirv);
    printf("stress_threads: %d threads x %d rounds%s%s, %d checks, %d failed\n", THREADS, rounds,
           shared_bundle_made ? "" : " (no kernels: copies)", no_waits ? " (no waits)" : "",
           atomic_load(&checks), atomic_load(&failures));
    return atomic_load(&failures) ? 1 : 0;
}
