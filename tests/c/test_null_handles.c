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
    if (count == 0) {
        fprintf(stderr, "no devices: source scripts/env.sh (OCL_ICD_FILENAMES) first\n");
        return 1;
    }
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
