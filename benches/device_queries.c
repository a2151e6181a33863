/* Device queries and selection: dpcore vs dpctl's C API (libDPCTLSyclInterface),
 * the same operations in one run, with the ratio printed. Built and run by
 * benches/run.sh (not by the tests: speed is measured here, never asserted). */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dpcore.h"
#include "syclinterface/dpctl_sycl_device_interface.h"
#include "syclinterface/dpctl_sycl_device_selector_interface.h"
#include "syclinterface/dpctl_utils.h"

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Best of 5 rounds of `iters` calls, in ns per call. */
#define TIME(result, iters, body)                            \
    do {                                                     \
        double best_ = 1e300;                                \
        for (int r_ = 0; r_ < 5; ++r_) {                     \
            double t0_ = now_ns();                           \
            for (long i_ = 0; i_ < (iters); ++i_) { body; }  \
            double dt_ = (now_ns() - t0_) / (iters);         \
            if (dt_ < best_) best_ = dt_;                    \
        }                                                    \
        (result) = best_;                                    \
    } while (0)

static volatile uint64_t sink;

static void row(const char *what, double ours, double peer) {
    printf("| %-34s | %12.1f | %12.1f | %14.1fx |\n", what, ours, peer, peer / ours);
}

int main(void) {
    dpc_device dev;
    if (dpc_device_select("opencl:cpu:0", &dev) != DPC_SUCCESS) {
        fprintf(stderr, "no opencl:cpu:0 device: source scripts/env.sh\n");
        return 1;
    }
    DPCTLSyclDeviceSelectorRef ds = DPCTLFilterSelector_Create("opencl:cpu:0");
    DPCTLSyclDeviceRef pd = DPCTLDevice_CreateFromSelector(ds);
    if (!pd) {
        fprintf(stderr, "dpctl found no opencl:cpu:0 device\n");
        return 1;
    }
    double a, b;
    printf("| operation                          | dpcore ns    | dpctl ns     | dpcore speed-up |\n");
    printf("|------------------------------------|--------------|--------------|-----------------|\n");

    TIME(a, 1000000, { uint64_t v; dpc_device_get_info_u64(dev, DPC_DEVICE_INFO_MAX_COMPUTE_UNITS, &v); sink += v; });
    TIME(b, 200000, { sink += DPCTLDevice_GetMaxComputeUnits(pd); });
    row("max compute units", a, b);

    TIME(a, 1000000, { uint64_t v; dpc_device_get_info_u64(dev, DPC_DEVICE_INFO_GLOBAL_MEM_SIZE, &v); sink += v; });
    TIME(b, 200000, { sink += DPCTLDevice_GetGlobalMemSize(pd); });
    row("global memory size", a, b);

    TIME(a, 1000000, { char buf[256]; size_t n; dpc_device_get_info_string(dev, DPC_DEVICE_INFO_NAME, buf, sizeof buf, &n); sink += n; });
    TIME(b, 200000, { const char *s = DPCTLDevice_GetName(pd); sink += strlen(s); DPCTLCString_Delete(s); });
    row("name (copied out)", a, b);

    TIME(a, 100000, { dpc_device d; dpc_device_select("opencl:cpu:0", &d); sink += (uintptr_t)d; });
    TIME(b, 2000, {
        DPCTLSyclDeviceSelectorRef s = DPCTLFilterSelector_Create("opencl:cpu:0");
        DPCTLSyclDeviceRef d = DPCTLDevice_CreateFromSelector(s);
        sink += (uintptr_t)d;
        DPCTLDevice_Delete(d);
        DPCTLDeviceSelector_Delete(s);
    });
    row("select \"opencl:cpu:0\"", a, b);

    dpc_selector sel;
    dpc_selector_create("opencl:cpu:0", &sel);
    TIME(a, 1000000, { dpc_device d; dpc_selector_select(sel, &d); sink += (uintptr_t)d; });
    TIME(b, 2000, { DPCTLSyclDeviceRef d = DPCTLDevice_CreateFromSelector(ds); sink += (uintptr_t)d; DPCTLDevice_Delete(d); });
    row("reuse a selector", a, b);
    dpc_selector_release(sel);

    TIME(a, 1000000, { dpc_device d; dpc_device_default(&d); sink += (uintptr_t)d; });
    TIME(b, 2000, {
        DPCTLSyclDeviceSelectorRef s = DPCTLDefaultSelector_Create();
        DPCTLSyclDeviceRef d = DPCTLDevice_CreateFromSelector(s);
        sink += (uintptr_t)d;
        DPCTLDevice_Delete(d);
        DPCTLDeviceSelector_Delete(s);
    });
    row("default device", a, b);

    DPCTLDevice_Delete(pd);
    DPCTLDeviceSelector_Delete(ds);
    return 0;
}
