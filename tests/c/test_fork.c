/* Fork safety: the process forks DPCORE_TEST_FORKS times (300 by default)
 * while 4 other threads keep dpcore busy (arrays made and released, USM
 * allocated and freed now and after events, kernels launched and checked).
 * Each child makes an array, checks its data, launches a kernel (made by
 * the parent) and checks its result, frees memory and releases an array
 * after an event, checks that it released what it made, and leaves with
 * _exit. The parent waits for each
 * child with a deadline: a child still running after it is a hang, killed
 * and counted as a failure. Then, in a second run of this program with
 * DPCORE_FORK_TIMEOUT_MS=200, a fork made while another thread is stuck
 * inside a dpcore call (a logger callback that waits for the forking
 * thread) must not hang either: in that child dpcore refuses every call
 * with a clear error. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "dpcore.h"
#include "check_mt.h"

#define WORKERS 4
#define N 512

static atomic_int stop;
static atomic_long worker_rounds;

static dpc_device dev;
static dpc_queue q;
static dpc_kernel vadd;
static const dpc_dlpack_dtype I32 = {DPC_DL_INT, 32, 1};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *worker(void *arg) {
    int tid = (int)(intptr_t)arg;
    int32_t h[N];
    for (long r = 0; !atomic_load(&stop); ++r) {
        for (int i = 0; i < N; ++i) h[i] = (int32_t)(tid * 1000 + r + i);
        int64_t shape = N;
        dpc_array a = NULL;
        OK(dpc_array_from_host(q, I32, 1, &shape, h, NULL, DPC_USM_DEVICE, &a));
        int32_t *da = NULL, *dc = NULL;
        OK(dpc_usm_alloc(q, DPC_USM_DEVICE, sizeof h, 0, (void **)&da));
        OK(dpc_usm_alloc(q, DPC_USM_SHARED, sizeof h, 0, (void **)&dc));
        OK(dpc_usm_memcpy(q, da, h, sizeof h, NULL, 0, NULL));
        void *data = NULL;
        OK(dpc_array_get_data(a, &data));
        int32_t k = 2;
        dpc_kernel_arg args[4] = {{DPC_ARG_POINTER, 0, data}, {DPC_ARG_POINTER, 0, da},
                                  {DPC_ARG_POINTER, 0, dc}, {DPC_ARG_SCALAR, sizeof k, &k}};
        size_t g = N;
        dpc_event ev = NULL;
        OK(dpc_kernel_launch(q, vadd, 1, &g, NULL, args, 4, NULL, 0, &ev));
        OK(dpc_array_release_after(a, &ev, 1));
        OK(dpc_usm_free_after(da, &ev, 1));
        OK(dpc_event_wait(ev));
        int bad = 0;
        for (int i = 0; i < N; ++i) bad += dc[i] != 3 * h[i];
        EXPECT(bad == 0, "worker %d: %d wrong sums", tid, bad);
        OK(dpc_usm_free(dc));
        OK(dpc_event_release(ev));
        atomic_fetch_add(&worker_rounds, 1);
    }
    return NULL;
}

/* In the child: only this thread exists. Exit status 0 when all is well. */
static int child_work(int i) {
    uint64_t before = 0, after = 1;
    if (dpc_census_live_handles(DPC_HANDLE_ALL, &before) != DPC_SUCCESS) return 10;
    dpc_queue cq = NULL;
    if (dpc_queue_default(dev, &cq) != DPC_SUCCESS) return 11;
    int32_t h[N], back[N];
    for (int j = 0; j < N; ++j) h[j] = i * 7 + j;
    int64_t shape = N;
    dpc_array a = NULL;
    if (dpc_array_from_host(cq, I32, 1, &shape, h, NULL, DPC_USM_DEVICE, &a) != DPC_SUCCESS) return 12;
    if (dpc_array_to_host(a, back, NULL) != DPC_SUCCESS) return 13;
    if (memcmp(h, back, sizeof h) != 0) return 14;
    /* A kernel (the parent's) on the child's own memory, then frees after
     * its event: the parent's deferred-release thread is not here (the
     * child frees after waiting). */
    int32_t *dc = NULL;
    void *data = NULL;
    dpc_event ev = NULL;
    if (dpc_usm_alloc(cq, DPC_USM_SHARED, sizeof h, 0, (void **)&dc) != DPC_SUCCESS) return 15;
    if (dpc_array_get_data(a, &data) != DPC_SUCCESS) return 16;
    int32_t k = -1;
    dpc_kernel_arg args[4] = {{DPC_ARG_POINTER, 0, data}, {DPC_ARG_POINTER, 0, data},
                              {DPC_ARG_POINTER, 0, dc}, {DPC_ARG_SCALAR, sizeof k, &k}};
    size_t g = N;
    if (dpc_kernel_launch(cq, vadd, 1, &g, NULL, args, 4, NULL, 0, &ev) != DPC_SUCCESS) return 17;
    if (dpc_event_wait(ev) != DPC_SUCCESS) return 18;
    for (int j = 0; j < N; ++j)
        if (dc[j] != 0) return 19;
    if (dpc_usm_free_after(dc, &ev, 1) != DPC_SUCCESS) return 24;
    if (dpc_array_retain(a) != DPC_SUCCESS) return 25;
    if (dpc_array_release_after(a, &ev, 1) != DPC_SUCCESS) return 26;
    if (dpc_event_release(ev) != DPC_SUCCESS) return 27;
    if (dpc_usm_wait_deferred_frees() != DPC_SUCCESS) return 28;
    if (dpc_array_release(a) != DPC_SUCCESS) return 20;
    if (dpc_queue_release(cq) != DPC_SUCCESS) return 21;
    if (dpc_census_live_handles(DPC_HANDLE_ALL, &after) != DPC_SUCCESS) return 22;
    if (after != before) return 23;
    return 0;
}

