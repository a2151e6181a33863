/* Contexts, queues, events and USM on every real device: every function's
 * success case and documented errors, ref-count walks, deferred free,
 * pointer queries, and 8 threads sharing one queue. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include "check.h"

static dpc_device dev;     /* the device under test: each in turn */
static char dev_filter[64]; /* its filter string, e.g. "opencl:cpu:0" */
static dpc_queue shared_q;

static void stats(dpc_context c, uint64_t *bytes, uint64_t *count) {
    uint64_t peak;
    CHECK_ST(dpc_context_get_usm_stats(c, bytes, count, &peak), DPC_SUCCESS);
}

static void contexts_and_queues(void) {
    dpc_context c1 = NULL, c2 = NULL, made = NULL;
    CHECK_ST(dpc_context_default(dev, &c1), DPC_SUCCESS);
    CHECK_ST(dpc_context_default(dev, &c2), DPC_SUCCESS);
    CHECK(c1 == c2);
    size_t n = 0;
    CHECK_ST(dpc_context_get_device_count(c1, &n), DPC_SUCCESS);
    CHECK(n >= 1);
    dpc_device d0 = NULL;
    CHECK_ST(dpc_context_get_device(c1, 0, &d0), DPC_SUCCESS);
    CHECK_ST(dpc_context_get_device(c1, n, &d0), DPC_ERROR_OUT_OF_RANGE);
    CHECK_ST(dpc_context_create(&dev, 1, &made), DPC_SUCCESS);
    bool eq = true;
    CHECK_ST(dpc_context_equal(c1, made, &eq), DPC_SUCCESS);
    CHECK(!eq);
    CHECK_ST(dpc_context_equal(c1, c2, &eq), DPC_SUCCESS);
    CHECK(eq);
    CHECK_ST(dpc_context_create(&dev, 0, &made), DPC_ERROR_INVALID_ARGUMENT);
    void *native = NULL;
    CHECK_ST(dpc_context_get_native(c1, &native), DPC_SUCCESS);
    CHECK(native != NULL);

    /* Queues of every flag combination. */
    for (uint32_t flags = 0; flags < 4; ++flags) {
        dpc_queue q = NULL;
        CHECK_ST(dpc_queue_create(made, dev, flags, &q), DPC_SUCCESS);
        uint32_t f = 99;
        CHECK_ST(dpc_queue_get_flags(q, &f), DPC_SUCCESS);
        CHECK(f == flags);
        dpc_context qc = NULL;
        CHECK_ST(dpc_queue_get_context(q, &qc), DPC_SUCCESS);
        CHECK_ST(dpc_context_equal(qc, made, &eq), DPC_SUCCESS);
        CHECK(eq);
        CHECK_ST(dpc_context_release(qc), DPC_SUCCESS);
        dpc_device qd = NULL;
        CHECK_ST(dpc_queue_get_device(q, &qd), DPC_SUCCESS);
        CHECK(qd == dev);
        CHECK_ST(dpc_queue_wait(q), DPC_SUCCESS);
        CHECK_ST(dpc_queue_release(q), DPC_SUCCESS);
    }
    dpc_queue q = NULL;
    CHECK_ST(dpc_queue_create(made, dev, 4, &q), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("DPC_QUEUE_IN_ORDER");

    /* The canonical queue: cached, in-order, in the default context. */
    dpc_queue dq1 = NULL, dq2 = NULL;
    CHECK_ST(dpc_queue_default(dev, &dq1), DPC_SUCCESS);
    CHECK_ST(dpc_queue_default(dev, &dq2), DPC_SUCCESS);
    CHECK(dq1 == dq2);
    uint32_t f = 0;
    CHECK_ST(dpc_queue_get_flags(dq1, &f), DPC_SUCCESS);
    CHECK(f == DPC_QUEUE_IN_ORDER);
    dpc_context dctx = NULL;
    CHECK_ST(dpc_queue_get_context(dq1, &dctx), DPC_SUCCESS);
    CHECK(dctx == c1);
    CHECK_ST(dpc_queue_release(dq1), DPC_SUCCESS); /* immortal: no effect */
    CHECK_ST(dpc_queue_wait(dq1), DPC_SUCCESS);

    /* Equivalence and ids. */
    dpc_queue a = NULL, b = NULL, c = NULL;
    CHECK_ST(dpc_queue_create_for_device(dev, DPC_QUEUE_IN_ORDER, &a), DPC_SUCCESS);
    CHECK_ST(dpc_queue_create_from_filter(dev_filter, DPC_QUEUE_IN_ORDER, &b), DPC_SUCCESS);
    CHECK_ST(dpc_queue_create_for_device(dev, 0, &c), DPC_SUCCESS);
    CHECK_ST(dpc_queue_equivalent(a, b, &eq), DPC_SUCCESS);
    CHECK(eq);
    CHECK_ST(dpc_queue_equivalent(a, dq1, &eq), DPC_SUCCESS);
    CHECK(eq);
    CHECK_ST(dpc_queue_equivalent(a, c, &eq), DPC_SUCCESS);
    CHECK(!eq);
    uint64_t ida = 0, idb = 0, ida2 = 0;
    CHECK_ST(dpc_queue_get_id(a, &ida), DPC_SUCCESS);
    CHECK_ST(dpc_queue_get_id(b, &idb), DPC_SUCCESS);
    CHECK_ST(dpc_queue_get_id(a, &ida2), DPC_SUCCESS);
    CHECK(ida == ida2 && ida != idb);
    CHECK_ST(dpc_queue_create_from_filter("gpu:cpu", 0, &q), DPC_ERROR_INVALID_SELECTOR);

    /* Adopt the runtime queue behind `a`: shares it, owner keeps it. */
    void *sq = NULL;
    CHECK_ST(dpc_queue_get_native(a, &sq), DPC_SUCCESS);
    dpc_queue adopted = NULL;
    CHECK_ST(dpc_queue_adopt(sq, &adopted), DPC_SUCCESS);
    CHECK_ST(dpc_queue_equivalent(a, adopted, &eq), DPC_SUCCESS);
    CHECK(eq);
    CHECK_ST(dpc_queue_release(a), DPC_SUCCESS); /* the owner goes away */
    CHECK_ST(dpc_queue_wait(adopted), DPC_SUCCESS); /* the adopted one still works */
    void *mem = NULL;
    CHECK_ST(dpc_usm_alloc(adopted, DPC_USM_DEVICE, 64, 0, &mem), DPC_SUCCESS);
    CHECK_ST(dpc_usm_memset(adopted, mem, 1, 64, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_queue_wait(adopted), DPC_SUCCESS);
    CHECK_ST(dpc_usm_free(mem), DPC_SUCCESS);
    CHECK_ST(dpc_queue_release(adopted), DPC_SUCCESS);
    CHECK_ST(dpc_queue_release(b), DPC_SUCCESS);
    CHECK_ST(dpc_queue_release(c), DPC_SUCCESS);

    /* Backend handles (OpenCL here): retained for us. */
    dpc_backend be = DPC_BACKEND_UNKNOWN;
    void *h = NULL;
    dpc_status st = dpc_queue_get_backend_handle(dq1, &be, &h);
    CHECK(st == DPC_SUCCESS || st == DPC_ERROR_UNSUPPORTED);
    if (st == DPC_SUCCESS) CHECK(h != NULL && be == DPC_BACKEND_OPENCL);
    st = dpc_context_get_backend_handle(c1, &be, &h);
    CHECK(st == DPC_SUCCESS || st == DPC_ERROR_UNSUPPORTED);
    st = dpc_device_get_backend_handle(dev, &be, &h);
    CHECK(st == DPC_SUCCESS || st == DPC_ERROR_UNSUPPORTED);

    /* Retain/release walk 1 -> 10 -> 5 -> 8 -> 1 -> 0 on a queue and an event. */
    dpc_queue w = NULL;
    CHECK_ST(dpc_queue_create(made, dev, DPC_QUEUE_IN_ORDER, &w), DPC_SUCCESS);
    dpc_event e = NULL;
    CHECK_ST(dpc_queue_barrier(w, NULL, 0, &e), DPC_SUCCESS);
    int steps[] = {10, 5, 8, 1, 0};
    int count = 1;
    for (size_t s = 0; s < sizeof steps / sizeof *steps; ++s) {
        while (count < steps[s]) { CHECK_ST(dpc_queue_retain(w), DPC_SUCCESS); CHECK_ST(dpc_event_retain(e), DPC_SUCCESS); ++count; }
        while (count > steps[s]) { CHECK_ST(dpc_queue_release(w), DPC_SUCCESS); CHECK_ST(dpc_event_release(e), DPC_SUCCESS); --count; }
        uint32_t fl;
        dpc_event_status es;
        CHECK_ST(dpc_queue_get_flags(w, &fl), count ? DPC_SUCCESS : DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_event_get_status(e, &es), count ? DPC_SUCCESS : DPC_ERROR_INVALID_HANDLE);
    }
    CHECK_ST(dpc_context_release(made), DPC_SUCCESS);
    CHECK_ST(dpc_context_release(made), DPC_ERROR_INVALID_HANDLE);
}

static void events(void) {
    dpc_queue q = NULL, pq = NULL;
    CHECK_ST(dpc_queue_create_for_device(dev, 0, &q), DPC_SUCCESS); /* out of order */
    CHECK_ST(dpc_queue_create_for_device(dev, DPC_QUEUE_PROFILING | DPC_QUEUE_IN_ORDER, &pq), DPC_SUCCESS);
    enum { N = 1 << 16 };
    static uint8_t host[N];
    uint8_t *d = NULL;
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_DEVICE, N, 0, (void **)&d), DPC_SUCCESS);
    /* A chain: memset -> copy out, ordered by events on an out-of-order queue. */
    dpc_event e1 = NULL, e2 = NULL, e3 = NULL;
    CHECK_ST(dpc_usm_memset(q, d, 0x5a, N, NULL, 0, &e1), DPC_SUCCESS);
    CHECK_ST(dpc_usm_memcpy(q, host, d, N, &e1, 1, &e2), DPC_SUCCESS);
    CHECK_ST(dpc_queue_barrier(q, &e2, 1, &e3), DPC_SUCCESS);
    dpc_event all[3] = {e1, e2, e3};
    CHECK_ST(dpc_event_wait_all(all, 3), DPC_SUCCESS);
    CHECK(host[0] == 0x5a && host[N - 1] == 0x5a);
    dpc_event_status es = DPC_EVENT_SUBMITTED;
    CHECK_ST(dpc_event_get_status(e2, &es), DPC_SUCCESS);
    CHECK(es == DPC_EVENT_COMPLETE);
    uint64_t s0, s1, s2;
    CHECK_ST(dpc_event_get_profiling(e2, &s0, &s1, &s2), DPC_ERROR_UNSUPPORTED);
    CHECK_MSG_HAS("DPC_QUEUE_PROFILING");
    void *native = NULL;
    CHECK_ST(dpc_event_get_native(e2, &native), DPC_SUCCESS);
    CHECK(native != NULL);
    /* Adopting a runtime event: a second dpcore event on the same work. */
    dpc_event adopted = NULL;
    CHECK_ST(dpc_event_adopt(native, &adopted), DPC_SUCCESS);
    CHECK(adopted != NULL && adopted != e2);
    CHECK_ST(dpc_event_wait(adopted), DPC_SUCCESS);
    es = DPC_EVENT_SUBMITTED;
    CHECK_ST(dpc_event_get_status(adopted, &es), DPC_SUCCESS);
    CHECK(es == DPC_EVENT_COMPLETE);
    void *native2 = NULL;
    CHECK_ST(dpc_event_get_native(adopted, &native2), DPC_SUCCESS);
    CHECK(native2 != NULL && native2 != native); /* its own sycl::event sharing the runtime's */
    CHECK_ST(dpc_usm_memset(q, d, 0, 16, &adopted, 1, NULL), DPC_SUCCESS); /* usable as a dependency */
    CHECK_ST(dpc_queue_wait(q), DPC_SUCCESS);
    CHECK_ST(dpc_event_release(adopted), DPC_SUCCESS);
    CHECK_ST(dpc_event_wait_all(NULL, 0), DPC_SUCCESS);
    CHECK_ST(dpc_event_wait_all(NULL, 2), DPC_ERROR_NULL_POINTER);
    for (int i = 0; i < 3; ++i) CHECK_ST(dpc_event_release(all[i]), DPC_SUCCESS);
    CHECK_ST(dpc_event_wait(e1), DPC_ERROR_INVALID_HANDLE);
    /* A released event in a dependency list is refused before anything runs. */
    CHECK_ST(dpc_usm_memset(q, d, 0, N, &e1, 1, NULL), DPC_ERROR_INVALID_HANDLE);
    CHECK_MSG_HAS("events[0]");

    /* Profiling on a profiling queue. */
    dpc_event pe = NULL;
    CHECK_ST(dpc_usm_memcpy(pq, d, host, N, NULL, 0, &pe), DPC_SUCCESS);
    CHECK_ST(dpc_event_get_profiling(pe, &s0, &s1, &s2), DPC_SUCCESS);
    CHECK(s0 > 0 && s1 >= s0 && s2 >= s1);
    CHECK_ST(dpc_event_get_profiling(pe, NULL, &s1, &s2), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_event_release(pe), DPC_SUCCESS);

    /* 0-byte commands are no-ops whose events complete after their deps. */
    dpc_event z = NULL;
    CHECK_ST(dpc_usm_memcpy(q, NULL, NULL, 0, NULL, 0, &z), DPC_SUCCESS);
    CHECK_ST(dpc_event_wait(z), DPC_SUCCESS);
    CHECK_ST(dpc_event_release(z), DPC_SUCCESS);
    CHECK_ST(dpc_usm_memset(q, NULL, 0, 0, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_usm_fill(q, NULL, NULL, 4, 0, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_usm_prefetch(q, NULL, 0, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_usm_mem_advise(q, NULL, 0, 0, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_usm_memcpy(q, NULL, host, 8, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_MSG_HAS("dst");
    CHECK_ST(dpc_usm_memcpy(q, d, NULL, 8, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);

    CHECK_ST(dpc_queue_wait(q), DPC_SUCCESS);
    CHECK_ST(dpc_usm_free(d), DPC_SUCCESS);
    CHECK_ST(dpc_queue_release(q), DPC_SUCCESS);
    CHECK_ST(dpc_queue_release(pq), DPC_SUCCESS);
}

static void usm(void) {
    dpc_queue q = NULL;
    dpc_context ctx = NULL;
    CHECK_ST(dpc_queue_create_for_device(dev, DPC_QUEUE_IN_ORDER, &q), DPC_SUCCESS);
    CHECK_ST(dpc_queue_get_context(q, &ctx), DPC_SUCCESS);
    uint64_t b0, n0, b1, n1;
    stats(ctx, &b0, &n0);

    int kinds[3] = {DPC_USM_DEVICE, DPC_USM_SHARED, DPC_USM_HOST};
    for (int k = 0; k < 3; ++k) {
        void *p = NULL;
        CHECK_ST(dpc_usm_alloc(q, kinds[k], 1 << 20, 4096, &p), DPC_SUCCESS);
        CHECK(((uintptr_t)p & 4095) == 0);
        dpc_usm_kind kind = DPC_USM_UNKNOWN;
        CHECK_ST(dpc_usm_get_pointer_kind(ctx, (char *)p + 100, &kind), DPC_SUCCESS);
        CHECK((int)kind == kinds[k]);
        void *base = NULL;
        size_t size = 0;
        CHECK_ST(dpc_usm_get_pointer_range(ctx, (char *)p + 100, &base, &size), DPC_SUCCESS);
        CHECK(base == p && size == (1 << 20));
        dpc_device pd = NULL;
        if (kinds[k] == DPC_USM_HOST) {
            CHECK_ST(dpc_usm_get_pointer_device(ctx, p, &pd), DPC_ERROR_INVALID_POINTER);
        } else {
            CHECK_ST(dpc_usm_get_pointer_device(ctx, p, &pd), DPC_SUCCESS);
            CHECK(pd == dev);
        }
        dpc_context pc = NULL;
        CHECK_ST(dpc_usm_get_pointer_context((char *)p + 5, &pc), DPC_SUCCESS);
        bool same = false;
        CHECK_ST(dpc_context_equal(pc, ctx, &same), DPC_SUCCESS);
        CHECK(same);
        stats(ctx, &b1, &n1);
        CHECK(b1 == b0 + (1 << 20) && n1 == n0 + 1);
        /* Interior pointer: refused, nothing freed. */
        CHECK_ST(dpc_usm_free((char *)p + 1), DPC_ERROR_INVALID_POINTER);
        CHECK_MSG_HAS("inside the allocation");
        CHECK_ST(dpc_usm_free(p), DPC_SUCCESS);
        CHECK_ST(dpc_usm_free(p), DPC_ERROR_INVALID_POINTER); /* double free caught */
        stats(ctx, &b1, &n1);
        CHECK(b1 == b0 && n1 == n0);
    }
    /* Foreign pointers: never a crash. */
    int on_stack = 0;
    void *on_heap = malloc(64);
    dpc_usm_kind kind = DPC_USM_DEVICE;
    CHECK_ST(dpc_usm_get_pointer_kind(ctx, &on_stack, &kind), DPC_SUCCESS);
    CHECK(kind == DPC_USM_UNKNOWN);
    CHECK_ST(dpc_usm_get_pointer_kind(ctx, on_heap, &kind), DPC_SUCCESS);
    CHECK(kind == DPC_USM_UNKNOWN);
    CHECK_ST(dpc_usm_get_pointer_kind(ctx, NULL, &kind), DPC_SUCCESS);
    CHECK(kind == DPC_USM_UNKNOWN);
    void *base;
    size_t size;
    dpc_device pd;
    CHECK_ST(dpc_usm_get_pointer_range(ctx, on_heap, &base, &size), DPC_ERROR_INVALID_POINTER);
    CHECK_ST(dpc_usm_get_pointer_device(ctx, on_heap, &pd), DPC_ERROR_INVALID_POINTER);
    dpc_context pc = NULL;
    CHECK_ST(dpc_usm_get_pointer_context(on_heap, &pc), DPC_ERROR_INVALID_POINTER);
    CHECK_ST(dpc_usm_get_pointer_context(NULL, &pc), DPC_ERROR_INVALID_POINTER);
    CHECK(pc == NULL);
    CHECK_ST(dpc_usm_free(on_heap), DPC_ERROR_INVALID_POINTER);
    CHECK_MSG_HAS("not allocated by dpcore");
    free(on_heap);
    CHECK_ST(dpc_usm_free(NULL), DPC_SUCCESS);

    /* Allocation errors. */
    void *p = (void *)0x1;
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_DEVICE, 0, 0, &p), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("size is 0");
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_DEVICE, 64, 3, &p), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("power of two");
    CHECK_ST(dpc_usm_alloc(q, 7, 64, 0, &p), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_UNKNOWN, 64, 0, &p), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_DEVICE, (size_t)1 << 60, 0, &p), DPC_ERROR_OUT_OF_DEVICE_MEMORY);
    CHECK_MSG_HAS("1152921504606846976 bytes of device USM requested");
    CHECK_MSG_HAS("largest single allocation");
    CHECK_MSG_HAS("global memory");
    CHECK(p == (void *)0x1);

    /* Fill: every pattern size, small and large (seed + doubling), checked. */
    enum { BIG = (4 << 20) + 48 };
    uint8_t *d = NULL, *h = malloc(BIG);
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_DEVICE, BIG, 16, (void **)&d), DPC_SUCCESS);
    size_t sizes[5] = {1, 2, 4, 8, 16};
    for (int s = 0; s < 5; ++s) {
        uint8_t pat[16];
        for (int i = 0; i < 16; ++i) pat[i] = (uint8_t)(0x11 * (i + 1) + s);
        size_t lens[2] = {1000, BIG};
        for (int l = 0; l < 2; ++l) {
            size_t count = lens[l] / sizes[s];
            CHECK_ST(dpc_usm_memset(q, d, 0, BIG, NULL, 0, NULL), DPC_SUCCESS);
            CHECK_ST(dpc_usm_fill(q, d, pat, sizes[s], count, NULL, 0, NULL), DPC_SUCCESS);
            CHECK_ST(dpc_usm_memcpy(q, h, d, BIG, NULL, 0, NULL), DPC_SUCCESS);
            CHECK_ST(dpc_queue_wait(q), DPC_SUCCESS);
            size_t bad = 0;
            for (size_t i = 0; i < count * sizes[s]; ++i) bad += h[i] != pat[i % sizes[s]];
            for (size_t i = count * sizes[s]; i < BIG; ++i) bad += h[i] != 0;
            CHECK(bad == 0);
        }
    }
    uint32_t pat4 = 0xdeadbeef;
    CHECK_ST(dpc_usm_fill(q, d, &pat4, 3, 4, NULL, 0, NULL), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_ST(dpc_usm_fill(q, d + 1, &pat4, 4, 4, NULL, 0, NULL), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("aligned");
    CHECK_ST(dpc_usm_fill(q, d, NULL, 4, 4, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    /* Fill on an out-of-order queue chains its steps with events. */
    dpc_queue oq = NULL;
    dpc_event fe = NULL;
    CHECK_ST(dpc_queue_create_for_device(dev, 0, &oq), DPC_SUCCESS);
    CHECK_ST(dpc_usm_fill(oq, d, &pat4, 4, BIG / 4, NULL, 0, &fe), DPC_SUCCESS);
    CHECK_ST(dpc_usm_memcpy(oq, h, d, BIG, &fe, 1, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_queue_wait(oq), DPC_SUCCESS);
    size_t bad = 0;
    for (size_t i = 0; i < BIG / 4; ++i) bad += ((uint32_t *)h)[i] != pat4;
    CHECK(bad == 0);
    CHECK_ST(dpc_event_release(fe), DPC_SUCCESS);

    /* Prefetch and advise on shared memory. */
    void *sh = NULL;
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_SHARED, 4096, 0, &sh), DPC_SUCCESS);
    CHECK_ST(dpc_usm_prefetch(q, sh, 4096, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_usm_mem_advise(q, sh, 4096, 0, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_queue_wait(q), DPC_SUCCESS);
    CHECK_ST(dpc_usm_free(sh), DPC_SUCCESS);

    /* Copy between contexts, staged through the host. */
    dpc_context other = NULL;
    dpc_queue oq2 = NULL;
    CHECK_ST(dpc_context_create(&dev, 1, &other), DPC_SUCCESS);
    CHECK_ST(dpc_queue_create(other, dev, DPC_QUEUE_IN_ORDER, &oq2), DPC_SUCCESS);
    uint8_t *od = NULL;
    CHECK_ST(dpc_usm_alloc(oq2, DPC_USM_DEVICE, 4096, 0, (void **)&od), DPC_SUCCESS);
    CHECK_ST(dpc_usm_memset(oq2, od, 0x77, 4096, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_queue_wait(oq2), DPC_SUCCESS);
    CHECK_ST(dpc_usm_memcpy(q, d, od, 4096, NULL, 0, NULL), DPC_SUCCESS); /* other ctx -> q's ctx */
    CHECK_ST(dpc_usm_memcpy(q, h, d, 4096, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_queue_wait(q), DPC_SUCCESS);
    CHECK(h[0] == 0x77 && h[4095] == 0x77);
    CHECK_ST(dpc_usm_get_pointer_kind(ctx, od, &kind), DPC_SUCCESS);
    CHECK(kind == DPC_USM_UNKNOWN); /* not USM of *this* context */
    CHECK_ST(dpc_usm_free(od), DPC_SUCCESS);
    CHECK_ST(dpc_queue_release(oq2), DPC_SUCCESS);
    CHECK_ST(dpc_context_release(other), DPC_SUCCESS);

    /* Deferred free: not blocking, and really freed (stats back to zero). */
    stats(ctx, &b0, &n0);
    dpc_event fa = NULL;
    void *tmp = NULL;
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_DEVICE, BIG, 0, &tmp), DPC_SUCCESS);
    CHECK_ST(dpc_usm_fill(q, tmp, &pat4, 4, BIG / 4, NULL, 0, &fa), DPC_SUCCESS);
    CHECK_ST(dpc_usm_free_after(tmp, &fa, 1), DPC_SUCCESS);
    CHECK_ST(dpc_usm_free_after(tmp, &fa, 1), DPC_ERROR_INVALID_POINTER); /* already given away */
    CHECK_ST(dpc_event_release(fa), DPC_SUCCESS); /* dpcore keeps its own reference */
    CHECK_ST(dpc_usm_free_after(NULL, NULL, 0), DPC_SUCCESS);
    void *tmp2 = NULL;
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_HOST, 64, 0, &tmp2), DPC_SUCCESS);
    CHECK_ST(dpc_usm_free_after(tmp2, NULL, 3), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_free_after(tmp2, NULL, 0), DPC_SUCCESS); /* no events: now */
    CHECK_ST(dpc_usm_wait_deferred_frees(), DPC_SUCCESS);
    stats(ctx, &b1, &n1);
    CHECK(b1 == b0 && n1 == n0);

    CHECK_ST(dpc_usm_free(d), DPC_SUCCESS);
    free(h);
    CHECK_ST(dpc_queue_release(oq), DPC_SUCCESS);
    CHECK_ST(dpc_context_release(ctx), DPC_SUCCESS);
    CHECK_ST(dpc_queue_release(q), DPC_SUCCESS);
}

/* 8 threads share one queue: allocate, copy, fill, verify, free, in a loop. */
static void *worker(void *arg) {
    int id = (int)(intptr_t)arg;
    enum { M = 1 << 14 };
    static _Thread_local uint32_t host[M];
    for (int it = 0; it < 40; ++it) {
        uint32_t *d = NULL;
        if (dpc_usm_alloc(shared_q, DPC_USM_DEVICE, sizeof host, 0, (void **)&d) != DPC_SUCCESS) return (void *)1;
        for (int i = 0; i < M; ++i) host[i] = (uint32_t)(id * 1000003 + it * 7 + i);
        dpc_event e1 = NULL, e2 = NULL, e3 = NULL;
        uint32_t pat = 0xabc00000u + (uint32_t)id;
        if (dpc_usm_memcpy(shared_q, d, host, sizeof host, NULL, 0, &e1) != DPC_SUCCESS) return (void *)2;
        if (dpc_usm_fill(shared_q, d, &pat, 4, M / 2, &e1, 1, &e2) != DPC_SUCCESS) return (void *)3;
        if (dpc_usm_memcpy(shared_q, host, d, sizeof host, &e2, 1, &e3) != DPC_SUCCESS) return (void *)4;
        if (dpc_event_wait(e3) != DPC_SUCCESS) return (void *)5;
        for (int i = 0; i < M; ++i) {
            uint32_t want = i < M / 2 ? pat : (uint32_t)(id * 1000003 + it * 7 + i);
            if (host[i] != want) return (void *)6;
        }
        if (it % 2) {
            if (dpc_usm_free_after(d, &e3, 1) != DPC_SUCCESS) return (void *)7;
        } else if (dpc_usm_free(d) != DPC_SUCCESS) {
            return (void *)8;
        }
        dpc_event_release(e1);
        dpc_event_release(e2);
        dpc_event_release(e3);
    }
    return NULL;
}

static void threads(void) {
    CHECK_ST(dpc_queue_create_for_device(dev, 0, &shared_q), DPC_SUCCESS);
    dpc_context ctx = NULL;
    CHECK_ST(dpc_queue_get_context(shared_q, &ctx), DPC_SUCCESS);
    uint64_t b0, n0, b1, n1;
    stats(ctx, &b0, &n0);
    pthread_t t[8];
    for (int i = 0; i < 8; ++i) CHECK(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < 8; ++i) {
        void *r = NULL;
        pthread_join(t[i], &r);
        if (r) fprintf(stderr, "thread %d failed at step %d: %s\n", i, (int)(intptr_t)r, last_msg());
        CHECK(r == NULL);
    }
    CHECK_ST(dpc_usm_wait_deferred_frees(), DPC_SUCCESS);
    stats(ctx, &b1, &n1);
    CHECK(b1 == b0 && n1 == n0); /* nothing leaked */
    CHECK_ST(dpc_queue_release(shared_q), DPC_SUCCESS);
}

int main(void) {
    /* Every test below runs on every device dpcore finds. */
    dpc_device all[TEST_MAX_DEVICES];
    size_t ndev = test_devices("test_usm", all, TEST_MAX_DEVICES);
    if (ndev == 0 || check_failures) return check_report("test_usm") | 1;
    for (size_t i = 0; i < ndev; ++i) {
        dev = all[i];
        printf("device %s\n", test_filter_of(dev, dev_filter, sizeof dev_filter));
        contexts_and_queues();
        events();
        usm();
        threads();
    }
    return check_report("test_usm");
}
