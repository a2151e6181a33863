/* The two statuses no other test reaches, each provoked for real in a child
 * process (this program run again with a mode argument), with its message
 * checked:
 *   - DPC_ERROR_BACKEND_UNAVAILABLE: DPCORE_SYCL_PLUGIN names a plugin that
 *     does not exist, or a file that is not a library (src/backend.rs,
 *     unavailable_error). dpcore then still works and reports 0 devices.
 *   - DPC_ERROR_OUT_OF_HOST_MEMORY: a copy between two contexts is staged
 *     through host memory (src/usm.rs, staged_copy: try_reserve_exact); with
 *     RLIMIT_AS lowered just above what the process maps, the staging buffer
 *     cannot be had. Every device dpcore finds is tried in turn.
 * The out-of-memory child does not run under AddressSanitizer: ASan reserves
 * terabytes of shadow address space, so RLIMIT_AS cannot be set usefully;
 * the plain build (scripts/run-c.sh builds both) runs it. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* Run this program again as `exe mode [arg]`, with DPCORE_SYCL_PLUGIN set
 * to `plugin` when not NULL; returns its exit status (-1 when it did not
 * exit). */
static int run_child(const char *mode, const char *arg, const char *plugin) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (plugin) setenv("DPCORE_SYCL_PLUGIN", plugin, 1);
        execl("/proc/self/exe", "test_errors", mode, arg, (char *)NULL);
        _exit(127);
    }
    int ws = 0;
    if (waitpid(pid, &ws, 0) != pid) return -1;
    if (WIFSIGNALED(ws)) fprintf(stderr, "test_errors %s: killed by signal %d\n", mode, WTERMSIG(ws));
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

/* ------------------------------------------------ DPC_ERROR_BACKEND_UNAVAILABLE */

static int child_backend_unavailable(const char *why) {
    const char *plugin = getenv("DPCORE_SYCL_PLUGIN");
    CHECK(plugin != NULL);
    if (!plugin) return check_report("test_errors backend-unavailable");

    CHECK_ST(dpc_backend_load(), DPC_ERROR_BACKEND_UNAVAILABLE);
    CHECK(dpc_last_error_status() == DPC_ERROR_BACKEND_UNAVAILABLE);
    CHECK_MSG_HAS("the SYCL backend plugin could not be loaded");
    CHECK_MSG_HAS(plugin); /* the path tried */
    /* and why it failed: one of the '|'-separated words of `why` */
    {
        char alts[256];
        snprintf(alts, sizeof alts, "%s", why);
        int found = 0;
        for (char *w = strtok(alts, "|"); w; w = strtok(NULL, "|")) found |= strstr(last_msg(), w) != NULL;
        if (!found) fprintf(stderr, "the message gives none of \"%s\": %s\n", why, last_msg());
        CHECK(found);
    }
    CHECK_MSG_HAS("DPCORE_SYCL_PLUGIN"); /* what to do */
    /* Loading is tried once per process: the same answer again. */
    CHECK_ST(dpc_backend_load(), DPC_ERROR_BACKEND_UNAVAILABLE);
    CHECK_MSG_HAS(plugin);

    /* What needs the plugin itself says so. */
    char buf[4096];
    size_t n = 0;
    CHECK_ST(dpc_backend_get_plugin_path(buf, sizeof buf, &n), DPC_ERROR_BACKEND_UNAVAILABLE);
    CHECK_MSG_HAS(plugin);
    CHECK_ST(dpc_backend_get_runtime(buf, sizeof buf, &n), DPC_ERROR_BACKEND_UNAVAILABLE);
    long not_a_runtime_object = 0; /* never reached: there is no runtime to give it to */
    dpc_queue q = NULL;
    CHECK_ST(dpc_queue_adopt(&not_a_runtime_object, &q), DPC_ERROR_BACKEND_UNAVAILABLE);
    CHECK(q == NULL);
    dpc_event e = NULL;
    CHECK_ST(dpc_event_adopt(&not_a_runtime_object, &e), DPC_ERROR_BACKEND_UNAVAILABLE);
    CHECK(e == NULL);

    /* The rest of dpcore works and sees no device, saying why. */
    size_t count = 99, nplat = 99;
    CHECK_ST(dpc_device_count(&count), DPC_SUCCESS);
    CHECK(count == 0);
    CHECK_ST(dpc_platform_count(&nplat), DPC_SUCCESS);
    CHECK(nplat == 0);
    dpc_device d = NULL;
    CHECK_ST(dpc_device_default(&d), DPC_ERROR_DEVICE_NOT_FOUND);
    CHECK_MSG_HAS("could not be loaded");
    CHECK_ST(dpc_device_select("cpu", &d), DPC_ERROR_DEVICE_NOT_FOUND);
    CHECK_MSG_HAS(plugin);
    CHECK(d == NULL);
    size_t need = 0;
    CHECK_ST(dpc_diagnostics(NULL, 0, &need), DPC_SUCCESS);
    char *diag = malloc(need + 1024);
    CHECK_ST(dpc_diagnostics(diag, need + 1024, &need), DPC_SUCCESS);
    CHECK(strstr(diag, plugin) != NULL);
    CHECK(strstr(diag, "devices: 0") != NULL);
    free(diag);
    return check_report("test_errors backend-unavailable");
}

/* ------------------------------------------------- DPC_ERROR_OUT_OF_HOST_MEMORY */

