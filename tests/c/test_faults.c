/* Fault injection (dpc_faults_set, DPCORE_FAULTS): every injection point
 * reached through the public API. For each backend operation a fault is
 * armed, the public call that reaches it must fail with the documented
 * status and a message naming the operation, nothing may leak (the leak
 * census returns to where it was), and the next identical call must work
 * again. device_lost and out_of_memory variants included; then the bugs
 * the walk found (a failed free losing the allocation, the deferred free
 * on a failed event status, enumeration failures) and the environment
 * variable itself, in a child process. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "check.h"

static int points = 0;
static const char *walked[64];
static size_t n_walked = 0;

static void census_now(uint64_t *handles, uint64_t *allocs) {
    CHECK_ST(dpc_usm_wait_deferred_frees(), DPC_SUCCESS);
    CHECK_ST(dpc_census_live_handles(DPC_HANDLE_ALL, handles), DPC_SUCCESS);
    CHECK_ST(dpc_census_live_usm(allocs, NULL), DPC_SUCCESS);
}

static void census_same(const char *spec, const char *when, uint64_t h0, uint64_t u0) {
    uint64_t h1 = 0, u1 = 0;
    census_now(&h1, &u1);
    ++check_count;
    if (h1 != h0 || u1 != u0) {
        ++check_failures;
        fprintf(stderr, "%s: %s: leak census moved: handles %llu -> %llu, allocations %llu -> %llu\n",
                spec, when, (unsigned long long)h0, (unsigned long long)h1, (unsigned long long)u0,
                (unsigned long long)u1);
    }
}

static void walked_op(const char *op) {
    for (size_t i = 0; i < n_walked; ++i)
        if (!strcmp(walked[i], op)) return;
    if (n_walked < 64) walked[n_walked++] = op;
}

/* Arm `spec` (whose first rule is for `op`), make the public call CALL:
 * it returns `want` with a message naming `op` and the injection, and the
 * census has not moved. Then the same call again (the rule fired once)
 * returns `again`; CLEANUP gives back what it made; the census is back. */
#define INJECT_THEN(spec, op, want, again, CALL, CLEANUP)                         \
    do {                                                                        \
        uint64_t h0_ = 0, u0_ = 0;                                              \
        census_now(&h0_, &u0_);                                                 \
        CHECK_ST(dpc_faults_set(spec), DPC_SUCCESS);                            \
        CHECK_ST(CALL, want);                                                   \
        CHECK_MSG_HAS(op);                                                      \
        CHECK_MSG_HAS("fault injected by dpc_faults_set");                      \
        census_same(spec, "after the failure", h0_, u0_);                       \
        CHECK_ST(CALL, again);                                                  \
        CHECK_ST(dpc_faults_set(NULL), DPC_SUCCESS);                            \
        CLEANUP;                                                                \
        census_same(spec, "after the retry", h0_, u0_);                         \
        walked_op(op);                                                          \
        ++points;                                                               \
    } while (0)

#define INJECT(spec, op, want, CALL, CLEANUP) INJECT_THEN(spec, op, want, DPC_SUCCESS, CALL, CLEANUP)

#define REL_Q(x) do { dpc_queue_release(x); x = NULL; } while (0)
#define REL_E(x) do { dpc_event_release(x); x = NULL; } while (0)
#define REL_C(x) do { dpc_context_release(x); x = NULL; } while (0)
#define REL_B(x) do { dpc_bundle_release(x); x = NULL; } while (0)
#define REL_K(x) do { dpc_kernel_release(x); x = NULL; } while (0)
#define REL_A(x) do { dpc_array_release(x); x = NULL; } while (0)

