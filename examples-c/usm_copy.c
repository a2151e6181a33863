/* usm_copy: allocate device memory, copy in, fill, copy out, check. */
#include <stdint.h>
#include <stdio.h>
#include "dpcore.h"

#define TRY(call)                                                             \
    do {                                                                      \
        dpc_status st_ = (call);                                              \
        if (st_ != DPC_SUCCESS) {                                             \
            char m_[1024];                                                    \
            size_t n_;                                                        \
            dpc_last_error_message(m_, sizeof m_, &n_);                       \
            fprintf(stderr, "%s: %s: %s\n", #call, dpc_status_name(st_), m_); \
            return 1;                                                         \
        }                                                                     \
    } while (0)

int main(void) {
    enum { N = 1 << 20 };
    static int32_t host[N];
    for (int i = 0; i < N; ++i) host[i] = i;

    dpc_device dev;
    dpc_queue q;
    TRY(dpc_device_default(&dev));
    TRY(dpc_queue_default(dev, &q)); /* in-order, cached, nothing to release */

    int32_t *d = NULL;
    TRY(dpc_usm_alloc(q, DPC_USM_DEVICE, sizeof host, 0, (void **)&d));
    TRY(dpc_usm_memcpy(q, d, host, sizeof host, NULL, 0, NULL));          /* host -> device */
    int32_t seven = 7;
    TRY(dpc_usm_fill(q, d + N / 2, &seven, sizeof seven, N / 2, NULL, 0, NULL)); /* 2nd half = 7 */
    dpc_event done;
    TRY(dpc_usm_memcpy(q, host, d, sizeof host, NULL, 0, &done));         /* device -> host */
    TRY(dpc_event_wait(done));
    TRY(dpc_event_release(done));
    TRY(dpc_usm_free(d));

    for (int i = 0; i < N; ++i) {
        if (host[i] != (i < N / 2 ? i : 7)) {
            fprintf(stderr, "mismatch at %d: %d\n", i, (int)host[i]);
            return 1;
        }
    }
    printf("copied and filled %d ints through device memory: ok\n", N);
    return 0;
}
