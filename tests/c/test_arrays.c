/* n-d USM arrays and DLPack: every creation path, views and copies checked
 * element by element against a host reference for ndim 0-8 (negative and
 * zero strides, size 0), read-only arrays, and the DLPack deleter called
 * exactly once in every case. */
#include <stdint.h>
#include <stdlib.h>
#include "check.h"

static const dpc_dlpack_dtype F64 = {DPC_DL_FLOAT, 64, 1};
static const dpc_dlpack_dtype I32 = {DPC_DL_INT, 32, 1};

/* Round trip and views for every ndim 0..8. */
static void ndim_sweep(void) {
    for (int nd = 0; nd <= 8; ++nd) {
        int64_t shape[8];
        for (int d = 0; d < nd; ++d) shape[d] = 2 + (d % 2); /* 2,3,2,3,... */
        int64_t n = count_of(nd, shape);
        double *host = malloc(sizeof(double) * (size_t)n), *back = malloc(sizeof(double) * (size_t)n);
        for (int64_t i = 0; i < n; ++i) host[i] = (double)i * 1.5 - 7;
        dpc_array a = NULL;
        CHECK_ST(dpc_array_from_host(NULL, F64, nd, shape, host, NULL, 0, &a), DPC_SUCCESS);
        int32_t got_nd = -1;
        CHECK_ST(dpc_array_get_ndim(a, &got_nd), DPC_SUCCESS);
        CHECK(got_nd == nd);
        uint32_t flags = 0;
        CHECK_ST(dpc_array_get_flags(a, &flags), DPC_SUCCESS);
        CHECK((flags & DPC_ARRAY_WRITABLE) && (flags & DPC_ARRAY_C_CONTIGUOUS));
        CHECK_ST(dpc_array_to_host(a, back, NULL), DPC_SUCCESS);
        int bad = 0;
        for (int64_t i = 0; i < n; ++i) bad += back[i] != host[i];
        CHECK(bad == 0);

        if (nd > 0) {
            /* Reverse every axis: negative strides. */
            int64_t steps[8];
            for (int d = 0; d < nd; ++d) steps[d] = -1;
            dpc_array r = NULL;
            CHECK_ST(dpc_array_slice(a, NULL, NULL, steps, &r), DPC_SUCCESS);
            int64_t rstr[8];
            CHECK_ST(dpc_array_get_strides(r, rstr), DPC_SUCCESS);
            CHECK(rstr[nd - 1] == -1);
            CHECK_ST(dpc_array_to_host(r, back, NULL), DPC_SUCCESS);
            bad = 0;
            for (int64_t i = 0; i < n; ++i) bad += back[i] != host[n - 1 - i];
            CHECK(bad == 0);
            /* Transpose: out[j] = host at the reversed index. */
            int32_t axes[8];
            for (int d = 0; d < nd; ++d) axes[d] = nd - 1 - d;
            dpc_array t = NULL;
            CHECK_ST(dpc_array_permute(a, axes, &t), DPC_SUCCESS);
            CHECK_ST(dpc_array_to_host(t, back, NULL), DPC_SUCCESS);
            int64_t tshape[8], cstr[8];
            for (int d = 0; d < nd; ++d) tshape[d] = shape[nd - 1 - d];
            cstr[nd - 1] = 1;
            for (int d = nd - 2; d >= 0; --d) cstr[d] = cstr[d + 1] * shape[d + 1];
            int64_t tstr[8];
            for (int d = 0; d < nd; ++d) tstr[d] = cstr[nd - 1 - d];
            bad = 0;
            for (int64_t i = 0; i < n; ++i) bad += back[i] != host[offset_of_c_index(nd, tshape, tstr, i)];
            CHECK(bad == 0);
            /* Copy out into a strided host layout (every other slot). */
            int64_t hstr[8];
            hstr[nd - 1] = 2;
            for (int d = nd - 2; d >= 0; --d) hstr[d] = hstr[d + 1] * shape[d + 1];
            double *wide = calloc((size_t)(2 * n), sizeof(double));
            CHECK_ST(dpc_array_to_host(a, wide, hstr), DPC_SUCCESS);
            bad = 0;
            for (int64_t i = 0; i < n; ++i) bad += wide[2 * i] != host[i] || wide[2 * i + 1] != 0;
            CHECK(bad == 0);
            /* And in from a strided host layout. */
            dpc_array w = NULL;
            CHECK_ST(dpc_array_from_host(NULL, F64, nd, shape, wide, hstr, DPC_USM_SHARED, &w), DPC_SUCCESS);
            CHECK_ST(dpc_array_to_host(w, back, NULL), DPC_SUCCESS);
            bad = 0;
            for (int64_t i = 0; i < n; ++i) bad += back[i] != host[i];
            CHECK(bad == 0);
            free(wide);
            dpc_array_release(w);
            dpc_array_release(t);
            dpc_array_release(r);
        }
        CHECK_ST(dpc_array_release(a), DPC_SUCCESS);
        free(host);
        free(back);
    }
}