static const char *const ALL_OPS[] = {
    "runtime_info", "device_list", "platform_list", "device_info", "device_parent",
    "device_partition", "context_default", "context_create", "queue_create", "queue_adopt",
    "queue_wait", "enqueue_barrier", "enqueue_memcpy", "enqueue_memset", "enqueue_fill",
    "enqueue_prefetch", "enqueue_mem_advise", "event_wait", "event_status", "event_profiling",
    "usm_alloc", "usm_free", "usm_pointer_info", "usm_pointer_kind", "bundle_create",
    "bundle_kernel_names", "bundle_has_kernel", "bundle_get_kernel", "kernel_info",
    "enqueue_kernel", "native_handle", "event_adopt"};

/* Enumeration: only the first successful listing reaches the backend, so
 * these come first, before anything lists the devices. */
static void enumeration(void) {
    size_t n = 0;
    /* A selector made before the listing: a failed listing must not leave
     * it "matching nothing" for good (it keeps its choice once made). */
    dpc_selector sel = NULL;
    dpc_device chosen = NULL;
    CHECK_ST(dpc_selector_create("cpu", &sel), DPC_SUCCESS);
    INJECT("device_list:1", "device_list", DPC_ERROR_BACKEND, dpc_selector_select(sel, &chosen), (void)0);
    CHECK(chosen != NULL);
    CHECK_ST(dpc_selector_release(sel), DPC_SUCCESS);
    CHECK_ST(dpc_device_count(&n), DPC_SUCCESS);
    CHECK(n >= 1);
    /* Already listed: a fault can no longer reach device_list. */
    CHECK_ST(dpc_faults_set("device_list:1+"), DPC_SUCCESS);
    CHECK_ST(dpc_device_count(&n), DPC_SUCCESS);
    CHECK_ST(dpc_faults_set(NULL), DPC_SUCCESS);
    INJECT("platform_list:1:device_lost", "platform_list", DPC_ERROR_DEVICE_LOST,
           dpc_platform_count(&n), (void)0);
    CHECK(n >= 1);
}

static int has_sub_devices(dpc_device dev) {
    size_t nsub = 0;
    return dpc_device_partition_equally(dev, 1, NULL, 0, &nsub) == DPC_SUCCESS && nsub > 0;
}

static void devices_contexts_queues(dpc_device dev) {
    dpc_context c = NULL;
    dpc_queue q = NULL, q2 = NULL;
    /* The default context is made once (then cached): a fault on its first
     * making must not be cached. */
    INJECT("context_default:1", "context_default", DPC_ERROR_BACKEND, dpc_context_default(dev, &c),
           REL_C(c));
    INJECT("context_create:1:device_lost", "context_create", DPC_ERROR_DEVICE_LOST,
           dpc_context_create(&dev, 1, &c), REL_C(c));
    INJECT("queue_create:1", "queue_create", DPC_ERROR_BACKEND,
           dpc_queue_create_for_device(dev, DPC_QUEUE_IN_ORDER, &q), REL_Q(q));
    INJECT("queue_create:1:out_of_host_memory", "queue_create", DPC_ERROR_OUT_OF_HOST_MEMORY,
           dpc_queue_create_for_device(dev, 0, &q), REL_Q(q));

    CHECK_ST(dpc_queue_create_for_device(dev, DPC_QUEUE_IN_ORDER, &q), DPC_SUCCESS);
    void *native = NULL;
    CHECK_ST(dpc_queue_get_native(q, &native), DPC_SUCCESS);
    INJECT("queue_adopt:1", "queue_adopt", DPC_ERROR_BACKEND, dpc_queue_adopt(native, &q2), REL_Q(q2));
    INJECT("queue_wait:1:device_lost", "queue_wait", DPC_ERROR_DEVICE_LOST, dpc_queue_wait(q), (void)0);
    dpc_event ev = NULL;
    INJECT("enqueue_barrier:1", "enqueue_barrier", DPC_ERROR_BACKEND,
           dpc_queue_barrier(q, NULL, 0, &ev), REL_E(ev));
    dpc_backend be;
    void *h = NULL;
    INJECT("native_handle:1:unsupported", "native_handle", DPC_ERROR_UNSUPPORTED,
           dpc_device_get_backend_handle(dev, &be, &h), (void)0);

    if (has_sub_devices(dev)) {
        dpc_device subs[64];
        size_t got = 0;
        INJECT("device_partition:1", "device_partition", DPC_ERROR_BACKEND,
               dpc_device_partition_equally(dev, 1, subs, 64, &got),
               for (size_t i = 0; i < got && i < 64; ++i) dpc_device_release(subs[i]));
        /* A queue of a sub-device, adopted: dpcore finds the device's parent
         * (device_parent) and reads the sub-device's info (device_info). */
        CHECK_ST(dpc_device_partition_equally(dev, 1, subs, 64, &got), DPC_SUCCESS);
        dpc_queue sq = NULL;
        CHECK_ST(dpc_queue_create_for_device(subs[0], 0, &sq), DPC_SUCCESS);
        void *snative = NULL;
        CHECK_ST(dpc_queue_get_native(sq, &snative), DPC_SUCCESS);
        for (size_t i = 0; i < got && i < 64; ++i) dpc_device_release(subs[i]);
        INJECT("device_parent:1", "device_parent", DPC_ERROR_BACKEND, dpc_queue_adopt(snative, &q2),
               REL_Q(q2));
        INJECT("device_info:1", "device_info", DPC_ERROR_BACKEND, dpc_queue_adopt(snative, &q2),
               REL_Q(q2));
        REL_Q(sq);
    } else {
        printf("test_faults: device cannot be partitioned; device_partition/device_parent not walked\n");
    }
    REL_Q(q);
}

