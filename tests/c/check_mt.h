/* Checks that any thread may make at once (check.h's counters and message
 * buffer are single-threaded): EXPECT counts the check and, when it fails,
 * the failure and prints where; OK(call) expects DPC_SUCCESS and prints the
 * call's own last-error message otherwise. The program reads `failures`
 * (and `checks`) at the end. */
#ifndef DPCORE_TESTS_CHECK_MT_H
#define DPCORE_TESTS_CHECK_MT_H
#include <stdatomic.h>
#include <stdio.h>
#include "dpcore.h"

static atomic_int failures;
static atomic_int checks __attribute__((unused));

#define EXPECT(cond, ...)                                                       \
    do {                                                                       \
        atomic_fetch_add(&checks, 1);                                          \
        if (!(cond)) {                                                         \
            atomic_fetch_add(&failures, 1);                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

static inline const char *msg(char *buf, size_t cap) {
    size_t n = 0;
    if (dpc_last_error_message(buf, cap, &n) != DPC_SUCCESS) snprintf(buf, cap, "(message too long)");
    return buf;
}

#define OK(call)                                                               \
    do {                                                                       \
        dpc_status st_ = (call);                                               \
        char m_[1024];                                                         \
        EXPECT(st_ == DPC_SUCCESS, "%s -> %s (%s)", #call, dpc_status_name(st_), \
               st_ == DPC_SUCCESS ? "" : msg(m_, sizeof m_));                  \
    } while (0)

#endif