static void creation_and_views(void) {
    int64_t shape[2] = {4, 6};
    dpc_array z = NULL, f = NULL, e = NULL;
    CHECK_ST(dpc_array_zeros(NULL, I32, 2, shape, 0, &z), DPC_SUCCESS);
    int32_t seven = 7, out[24];
    CHECK_ST(dpc_array_full(NULL, I32, 2, shape, DPC_USM_HOST, &seven, &f), DPC_SUCCESS);
    CHECK_ST(dpc_array_empty(NULL, I32, 2, shape, DPC_USM_SHARED, &e), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_host(z, out, NULL), DPC_SUCCESS);
    int bad = 0;
    for (int i = 0; i < 24; ++i) bad += out[i] != 0;
    CHECK_ST(dpc_array_to_host(f, out, NULL), DPC_SUCCESS);
    for (int i = 0; i < 24; ++i) bad += out[i] != 7;
    CHECK(bad == 0);
    int32_t kind = -1;
    CHECK_ST(dpc_array_get_usm_kind(f, &kind), DPC_SUCCESS);
    CHECK(kind == DPC_USM_HOST);
    dpc_queue q = NULL;
    CHECK_ST(dpc_array_get_queue(z, &q), DPC_SUCCESS);
    CHECK(q != NULL);
    dpc_queue_release(q);

    /* a[1:4:2, ::-2] of the 4x6 iota. */
    int32_t iota[24];
    for (int i = 0; i < 24; ++i) iota[i] = i;
    dpc_array a = NULL, v = NULL;
    CHECK_ST(dpc_array_from_host(NULL, I32, 2, shape, iota, NULL, 0, &a), DPC_SUCCESS);
    int64_t starts[2] = {1, DPC_SLICE_NONE}, stops[2] = {4, DPC_SLICE_NONE}, steps[2] = {2, -2};
    CHECK_ST(dpc_array_slice(a, starts, stops, steps, &v), DPC_SUCCESS);
    int64_t vs[2];
    CHECK_ST(dpc_array_get_shape(v, vs), DPC_SUCCESS);
    CHECK(vs[0] == 2 && vs[1] == 3);
    int32_t got[6];
    CHECK_ST(dpc_array_to_host(v, got, NULL), DPC_SUCCESS);
    int32_t want[6] = {11, 9, 7, 23, 21, 19};
    bad = 0;
    for (int i = 0; i < 6; ++i) bad += got[i] != want[i];
    CHECK(bad == 0);
    uint32_t flags = 0;
    CHECK_ST(dpc_array_get_flags(v, &flags), DPC_SUCCESS);
    CHECK(!(flags & DPC_ARRAY_C_CONTIGUOUS));
    int64_t bad_steps[2] = {0, 1};
    dpc_array none = NULL;
    CHECK_ST(dpc_array_slice(a, NULL, NULL, bad_steps, &none), DPC_ERROR_INVALID_ARGUMENT);
    /* Reshape: allowed for the contiguous array, refused for the strided view. */
    int64_t s3[3] = {2, 3, 4}, s1[1] = {6}, s_wrong[1] = {7};
    dpc_array r = NULL;
    CHECK_ST(dpc_array_reshape(a, 3, s3, &r), DPC_SUCCESS);
    int32_t all[24];
    CHECK_ST(dpc_array_to_host(r, all, NULL), DPC_SUCCESS);
    bad = 0;
    for (int i = 0; i < 24; ++i) bad += all[i] != i;
    CHECK(bad == 0);
    dpc_array_release(r);
    int32_t axes[2] = {1, 0};
    dpc_array tr = NULL;
    CHECK_ST(dpc_array_permute(a, axes, &tr), DPC_SUCCESS);
    int64_t flat[1] = {24};
    CHECK_ST(dpc_array_reshape(tr, 1, flat, &r), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("without a copy");
    CHECK_ST(dpc_array_reshape(v, 1, s_wrong, &r), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("7 elements");
    /* The 2x3 view with strides (12, -2) cannot be flattened without a copy... */
    CHECK_ST(dpc_array_reshape(v, 1, s1, &r), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("[12, -2]");
    /* ...but gains a unit dimension. */
    int64_t s213[3] = {2, 1, 3};
    CHECK_ST(dpc_array_reshape(v, 3, s213, &r), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_host(r, got, NULL), DPC_SUCCESS);
    bad = 0;
    for (int i = 0; i < 6; ++i) bad += got[i] != want[i];
    CHECK(bad == 0);
    dpc_array_release(r);
    int32_t bad_axes[2] = {0, 0};
    CHECK_ST(dpc_array_permute(a, bad_axes, &none), DPC_ERROR_INVALID_ARGUMENT);

    /* Size 0 arrays. */
    int64_t zshape[3] = {3, 0, 2};
    dpc_array zz = NULL;
    CHECK_ST(dpc_array_zeros(NULL, F64, 3, zshape, 0, &zz), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_host(zz, NULL, NULL), DPC_SUCCESS);
    dpc_array_release(zz);

    /* Errors. */
    dpc_dlpack_dtype weird = {DPC_DL_FLOAT, 24, 1};
    CHECK_ST(dpc_array_zeros(NULL, weird, 2, shape, 0, &none), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("unsupported data type");
    int64_t neg[1] = {-1};
    CHECK_ST(dpc_array_zeros(NULL, I32, 1, neg, 0, &none), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_ST(dpc_array_zeros(NULL, I32, 65, shape, 0, &none), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_ST(dpc_array_zeros(NULL, I32, 2, NULL, 0, &none), DPC_ERROR_NULL_POINTER);
    CHECK_ST(dpc_array_full(NULL, I32, 2, shape, 0, NULL, &none), DPC_ERROR_NULL_POINTER);
    CHECK(none == NULL);

    dpc_array_release(tr);
    dpc_array_release(v);
    dpc_array_release(a);
    dpc_array_release(z);
    dpc_array_release(f);
    dpc_array_release(e);
}

/* A producer's tensor over our own USM, with a counting deleter. */
static int deleted = 0;
static void count_versioned(dpc_dlpack_managed_tensor_versioned *t) { ++deleted; (void)t; }
static void count_legacy(dpc_dlpack_managed_tensor *t) { ++deleted; (void)t; }

static void dlpack(void) {
    dpc_device dev;
    dpc_queue q;
    dpc_device_default(&dev);
    dpc_queue_default(dev, &q);
    int32_t dl_id = 0;
    dpc_device_get_dlpack_id(dev, &dl_id);
    double *mem = NULL;
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_DEVICE, 8 * sizeof(double), 0, (void **)&mem), DPC_SUCCESS);
    double vals[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    dpc_usm_memcpy(q, mem, vals, sizeof vals, NULL, 0, NULL);
    dpc_queue_wait(q);

    /* Zero strides: a 3x4 broadcast of a 4-vector. */
    int64_t shape[2] = {3, 4}, strides[2] = {0, 1};
    dpc_dlpack_managed_tensor_versioned t = {
        {1, 0}, NULL, count_versioned, 0,
        {mem, {DPC_DL_ONEAPI, dl_id}, 2, {DPC_DL_FLOAT, 64, 1}, shape, strides, 0}};
    dpc_array a = NULL;
    deleted = 0;
    CHECK_ST(dpc_array_from_dlpack_versioned(&t, &a), DPC_SUCCESS);
    CHECK(deleted == 0);
    double out[12];
    CHECK_ST(dpc_array_to_host(a, out, NULL), DPC_SUCCESS);
    int bad = 0;
    for (int i = 0; i < 12; ++i) bad += out[i] != vals[i % 4];
    CHECK(bad == 0);
    void *data = NULL;
    dpc_array_get_data(a, &data);
    CHECK(data == mem); /* zero-copy */
    dpc_array view = NULL;
    int64_t st1[2] = {-1, 2};
    CHECK_ST(dpc_array_slice(a, NULL, NULL, st1, &view), DPC_SUCCESS);
    CHECK_ST(dpc_array_release(a), DPC_SUCCESS);
    CHECK(deleted == 0); /* the view still holds it */
    CHECK_ST(dpc_array_release(view), DPC_SUCCESS);
    CHECK(deleted == 1); /* consumed: exactly once */

    /* Released after an event: the memory (and the deleter) wait for it. */
    {
        dpc_array k = NULL;
        deleted = 0;
        CHECK_ST(dpc_array_from_dlpack_versioned(&t, &k), DPC_SUCCESS);
        dpc_event ev = NULL;
        double big_host[4];
        CHECK_ST(dpc_usm_memcpy(q, big_host, mem, sizeof big_host, NULL, 0, &ev), DPC_SUCCESS);
        dpc_event bad_ev[1] = {(dpc_event)k}; /* an array is not an event */
        CHECK_ST(dpc_array_release_after(k, bad_ev, 1), DPC_ERROR_INVALID_HANDLE);
        CHECK_ST(dpc_array_release_after(k, NULL, 1), DPC_ERROR_NULL_POINTER);
        CHECK(deleted == 0); /* nothing released by the failed calls */
        CHECK_ST(dpc_array_release_after(k, &ev, 1), DPC_SUCCESS);
        int32_t nd_gone = 0;
        CHECK_ST(dpc_array_get_ndim(k, &nd_gone), DPC_ERROR_INVALID_HANDLE); /* the handle is gone */
        CHECK_ST(dpc_event_wait(ev), DPC_SUCCESS);
        CHECK_ST(dpc_usm_wait_deferred_frees(), DPC_SUCCESS);
        CHECK(deleted == 1);
        CHECK(big_host[0] == vals[0] && big_host[3] == vals[3]);
        dpc_event_release(ev);
        /* No events: at once. */
        deleted = 0;
        CHECK_ST(dpc_array_from_dlpack_versioned(&t, &k), DPC_SUCCESS);
        CHECK_ST(dpc_array_release_after(k, NULL, 0), DPC_SUCCESS);
        CHECK(deleted == 1);
        deleted = 1;
    }

    /* Import failures: the deleter runs at once, exactly once. */
    dpc_dlpack_managed_tensor_versioned bad_t = t;
    bad_t.dl_tensor.dtype.bits = 7;
    deleted = 0;
    CHECK_ST(dpc_array_from_dlpack_versioned(&bad_t, &a), DPC_ERROR_INVALID_ARGUMENT);
    CHECK(deleted == 1);
    bad_t = t;
    bad_t.version.major = 2;
    deleted = 0;
    CHECK_ST(dpc_array_from_dlpack_versioned(&bad_t, &a), DPC_ERROR_UNSUPPORTED);
    CHECK_MSG_HAS("DLPack 2.0");
    CHECK(deleted == 1);
    bad_t = t;
    bad_t.dl_tensor.device.device_id = 99;
    deleted = 0;
    CHECK_ST(dpc_array_from_dlpack_versioned(&bad_t, &a), DPC_ERROR_DEVICE_NOT_FOUND);
    CHECK(deleted == 1);
    bad_t = t;
    bad_t.dl_tensor.device.device_type = 2; /* kDLCUDA */
    deleted = 0;
    CHECK_ST(dpc_array_from_dlpack_versioned(&bad_t, &a), DPC_ERROR_UNSUPPORTED);
    CHECK(deleted == 1);
    double on_stack[4];
    bad_t = t;
    bad_t.dl_tensor.data = on_stack;
    deleted = 0;
    CHECK_ST(dpc_array_from_dlpack_versioned(&bad_t, &a), DPC_ERROR_INVALID_POINTER);
    CHECK_MSG_HAS("not USM");
    CHECK(deleted == 1);
    bad_t = t;
    bad_t.dl_tensor.shape = NULL;
    deleted = 0;
    CHECK_ST(dpc_array_from_dlpack_versioned(&bad_t, &a), DPC_ERROR_INVALID_ARGUMENT);
    CHECK(deleted == 1);
    deleted = 0;
    CHECK_ST(dpc_array_from_dlpack_versioned(&t, NULL), DPC_ERROR_NULL_POINTER);
    CHECK(deleted == 1);
    CHECK_ST(dpc_array_from_dlpack_versioned(NULL, &a), DPC_ERROR_NULL_POINTER);

    /* Legacy import, and a host (kDLCPU) tensor. */
    int64_t hshape[1] = {4};
    dpc_dlpack_managed_tensor lt = {{vals, {DPC_DL_CPU, 0}, 1, {DPC_DL_FLOAT, 64, 1}, hshape, NULL, 8}, NULL, count_legacy};
    deleted = 0;
    CHECK_ST(dpc_array_from_dlpack(&lt, &a), DPC_SUCCESS);
    double h4[4];
    CHECK_ST(dpc_array_to_host(a, h4, NULL), DPC_SUCCESS);
    CHECK(h4[0] == 2 && h4[3] == 5); /* byte_offset 8 honoured */
    dpc_queue hq = (dpc_queue)0x1;
    CHECK_ST(dpc_array_get_queue(a, &hq), DPC_SUCCESS);
    CHECK(hq == NULL);
    CHECK_ST(dpc_array_release(a), DPC_SUCCESS);
    CHECK(deleted == 1);

    /* Export: versioned and legacy; twice; released before the consumer. */
    dpc_array src = NULL;
    int64_t s2[2] = {2, 4};
    CHECK_ST(dpc_array_from_host(q, F64, 2, s2, vals, NULL, 0, &src), DPC_SUCCESS);
    dpc_dlpack_managed_tensor_versioned *ev1 = NULL, *ev2 = NULL;
    dpc_dlpack_managed_tensor *el = NULL;
    CHECK_ST(dpc_array_to_dlpack_versioned(src, 1, 0, &ev1), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_dlpack_versioned(src, 1, 3, &ev2), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_dlpack(src, &el), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_dlpack_versioned(src, 0, 9, &ev1), DPC_ERROR_UNSUPPORTED);
    CHECK(ev1->version.major == 1 && ev1->flags == 0);
    CHECK(ev1->dl_tensor.device.device_type == DPC_DL_ONEAPI && ev1->dl_tensor.device.device_id == dl_id);
    CHECK(ev1->dl_tensor.ndim == 2 && ev1->dl_tensor.shape[1] == 4 && ev1->dl_tensor.strides[0] == 4);
    void *src_data = NULL;
    dpc_array_get_data(src, &src_data);
    CHECK(ev1->dl_tensor.data == src_data && el->dl_tensor.data == src_data);
    CHECK_ST(dpc_array_release(src), DPC_SUCCESS); /* before the consumers */
    /* Consumer 1: dpcore itself (round trip, zero-copy). */
    dpc_array back = NULL;
    CHECK_ST(dpc_array_from_dlpack_versioned(ev1, &back), DPC_SUCCESS);
    double rt[8];
    CHECK_ST(dpc_array_to_host(back, rt, NULL), DPC_SUCCESS);
    bad = 0;
    for (int i = 0; i < 8; ++i) bad += rt[i] != vals[i];
    CHECK(bad == 0);
    void *back_data = NULL;
    dpc_array_get_data(back, &back_data);
    CHECK(back_data == src_data);
    CHECK_ST(dpc_array_release(back), DPC_SUCCESS);
    /* Consumer 2 never consumes: it calls the deleter itself. */
    ev2->deleter(ev2);
    /* Consumer 3: legacy. */
    CHECK_ST(dpc_array_from_dlpack(el, &back), DPC_SUCCESS);
    CHECK_ST(dpc_array_release(back), DPC_SUCCESS);

    /* Read-only arrays: flagged in versioned exports, refused in legacy ones. */
    CHECK_ST(dpc_array_from_host(q, F64, 2, s2, vals, NULL, 0, &src), DPC_SUCCESS);
    dpc_array ro = NULL;
    CHECK_ST(dpc_array_as_read_only(src, &ro), DPC_SUCCESS);
    uint32_t flags = 0;
    dpc_array_get_flags(ro, &flags);
    CHECK(!(flags & DPC_ARRAY_WRITABLE));
    CHECK_ST(dpc_array_to_dlpack_versioned(ro, 1, 0, &ev1), DPC_SUCCESS);
    CHECK(ev1->flags & DPC_DLPACK_FLAG_READ_ONLY);
    CHECK_ST(dpc_array_from_dlpack_versioned(ev1, &back), DPC_SUCCESS);
    dpc_array_get_flags(back, &flags);
    CHECK(!(flags & DPC_ARRAY_WRITABLE));
    dpc_array_release(back);
    CHECK_ST(dpc_array_to_dlpack(ro, &el), DPC_ERROR_INVALID_ARGUMENT);
    dpc_array_release(ro);
    dpc_array_release(src);

    CHECK_ST(dpc_usm_free(mem), DPC_SUCCESS);
}

/* Compute follows data. */
static void common_queue(void) {
    dpc_device dev;
    dpc_device_default(&dev);
    dpc_queue dq, other_q;
    dpc_queue_default(dev, &dq);
    dpc_context other;
    CHECK_ST(dpc_context_create(&dev, 1, &other), DPC_SUCCESS);
    CHECK_ST(dpc_queue_create(other, dev, DPC_QUEUE_IN_ORDER, &other_q), DPC_SUCCESS);
    int64_t shape[1] = {8};
    dpc_array a = NULL, b = NULL, c = NULL, h = NULL;
    CHECK_ST(dpc_array_zeros(NULL, I32, 1, shape, 0, &a), DPC_SUCCESS);
    CHECK_ST(dpc_array_zeros(dq, I32, 1, shape, DPC_USM_SHARED, &b), DPC_SUCCESS);
    CHECK_ST(dpc_array_zeros(other_q, I32, 1, shape, 0, &c), DPC_SUCCESS);
    dpc_array ab[2] = {a, b}, ac[3] = {a, b, c};
    dpc_queue got = NULL;
    CHECK_ST(dpc_array_common_queue(ab, 2, &got), DPC_SUCCESS);
    CHECK(got == dq);
    got = NULL;
    CHECK_ST(dpc_array_common_queue(ac, 3, &got), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("array 0:");
    CHECK_MSG_HAS("array 2:");
    CHECK_MSG_HAS("not on one device in one context");
    CHECK(got == NULL);
    /* to_device: same context (device copy), another context (staged), a strided view, a host array. */
    int32_t iota[8] = {0, 1, 2, 3, 4, 5, 6, 7}, back[8];
    dpc_array src = NULL, moved = NULL, rev = NULL, hv = NULL;
    CHECK_ST(dpc_array_from_host(dq, I32, 1, shape, iota, NULL, 0, &src), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_device(src, dq, DPC_USM_SHARED, &moved), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_host(moved, back, NULL), DPC_SUCCESS);
    CHECK(back[0] == 0 && back[7] == 7);
    dpc_array_release(moved);
    CHECK_ST(dpc_array_to_device(src, other_q, 0, &moved), DPC_SUCCESS);
    dpc_queue mq = NULL;
    dpc_array_get_queue(moved, &mq);
    bool eq = false;
    dpc_queue_equivalent(mq, other_q, &eq);
    CHECK(eq);
    dpc_queue_release(mq);
    CHECK_ST(dpc_array_to_host(moved, back, NULL), DPC_SUCCESS);
    CHECK(back[3] == 3);
    dpc_array_release(moved);
    int64_t step[1] = {-2};
    CHECK_ST(dpc_array_slice(src, NULL, NULL, step, &rev), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_device(rev, NULL, 0, &moved), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_host(moved, back, NULL), DPC_SUCCESS);
    CHECK(back[0] == 7 && back[1] == 5 && back[2] == 3 && back[3] == 1);
    uint32_t mflags = 0;
    dpc_array_get_flags(moved, &mflags);
    CHECK(mflags & DPC_ARRAY_C_CONTIGUOUS);
    dpc_array_release(moved);
    dpc_dlpack_managed_tensor ht = {{iota, {DPC_DL_CPU, 0}, 1, {DPC_DL_INT, 32, 1}, shape, NULL, 0}, NULL, NULL};
    CHECK_ST(dpc_array_from_dlpack(&ht, &hv), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_device(hv, dq, 0, &moved), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_host(moved, back, NULL), DPC_SUCCESS);
    CHECK(back[6] == 6);
    CHECK_ST(dpc_array_to_device(hv, dq, 9, &moved), DPC_ERROR_INVALID_ARGUMENT);
    dpc_array_release(moved);
    dpc_array_release(hv);
    dpc_array_release(rev);
    dpc_array_release(src);
    CHECK_ST(dpc_array_common_queue(&c, 1, &got), DPC_SUCCESS);
    CHECK_ST(dpc_queue_release(got), DPC_SUCCESS);
    CHECK_ST(dpc_array_common_queue(ab, 0, &got), DPC_ERROR_INVALID_ARGUMENT);
    /* A host array has no queue. */
    int32_t vals[8] = {0};
    dpc_dlpack_managed_tensor t = {{vals, {DPC_DL_CPU, 0}, 1, {DPC_DL_INT, 32, 1}, shape, NULL, 0}, NULL, NULL};
    CHECK_ST(dpc_array_from_dlpack(&t, &h), DPC_SUCCESS);
    dpc_array ah[2] = {a, h};
    CHECK_ST(dpc_array_common_queue(ah, 2, &got), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("host memory");
    dpc_array_release(h);
    dpc_array_release(a);
    dpc_array_release(b);
    dpc_array_release(c);
    dpc_queue_release(other_q);
    dpc_context_release(other);
}

/* Lent USM memory: the release function runs exactly once in every case. */
static int released = 0;
static void count_release(void *ctx) { ++released; *(int *)ctx += 1; }

static void from_usm(void) {
    dpc_device dev;
    dpc_queue q;
    dpc_device_default(&dev);
    dpc_queue_default(dev, &q);
    int32_t *mem = NULL;
    CHECK_ST(dpc_usm_alloc(q, DPC_USM_SHARED, 12 * sizeof(int32_t), 0, (void **)&mem), DPC_SUCCESS);
    for (int i = 0; i < 12; ++i) mem[i] = i;
    int64_t shape[2] = {3, 2}, strides[2] = {4, -1}; /* rows of 4, last two columns reversed */
    int ctx_count = 0;
    released = 0;
    dpc_array a = NULL;
    CHECK_ST(dpc_array_from_usm(q, (dpc_dlpack_dtype){DPC_DL_INT, 32, 1}, 2, shape, strides, mem + 3,
                                DPC_ARRAY_WRITABLE, count_release, &ctx_count, &a),
             DPC_SUCCESS);
    int32_t out[6];
    CHECK_ST(dpc_array_to_host(a, out, NULL), DPC_SUCCESS);
    CHECK(out[0] == 3 && out[1] == 2 && out[2] == 7 && out[3] == 6 && out[4] == 11 && out[5] == 10);
    int32_t kind = 0;
    CHECK_ST(dpc_array_get_usm_kind(a, &kind), DPC_SUCCESS);
    CHECK(kind == DPC_USM_SHARED);
    /* The whole layout in one call, pointing into the array. */
    dpc_array_layout lay;
    CHECK_ST(dpc_array_get_layout(a, &lay), DPC_SUCCESS);
    CHECK(lay.ndim == 2 && lay.shape[0] == 3 && lay.shape[1] == 2 && lay.strides[0] == 4 && lay.strides[1] == -1);
    CHECK(lay.data == (void *)(mem + 3) && lay.usm_kind == DPC_USM_SHARED && lay.dtype.code == DPC_DL_INT &&
          lay.dtype.bits == 32 && (lay.flags & DPC_ARRAY_WRITABLE) && !(lay.flags & DPC_ARRAY_C_CONTIGUOUS));
    CHECK_ST(dpc_array_get_layout(a, NULL), DPC_ERROR_NULL_POINTER);
    /* Writes land in the lender's memory. */
    int32_t minus = -1;
    dpc_array m1 = NULL;
    CHECK_ST(dpc_array_from_host(q, (dpc_dlpack_dtype){DPC_DL_INT, 32, 1}, 0, NULL, &minus, NULL, 0, &m1), DPC_SUCCESS);
    CHECK_ST(dpc_array_copy(m1, a), DPC_SUCCESS);
    CHECK(mem[3] == -1 && mem[2] == -1 && mem[0] == 0 && mem[1] == 1 && mem[11] == -1 && mem[4] == 4);
    dpc_array v = NULL;
    CHECK_ST(dpc_array_as_read_only(a, &v), DPC_SUCCESS);
    CHECK_ST(dpc_array_release(a), DPC_SUCCESS);
    CHECK(released == 0); /* the view still holds it */
    CHECK_ST(dpc_array_release(v), DPC_SUCCESS);
    CHECK(released == 1 && ctx_count == 1);

    /* Read-only when lent without DPC_ARRAY_WRITABLE. */
    released = 0;
    CHECK_ST(dpc_array_from_usm(q, (dpc_dlpack_dtype){DPC_DL_INT, 32, 1}, 2, shape, NULL, mem, 0, count_release,
                                &ctx_count, &a),
             DPC_SUCCESS);
    CHECK_ST(dpc_array_copy(m1, a), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("read-only");
    CHECK_ST(dpc_array_release(a), DPC_SUCCESS);
    CHECK(released == 1);

    /* Vouched for: no runtime query, the kind as given. */
    released = 0;
    CHECK_ST(dpc_array_from_usm(q, (dpc_dlpack_dtype){DPC_DL_INT, 32, 1}, 2, shape, NULL, mem,
                                DPC_ARRAY_WRITABLE | DPC_ARRAY_TRUST_SHARED, count_release, &ctx_count, &a),
             DPC_SUCCESS);
    CHECK_ST(dpc_array_get_usm_kind(a, &kind), DPC_SUCCESS);
    CHECK(kind == DPC_USM_SHARED);
    CHECK_ST(dpc_array_release(a), DPC_SUCCESS);
    CHECK(released == 1);

    /* Failures: released at once, exactly once, and nothing written. */
    int32_t host_mem[6];
    dpc_array never = NULL;
    released = 0;
    CHECK_ST(dpc_array_from_usm(q, (dpc_dlpack_dtype){DPC_DL_INT, 32, 1}, 2, shape, NULL, host_mem, 0,
                                count_release, &ctx_count, &never),
             DPC_ERROR_INVALID_POINTER);
    CHECK_MSG_HAS("not USM");
    CHECK(released == 1 && never == NULL);
    CHECK_ST(dpc_array_from_usm(NULL, (dpc_dlpack_dtype){DPC_DL_INT, 32, 1}, 2, shape, NULL, mem, 0, count_release,
                                &ctx_count, &never),
             DPC_ERROR_INVALID_HANDLE);
    CHECK(released == 2);
    CHECK_ST(dpc_array_from_usm(q, (dpc_dlpack_dtype){DPC_DL_FLOAT, 24, 1}, 2, shape, NULL, mem, 0, count_release,
                                &ctx_count, &never),
             DPC_ERROR_INVALID_ARGUMENT);
    CHECK(released == 3);
    CHECK_ST(dpc_array_from_usm(q, (dpc_dlpack_dtype){DPC_DL_INT, 32, 1}, 2, shape, NULL, mem, 0x80, count_release,
                                &ctx_count, &never),
             DPC_ERROR_INVALID_ARGUMENT);
    CHECK(released == 4);
    CHECK_ST(dpc_array_from_usm(q, (dpc_dlpack_dtype){DPC_DL_INT, 32, 1}, 2, shape, NULL, mem, 0, count_release,
                                &ctx_count, NULL),
             DPC_ERROR_NULL_POINTER);
    CHECK(released == 5 && never == NULL);
    /* Empty arrays need no memory; no release function is fine. */
    int64_t empty_shape[1] = {0};
    CHECK_ST(dpc_array_from_usm(q, (dpc_dlpack_dtype){DPC_DL_INT, 32, 1}, 1, empty_shape, NULL, NULL, 0, NULL, NULL,
                                &a),
             DPC_SUCCESS);
    CHECK_ST(dpc_array_release(a), DPC_SUCCESS);
    CHECK_ST(dpc_array_release(m1), DPC_SUCCESS);
    CHECK_ST(dpc_usm_free(mem), DPC_SUCCESS);
}

int main(void) {
    size_t n = 0;
    CHECK_ST(dpc_device_count(&n), DPC_SUCCESS);
    /* Arrays on the default device; no device at all is a failure. */
    dpc_device all[TEST_MAX_DEVICES];
    if (test_devices("test_arrays", all, TEST_MAX_DEVICES) == 0) return 1;
    ndim_sweep();
    creation_and_views();
    dlpack();
    common_queue();
    from_usm();
    CHECK_ST(dpc_usm_wait_deferred_frees(), DPC_SUCCESS);
    return check_report("test_arrays");
}