static void usm(dpc_device dev) {
    dpc_queue q = NULL, pq = NULL;
    CHECK_ST(dpc_queue_create_for_device(dev, DPC_QUEUE_IN_ORDER, &q), DPC_SUCCESS);
    void *p = NULL, *d = NULL;
    INJECT("usm_alloc:1", "usm_alloc", DPC_ERROR_OUT_OF_DEVICE_MEMORY,
           dpc_usm_alloc(q, DPC_USM_DEVICE, 4096, 0, &p), dpc_usm_free(p));
    /* The out-of-memory message says what was asked, and of which device. */
    CHECK_ST(dpc_faults_set("usm_alloc:1:out_of_memory"), DPC_SUCCESS);
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_SHARED, 12345, 0, &p), DPC_ERROR_OUT_OF_DEVICE_MEMORY);
    CHECK_MSG_HAS("12345 bytes of shared USM requested on");
    CHECK_MSG_HAS("usm_alloc: fault injected");
    INJECT("usm_alloc:1:device_lost", "usm_alloc", DPC_ERROR_DEVICE_LOST,
           dpc_usm_alloc(q, DPC_USM_HOST, 64, 0, &p), dpc_usm_free(p));

    CHECK_ST(dpc_usm_alloc(q, DPC_USM_SHARED, 1 << 16, 0, &d), DPC_SUCCESS);
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_SHARED, 1 << 16, 0, &p), DPC_SUCCESS);
    dpc_event ev = NULL;
    INJECT("enqueue_memcpy:1", "enqueue_memcpy", DPC_ERROR_BACKEND,
           dpc_usm_memcpy(q, d, p, 1 << 16, NULL, 0, &ev), REL_E(ev));
    INJECT("enqueue_memcpy:1:device_lost", "enqueue_memcpy", DPC_ERROR_DEVICE_LOST,
           dpc_usm_memcpy(q, d, p, 1 << 16, NULL, 0, NULL), dpc_queue_wait(q));
    INJECT("enqueue_memset:1", "enqueue_memset", DPC_ERROR_BACKEND,
           dpc_usm_memset(q, d, 7, 1 << 16, NULL, 0, &ev), REL_E(ev));
    /* A pattern of unequal bytes: a host seed (usm_alloc) copied and doubled
     * (enqueue_memcpy); the seed is freed whichever step fails. */
    uint32_t pat = 0x01020304u;
    INJECT("usm_alloc:1", "usm_alloc", DPC_ERROR_OUT_OF_DEVICE_MEMORY,
           dpc_usm_fill(q, d, &pat, 4, (1 << 16) / 4, NULL, 0, NULL), dpc_queue_wait(q));
    INJECT("enqueue_memcpy:1", "enqueue_memcpy", DPC_ERROR_BACKEND,
           dpc_usm_fill(q, d, &pat, 4, (1 << 16) / 4, NULL, 0, NULL), dpc_queue_wait(q));
    INJECT("enqueue_memcpy:2", "enqueue_memcpy", DPC_ERROR_BACKEND,
           dpc_usm_fill(q, d, &pat, 4, (1 << 16) / 4, NULL, 0, NULL), dpc_queue_wait(q));
    INJECT("enqueue_prefetch:1", "enqueue_prefetch", DPC_ERROR_BACKEND,
           dpc_usm_prefetch(q, d, 4096, NULL, 0, &ev), REL_E(ev));
    INJECT("enqueue_mem_advise:1", "enqueue_mem_advise", DPC_ERROR_BACKEND,
           dpc_usm_mem_advise(q, d, 4096, 0, NULL, 0, &ev), REL_E(ev));

    /* Events. */
    dpc_event e1 = NULL;
    CHECK_ST(dpc_usm_memset(q, d, 1, 1 << 16, NULL, 0, &e1), DPC_SUCCESS);
    INJECT("event_wait:1", "event_wait", DPC_ERROR_BACKEND, dpc_event_wait(e1), (void)0);
    INJECT("event_wait:1:device_lost", "event_wait", DPC_ERROR_DEVICE_LOST, dpc_event_wait_all(&e1, 1),
           (void)0);
    dpc_event_status es;
    INJECT("event_status:1", "event_status", DPC_ERROR_BACKEND, dpc_event_get_status(e1, &es), (void)0);
    void *enative = NULL;
    CHECK_ST(dpc_event_get_native(e1, &enative), DPC_SUCCESS);
    dpc_event adopted = NULL;
    INJECT("event_adopt:1", "event_adopt", DPC_ERROR_BACKEND, dpc_event_adopt(enative, &adopted),
           REL_E(adopted));
    REL_E(e1);
    CHECK_ST(dpc_queue_create_for_device(dev, DPC_QUEUE_IN_ORDER | DPC_QUEUE_PROFILING, &pq), DPC_SUCCESS);
    CHECK_ST(dpc_usm_memset(pq, d, 2, 4096, NULL, 0, &e1), DPC_SUCCESS);
    uint64_t t0, t1, t2;
    INJECT("event_profiling:1", "event_profiling", DPC_ERROR_BACKEND,
           dpc_event_get_profiling(e1, &t0, &t1, &t2), (void)0);
    REL_E(e1);
    REL_Q(pq);

    /* Pointer queries of memory that is not dpcore's ask the runtime. */
    dpc_context c = NULL;
    CHECK_ST(dpc_queue_get_context(q, &c), DPC_SUCCESS);
    int on_stack = 0;
    dpc_usm_kind k;
    INJECT("usm_pointer_info:1", "usm_pointer_info", DPC_ERROR_BACKEND,
           dpc_usm_get_pointer_kind(c, &on_stack, &k), (void)0);
    CHECK(k == DPC_USM_UNKNOWN);

    /* A failed free frees nothing and keeps the allocation: freeing it
     * again works (it used to be lost: INVALID_POINTER, and leaked). */
    {
        uint64_t h0 = 0, u0 = 0;
        census_now(&h0, &u0);
        CHECK_ST(dpc_faults_set("usm_free:1:device_lost"), DPC_SUCCESS);
        CHECK_ST(dpc_usm_free(p), DPC_ERROR_DEVICE_LOST);
        CHECK_MSG_HAS("usm_free: fault injected by dpc_faults_set");
        census_same("usm_free:1", "after the failure", h0, u0);
        CHECK_ST(dpc_usm_free(p), DPC_SUCCESS);
        census_same("usm_free:1", "after the retry", h0, u0 - 1);
        CHECK_ST(dpc_usm_free(p), DPC_ERROR_INVALID_POINTER);
        CHECK_ST(dpc_faults_set(NULL), DPC_SUCCESS);
        walked_op("usm_free");
        ++points;
        p = NULL;
    }
    /* A deferred free whose first free fails is retried. */
    void *r = NULL;
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_DEVICE, 4096, 0, &r), DPC_SUCCESS);
    CHECK_ST(dpc_usm_memset(q, r, 0, 4096, NULL, 0, &e1), DPC_SUCCESS);
    CHECK_ST(dpc_faults_set("usm_free:1"), DPC_SUCCESS);
    CHECK_ST(dpc_usm_free_after(r, &e1, 1), DPC_SUCCESS);
    CHECK_ST(dpc_usm_wait_deferred_frees(), DPC_SUCCESS);
    uint64_t live = 99;
    CHECK_ST(dpc_census_live_usm(&live, NULL), DPC_SUCCESS);
    CHECK(live == 1); /* only `d` */
    REL_E(e1);
    /* A deferred free whose event status fails waits for the event instead
     * of taking it as complete, and ends (no deadlock, nothing leaked). */
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_DEVICE, 1 << 20, 0, &r), DPC_SUCCESS);
    CHECK_ST(dpc_usm_memset(q, r, 0, 1 << 20, NULL, 0, &e1), DPC_SUCCESS);
    CHECK_ST(dpc_faults_set("event_status:1+"), DPC_SUCCESS);
    CHECK_ST(dpc_usm_free_after(r, &e1, 1), DPC_SUCCESS);
    CHECK_ST(dpc_usm_wait_deferred_frees(), DPC_SUCCESS);
    CHECK_ST(dpc_faults_set(NULL), DPC_SUCCESS);
    CHECK_ST(dpc_event_get_status(e1, &es), DPC_SUCCESS);
    CHECK(es == DPC_EVENT_COMPLETE);
    CHECK_ST(dpc_census_live_usm(&live, NULL), DPC_SUCCESS);
    CHECK(live == 1);
    REL_E(e1);

    CHECK_ST(dpc_usm_free(d), DPC_SUCCESS);
    REL_C(c);
    REL_Q(q);
}

