/* list_devices: a sycl-ls in a page of C, through dpcore's C API. */
#include <stdio.h>
#include <stdlib.h>
#include "dpcore.h"

static void fail(const char *what, dpc_status st) {
    char msg[1024];
    size_t n = 0;
    dpc_last_error_message(msg, sizeof msg, &n);
    fprintf(stderr, "%s failed: %s: %s\n", what, dpc_status_name(st), msg);
    exit(1);
}

int main(void) {
    size_t count = 0;
    dpc_status st = dpc_device_count(&count);
    if (st != DPC_SUCCESS) fail("dpc_device_count", st);
    if (count == 0) {
        dpc_backend_load();
        char why[2048];
        size_t n = 0;
        dpc_last_error_message(why, sizeof why, &n);
        printf("no devices (%s); run `dpcore-info --diagnose`\n", why);
        return 1;
    }
    for (size_t i = 0; i < count; ++i) {
        dpc_device dev;
        char filter[64], name[256];
        size_t n;
        int32_t dl_id;
        uint64_t mem, cus;
        if ((st = dpc_device_get(i, &dev)) != DPC_SUCCESS) fail("dpc_device_get", st);
        dpc_device_get_info_string(dev, DPC_DEVICE_INFO_FILTER_STRING, filter, sizeof filter, &n);
        dpc_device_get_info_string(dev, DPC_DEVICE_INFO_NAME, name, sizeof name, &n);
        dpc_device_get_info_u64(dev, DPC_DEVICE_INFO_GLOBAL_MEM_SIZE, &mem);
        dpc_device_get_info_u64(dev, DPC_DEVICE_INFO_MAX_COMPUTE_UNITS, &cus);
        dpc_device_get_dlpack_id(dev, &dl_id);
        printf("[%zu] %-16s kDLOneAPI:%d  %s  (%llu compute units, %.1f GiB)\n", i, filter,
               (int)dl_id, name, (unsigned long long)cus, (double)mem / (1 << 30));
    }
    dpc_device def;
    if ((st = dpc_device_default(&def)) != DPC_SUCCESS) fail("dpc_device_default", st);
    char filter[64];
    size_t n;
    dpc_device_get_info_string(def, DPC_DEVICE_INFO_FILTER_STRING, filter, sizeof filter, &n);
    printf("default device: %s\n", filter);
    return 0;
}
