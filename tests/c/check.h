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

static int check_report(const char *name) {
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}
#endif
