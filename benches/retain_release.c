/* The cost of a cheap export, fork gate included: a retain/release pair on
 * a queue handle, against dpctl's nearest operation (DPCTLQueue_Copy +
 * DPCTLQueue_Delete: a new sycl::queue reference and its deletion), on 1
 * thread and on 4 threads sharing the handle. ns per pair, best of 5
 * rounds; the last column is dpctl / dpcore (above 1 = dpcore faster). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include "dpcore.h"
#include "syclinterface/dpctl_sycl_device_interface.h"
#include "syclinterface/dpctl_sycl_device_selector_interface.h"
#include "syclinterface/dpctl_sycl_queue_interface.h"

#define PAIRS 1000000

static dpc_queue q;
static DPCTLSyclQueueRef pq;

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return 1e9 * (double)t.tv_sec + (double)t.tv_nsec;
}

static void *dpcore_pairs(void *arg) {
    (void)arg;
    for (int i = 0; i < PAIRS; ++i) {
        dpc_queue_retain(q);
        dpc_queue_release(q);
    }
    return NULL;
}

static void *dpctl_pairs(void *arg) {
    (void)arg;
    for (int i = 0; i < PAIRS; ++i) DPCTLQueue_Delete(DPCTLQueue_Copy(pq));
    return NULL;
}

/* ns per pair on each of `threads` threads, best of 5 rounds. */
static double time_pairs(void *(*body)(void *), int threads) {
    double best = 1e30;
    for (int round = 0; round < 5; ++round) {
        pthread_t t[8];
        double t0 = now_ns();
        for (int i = 0; i < threads; ++i) pthread_create(&t[i], NULL, body, NULL);
        for (int i = 0; i < threads; ++i) pthread_join(t[i], NULL);
        double per = (now_ns() - t0) / PAIRS;
        if (per < best) best = per;
    }
    return best;
}

int main(void) {
    dpc_device d;
    if (dpc_device_get(0, &d) != DPC_SUCCESS || dpc_queue_create_for_device(d, DPC_QUEUE_IN_ORDER, &q) != DPC_SUCCESS) {
        fprintf(stderr, "no device\n");
        return 1;
    }
    DPCTLSyclDeviceSelectorRef sel = DPCTLFilterSelector_Create("opencl:cpu:0");
    DPCTLSyclDeviceRef pdev = DPCTLDevice_CreateFromSelector(sel);
    pq = pdev ? DPCTLQueue_CreateForDevice(pdev, NULL, 0) : NULL;
    printf("| operation | threads | dpcore ns/pair | dpctl ns/pair | dpctl/dpcore |\n|---|---|---|---|---|\n");
    for (int threads = 1; threads <= 4; threads *= 4) {
        double a = time_pairs(dpcore_pairs, threads);
        double b = pq ? time_pairs(dpctl_pairs, threads) : 0;
        printf("| queue retain+release (dpctl: Copy+Delete) | %d | %.1f | %.1f | %.2f |\n", threads, a, b, b / a);
    }
    if (pq) DPCTLQueue_Delete(pq);
    DPCTLDevice_Delete(pdev);
    DPCTLDeviceSelector_Delete(sel);
    dpc_queue_release(q);
    return 0;
}
