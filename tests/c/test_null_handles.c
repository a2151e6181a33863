/* Every export called with NULL arguments, with a released handle, with a
 * handle of the wrong type and with a value that never was a handle:
 * each gives an error status (never a crash), and outputs stay untouched.
 * scripts/run-c.sh checks that every function of dpcore.h is named here. */
#include <stdint.h>
#include <stdlib.h>
#include "check.h"

/* Run all device-taking functions with handle `h`; all must return `want`. */
static void device_calls(dpc_device h, dpc_status want) {
    size_t n = 77;
    uint64_t u = 77, wis[3];
    int32_t id = 77;
    bool b = true;
    char buf[16];
    uint8_t uuid[16];
    void *native = NULL;
    dpc_device out = (dpc_device)0x1;
    dpc_platform plat = (dpc_platform)0x1;
    dpc_backend be;
    dpc_device_type t;
    size_t counts[1] = {1};
    CHECK_ST(dpc_device_retain(h), want);
    CHECK_ST(dpc_device_get_backend(h, &be), want);
    CHECK_ST(dpc_device_get_type(h, &t), want);
    CHECK_ST(dpc_device_get_info_string(h, DPC_DEVICE_INFO_NAME, buf, sizeof buf, &n), want);
    CHECK_ST(dpc_device_get_info_u64(h, DPC_DEVICE_INFO_MAX_COMPUTE_UNITS, &u), want);
    CHECK_ST(dpc_device_has_aspect(h, DPC_ASPECT_FP64, &b), want);
    CHECK_ST(dpc_device_get_max_work_item_sizes(h, wis), want);
    CHECK_ST(dpc_device_get_sub_group_sizes(h, NULL, 0, &n), want);
    CHECK_ST(dpc_device_get_uuid(h, uuid), want);
    CHECK_ST(dpc_device_equal(h, h, &b), want);
    CHECK_ST(dpc_device_get_dlpack_id(h, &id), want);
    CHECK_ST(dpc_device_get_parent(h, &out), want);
    CHECK_ST(dpc_device_partition_equally(h, 1, NULL, 0, &n), want);
    CHECK_ST(dpc_device_partition_by_counts(h, counts, 1, NULL, 0, &n), want);
    CHECK_ST(dpc_device_partition_by_affinity(h, DPC_AFFINITY_NUMA, NULL, 0, &n), want);
    CHECK_ST(dpc_device_get_native(h, &native), want);
    CHECK_ST(dpc_device_get_platform(h, &plat), want);
    dpc_context ctx = (dpc_context)0x1;
    dpc_queue q = (dpc_queue)0x1;
    CHECK_ST(dpc_context_default(h, &ctx), want);
    CHECK_ST(dpc_context_create(&h, 1, &ctx), want);
    CHECK_ST(dpc_queue_create_for_device(h, 0, &q), want);
    CHECK_ST(dpc_queue_default(h, &q), want);
    CHECK_ST(dpc_device_get_backend_handle(h, &be, &native), want);
    CHECK(ctx == (dpc_context)0x1 && q == (dpc_queue)0x1);
    CHECK(plat == (dpc_platform)0x1);
    CHECK(out == (dpc_device)0x1 && u == 77 && id == 77 && native == NULL);
    if (h != NULL) CHECK_ST(dpc_device_release(h), want); /* release(NULL) is a no-op */
}

static void platform_calls(dpc_platform h, dpc_status want) {
    size_t n = 5;
    char buf[8];
    dpc_backend b;
    CHECK_ST(dpc_platform_retain(h), want);
    CHECK_ST(dpc_platform_get_backend(h, &b), want);
    CHECK_ST(dpc_platform_get_device_count(h, &n), want);
    CHECK_ST(dpc_platform_get_info_string(h, DPC_PLATFORM_INFO_NAME, buf, sizeof buf, &n), want);
    CHECK(n == 5);
    if (h != NULL) CHECK_ST(dpc_platform_release(h), want);
}