static const char *OCL_SRC =
    "__kernel void fill_one(__global int *p) { p[get_global_id(0)] = 1; }\n"
    "__kernel void fill_two(__global int *p) { p[get_global_id(0)] = 2; }\n";

static void kernels(dpc_device dev) {
    dpc_context c = NULL;
    dpc_queue q = NULL;
    dpc_bundle b = NULL, b2 = NULL;
    dpc_kernel k = NULL;
    CHECK_ST(dpc_context_default(dev, &c), DPC_SUCCESS);
    CHECK_ST(dpc_queue_create(c, dev, DPC_QUEUE_IN_ORDER, &q), DPC_SUCCESS);
    /* Nothing built these before: a failed build is not cached. */
    INJECT("bundle_create:1", "bundle_create", DPC_ERROR_BUILD_FAILED,
           dpc_bundle_create_from_opencl_c(c, dev, OCL_SRC, NULL, &b), REL_B(b));
    INJECT("bundle_create:1:device_lost", "bundle_create", DPC_ERROR_DEVICE_LOST,
           dpc_bundle_create_from_spirv_file(c, dev, "kernels/vadd.spv", NULL, &b2), REL_B(b2));
    CHECK_ST(dpc_bundle_create_from_opencl_c(c, dev, OCL_SRC, "-cl-fast-relaxed-math", &b), DPC_SUCCESS);
    size_t n = 0;
    INJECT("bundle_kernel_names:1", "bundle_kernel_names", DPC_ERROR_BACKEND,
           dpc_bundle_get_kernel_count(b, &n), (void)0);
    CHECK(n == 2);
    bool has = false;
    INJECT("bundle_has_kernel:1", "bundle_has_kernel", DPC_ERROR_BACKEND,
           dpc_bundle_has_kernel(b, "fill_one", &has), (void)0);
    CHECK(has);
    INJECT("bundle_get_kernel:1", "bundle_get_kernel", DPC_ERROR_BACKEND,
           dpc_bundle_get_kernel(b, "fill_one", &k), REL_K(k));
    INJECT("kernel_info:1", "kernel_info", DPC_ERROR_BACKEND, dpc_bundle_get_kernel(b, "fill_two", &k),
           REL_K(k));
    CHECK_ST(dpc_bundle_get_kernel(b, "fill_one", &k), DPC_SUCCESS);
    int *mem = NULL;
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_SHARED, 64 * sizeof(int), 0, (void **)&mem), DPC_SUCCESS);
    dpc_kernel_arg args[1] = {{DPC_ARG_POINTER, 0, mem}};
    size_t g = 64;
    dpc_event ev = NULL;
    INJECT("enqueue_kernel:1", "enqueue_kernel", DPC_ERROR_BACKEND,
           dpc_kernel_launch(q, k, 1, &g, NULL, args, 1, NULL, 0, &ev), REL_E(ev));
    INJECT("enqueue_kernel:1:device_lost", "enqueue_kernel", DPC_ERROR_DEVICE_LOST,
           dpc_kernel_launch(q, k, 1, &g, NULL, args, 1, NULL, 0, NULL), dpc_queue_wait(q));
    CHECK_ST(dpc_queue_wait(q), DPC_SUCCESS);
    CHECK(mem[0] == 1 && mem[63] == 1);
    CHECK_ST(dpc_usm_free(mem), DPC_SUCCESS);
    REL_K(k);
    REL_B(b);
    REL_Q(q);
    REL_C(c);
}

