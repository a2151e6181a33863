/* vector_add: load a SPIR-V kernel, launch it on the default device, check. */
#include <stdint.h>
#include <stdio.h>
#include "dpcore.h"

#define TRY(call)                                                             \
    do {                                                                      \
        dpc_status st_ = (call);                                              \
        if (st_ != DPC_SUCCESS) {                                             \
            char m_[4096];                                                    \
            size_t n_;                                                        \
            dpc_last_error_message(m_, sizeof m_, &n_);                       \
            fprintf(stderr, "%s: %s: %s\n", #call, dpc_status_name(st_), m_); \
            return 1;                                                         \
        }                                                                     \
    } while (0)

int main(int argc, char **argv) {
    const char *spv = argc > 1 ? argv[1] : "kernels/vadd.spv";
    enum { N = 1 << 16 };
    static float a[N], b[N], c[N];
    for (int i = 0; i < N; ++i) { a[i] = (float)i; b[i] = 1.0f; }

    dpc_device dev;
    dpc_queue q;
    dpc_context ctx;
    TRY(dpc_device_default(&dev));
    TRY(dpc_queue_default(dev, &q));
    TRY(dpc_context_default(dev, &ctx));

    dpc_bundle bundle;
    dpc_kernel vadd;
    TRY(dpc_bundle_create_from_spirv_file(ctx, dev, spv, NULL, &bundle));
    TRY(dpc_bundle_get_kernel(bundle, "vadd_f32", &vadd));

    float *da, *db, *dc;
    TRY(dpc_usm_alloc(q, DPC_USM_DEVICE, sizeof a, 0, (void **)&da));
    TRY(dpc_usm_alloc(q, DPC_USM_DEVICE, sizeof b, 0, (void **)&db));
    TRY(dpc_usm_alloc(q, DPC_USM_DEVICE, sizeof c, 0, (void **)&dc));
    TRY(dpc_usm_memcpy(q, da, a, sizeof a, NULL, 0, NULL));
    TRY(dpc_usm_memcpy(q, db, b, sizeof b, NULL, 0, NULL));

    float k = 2.0f; /* c = a + k * b */
    dpc_kernel_arg args[4] = {
        {DPC_ARG_POINTER, 0, da},
        {DPC_ARG_POINTER, 0, db},
        {DPC_ARG_POINTER, 0, dc},
        {DPC_ARG_SCALAR, sizeof k, &k},
    };
    size_t global = N;
    TRY(dpc_kernel_launch(q, vadd, 1, &global, NULL, args, 4, NULL, 0, NULL));
    TRY(dpc_usm_memcpy(q, c, dc, sizeof c, NULL, 0, NULL));
    TRY(dpc_queue_wait(q));

    for (int i = 0; i < N; ++i) {
        if (c[i] != a[i] + 2.0f) {
            fprintf(stderr, "c[%d] = %f, expected %f\n", i, c[i], a[i] + 2.0f);
            return 1;
        }
    }
    printf("vadd_f32 from %s on %d floats: ok\n", spv, N);
    TRY(dpc_usm_free(da));
    TRY(dpc_usm_free(db));
    TRY(dpc_usm_free(dc));
    TRY(dpc_kernel_release(vadd));
    TRY(dpc_bundle_release(bundle));
    return 0;
}