static void context_calls(dpc_context h, dpc_status want) {
    size_t n = 5;
    bool b = true;
    uint64_t x = 3, y = 3, z = 3;
    void *native = NULL;
    dpc_device d = (dpc_device)0x1;
    dpc_backend be;
    dpc_queue q = (dpc_queue)0x1;
    dpc_usm_kind k;
    void *base;
    CHECK_ST(dpc_context_retain(h), want);
    CHECK_ST(dpc_context_get_device_count(h, &n), want);
    CHECK_ST(dpc_context_get_device(h, 0, &d), want);
    CHECK_ST(dpc_context_equal(h, h, &b), want);
    CHECK_ST(dpc_context_get_usm_stats(h, &x, &y, &z), want);
    CHECK_ST(dpc_context_get_native(h, &native), want);
    CHECK_ST(dpc_context_get_backend_handle(h, &be, &native), want);
    CHECK_ST(dpc_queue_create(h, NULL, 0, &q), DPC_ERROR_INVALID_HANDLE);
    CHECK_ST(dpc_usm_get_pointer_kind(h, &n, &k), want);
    CHECK_ST(dpc_usm_get_pointer_device(h, &n, &d), want);
    CHECK_ST(dpc_usm_get_pointer_range(h, &n, &base, &n), want);
    CHECK(n == 5 && x == 3 && native == NULL && d == (dpc_device)0x1 && q == (dpc_queue)0x1);
    if (h != NULL) CHECK_ST(dpc_context_release(h), want);
}

static void queue_calls(dpc_queue h, dpc_status want) {
    dpc_device d = (dpc_device)0x1;
    dpc_context c = (dpc_context)0x1;
    dpc_event e = (dpc_event)0x1;
    uint32_t f = 3;
    uint64_t id = 3;
    bool b = true;
    void *native = NULL, *p = NULL;
    dpc_backend be;
    char buf[16];
    uint32_t pat = 0;
    CHECK_ST(dpc_queue_retain(h), want);
    CHECK_ST(dpc_queue_get_device(h, &d), want);
    CHECK_ST(dpc_queue_get_context(h, &c), want);
    CHECK_ST(dpc_queue_get_flags(h, &f), want);
    CHECK_ST(dpc_queue_get_id(h, &id), want);
    CHECK_ST(dpc_queue_equivalent(h, h, &b), want);
    CHECK_ST(dpc_queue_wait(h), want);
    CHECK_ST(dpc_queue_barrier(h, NULL, 0, &e), want);
    CHECK_ST(dpc_queue_get_native(h, &native), want);
    CHECK_ST(dpc_queue_get_backend_handle(h, &be, &native), want);
    CHECK_ST(dpc_usm_alloc(h, DPC_USM_DEVICE, 64, 0, &p), want);
    CHECK_ST(dpc_usm_memcpy(h, buf, buf + 8, 8, NULL, 0, &e), want);
    CHECK_ST(dpc_usm_memset(h, buf, 0, 8, NULL, 0, &e), want);
    CHECK_ST(dpc_usm_fill(h, &pat, &pat, 4, 1, NULL, 0, &e), want);
    CHECK_ST(dpc_usm_prefetch(h, buf, 8, NULL, 0, &e), want);
    CHECK_ST(dpc_usm_mem_advise(h, buf, 8, 0, NULL, 0, &e), want);
    CHECK(d == (dpc_device)0x1 && c == (dpc_context)0x1 && e == (dpc_event)0x1 && f == 3 && id == 3 && p == NULL);
    if (h != NULL) CHECK_ST(dpc_queue_release(h), want);
}

static void event_calls(dpc_event h, dpc_status want) {
    dpc_event_status st = DPC_EVENT_SUBMITTED;
    uint64_t a = 3, b = 3, c = 3;
    void *native = NULL;
    CHECK_ST(dpc_event_retain(h), want);
    CHECK_ST(dpc_event_wait(h), want);
    CHECK_ST(dpc_event_wait_all(&h, 1), want);
    CHECK_ST(dpc_event_get_status(h, &st), want);
    CHECK_ST(dpc_event_get_profiling(h, &a, &b, &c), want);
    CHECK_ST(dpc_event_get_native(h, &native), want);
    CHECK(a == 3 && native == NULL);
    if (h != NULL) CHECK_ST(dpc_event_release(h), want);
}