/* Wait for `pid` until `deadline` seconds have passed; a child still
 * running then is killed. Returns its exit status, or -1 for a hang, -2
 * for a signal. */
static int wait_child(pid_t pid, double deadline) {
    double t0 = now();
    for (;;) {
        int status = 0;
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            return -2;
        }
        if (w < 0 && errno != EINTR) return -3;
        if (now() - t0 > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        usleep(200);
    }
}

/* --- the second run: a fork while a call cannot finish ------------------ */

static atomic_int in_logger;
static atomic_int release_logger;

static void stuck_logger(dpc_log_level level, const char *message, void *user) {
    (void)level; (void)message; (void)user;
    if (atomic_exchange(&in_logger, 1) == 0) {
        while (!atomic_load(&release_logger)) usleep(1000);
    }
}

static void *stuck_caller(void *arg) {
    (void)arg;
    /* A failing call logs its error at debug level: the logger runs inside
     * the call and blocks there until the parent lets it go. */
    dpc_queue_get_flags(q, NULL);
    return NULL;
}

static int unusable_child_run(void) {
    OK(dpc_set_logger(stuck_logger, NULL, DPC_LOG_DEBUG));
    pthread_t t;
    pthread_create(&t, NULL, stuck_caller, NULL);
    while (!atomic_load(&in_logger)) usleep(1000);
    double t0 = now();
    pid_t pid = fork();
    if (pid == 0) {
        size_t n = 0;
        dpc_status st = dpc_device_count(&n);
        char buf[2048];
        msg(buf, sizeof buf);
        _exit(st == DPC_ERROR_UNSUPPORTED && strstr(buf, "forked") ? 0 : 30);
    }
    double forked = now() - t0;
    int rc = wait_child(pid, 30.0);
    atomic_store(&release_logger, 1);
    pthread_join(t, NULL);
    OK(dpc_set_logger(NULL, NULL, DPC_LOG_DEBUG));
    EXPECT(rc == 0, "child forked during a stuck call: status %d (-1: hang)", rc);
    /* The parent still works. */
    size_t n = 0;
    OK(dpc_device_count(&n));
    printf("test_fork (stuck call): the fork waited %.2f s, the child refused dpcore calls\n", forked);
    return 0;
}

int main(int argc, char **argv) {
    int forks = 300;
    const char *f = getenv("DPCORE_TEST_FORKS");
    if (f && atoi(f) > 0) forks = atoi(f);
    size_t count = 0;
    if (dpc_device_count(&count) != DPC_SUCCESS || count == 0) {
        fprintf(stderr, "test_fork: FAIL: no device\n");
        return 1;
    }
    OK(dpc_device_get(0, &dev));
    OK(dpc_queue_create_for_device(dev, DPC_QUEUE_IN_ORDER, &q));

    if (argc > 1 && strcmp(argv[1], "--stuck") == 0) {
        unusable_child_run();
        OK(dpc_queue_release(q));
        OK(dpc_device_release(dev));
        return atomic_load(&failures) ? 1 : 0;
    }

    dpc_context ctx = NULL;
    dpc_bundle b = NULL;
    OK(dpc_queue_get_context(q, &ctx));
    OK(dpc_bundle_create_from_spirv_file(ctx, dev, "kernels/vadd.spv", NULL, &b));
    OK(dpc_bundle_get_kernel(b, "vadd_i32", &vadd));

    pthread_t t[WORKERS];
    for (int i = 0; i < WORKERS; ++i) pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);

    double t0 = now(), slowest = 0;
    int hangs = 0, bad = 0;
    for (int i = 0; i < forks; ++i) {
        double t1 = now();
        pid_t pid = fork();
        if (pid < 0) { EXPECT(0, "fork: %s", strerror(errno)); break; }
        if (pid == 0) _exit(child_work(i));
        int rc = wait_child(pid, 30.0);
        double dt = now() - t1;
        if (dt > slowest) slowest = dt;
        if (rc == -1) ++hangs;
        else if (rc != 0) ++bad;
        EXPECT(rc == 0, "fork %d: child status %d (-1: hung and killed)", i, rc);
    }
    double total = now() - t0;
    atomic_store(&stop, 1);
    for (int i = 0; i < WORKERS; ++i) pthread_join(t[i], NULL);

    OK(dpc_kernel_release(vadd));
    OK(dpc_bundle_release(b));
    OK(dpc_context_release(ctx));
    OK(dpc_usm_wait_deferred_frees());
    printf("test_fork: %d forks in %.1f s (slowest %.3f s) while %d threads ran %ld rounds: "
           "%d hangs, %d failed children\n",
           forks, total, slowest, WORKERS, atomic_load(&worker_rounds), hangs, bad);

    /* The stuck-call case, in a fresh process with a short fork timeout. */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "DPCORE_FORK_TIMEOUT_MS=200 DPCORE_LEAK_CHECK=0 %s --stuck", argv[0]);
    int rc = system(cmd);
    EXPECT(rc == 0, "the stuck-call run failed (status %d)", rc);

    OK(dpc_queue_release(q));
    OK(dpc_device_release(dev));
    uint64_t handles = 1;
    OK(dpc_census_live_handles(DPC_HANDLE_ALL, &handles));
    EXPECT(handles == 0, "%llu handles still live", (unsigned long long)handles);
    return atomic_load(&failures) ? 1 : 0;
}