static int deleted = 0;
static void count_versioned(dpc_dlpack_managed_tensor_versioned *t) { ++deleted; (void)t; }

static void arrays(dpc_device dev) {
    dpc_queue q = NULL;
    CHECK_ST(dpc_queue_create_for_device(dev, DPC_QUEUE_IN_ORDER, &q), DPC_SUCCESS);
    dpc_dlpack_dtype f32 = {DPC_DL_FLOAT, 32, 1}, f64 = {DPC_DL_FLOAT, 64, 1};
    int64_t shape[2] = {16, 16};
    float host[256];
    for (int i = 0; i < 256; ++i) host[i] = (float)i;
    dpc_array a = NULL, b = NULL, t = NULL;
    INJECT("usm_alloc:1", "usm_alloc", DPC_ERROR_OUT_OF_DEVICE_MEMORY,
           dpc_array_empty(q, f32, 2, shape, DPC_USM_DEVICE, &a), REL_A(a));
    INJECT("enqueue_memcpy:1", "enqueue_memcpy", DPC_ERROR_BACKEND,
           dpc_array_from_host(q, f32, 2, shape, host, NULL, DPC_USM_DEVICE, &a), REL_A(a));
    CHECK_ST(dpc_array_from_host(q, f32, 2, shape, host, NULL, DPC_USM_DEVICE, &a), DPC_SUCCESS);
    float back[256];
    INJECT("enqueue_memcpy:1:device_lost", "enqueue_memcpy", DPC_ERROR_DEVICE_LOST,
           dpc_array_to_host(a, back, NULL), (void)0);
    CHECK(back[255] == 255.0f);
    INJECT("usm_alloc:1", "usm_alloc", DPC_ERROR_OUT_OF_DEVICE_MEMORY, dpc_array_astype(a, f64, &t),
           REL_A(t));
    INJECT("enqueue_kernel:1", "enqueue_kernel", DPC_ERROR_BACKEND, dpc_array_astype(a, f64, &t),
           REL_A(t));
    CHECK_ST(dpc_array_empty(q, f32, 2, shape, DPC_USM_DEVICE, &b), DPC_SUCCESS);
    INJECT("enqueue_memcpy:1", "enqueue_memcpy", DPC_ERROR_BACKEND, dpc_array_copy(a, b), (void)0);
    /* A strided view copied: the copy kernel. */
    dpc_array v = NULL;
    int64_t steps[2] = {2, 1}, vshape[2] = {8, 16};
    CHECK_ST(dpc_array_slice(a, NULL, NULL, steps, &v), DPC_SUCCESS);
    dpc_array c8 = NULL;
    CHECK_ST(dpc_array_empty(q, f32, 2, vshape, DPC_USM_DEVICE, &c8), DPC_SUCCESS);
    INJECT("enqueue_kernel:1:device_lost", "enqueue_kernel", DPC_ERROR_DEVICE_LOST, dpc_array_copy(v, c8),
           (void)0);
    REL_A(c8);
    REL_A(v);

    /* DLPack import of memory that is not dpcore's in the device's default
     * context (here: dpcore memory of another context) asks the runtime
     * what it is (usm_pointer_kind); the deleter runs once per import,
     * failed or not. */
    dpc_context other = NULL;
    dpc_queue oq = NULL;
    CHECK_ST(dpc_context_create(&dev, 1, &other), DPC_SUCCESS);
    CHECK_ST(dpc_queue_create(other, dev, DPC_QUEUE_IN_ORDER, &oq), DPC_SUCCESS);
    void *om = NULL;
    CHECK_ST(dpc_usm_alloc(oq, DPC_USM_DEVICE, 1024, 0, &om), DPC_SUCCESS);
    int32_t dl_id = 0;
    CHECK_ST(dpc_device_get_dlpack_id(dev, &dl_id), DPC_SUCCESS);
    int64_t dshape[1] = {256};
    dpc_dlpack_managed_tensor_versioned tv = {
        {1, 0}, NULL, count_versioned, 0, {om, {DPC_DL_ONEAPI, dl_id}, 1, {DPC_DL_FLOAT, 32, 1}, dshape, NULL, 0}};
    dpc_array imp = NULL;
    deleted = 0;
    dpc_status unarmed = dpc_array_from_dlpack_versioned(&tv, &imp);
    if (unarmed == DPC_SUCCESS) REL_A(imp);
    CHECK(deleted == 1);
    INJECT_THEN("usm_pointer_kind:1", "usm_pointer_kind", DPC_ERROR_BACKEND, unarmed,
                dpc_array_from_dlpack_versioned(&tv, &imp), if (unarmed == DPC_SUCCESS) REL_A(imp));
    CHECK(deleted == 3);
    CHECK_ST(dpc_usm_free(om), DPC_SUCCESS);
    REL_Q(oq);
    REL_C(other);

    REL_A(b);
    REL_A(a);
    REL_Q(q);
}

