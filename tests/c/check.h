/* Tiny assertion helpers shared by the C tests. */
#ifndef DPCORE_TEST_CHECK_H
#define DPCORE_TEST_CHECK_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "dpcore.h"

static int check_failures = 0;
static int check_count = 0;

static const char *last_msg(void) {
    static char buf[8192];
    size_t n = 0;
    if (dpc_last_error_message(buf, sizeof buf, &n) != DPC_SUCCESS) return "(message too long)";
    return buf;
}

#define CHECK(cond)                                                              \
    do {                                                                         \
        ++check_count;                                                           \
        if (!(cond)) {                                                           \
            ++check_failures;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

/* The call returns `want`; on a mismatch print both names and the message. */
#define CHECK_ST(call, want)                                                     \
    do {                                                                         \
        dpc_status st_ = (call);                                                 \
        ++check_count;                                                           \
        if (st_ != (want)) {                                                     \
            ++check_failures;                                                    \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", __FILE__, \
                    __LINE__, #call, dpc_status_name(st_), dpc_status_name(want),  \
                    last_msg());                                                 \
        }                                                                        \
    } while (0)

#define CHECK_MSG_HAS(needle)                                                    \
    do {                                                                         \
        const char *m_ = last_msg();                                             \
        ++check_count;                                                           \
        if (!strstr(m_, (needle))) {                                             \
            ++check_failures;                                                    \
            fprintf(stderr, "%s:%d: last error message lacks \"%s\": %s\n",        \
                    __FILE__, __LINE__, (needle), m_);                           \
        }                                                                        \
    } while (0)

/* The number of elements of a shape. */
static inline int64_t count_of(int nd, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < nd; ++i) n *= shape[i];
    return n;
}

/* The offset (elements) of C-order index i in a layout with `strides`. */
static inline int64_t offset_of_c_index(int nd, const int64_t *shape, const int64_t *strides, int64_t i) {
    int64_t off = 0;
    for (int d = nd - 1; d >= 0; --d) {
        off += (i % shape[d]) * strides[d];
        i /= shape[d];
    }
    return off;
}

/* Device tests run once per root device dpcore finds, not on a hard-coded
 * one. test_devices() fills `out` (at most `cap`) in dpc_device_get order
 * and returns how many; with none it prints why (dpc_diagnostics) and
 * returns 0, and the test fails: a run with no device is a failure. */
#define TEST_MAX_DEVICES 64
static inline size_t test_devices(const char *test, dpc_device *out, size_t cap) {
    size_t n = 0;
    if (dpc_device_count(&n) != DPC_SUCCESS) {
        fprintf(stderr, "%s: FAIL: dpc_device_count failed: %s\n", test, last_msg());
        return 0;
    }
    if (n == 0) {
        static char diag[1 << 16];
        size_t need = 0;
        if (dpc_diagnostics(diag, sizeof diag, &need) != DPC_SUCCESS) diag[0] = 0;
        fprintf(stderr,
                "%s: FAIL: dpcore finds no device, so the device tests cannot run (a failure, not a skip).\n"
                "Source scripts/env.sh first (OCL_ICD_FILENAMES for the OpenCL CPU runtime in .venv); check\n"
                "ONEAPI_DEVICE_SELECTOR and DPCORE_SYCL_PLUGIN. dpc_diagnostics says:\n%s\n",
                test, diag);
        return 0;
    }
    if (n > cap) n = cap;
    for (size_t i = 0; i < n; ++i) {
        out[i] = NULL;
        CHECK_ST(dpc_device_get(i, &out[i]), DPC_SUCCESS);
    }
    return n;
}

/* A root device's filter string ("opencl:cpu:0"); "?" when it has none. */
static inline const char *test_filter_of(dpc_device d, char *buf, size_t cap) {
    size_t n = 0;
    if (dpc_device_get_info_string(d, DPC_DEVICE_INFO_FILTER_STRING, buf, cap, &n) != DPC_SUCCESS) {
        snprintf(buf, cap, "?");
    }
    return buf;
}

/* Whether `d` is the OpenCL CPU device (Intel's OpenCL CPU runtime, which
 * scripts/setup.sh installs on every machine). */
static inline int test_is_opencl_cpu(dpc_device d) {
    dpc_device_type t;
    dpc_backend b;
    return dpc_device_get_type(d, &t) == DPC_SUCCESS && dpc_device_get_backend(d, &b) == DPC_SUCCESS &&
           t == DPC_DEVICE_TYPE_CPU && b == DPC_BACKEND_OPENCL;
}

static int check_report(const char *name) {
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}
#endif