/* Bytes of address space the process maps now (/proc/self/statm, field 1). */
static uint64_t mapped_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    if (!f) return 0;
    if (fscanf(f, "%llu", &pages) != 1) pages = 0;
    fclose(f);
    return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void out_of_host_memory_on(dpc_device dev, const char *filter) {
    enum { N = 64 << 20 }; /* the staging buffer: 64 MiB */
    printf("device %s\n", filter);
    dpc_queue qa = NULL, qb = NULL;
    dpc_context cb = NULL;
    CHECK_ST(dpc_queue_default(dev, &qa), DPC_SUCCESS); /* the default context */
    CHECK_ST(dpc_context_create(&dev, 1, &cb), DPC_SUCCESS); /* another one */
    CHECK_ST(dpc_queue_create(cb, dev, DPC_QUEUE_IN_ORDER, &qb), DPC_SUCCESS);
    void *src = NULL, *dst = NULL;
    CHECK_ST(dpc_usm_alloc(qb, DPC_USM_DEVICE, N, 0, &src), DPC_SUCCESS);
    CHECK_ST(dpc_usm_alloc(qa, DPC_USM_DEVICE, N, 0, &dst), DPC_SUCCESS);
    if (!src || !dst) return;
    uint32_t pat = 0x5eed1234u, zero = 0;
    CHECK_ST(dpc_usm_fill(qb, src, &pat, 4, N / 4, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_usm_fill(qa, dst, &zero, 4, N / 4, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_queue_wait(qb), DPC_SUCCESS);
    CHECK_ST(dpc_queue_wait(qa), DPC_SUCCESS);
    /* Warm the copy path once with a small copy (through host memory as
     * well: the two contexts differ), so nothing else is mapped later. */
    uint32_t small[16];
    CHECK_ST(dpc_usm_memcpy(qa, small, src, sizeof small, NULL, 0, NULL), DPC_SUCCESS);
    CHECK(small[0] == pat && small[15] == pat);

    /* Room for everything already mapped and half the staging buffer. */
    struct rlimit old, low;
    CHECK(getrlimit(RLIMIT_AS, &old) == 0);
    uint64_t now = mapped_bytes();
    CHECK(now > 0);
    low = old;
    low.rlim_cur = (rlim_t)(now + N / 2);
    CHECK(setrlimit(RLIMIT_AS, &low) == 0);
    dpc_status st = dpc_usm_memcpy(qa, dst, src, N, NULL, 0, NULL);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", last_msg());
    CHECK(setrlimit(RLIMIT_AS, &old) == 0); /* before anything else runs */
    if (st != DPC_ERROR_OUT_OF_HOST_MEMORY) {
        fprintf(stderr, "%s: the staged copy under RLIMIT_AS = %llu bytes (%llu mapped) returned %s: %s\n",
                filter, (unsigned long long)low.rlim_cur, (unsigned long long)now, dpc_status_name(st), msg);
    }
    CHECK(st == DPC_ERROR_OUT_OF_HOST_MEMORY);
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%d bytes", N);
    /* The message says what could not be had, and for what. */
    CHECK(strstr(msg, bytes) != NULL);
    CHECK(strstr(msg, "host memory") != NULL);
    CHECK(strstr(msg, "between contexts") != NULL);
    printf("  under RLIMIT_AS: %s: %s\n", dpc_status_name(st), msg);

    /* Nothing was copied and nothing is broken: with the limit back the
     * same copy works. */
    CHECK_ST(dpc_usm_memcpy(qa, small, dst, sizeof small, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_queue_wait(qa), DPC_SUCCESS); /* a copy in one context is asynchronous */
    CHECK(small[0] == 0);
    CHECK_ST(dpc_usm_memcpy(qa, dst, src, N, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_usm_memcpy(qa, small, (char *)dst + N - sizeof small, sizeof small, NULL, 0, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_queue_wait(qa), DPC_SUCCESS);
    CHECK(small[0] == pat && small[15] == pat);

    CHECK_ST(dpc_usm_free(src), DPC_SUCCESS);
    CHECK_ST(dpc_usm_free(dst), DPC_SUCCESS);
    CHECK_ST(dpc_queue_release(qb), DPC_SUCCESS);
    CHECK_ST(dpc_context_release(cb), DPC_SUCCESS);
}

static int child_out_of_host_memory(void) {
    dpc_device all[TEST_MAX_DEVICES];
    size_t ndev = test_devices("test_errors out-of-host-memory", all, TEST_MAX_DEVICES);
    if (ndev == 0) return 1;
    for (size_t i = 0; i < ndev; ++i) {
        char filter[64];
        out_of_host_memory_on(all[i], test_filter_of(all[i], filter, sizeof filter));
    }
    CHECK_ST(dpc_usm_wait_deferred_frees(), DPC_SUCCESS);
    return check_report("test_errors out-of-host-memory");
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "backend-unavailable") == 0) return child_backend_unavailable(argv[2]);
    if (argc == 2 && strcmp(argv[1], "out-of-host-memory") == 0) return child_out_of_host_memory();

    /* A plugin path that does not exist, and a file that is not a library. */
    char missing[256], bogus[256];
    snprintf(missing, sizeof missing, "/nonexistent-%d/libdpcore_sycl.so", (int)getpid());
    snprintf(bogus, sizeof bogus, "/tmp/dpcore-test-errors-%d.so", (int)getpid());
    FILE *f = fopen(bogus, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("not a library\n", f);
        fclose(f);
    }
    /* argv[2] of the child: the reason its message must give. */
    int rc = run_child("backend-unavailable", "no such file", missing);
    CHECK(rc == 0);
    rc = run_child("backend-unavailable", "ELF|dlopen failed", bogus);
    CHECK(rc == 0);
    remove(bogus);

    if (UNDER_ASAN) {
        printf("note: DPC_ERROR_OUT_OF_HOST_MEMORY is provoked by the plain build only "
               "(AddressSanitizer's shadow memory rules out RLIMIT_AS)\n");
    } else {
        rc = run_child("out-of-host-memory", NULL, NULL);
        CHECK(rc == 0);
    }
    return check_report("test_errors");
}