/* The environment variable, in a child process: a valid plan fails the
 * plugin's load (runtime_info is reached only there, once per process);
 * a malformed one fails the first export with INVALID_ARGUMENT naming the
 * variable, and then dpcore works (nothing armed). */
static int child(const char *spec, int (*body)(void)) {
    pid_t pid = fork();
    if (pid == 0) {
        setenv("DPCORE_FAULTS", spec, 1);
        _exit(body());
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int child_runtime_info(void) {
    if (dpc_backend_load() == DPC_SUCCESS) return 10;
    if (!strstr(last_msg(), "runtime_info: fault injected by DPCORE_FAULTS")) return 11;
    size_t n = 99;
    if (dpc_device_count(&n) != DPC_SUCCESS || n != 0) return 12;
    return 0;
}

static int child_malformed(void) {
    size_t n = 0;
    if (dpc_device_count(&n) != DPC_ERROR_INVALID_ARGUMENT) return 20;
    if (!strstr(last_msg(), "DPCORE_FAULTS=usm_alloc:zero is malformed")) return 21;
    if (!strstr(last_msg(), "op:N[+][:status]")) return 22;
    if (dpc_device_count(&n) != DPC_SUCCESS || n == 0) return 23;
    static char diag[1 << 16];
    size_t need = 0;
    if (dpc_diagnostics(diag, sizeof diag, &need) != DPC_SUCCESS) return 24;
    if (!strstr(diag, "DPCORE_FAULTS=usm_alloc:zero: MALFORMED")) return 25;
    return 0;
}

static int child_env_plan(void) {
    size_t n = 0;
    if (dpc_device_count(&n) != DPC_SUCCESS || n == 0) return 30;
    dpc_device dev = NULL;
    dpc_queue q = NULL;
    void *p = NULL;
    if (dpc_device_get(0, &dev) != DPC_SUCCESS) return 31;
    if (dpc_queue_create_for_device(dev, 0, &q) != DPC_SUCCESS) return 32;
    if (dpc_usm_alloc(q, DPC_USM_DEVICE, 64, 0, &p) != DPC_SUCCESS) return 33;
    dpc_usm_free(p);
    if (dpc_usm_alloc(q, DPC_USM_DEVICE, 64, 0, &p) != DPC_ERROR_DEVICE_LOST) return 34;
    if (!strstr(last_msg(), "usm_alloc: fault injected by DPCORE_FAULTS (call 2")) return 35;
    if (dpc_usm_alloc(q, DPC_USM_DEVICE, 64, 0, &p) != DPC_SUCCESS) return 36;
    dpc_usm_free(p);
    dpc_queue_release(q);
    return 0;
}

static void environment(void) {
    int rc = child("runtime_info:1", child_runtime_info);
    CHECK(rc == 0);
    if (rc != 0) fprintf(stderr, "child runtime_info: exit %d\n", rc);
    walked_op("runtime_info");
    rc = child("usm_alloc:zero", child_malformed);
    CHECK(rc == 0);
    if (rc != 0) fprintf(stderr, "child malformed: exit %d\n", rc);
    rc = child("usm_alloc:2:device_lost", child_env_plan);
    CHECK(rc == 0);
    if (rc != 0) fprintf(stderr, "child env plan: exit %d\n", rc);
}

int main(void) {
    /* First, before this process touches dpcore: children read the
     * variable at their first call. */
    environment();

    /* Malformed specs at run time: refused, naming the problem. */
    CHECK_ST(dpc_faults_set("usm_alloc:1:nope"), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("`nope` is not a status name");
    CHECK_ST(dpc_faults_set("bogus_op:1"), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("`bogus_op` is not an injection point");
    CHECK_ST(dpc_faults_set(""), DPC_SUCCESS);

    enumeration();
    dpc_device devs[TEST_MAX_DEVICES];
    size_t nd = test_devices("test_faults", devs, TEST_MAX_DEVICES);
    CHECK(nd > 0);
    if (nd > 0) {
        dpc_device dev = devs[0];
        devices_contexts_queues(dev);
        usm(dev);
        kernels(dev);
        arrays(dev);
    }

    /* Every injection point was walked, except enqueue_fill: dpcore uses
     * the runtime's fill only on devices without host USM (tests/faults_fill.rs
     * walks it on the mock plugin's device told to report none). */
    for (size_t i = 0; i < sizeof ALL_OPS / sizeof ALL_OPS[0]; ++i) {
        int found = 0;
        for (size_t j = 0; j < n_walked; ++j) found |= !strcmp(walked[j], ALL_OPS[i]);
        if (!found && strcmp(ALL_OPS[i], "enqueue_fill") != 0 &&
            !(nd > 0 && !has_sub_devices(devs[0]) &&
              (!strcmp(ALL_OPS[i], "device_partition") || !strcmp(ALL_OPS[i], "device_parent") ||
               !strcmp(ALL_OPS[i], "device_info")))) {
            ++check_failures;
            fprintf(stderr, "injection point %s was not walked\n", ALL_OPS[i]);
        }
    }
    printf("test_faults: %d injections over %zu of %zu injection points\n", points, n_walked,
           sizeof ALL_OPS / sizeof ALL_OPS[0]);
    return check_report("test_faults");
}