static void bundle_calls(dpc_bundle h, dpc_status want) {
    size_t n = 5;
    bool b = true;
    char buf[16];
    dpc_kernel k = (dpc_kernel)0x1;
    void *native = NULL;
    CHECK_ST(dpc_bundle_retain(h), want);
    CHECK_ST(dpc_bundle_get_kernel_count(h, &n), want);
    CHECK_ST(dpc_bundle_get_kernel_name(h, 0, buf, sizeof buf, &n), want);
    CHECK_ST(dpc_bundle_has_kernel(h, "x", &b), want);
    CHECK_ST(dpc_bundle_get_kernel(h, "x", &k), want);
    CHECK_ST(dpc_bundle_get_native(h, &native), want);
    CHECK(n == 5 && k == (dpc_kernel)0x1 && native == NULL);
    if (h != NULL) CHECK_ST(dpc_bundle_release(h), want);
}

static void kernel_calls(dpc_kernel h, dpc_queue q, dpc_status want) {
    size_t n = 5, g = 1;
    uint64_t v = 5;
    char buf[16];
    void *native = NULL;
    CHECK_ST(dpc_kernel_retain(h), want);
    CHECK_ST(dpc_kernel_get_name(h, buf, sizeof buf, &n), want);
    CHECK_ST(dpc_kernel_get_info_u64(h, DPC_KERNEL_INFO_NUM_ARGS, &v), want);
    CHECK_ST(dpc_kernel_get_native(h, &native), want);
    CHECK_ST(dpc_kernel_launch(q, h, 1, &g, NULL, NULL, 0, NULL, 0, NULL), want);
    CHECK(n == 5 && v == 5 && native == NULL);
    if (h != NULL) CHECK_ST(dpc_kernel_release(h), want);
}

static void array_calls(dpc_array h, dpc_status want) {
    int32_t nd = 5, kind = 5;
    int64_t buf[4] = {5, 5, 5, 5};
    uint32_t flags = 5;
    void *data = NULL;
    dpc_queue q = (dpc_queue)0x1;
    dpc_array v = (dpc_array)0x1;
    dpc_dlpack_dtype t = {9, 9, 9};
    int32_t axes[4] = {0, 1, 2, 3};
    int64_t shp[1] = {1};
    dpc_dlpack_managed_tensor_versioned *tv = NULL;
    dpc_dlpack_managed_tensor *tl = NULL;
    CHECK_ST(dpc_array_retain(h), want);
    CHECK_ST(dpc_array_get_ndim(h, &nd), want);
    CHECK_ST(dpc_array_get_shape(h, buf), want);
    CHECK_ST(dpc_array_get_strides(h, buf), want);
    size_t nd_out = 77, host_need = 77;
    CHECK_ST(dpc_array_copy_shape(h, buf, 1, &nd_out), want);
    CHECK_ST(dpc_array_copy_strides(h, buf, 1, &nd_out), want);
    CHECK_ST(dpc_array_copy_to_host(h, buf, sizeof buf, NULL, &host_need), want);
    CHECK(nd_out == 77 && host_need == 77);
    CHECK_ST(dpc_array_get_dtype(h, &t), want);
    CHECK_ST(dpc_array_get_data(h, &data), want);
    CHECK_ST(dpc_array_get_flags(h, &flags), want);
    CHECK_ST(dpc_array_get_queue(h, &q), want);
    CHECK_ST(dpc_array_get_usm_kind(h, &kind), want);
    CHECK_ST(dpc_array_to_host(h, buf, NULL), want);
    CHECK_ST(dpc_array_slice(h, NULL, NULL, NULL, &v), want);
    CHECK_ST(dpc_array_permute(h, axes, &v), want);
    CHECK_ST(dpc_array_reshape(h, 1, shp, &v), want);
    CHECK_ST(dpc_array_as_read_only(h, &v), want);
    CHECK_ST(dpc_array_to_dlpack_versioned(h, 1, 0, &tv), want);
    CHECK_ST(dpc_array_to_dlpack(h, &tl), want);
    CHECK_ST(dpc_array_common_queue(&h, 1, &q), want);
    CHECK_ST(dpc_array_to_device(h, NULL, 0, &v), want);
    CHECK_ST(dpc_array_copy(h, h), want);
    CHECK_ST(dpc_array_release_after(h, NULL, 0), want);
    dpc_array_layout lay = {5, 5, {9, 9, 9}, 5, NULL, NULL, NULL};
    CHECK_ST(dpc_array_get_layout(h, &lay), want);
    CHECK(lay.ndim == 5 && lay.shape == NULL);
    CHECK_ST(dpc_array_astype(h, (dpc_dlpack_dtype){DPC_DL_FLOAT, 32, 1}, &v), want);
    CHECK(nd == 5 && kind == 5 && flags == 5 && buf[0] == 5 && data == NULL && q == (dpc_queue)0x1 &&
          v == (dpc_array)0x1 && t.code == 9 && tv == NULL && tl == NULL);
    if (h != NULL) CHECK_ST(dpc_array_release(h), want);
}

