/* Device enumeration, info, selection, DLPack ids and sub-devices on the
 * real devices of this machine: every device dpcore finds (the OpenCL CPU
 * device at least); no device is a failure. */
#include <stdint.h>
#include <stdlib.h>
#include "check.h"

static void str_info(dpc_device d, int key, char *buf, size_t cap) {
    size_t n = 0;
    CHECK_ST(dpc_device_get_info_string(d, key, buf, cap, &n), DPC_SUCCESS);
    CHECK(n == strlen(buf) + 1);
}

/* Sub-devices of a root device, where it supports partitioning. */
static void partitions(dpc_device dev, const char *filter) {
    size_t n = 0;
    uint64_t maxsub = 0, cus = 0;
    CHECK_ST(dpc_device_get_info_u64(dev, DPC_DEVICE_INFO_PARTITION_MAX_SUB_DEVICES, &maxsub), DPC_SUCCESS);
    CHECK_ST(dpc_device_get_info_u64(dev, DPC_DEVICE_INFO_MAX_COMPUTE_UNITS, &cus), DPC_SUCCESS);
    size_t nsub = 0;
    dpc_status pst = dpc_device_partition_equally(dev, 1, NULL, 0, &nsub);
    if (maxsub >= 2 && pst == DPC_SUCCESS) {
        CHECK(nsub == cus);
        dpc_device subs[64];
        size_t got = 0;
        CHECK_ST(dpc_device_partition_equally(dev, 1, subs, nsub > 0 ? nsub - 1 : 0, &got), DPC_ERROR_BUFFER_TOO_SMALL);
        CHECK_ST(dpc_device_partition_equally(dev, 1, subs, 64, &got), DPC_SUCCESS);
        CHECK(got == nsub);
        for (size_t i = 0; i < got; ++i) {
            uint64_t is_sub = 0, scu = 0;
            CHECK_ST(dpc_device_get_info_u64(subs[i], DPC_DEVICE_INFO_IS_SUB_DEVICE, &is_sub), DPC_SUCCESS);
            CHECK(is_sub == 1);
            CHECK_ST(dpc_device_get_info_u64(subs[i], DPC_DEVICE_INFO_MAX_COMPUTE_UNITS, &scu), DPC_SUCCESS);
            CHECK(scu == 1);
            dpc_device p = NULL;
            CHECK_ST(dpc_device_get_parent(subs[i], &p), DPC_SUCCESS);
            CHECK(p == dev);
            int32_t id = -1;
            CHECK_ST(dpc_device_get_dlpack_id(subs[i], &id), DPC_SUCCESS);
            int32_t root_id = -2;
            dpc_device_get_dlpack_id(dev, &root_id);
            CHECK(id == root_id);
            bool eq = true;
            CHECK_ST(dpc_device_equal(subs[i], dev, &eq), DPC_SUCCESS);
            CHECK(!eq);
            CHECK_ST(dpc_device_get_info_string(subs[i], DPC_DEVICE_INFO_FILTER_STRING, NULL, 0, &n), DPC_ERROR_UNSUPPORTED);
            CHECK_ST(dpc_device_retain(subs[i]), DPC_SUCCESS);
            CHECK_ST(dpc_device_release(subs[i]), DPC_SUCCESS);
            CHECK_ST(dpc_device_release(subs[i]), DPC_SUCCESS);
            /* Released: now an error, not a crash. */
            CHECK_ST(dpc_device_get_info_u64(subs[i], DPC_DEVICE_INFO_IS_SUB_DEVICE, &is_sub), DPC_ERROR_INVALID_HANDLE);
            CHECK_MSG_HAS("released");
        }
        size_t counts[2] = {1, 1};
        CHECK_ST(dpc_device_partition_by_counts(dev, counts, 2, subs, 64, &got), DPC_SUCCESS);
        CHECK(got == 2);
        for (size_t i = 0; i < got; ++i) CHECK_ST(dpc_device_release(subs[i]), DPC_SUCCESS);
        size_t zero[1] = {0};
        CHECK_ST(dpc_device_partition_by_counts(dev, zero, 1, subs, 64, &got), DPC_ERROR_INVALID_ARGUMENT);
    } else {
        /* The C API does not say which partition kinds a device supports, so
         * elsewhere this is a note; Intel's OpenCL CPU runtime (installed by
         * setup) supports partitioning equally, so there it is a failure. */
        if (test_is_opencl_cpu(dev)) CHECK(0 && "the OpenCL CPU device partitions equally");
        printf("note: %s cannot be partitioned equally (maxsub %llu, %s)\n", filter, (unsigned long long)maxsub,
               dpc_status_name(pst));
    }
    /* Affinity partitioning is either supported or a clear UNSUPPORTED. */
    dpc_status ast = dpc_device_partition_by_affinity(dev, DPC_AFFINITY_NUMA, NULL, 0, &nsub);
    CHECK(ast == DPC_SUCCESS || ast == DPC_ERROR_UNSUPPORTED);
    if (ast == DPC_ERROR_UNSUPPORTED) CHECK_MSG_HAS("affinity");
    CHECK_ST(dpc_device_partition_by_affinity(dev, 42, NULL, 0, &nsub), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_ST(dpc_device_partition_equally(dev, 0, NULL, 0, &nsub), DPC_ERROR_INVALID_ARGUMENT);
}

/* The device's platform agrees with the device. */
static void device_platform(dpc_device dev) {
    dpc_platform cp = NULL;
    CHECK_ST(dpc_device_get_platform(dev, &cp), DPC_SUCCESS);
    char pname[256], dpname[256];
    size_t pn;
    CHECK_ST(dpc_platform_get_info_string(cp, DPC_PLATFORM_INFO_NAME, pname, sizeof pname, &pn), DPC_SUCCESS);
    CHECK_ST(dpc_device_get_info_string(dev, DPC_DEVICE_INFO_PLATFORM_NAME, dpname, sizeof dpname, &pn), DPC_SUCCESS);
    CHECK(strcmp(pname, dpname) == 0);
    dpc_backend pb, db;
    dpc_platform_get_backend(cp, &pb);
    dpc_device_get_backend(dev, &db);
    CHECK(pb == db);
}

int main(void) {
    CHECK(dpc_version() == ((DPC_VERSION_MAJOR << 16) | (DPC_VERSION_MINOR << 8) | DPC_VERSION_PATCH));
    CHECK_ST(dpc_backend_load(), DPC_SUCCESS);

    size_t count = 0;
    CHECK_ST(dpc_device_count(&count), DPC_SUCCESS);
    dpc_device all[TEST_MAX_DEVICES];
    size_t ndev = test_devices("test_devices", all, TEST_MAX_DEVICES);
    if (ndev == 0) return 1;

    static char filters[TEST_MAX_DEVICES][64];
    int found_cpu = 0;
    for (size_t i = 0; i < ndev; ++i) {
        dpc_device d = NULL, again = NULL;
        CHECK_ST(dpc_device_get(i, &d), DPC_SUCCESS);
        CHECK_ST(dpc_device_get(i, &again), DPC_SUCCESS);
        CHECK(d == again); /* root handles are stable */

        char name[256], vendor[256], driver[256], filter[64];
        str_info(d, DPC_DEVICE_INFO_NAME, name, sizeof name);
        str_info(d, DPC_DEVICE_INFO_VENDOR, vendor, sizeof vendor);
        str_info(d, DPC_DEVICE_INFO_DRIVER_VERSION, driver, sizeof driver);
        str_info(d, DPC_DEVICE_INFO_FILTER_STRING, filter, sizeof filter);
        snprintf(filters[i], sizeof filters[i], "%s", filter);
        printf("device %zu: %s (%s)\n", i, filter, name);
        CHECK(strlen(name) > 0);
        CHECK(strlen(driver) > 0);

        /* The canonical filter string selects exactly this device. */
        dpc_device sel = NULL;
        CHECK_ST(dpc_device_select(filter, &sel), DPC_SUCCESS);
        CHECK(sel == d);

        /* DLPack id round trip: the index in get_devices() order. */
        int32_t id = -1;
        dpc_device back = NULL;
        CHECK_ST(dpc_device_get_dlpack_id(d, &id), DPC_SUCCESS);
        CHECK(id == (int32_t)i);
        CHECK_ST(dpc_device_from_dlpack_id(id, &back), DPC_SUCCESS);
        CHECK(back == d);

        uint64_t cus = 0, gmem = 0, lmem = 0, maxalloc = 0, wg = 0, dims = 0;
        CHECK_ST(dpc_device_get_info_u64(d, DPC_DEVICE_INFO_MAX_COMPUTE_UNITS, &cus), DPC_SUCCESS);
        CHECK_ST(dpc_device_get_info_u64(d, DPC_DEVICE_INFO_GLOBAL_MEM_SIZE, &gmem), DPC_SUCCESS);
        CHECK_ST(dpc_device_get_info_u64(d, DPC_DEVICE_INFO_LOCAL_MEM_SIZE, &lmem), DPC_SUCCESS);
        CHECK_ST(dpc_device_get_info_u64(d, DPC_DEVICE_INFO_MAX_MEM_ALLOC_SIZE, &maxalloc), DPC_SUCCESS);
        CHECK_ST(dpc_device_get_info_u64(d, DPC_DEVICE_INFO_MAX_WORK_GROUP_SIZE, &wg), DPC_SUCCESS);
        CHECK_ST(dpc_device_get_info_u64(d, DPC_DEVICE_INFO_MAX_WORK_ITEM_DIMENSIONS, &dims), DPC_SUCCESS);
        CHECK(cus > 0 && gmem > 0 && lmem > 0 && maxalloc > 0 && maxalloc <= gmem && wg > 0 && dims == 3);

        uint64_t wis[3] = {0, 0, 0};
        CHECK_ST(dpc_device_get_max_work_item_sizes(d, wis), DPC_SUCCESS);
        CHECK(wis[0] > 0);

        size_t nsg = 0;
        uint64_t sg[16];
        CHECK_ST(dpc_device_get_sub_group_sizes(d, NULL, 0, &nsg), DPC_SUCCESS);
        CHECK(nsg > 0 && nsg <= 16);
        CHECK_ST(dpc_device_get_sub_group_sizes(d, sg, 16, &nsg), DPC_SUCCESS);
        if (nsg > 1) CHECK_ST(dpc_device_get_sub_group_sizes(d, sg, 1, &nsg), DPC_ERROR_BUFFER_TOO_SMALL);

        bool has = false;
        CHECK_ST(dpc_device_has_aspect(d, DPC_ASPECT_USM_DEVICE_ALLOCATIONS, &has), DPC_SUCCESS);
        CHECK_ST(dpc_device_has_aspect(d, 99, &has), DPC_ERROR_INVALID_ARGUMENT);
        CHECK_ST(dpc_device_has_aspect(d, DPC_ASPECT_UUID, &has), DPC_SUCCESS);
        uint8_t uuid[16];
        CHECK_ST(dpc_device_get_uuid(d, uuid), has ? DPC_SUCCESS : DPC_ERROR_UNSUPPORTED);

        /* Keys of the wrong kind. */
        uint64_t v;
        CHECK_ST(dpc_device_get_info_u64(d, DPC_DEVICE_INFO_NAME, &v), DPC_ERROR_INVALID_ARGUMENT);
        CHECK_MSG_HAS("dpc_device_get_info_string");
        size_t n;
        CHECK_ST(dpc_device_get_info_string(d, DPC_DEVICE_INFO_GLOBAL_MEM_SIZE, NULL, 0, &n), DPC_ERROR_INVALID_ARGUMENT);
        CHECK_ST(dpc_device_get_info_string(d, 12345, NULL, 0, &n), DPC_ERROR_INVALID_ARGUMENT);

        /* Two-call pattern with a short buffer. */
        char tiny[2];
        CHECK_ST(dpc_device_get_info_string(d, DPC_DEVICE_INFO_NAME, tiny, sizeof tiny, &n), DPC_ERROR_BUFFER_TOO_SMALL);
        CHECK(n == strlen(name) + 1);

        dpc_device_type t;
        dpc_backend b;
        CHECK_ST(dpc_device_get_type(d, &t), DPC_SUCCESS);
        CHECK_ST(dpc_device_get_backend(d, &b), DPC_SUCCESS);
        if (t == DPC_DEVICE_TYPE_CPU && b == DPC_BACKEND_OPENCL) {
            found_cpu = 1;
            CHECK(strncmp(filter, "opencl:cpu:", 11) == 0);
        }
        /* Root handles ignore retain/release. */
        CHECK_ST(dpc_device_retain(d), DPC_SUCCESS);
        CHECK_ST(dpc_device_release(d), DPC_SUCCESS);
        CHECK_ST(dpc_device_release(d), DPC_SUCCESS);
        CHECK_ST(dpc_device_get_type(d, &t), DPC_SUCCESS);

        dpc_device parent = (dpc_device)1;
        CHECK_ST(dpc_device_get_parent(d, &parent), DPC_SUCCESS);
        CHECK(parent == NULL);
        void *native = NULL;
        CHECK_ST(dpc_device_get_native(d, &native), DPC_SUCCESS);
        CHECK(native != NULL);
    }
    /* The OpenCL CPU device is on every machine (scripts/setup.sh installs
     * Intel's OpenCL CPU runtime); the selection tests below need it. */
    CHECK(found_cpu);

    /* Selection. The filter grammar is checked against one device it names,
     * the OpenCL CPU device ("cpu", "opencl:cpu", "*" must find it); every
     * device's own filter string is checked in the loop above. */
    dpc_device cpu = NULL, d = NULL;
    CHECK_ST(dpc_device_select("opencl:cpu:0", &cpu), DPC_SUCCESS);
    CHECK_ST(dpc_device_select("cpu", &d), DPC_SUCCESS);
    CHECK(d == cpu);
    CHECK_ST(dpc_device_select("opencl:cpu", &d), DPC_SUCCESS);
    CHECK_ST(dpc_device_select("cpu,gpu", &d), DPC_SUCCESS);
    CHECK_ST(dpc_device_select("*", &d), DPC_SUCCESS);
    CHECK_ST(dpc_device_default(&d), DPC_SUCCESS);

    dpc_device untouched = (dpc_device)0x1;
    CHECK_ST(dpc_device_select("cpu:opencl", &untouched), DPC_ERROR_INVALID_SELECTOR);
    CHECK_MSG_HAS("\"cpu:opencl\"");
    CHECK_MSG_HAS("backend:type:N");
    CHECK(untouched == (dpc_device)0x1); /* outputs written only on success */
    CHECK_ST(dpc_device_select("level_zero:gpu:7", &untouched), DPC_ERROR_DEVICE_NOT_FOUND);
    CHECK_MSG_HAS("level_zero:gpu:7");
    for (size_t i = 0; i < ndev; ++i) CHECK_MSG_HAS(filters[i]); /* lists what exists (opencl:cpu:0 too) */
    CHECK_ST(dpc_device_select("opencl:cpu:99", &untouched), DPC_ERROR_DEVICE_NOT_FOUND);
    CHECK(untouched == (dpc_device)0x1);

    /* A selector works any number of times. */
    dpc_selector s = NULL;
    CHECK_ST(dpc_selector_create("opencl:cpu", &s), DPC_SUCCESS);
    for (int i = 0; i < 1000; ++i) {
        dpc_device got = NULL;
        dpc_status st = dpc_selector_select(s, &got);
        if (st != DPC_SUCCESS || got != cpu) { CHECK(0 && "selector failed on reuse"); break; }
    }
    bool m = false;
    CHECK_ST(dpc_selector_matches(s, cpu, &m), DPC_SUCCESS);
    CHECK(m);
    char text[32];
    size_t n = 0;
    CHECK_ST(dpc_selector_get_string(s, text, sizeof text, &n), DPC_SUCCESS);
    CHECK(strcmp(text, "opencl:cpu") == 0);
    CHECK_ST(dpc_selector_release(s), DPC_SUCCESS);
    CHECK_ST(dpc_selector_create("gpu", &s), DPC_SUCCESS);
    CHECK_ST(dpc_selector_matches(s, cpu, &m), DPC_SUCCESS);
    CHECK(!m);
    CHECK_ST(dpc_selector_release(s), DPC_SUCCESS);

    /* DLPack id out of range. */
    CHECK_ST(dpc_device_from_dlpack_id((int32_t)count, &untouched), DPC_ERROR_DEVICE_NOT_FOUND);
    CHECK_ST(dpc_device_from_dlpack_id(-1, &untouched), DPC_ERROR_DEVICE_NOT_FOUND);
    CHECK_ST(dpc_device_get(count, &untouched), DPC_ERROR_OUT_OF_RANGE);

    /* Sub-devices and each device's platform, on every device. */
    for (size_t i = 0; i < ndev; ++i) {
        partitions(all[i], filters[i]);
        device_platform(all[i]);
    }

    /* Platforms: every device's platform is in the list and counts it. */
    size_t nplat = 0;
    CHECK_ST(dpc_platform_count(&nplat), DPC_SUCCESS);
    CHECK(nplat >= 1);
    size_t devices_in_platforms = 0;
    for (size_t i = 0; i < nplat; ++i) {
        dpc_platform p = NULL, again = NULL;
        CHECK_ST(dpc_platform_get(i, &p), DPC_SUCCESS);
        CHECK_ST(dpc_platform_get(i, &again), DPC_SUCCESS);
        CHECK(p == again);
        char pname[256], pvendor[256], pversion[256];
        size_t pn = 0, nd = 0;
        CHECK_ST(dpc_platform_get_info_string(p, DPC_PLATFORM_INFO_NAME, pname, sizeof pname, &pn), DPC_SUCCESS);
        CHECK_ST(dpc_platform_get_info_string(p, DPC_PLATFORM_INFO_VENDOR, pvendor, sizeof pvendor, &pn), DPC_SUCCESS);
        CHECK_ST(dpc_platform_get_info_string(p, DPC_PLATFORM_INFO_VERSION, pversion, sizeof pversion, &pn), DPC_SUCCESS);
        CHECK_ST(dpc_platform_get_info_string(p, 42, NULL, 0, &pn), DPC_ERROR_INVALID_ARGUMENT);
        CHECK(strlen(pname) > 0);
        dpc_backend pb;
        CHECK_ST(dpc_platform_get_backend(p, &pb), DPC_SUCCESS);
        CHECK_ST(dpc_platform_get_device_count(p, &nd), DPC_SUCCESS);
        devices_in_platforms += nd;
        CHECK_ST(dpc_platform_retain(p), DPC_SUCCESS);
        CHECK_ST(dpc_platform_release(p), DPC_SUCCESS);
    }
    CHECK(devices_in_platforms == count);
    CHECK_ST(dpc_platform_get(nplat, &(dpc_platform){NULL}), DPC_ERROR_OUT_OF_RANGE);
    /* Diagnostics text. */
    size_t need = 0;
    CHECK_ST(dpc_diagnostics(NULL, 0, &need), DPC_SUCCESS);
    char *diag = malloc(need + 4096);
    CHECK_ST(dpc_diagnostics(diag, need + 4096, &need), DPC_SUCCESS);
    CHECK(strstr(diag, "libdpcore_sycl.so: loaded") != NULL);
    CHECK(strstr(diag, "devices: ") != NULL);
    free(diag);
    char path[4096];
    CHECK_ST(dpc_backend_get_plugin_path(path, sizeof path, &n), DPC_SUCCESS);
    CHECK(strstr(path, "libdpcore_sycl.so") != NULL);
    CHECK_ST(dpc_backend_get_runtime(path, sizeof path, &n), DPC_SUCCESS);
    CHECK(strstr(path, "sycl") != NULL);

    return check_report("test_devices");
}
