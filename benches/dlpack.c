/* DLPack export and import through dpcore's C API: cost per call.
 * The peers have no C-level DLPack (dpctl's C API and raw SYCL offer none),
 * so the reference in the same run is the cheapest dpcore call on an array
 * handle (retain + release). The "producer's tensor" rows import memory that
 * dpctl's C API allocated in the same default context, so dpcore checks the
 * pointer with the runtime as it does for dpnp's. Run by benches/run.sh. */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "dpcore.h"
#include "syclinterface/dpctl_sycl_device_selector_interface.h"
#include "syclinterface/dpctl_sycl_device_interface.h"
#include "syclinterface/dpctl_sycl_queue_interface.h"
#include "syclinterface/dpctl_sycl_usm_interface.h"

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define MEDIAN_NS(result, iters, ...)                                     \
    do {                                                                   \
        double r_[9];                                                      \
        for (int k_ = 0; k_ < 9; ++k_) {                                   \
            double t0_ = now_ns();                                         \
            for (long i_ = 0; i_ < (iters); ++i_) { __VA_ARGS__; }                \
            r_[k_] = (now_ns() - t0_) / (iters);                           \
        }                                                                  \
        for (int a_ = 0; a_ < 9; ++a_)                                     \
            for (int b_ = a_ + 1; b_ < 9; ++b_)                            \
                if (r_[b_] < r_[a_]) { double t_ = r_[a_]; r_[a_] = r_[b_]; r_[b_] = t_; } \
        (result) = r_[4];                                                  \
    } while (0)

static void deleter(dpc_dlpack_managed_tensor_versioned *t) { (void)t; }

int main(void) {
    dpc_dlpack_dtype f32 = {DPC_DL_FLOAT, 32, 1};
    int64_t shape[2] = {256, 256};
    dpc_array a = NULL;
    if (dpc_array_zeros(NULL, f32, 2, shape, 0, &a) != DPC_SUCCESS) {
        fprintf(stderr, "no device: source scripts/env.sh\n");
        return 1;
    }
    double t_ref, t_exp, t_exp_legacy, t_imp_own, t_rt, t_imp_foreign;
    MEDIAN_NS(t_ref, 200000, { dpc_array_retain(a); dpc_array_release(a); });
    MEDIAN_NS(t_exp, 200000, {
        dpc_dlpack_managed_tensor_versioned *t;
        dpc_array_to_dlpack_versioned(a, 1, 0, &t);
        t->deleter(t);
    });
    MEDIAN_NS(t_exp_legacy, 200000, {
        dpc_dlpack_managed_tensor *t;
        dpc_array_to_dlpack(a, &t);
        t->deleter(t);
    });
    /* Import of a dpcore export (the pointer check finds dpcore's record). */
    MEDIAN_NS(t_rt, 100000, {
        dpc_dlpack_managed_tensor_versioned *t;
        dpc_array b;
        dpc_array_to_dlpack_versioned(a, 1, 0, &t);
        dpc_array_from_dlpack_versioned(t, &b);
        dpc_array_release(b);
    });
    t_imp_own = t_rt - t_exp;
    /* Import of a producer's tensor over USM dpcore did not allocate: made
     * by dpctl's C API on the same device, in the platform default context. */
    DPCTLSyclDeviceSelectorRef sel = DPCTLFilterSelector_Create("opencl:cpu:0");
    DPCTLSyclDeviceRef pdev = DPCTLDevice_CreateFromSelector(sel);
    DPCTLSyclQueueRef pq = DPCTLQueue_CreateForDevice(pdev, NULL, 0);
    void *foreign = pq ? DPCTLmalloc_device(256 * 256 * 4, pq) : NULL;
    if (!foreign) {
        fprintf(stderr, "dpctl could not allocate\n");
        return 1;
    }
    dpc_queue q;
    dpc_array_get_queue(a, &q);
    dpc_device dev;
    dpc_queue_get_device(q, &dev);
    int32_t id = 0;
    dpc_device_get_dlpack_id(dev, &id);
    MEDIAN_NS(t_imp_foreign, 100000, {
        dpc_dlpack_managed_tensor_versioned t = {
            {1, 0}, NULL, deleter, 0,
            {foreign, {DPC_DL_ONEAPI, id}, 2, f32, shape, NULL, 0}};
        dpc_array b;
        dpc_array_from_dlpack_versioned(&t, &b);
        dpc_array_release(b);
    });
    printf("| operation | dpcore | peer (dpctl C API / raw SYCL) | dpcore / retain+release |\n");
    printf("|---|---|---|---|\n");
    printf("| array retain + release (reference) | %.1f ns | n/a | 1.0 |\n", t_ref);
    printf("| export DLPack 1.x + consumer's deleter | %.1f ns | n/a (no C-level DLPack) | %.1f |\n", t_exp, t_exp / t_ref);
    printf("| export legacy DLPack + consumer's deleter | %.1f ns | n/a (no C-level DLPack) | %.1f |\n", t_exp_legacy, t_exp_legacy / t_ref);
    printf("| import DLPack 1.x (tensor dpcore exported) + release | %.1f ns | n/a | %.1f |\n", t_imp_own, t_imp_own / t_ref);
    printf("| export + import round trip | %.1f ns | n/a | %.1f |\n", t_rt, t_rt / t_ref);
    printf("| import DLPack 1.x (producer's kDLOneAPI tensor) + release | %.1f ns | n/a | %.1f |\n", t_imp_foreign, t_imp_foreign / t_ref);
    printf("\nTarget: export and import each well under 1 us.\n");
    DPCTLfree_with_queue(foreign, pq);
    DPCTLQueue_Delete(pq);
    DPCTLDevice_Delete(pdev);
    DPCTLDeviceSelector_Delete(sel);
    dpc_array_release(a);
    return 0;
}