static void selector_calls(dpc_selector h, dpc_device dev, dpc_status want) {
    dpc_device out = (dpc_device)0x1;
    bool m = true;
    size_t n = 5;
    char buf[8];
    CHECK_ST(dpc_selector_retain(h), want);
    CHECK_ST(dpc_selector_select(h, &out), want);
    CHECK_ST(dpc_selector_matches(h, dev, &m), want);
    CHECK_ST(dpc_selector_get_string(h, buf, sizeof buf, &n), want);
    CHECK(out == (dpc_device)0x1);
    if (h != NULL) CHECK_ST(dpc_selector_release(h), want);
}

int main(void) {
    dpc_device dev = NULL;
    size_t count = 0;
    CHECK_ST(dpc_device_count(&count), DPC_SUCCESS);
    dpc_device all[TEST_MAX_DEVICES];
    if (test_devices("test_null_handles", all, TEST_MAX_DEVICES) == 0) return 1;
    CHECK_ST(dpc_device_get(0, &dev), DPC_SUCCESS);

    /* NULL output / input pointers with a valid handle. */
    CHECK_ST(dpc_last_error_message(NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_backend_get_plugin_path(NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_backend_get_runtime(NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_diagnostics(NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_count(NULL), DPC_ERROR_NULL_POINTER);
    CHECK_MSG_HAS("count_out");
    CHECK_ST(dpc_device_get(0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_get_backend(dev, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_get_type(dev, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_get_info_string(dev, DPC_DEVICE_INFO_NAME, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_get_info_u64(dev, DPC_DEVICE_INFO_MAX_COMPUTE_UNITS, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_has_aspect(dev, DPC_ASPECT_FP64, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_get_max_work_item_sizes(dev, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_get_sub_group_sizes(dev, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_get_uuid(dev, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_equal(dev, dev, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_get_dlpack_id(dev, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_from_dlpack_id(0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_get_parent(dev, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_partition_equally(dev, 1, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_partition_by_counts(dev, NULL, 1, NULL, 0, &count), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_partition_by_affinity(dev, DPC_AFFINITY_NUMA, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_get_native(dev, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_get_platform(dev, NULL), DPC_ERROR_NULL_POINTER);
    dpc_platform plat = NULL;
    CHECK_ST(dpc_platform_count(NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_platform_get(0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_platform_get(0, &plat), DPC_SUCCESS);
    CHECK_ST(dpc_platform_get_backend(plat, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_platform_get_device_count(plat, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_platform_get_info_string(plat, DPC_PLATFORM_INFO_NAME, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_select(NULL, &dev), DPC_ERROR_NULL_POINTER);
    CHECK_MSG_HAS("filter");
    CHECK_ST(dpc_device_select("cpu", NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_default(NULL), DPC_ERROR_NULL_POINTER);
    dpc_selector sel = NULL;
    CHECK_ST(dpc_selector_create(NULL, &sel), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_selector_create("cpu", NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_selector_create("\xff\xfe", &sel), DPC_ERROR_INVALID_UTF8);
    CHECK(sel == NULL);
    CHECK_ST(dpc_set_logger(NULL, NULL, 17), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_ST(dpc_set_logger(NULL, NULL, DPC_LOG_ERROR), DPC_SUCCESS);
    /* Fault injection: NULL clears the plan; bad specs are refused. */
    CHECK_ST(dpc_faults_set(NULL), DPC_SUCCESS);
    CHECK_ST(dpc_faults_set("\xff\xfe"), DPC_ERROR_INVALID_UTF8);
    CHECK_ST(dpc_faults_set("usm_alloc"), DPC_ERROR_INVALID_ARGUMENT);

    /* Contexts, queues, events, USM: NULL outputs and inputs. */
    dpc_context ctx = NULL;
    dpc_queue q = NULL;
    dpc_event ev = NULL;
    void *mem = NULL;
    dpc_backend be;
    CHECK_ST(dpc_context_default(dev, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_context_default(dev, &ctx), DPC_SUCCESS);
    CHECK_ST(dpc_context_create(NULL, 1, &ctx), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_context_create(&dev, 1, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_context_get_device_count(ctx, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_context_get_device(ctx, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_context_equal(ctx, ctx, NULL), DPC_ERROR_NULL_POINTER);
    uint64_t u1, u2;
    CHECK_ST(dpc_context_get_usm_stats(ctx, NULL, &u1, &u2), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_context_get_native(ctx, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_context_get_backend_handle(ctx, NULL, &mem), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_context_get_backend_handle(ctx, &be, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_device_get_backend_handle(dev, NULL, &mem), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_create(ctx, dev, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_create_for_device(dev, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_create_from_filter(NULL, 0, &q), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_create_from_filter("cpu", 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_default(dev, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_adopt(NULL, &q), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_create_for_device(dev, DPC_QUEUE_IN_ORDER, &q), DPC_SUCCESS);
    CHECK_ST(dpc_queue_adopt(&q, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_get_device(q, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_get_context(q, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_get_flags(q, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_get_id(q, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_equivalent(q, q, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_barrier(q, NULL, 1, &ev), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_get_native(q, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_queue_get_backend_handle(q, NULL, &mem), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_DEVICE, 64, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_DEVICE, 64, 0, &mem), DPC_SUCCESS);
    CHECK_ST(dpc_usm_memcpy(q, mem, NULL, 8, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_memset(q, NULL, 0, 8, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_fill(q, mem, NULL, 4, 2, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_prefetch(q, NULL, 8, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_mem_advise(q, NULL, 8, 0, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_memset(q, mem, 0, 8, NULL, 2, NULL), DPC_ERROR_NULL_POINTER);
    dpc_usm_kind kind;
    void *base;
    size_t sz;
    CHECK_ST(dpc_usm_get_pointer_kind(ctx, mem, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_get_pointer_device(ctx, mem, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_get_pointer_range(ctx, mem, NULL, &sz), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_get_pointer_range(ctx, mem, &base, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_get_pointer_kind(ctx, mem, &kind), DPC_SUCCESS);
    CHECK_ST(dpc_usm_get_pointer_context(mem, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_memset(q, mem, 0, 64, NULL, 0, &ev), DPC_SUCCESS);
    CHECK_ST(dpc_event_get_status(ev, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_event_get_profiling(ev, NULL, &u1, &u2), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_event_get_native(ev, NULL), DPC_ERROR_NULL_POINTER);
    dpc_event adopted_never = NULL;
    CHECK_ST(dpc_event_adopt(NULL, &adopted_never), DPC_ERROR_NULL_POINTER);
    CHECK(adopted_never == NULL);
    void *ev_native = NULL;
    CHECK_ST(dpc_event_get_native(ev, &ev_native), DPC_SUCCESS);
    CHECK_ST(dpc_event_adopt(ev_native, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_event_wait_all(NULL, 1), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_free_after(mem, NULL, 1), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_free_after(mem, &ev, 1), DPC_SUCCESS);
    CHECK_ST(dpc_usm_wait_deferred_frees(), DPC_SUCCESS);
    CHECK_ST(dpc_usm_free(mem), DPC_ERROR_INVALID_POINTER);
    CHECK_ST(dpc_usm_free(NULL), DPC_SUCCESS);

    /* NULL, made-up, wrong-type and released handles of the new kinds. */
    context_calls(NULL, DPC_ERROR_INVALID_HANDLE);
    CHECK_ST(dpc_context_release(NULL), DPC_SUCCESS);
    queue_calls(NULL, DPC_ERROR_INVALID_HANDLE);
    CHECK_ST(dpc_queue_release(NULL), DPC_SUCCESS);
    event_calls(NULL, DPC_ERROR_INVALID_HANDLE);
    CHECK_ST(dpc_event_release(NULL), DPC_SUCCESS);
    context_calls((dpc_context)(uintptr_t)0xabcdef, DPC_ERROR_INVALID_HANDLE);
    queue_calls((dpc_queue)(uintptr_t)0xabcdef, DPC_ERROR_INVALID_HANDLE);
    event_calls((dpc_event)(uintptr_t)0xabcdef, DPC_ERROR_INVALID_HANDLE);
    context_calls((dpc_context)q, DPC_ERROR_INVALID_HANDLE);
    CHECK_MSG_HAS("dpc_queue handle, not a dpc_context");
    queue_calls((dpc_queue)ev, DPC_ERROR_INVALID_HANDLE);
    event_calls((dpc_event)ctx, DPC_ERROR_INVALID_HANDLE);
    /* A wrong-type handle inside an event list. */
    dpc_event bad_list[2] = {ev, (dpc_event)q};
    CHECK_ST(dpc_event_wait_all(bad_list, 2), DPC_ERROR_INVALID_HANDLE);
    CHECK_MSG_HAS("events[1]");
    dpc_context made = NULL;
    CHECK_ST(dpc_context_create(&dev, 1, &made), DPC_SUCCESS);
    CHECK_ST(dpc_context_release(made), DPC_SUCCESS);
    context_calls(made, DPC_ERROR_INVALID_HANDLE);
    CHECK_MSG_HAS("released");
    CHECK_ST(dpc_event_release(ev), DPC_SUCCESS);
    event_calls(ev, DPC_ERROR_INVALID_HANDLE);
    CHECK_ST(dpc_queue_release(q), DPC_SUCCESS);
    queue_calls(q, DPC_ERROR_INVALID_HANDLE);
    CHECK_MSG_HAS("released");

    /* Bundles and kernels. */
    {
        dpc_context c = NULL;
        dpc_queue dq = NULL;
        dpc_bundle b = NULL;
        dpc_kernel k = NULL;
        size_t n;
        bool has;
        void *p;
        uint64_t v;
        CHECK_ST(dpc_context_default(dev, &c), DPC_SUCCESS);
        CHECK_ST(dpc_queue_default(dev, &dq), DPC_SUCCESS);
        CHECK_ST(dpc_bundle_create_from_spirv(c, dev, NULL, 4, NULL, &b), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_create_from_spirv(c, dev, &n, sizeof n, NULL, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_create_from_spirv(NULL, dev, &n, sizeof n, NULL, &b), DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_bundle_create_from_spirv(c, (dpc_device)c, &n, sizeof n, NULL, &b), DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_bundle_create_from_spirv_file(c, dev, NULL, NULL, &b), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_create_from_spirv_file(c, dev, "kernels/vadd.spv", NULL, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_create_from_opencl_c(c, dev, NULL, NULL, &b), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_create_from_opencl_c(c, dev, "kernel void f(){}", NULL, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_create_from_sycl(c, dev, NULL, NULL, &b), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_create_from_sycl(c, dev, "x", NULL, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_create_from_spirv_file(c, dev, "kernels/vadd.spv", NULL, &b), DPC_SUCCESS);
        CHECK_ST(dpc_bundle_get_kernel_count(b, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_get_kernel_name(b, 0, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_has_kernel(b, NULL, &has), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_has_kernel(b, "noop", NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_get_kernel(b, NULL, &k), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_get_kernel(b, "noop", NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_get_native(b, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_bundle_get_kernel(b, "noop", &k), DPC_SUCCESS);
        CHECK_ST(dpc_kernel_get_name(k, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_kernel_get_info_u64(k, DPC_KERNEL_INFO_NUM_ARGS, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_kernel_get_native(k, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_kernel_get_info_u64(k, DPC_KERNEL_INFO_NUM_ARGS, &v), DPC_SUCCESS);
        CHECK(v == 0);
        CHECK_ST(dpc_last_error_build_log(NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
        bundle_calls(NULL, DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_bundle_release(NULL), DPC_SUCCESS);
        kernel_calls(NULL, dq, DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_kernel_release(NULL), DPC_SUCCESS);
        bundle_calls((dpc_bundle)(uintptr_t)0x5151, DPC_ERROR_INVALID_HANDLE);
        kernel_calls((dpc_kernel)(uintptr_t)0x5151, dq, DPC_ERROR_INVALID_HANDLE);
        bundle_calls((dpc_bundle)k, DPC_ERROR_INVALID_HANDLE);
        CHECK_MSG_HAS("dpc_kernel handle, not a dpc_bundle");
        kernel_calls((dpc_kernel)b, dq, DPC_ERROR_INVALID_HANDLE);
        /* A kernel launched on a made-up queue. */
        size_t g = 1;
        CHECK_ST(dpc_kernel_launch((dpc_queue)b, k, 1, &g, NULL, NULL, 0, NULL, 0, NULL), DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_kernel_release(k), DPC_SUCCESS);
        kernel_calls(k, dq, DPC_ERROR_INVALID_HANDLE);
        CHECK_MSG_HAS("released");
        CHECK_ST(dpc_bundle_release(b), DPC_SUCCESS);
        bundle_calls(b, DPC_ERROR_INVALID_HANDLE);
        CHECK_MSG_HAS("released");
        (void)p;
    }

    /* Arrays. */
    {
        dpc_dlpack_dtype f32 = {DPC_DL_FLOAT, 32, 1};
        int64_t shape[1] = {4};
        float host[4] = {1, 2, 3, 4}, val = 1;
        dpc_array a = NULL, v = NULL;
        int32_t nd;
        dpc_queue qq;
        CHECK_ST(dpc_array_empty(NULL, f32, 1, shape, 0, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_zeros(NULL, f32, 1, NULL, 0, &a), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_full(NULL, f32, 1, shape, 0, NULL, &a), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_full(NULL, f32, 1, shape, 0, &val, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_from_host(NULL, f32, 1, shape, NULL, NULL, 0, &a), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_from_host((dpc_queue)dev, f32, 1, shape, host, NULL, 0, &a), DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_array_from_host(NULL, f32, 1, shape, host, NULL, 0, &a), DPC_SUCCESS);
        CHECK_ST(dpc_array_get_ndim(a, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_get_shape(a, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_get_strides(a, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_get_dtype(a, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_get_data(a, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_get_flags(a, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_get_queue(a, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_get_usm_kind(a, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_to_host(a, NULL, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_copy_shape(a, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_copy_strides(a, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_copy_to_host(a, host, sizeof host, NULL, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_census_live_handles(DPC_HANDLE_ARRAY, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_census_live_usm(NULL, NULL), DPC_SUCCESS);
        CHECK_ST(dpc_census_report(NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_slice(a, NULL, NULL, NULL, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_permute(a, NULL, &v), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_reshape(a, 1, NULL, &v), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_as_read_only(a, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_to_dlpack_versioned(a, 1, 0, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_to_dlpack(a, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_from_dlpack(NULL, &v), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_from_dlpack_versioned(NULL, &v), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_common_queue(NULL, 1, &qq), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_common_queue(&a, 1, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_to_device(a, NULL, 0, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_astype(a, (dpc_dlpack_dtype){DPC_DL_FLOAT, 32, 1}, NULL), DPC_ERROR_NULL_POINTER);
        CHECK_ST(dpc_array_copy(a, NULL), DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_array_from_usm(NULL, (dpc_dlpack_dtype){DPC_DL_INT, 32, 1}, 0, NULL, NULL, NULL, 0, NULL, NULL, &v),
                 DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_array_from_usm((dpc_queue)a, (dpc_dlpack_dtype){DPC_DL_INT, 32, 1}, 0, NULL, NULL, NULL, 0, NULL,
                                    NULL, &v),
                 DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_array_copy(NULL, a), DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_array_get_ndim(a, &nd), DPC_SUCCESS);
        CHECK(v == NULL && nd == 1);
        array_calls(NULL, DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_array_release(NULL), DPC_SUCCESS);
        array_calls((dpc_array)(uintptr_t)0x7777, DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_queue_default(dev, &qq), DPC_SUCCESS);
        array_calls((dpc_array)qq, DPC_ERROR_INVALID_HANDLE);
        CHECK_MSG_HAS("dpc_queue handle, not a dpc_array");
        CHECK_ST(dpc_array_release(a), DPC_SUCCESS);
        array_calls(a, DPC_ERROR_INVALID_HANDLE);
        CHECK_MSG_HAS("released");
    }

    /* Functions that cannot fail. */
    CHECK(strcmp(dpc_status_name(DPC_ERROR_INVALID_HANDLE), "DPC_ERROR_INVALID_HANDLE") == 0);
    CHECK(strcmp(dpc_status_name(-42), "DPC_STATUS_UNKNOWN") == 0);
    CHECK(dpc_version_string() != NULL);
    CHECK(dpc_version() == ((DPC_VERSION_MAJOR << 16) | (DPC_VERSION_MINOR << 8) | DPC_VERSION_PATCH));
    dpc_backend_load();
    dpc_device_select("no-such-word", &dev);
    CHECK(dpc_last_error_status() == DPC_ERROR_INVALID_SELECTOR);
    CHECK(dpc_last_error_backend_code() == 0);

    /* NULL handles. */
    device_calls(NULL, DPC_ERROR_INVALID_HANDLE);
    CHECK_ST(dpc_device_release(NULL), DPC_SUCCESS);
    selector_calls(NULL, dev, DPC_ERROR_INVALID_HANDLE);
    CHECK_ST(dpc_selector_release(NULL), DPC_SUCCESS);
    platform_calls(NULL, DPC_ERROR_INVALID_HANDLE);
    CHECK_ST(dpc_platform_release(NULL), DPC_SUCCESS);
    platform_calls((dpc_platform)(uintptr_t)0xfeedface, DPC_ERROR_INVALID_HANDLE);
    platform_calls((dpc_platform)dev, DPC_ERROR_INVALID_HANDLE);
    CHECK_MSG_HAS("dpc_device handle, not a dpc_platform");
    device_calls((dpc_device)plat, DPC_ERROR_INVALID_HANDLE);

    /* Values that never were handles. */
    device_calls((dpc_device)(uintptr_t)0xdeadbeef, DPC_ERROR_INVALID_HANDLE);
    CHECK_MSG_HAS("not a dpcore handle");
    selector_calls((dpc_selector)(uintptr_t)0x12345678, dev, DPC_ERROR_INVALID_HANDLE);

    /* Wrong type: a selector where a device goes, and the other way round. */
    CHECK_ST(dpc_selector_create("cpu", &sel), DPC_SUCCESS);
    device_calls((dpc_device)sel, DPC_ERROR_INVALID_HANDLE);
    CHECK_MSG_HAS("dpc_selector handle, not a dpc_device");
    selector_calls((dpc_selector)dev, dev, DPC_ERROR_INVALID_HANDLE);
    /* A wrong-type device argument to a selector function. */
    bool m;
    CHECK_ST(dpc_selector_matches(sel, (dpc_device)sel, &m), DPC_ERROR_INVALID_HANDLE);

    /* Released handles. */
    CHECK_ST(dpc_selector_release(sel), DPC_SUCCESS);
    selector_calls(sel, dev, DPC_ERROR_INVALID_HANDLE);
    CHECK_MSG_HAS("released");
    CHECK_ST(dpc_selector_release(sel), DPC_ERROR_INVALID_HANDLE); /* double release */

    dpc_device subs[64];
    size_t nsub = 0;
    if (dpc_device_partition_equally(dev, 1, subs, 64, &nsub) == DPC_SUCCESS && nsub > 0) {
        for (size_t i = 0; i < nsub; ++i) CHECK_ST(dpc_device_release(subs[i]), DPC_SUCCESS);
        device_calls(subs[0], DPC_ERROR_INVALID_HANDLE);
        CHECK_MSG_HAS("released");
    } else {
        printf("note: device 0 cannot be partitioned; released device handles not tested\n");
    }
    return check_report("test_null_handles");
}
