/* Trust under load (issue 11): array allocations release everything they
 * make (the leak census stays at its baseline over many create/release
 * pairs, on every device), the capacity-taking getters never write past the
 * caller's buffer, and the census itself reports what is live.
 *
 * DPCORE_TEST_PAIRS sets the number of create/release pairs per kind of
 * array creation (default 2000; `make soak` runs 100000). */
#include <stdlib.h>
#include <unistd.h>
#include "check.h"

/* Resident set size in KiB (reported, not asserted: the SYCL/OpenCL
 * runtime's own memory use moves with allocation patterns). */
static long rss_kib(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static uint64_t live_handles(void) {
    uint64_t n = 0;
    CHECK_ST(dpc_census_live_handles(DPC_HANDLE_ALL, &n), DPC_SUCCESS);
    return n;
}

static uint64_t live_usm_bytes(void) {
    uint64_t n = 0, b = 0;
    CHECK_ST(dpc_census_live_usm(&n, &b), DPC_SUCCESS);
    return b;
}

static const dpc_dlpack_dtype F4 = {DPC_DL_FLOAT, 32, 1};
static const dpc_dlpack_dtype I4 = {DPC_DL_INT, 32, 1};

/* Every way of making an array, `pairs` times each, released each time:
 * the live handles and USM return to where they started. */
static void soak(dpc_device dev, long pairs) {
    dpc_queue q = NULL;
    CHECK_ST(dpc_queue_default(dev, &q), DPC_SUCCESS);
    int64_t shape[1] = {16};
    float host[16];
    for (int i = 0; i < 16; ++i) host[i] = (float)i;
    float one = 1.0f;
    dpc_array keep = NULL; /* a source for astype/to_device/copy */
    CHECK_ST(dpc_array_from_host(q, F4, 1, shape, host, NULL, 0, &keep), DPC_SUCCESS);
    uint64_t h0 = live_handles(), b0 = live_usm_bytes();
    const char *what[] = {"empty", "zeros", "full", "from_host", "astype", "to_device", "copy"};
    for (int k = 0; k < 7; ++k) {
        int failed = 0;
        long rss0 = rss_kib();
        for (long i = 0; i < pairs && !failed; ++i) {
            dpc_array a = NULL, b = NULL;
            dpc_status st = DPC_SUCCESS;
            switch (k) {
            case 0: st = dpc_array_empty(q, F4, 1, shape, 0, &a); break;
            case 1: st = dpc_array_zeros(q, F4, 1, shape, 0, &a); break;
            case 2: st = dpc_array_full(q, F4, 1, shape, 0, &one, &a); break;
            case 3: st = dpc_array_from_host(q, F4, 1, shape, host, NULL, 0, &a); break;
            case 4: st = dpc_array_astype(keep, I4, &a); break;
            case 5: st = dpc_array_to_device(keep, q, DPC_USM_SHARED, &a); break;
            case 6:
                st = dpc_array_empty(q, I4, 1, shape, DPC_USM_HOST, &b);
                if (st == DPC_SUCCESS) st = dpc_array_copy(keep, b); /* converting: a device kernel */
                a = b;
                break;
            }
            if (st != DPC_SUCCESS) {
                fprintf(stderr, "%s failed at pair %ld: %s\n", what[k], i, last_msg());
                failed = 1;
            }
            dpc_array_release(a);
        }
        CHECK(!failed);
        printf("%ld x %-9s: RSS %ld -> %ld KiB\n", pairs, what[k], rss0, rss_kib());
        uint64_t h = live_handles(), b = live_usm_bytes();
        if (h != h0 || b != b0)
            fprintf(stderr, "after %ld x %s: %llu live handles (was %llu), %llu USM bytes (was %llu)\n", pairs,
                    what[k], (unsigned long long)h, (unsigned long long)h0, (unsigned long long)b,
                    (unsigned long long)b0);
        CHECK(h == h0);
        CHECK(b == b0);
    }
    /* The copy of the last pair is complete: check one value went through. */
    int32_t back[16] = {0};
    dpc_array t = NULL;
    CHECK_ST(dpc_array_astype(keep, I4, &t), DPC_SUCCESS);
    size_t need = 0;
    CHECK_ST(dpc_array_copy_to_host(t, back, sizeof back, NULL, &need), DPC_SUCCESS);
    CHECK(need == sizeof back && back[15] == 15);
    dpc_array_release(t);
    dpc_array_release(keep);
    dpc_queue_release(q);
}

/* dpc_array_copy_shape / _strides / _to_host: the two-call pattern, and a
 * short buffer is refused without a byte written (canaries around it). */
static void capacity_getters(dpc_device dev) {
    dpc_queue q = NULL;
    CHECK_ST(dpc_queue_default(dev, &q), DPC_SUCCESS);
    int64_t shape[3] = {2, 3, 4};
    int32_t host[24];
    for (int i = 0; i < 24; ++i) host[i] = i;
    dpc_array a = NULL;
    CHECK_ST(dpc_array_from_host(q, I4, 3, shape, host, NULL, 0, &a), DPC_SUCCESS);

    size_t nd = 0;
    CHECK_ST(dpc_array_copy_shape(a, NULL, 0, &nd), DPC_SUCCESS);
    CHECK(nd == 3);
    int64_t buf[5] = {-7, -7, -7, -7, -7};
    nd = 0;
    CHECK_ST(dpc_array_copy_shape(a, buf + 1, 2, &nd), DPC_ERROR_BUFFER_TOO_SMALL);
    CHECK_MSG_HAS("3 dimensions");
    CHECK(nd == 3);
    for (int i = 0; i < 5; ++i) CHECK(buf[i] == -7);
    CHECK_ST(dpc_array_copy_shape(a, buf + 1, 3, &nd), DPC_SUCCESS);
    CHECK(buf[0] == -7 && buf[1] == 2 && buf[2] == 3 && buf[3] == 4 && buf[4] == -7);
    CHECK_ST(dpc_array_copy_strides(a, buf + 1, 3, &nd), DPC_SUCCESS);
    CHECK(buf[1] == 12 && buf[2] == 4 && buf[3] == 1 && buf[4] == -7);
    CHECK_ST(dpc_array_copy_strides(a, buf, 3, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_array_copy_shape(NULL, buf, 3, &nd), DPC_ERROR_INVALID_HANDLE);

    /* To host: size query, short buffer, exact buffer. */
    size_t need = 0;
    CHECK_ST(dpc_array_copy_to_host(a, NULL, 0, NULL, &need), DPC_SUCCESS);
    CHECK(need == sizeof host);
    int32_t out[26];
    for (int i = 0; i < 26; ++i) out[i] = -1;
    CHECK_ST(dpc_array_copy_to_host(a, out + 1, sizeof host - 1, NULL, &need), DPC_ERROR_BUFFER_TOO_SMALL);
    CHECK_MSG_HAS("96 bytes");
    for (int i = 0; i < 26; ++i) CHECK(out[i] == -1);
    CHECK_ST(dpc_array_copy_to_host(a, out + 1, sizeof host, NULL, &need), DPC_SUCCESS);
    CHECK(out[0] == -1 && out[25] == -1);
    for (int i = 0; i < 24; ++i) CHECK(out[i + 1] == i);
    CHECK_ST(dpc_array_copy_to_host(a, out, sizeof out, NULL, NULL), DPC_ERROR_NULL_POINTER);

    /* Negative strides: the layout is placed from the buffer's start, so a
     * reversed copy of a 24-element array fills out[0..24) back to front. */
    int64_t rev[3] = {-12, -4, -1};
    for (int i = 0; i < 26; ++i) out[i] = -1;
    CHECK_ST(dpc_array_copy_to_host(a, out, 24 * sizeof(int32_t), rev, &need), DPC_SUCCESS);
    CHECK(need == sizeof host);
    for (int i = 0; i < 24; ++i) CHECK(out[i] == 23 - i);
    CHECK(out[24] == -1);
    /* Strides that leave gaps need room for the gaps. */
    int64_t gaps[3] = {24, 8, 2};
    CHECK_ST(dpc_array_copy_to_host(a, NULL, 0, gaps, &need), DPC_SUCCESS);
    CHECK(need == (size_t)(24 + 16 + 6 + 1) * sizeof(int32_t));
    /* Strides whose span overflows are refused, not wrapped. */
    int64_t huge[3] = {INT64_MAX / 2, 1, 1};
    CHECK_ST(dpc_array_copy_to_host(a, out, sizeof out, huge, &need), DPC_ERROR_INVALID_ARGUMENT);

    /* An empty array needs nothing. */
    int64_t zero[1] = {0};
    dpc_array e = NULL;
    CHECK_ST(dpc_array_empty(q, I4, 1, zero, 0, &e), DPC_SUCCESS);
    CHECK_ST(dpc_array_copy_to_host(e, NULL, 0, NULL, &need), DPC_SUCCESS);
    CHECK(need == 0);
    dpc_array_release(e);
    dpc_array_release(a);
    dpc_queue_release(q);
}

/* The census text names what is live, and goes back to zero. */
static void census_report(dpc_device dev) {
    uint64_t h0 = live_handles();
    dpc_queue q = NULL;
    CHECK_ST(dpc_queue_create_for_device(dev, DPC_QUEUE_IN_ORDER, &q), DPC_SUCCESS);
    void *p = NULL;
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_DEVICE, 4096, 0, &p), DPC_SUCCESS);
    uint64_t n = 0;
    CHECK_ST(dpc_census_live_handles(DPC_HANDLE_QUEUE, &n), DPC_SUCCESS);
    CHECK(n >= 1);
    CHECK(live_handles() == h0 + 1);
    size_t need = 0;
    CHECK_ST(dpc_census_report(NULL, 0, &need), DPC_SUCCESS);
    char *text = malloc(need);
    CHECK_ST(dpc_census_report(text, need, &need), DPC_SUCCESS);
    CHECK(strstr(text, "dpc_queue: ") != NULL);
    CHECK(strstr(text, "4096 bytes") != NULL || live_usm_bytes() > 4096);
    free(text);
    CHECK_ST(dpc_census_live_handles(42, &n), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_ST(dpc_census_live_handles(DPC_HANDLE_ALL, NULL), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_usm_free(p), DPC_SUCCESS);
    CHECK_ST(dpc_queue_release(q), DPC_SUCCESS);
    CHECK(live_handles() == h0);
}

int main(void) {
    const char *env = getenv("DPCORE_TEST_PAIRS");
    long pairs = env ? atol(env) : 2000;
    size_t n = 0;
    CHECK_ST(dpc_device_count(&n), DPC_SUCCESS);
    if (n == 0) {
        fprintf(stderr, "test_trust: no devices found (source scripts/env.sh); this test needs one\n");
        return 1;
    }
    for (size_t i = 0; i < n; ++i) {
        dpc_device d = NULL;
        CHECK_ST(dpc_device_get(i, &d), DPC_SUCCESS);
        soak(d, pairs);
        capacity_getters(d);
        census_report(d);
    }
    CHECK_ST(dpc_usm_wait_deferred_frees(), DPC_SUCCESS);
    CHECK(live_handles() == 0);
    CHECK(live_usm_bytes() == 0);
    return check_report("test_trust");
}
