/* Copies between arrays on the device: every pair of the 14 data types
 * (contiguous, strided and 2-D), strided copies for ndim 0-8 and 10 with
 * negative and zero strides checked element by element against a host
 * reference, broadcasting, overlap, size 0, read-only destinations, shape
 * errors, host (kDLCPU) arrays on either side, another context, and
 * dpc_array_astype / dpc_array_to_device. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "check.h"

#define NT 14
static const dpc_dlpack_dtype TYPES[NT] = {
    {DPC_DL_BOOL, 8, 1},    {DPC_DL_INT, 8, 1},     {DPC_DL_INT, 16, 1},    {DPC_DL_INT, 32, 1},
    {DPC_DL_INT, 64, 1},    {DPC_DL_UINT, 8, 1},    {DPC_DL_UINT, 16, 1},   {DPC_DL_UINT, 32, 1},
    {DPC_DL_UINT, 64, 1},   {DPC_DL_FLOAT, 16, 1},  {DPC_DL_FLOAT, 32, 1},  {DPC_DL_FLOAT, 64, 1},
    {DPC_DL_COMPLEX, 64, 1}, {DPC_DL_COMPLEX, 128, 1},
};
static const char *NAMES[NT] = {"bool", "int8",  "int16",   "int32",   "int64",     "uint8",      "uint16",
                                "uint32", "uint64", "float16", "float32", "float64", "complex64", "complex128"};
static const dpc_dlpack_dtype F64 = {DPC_DL_FLOAT, 64, 1};
static const dpc_dlpack_dtype I32 = {DPC_DL_INT, 32, 1};

static int is_complex(dpc_dlpack_dtype t) { return t.code == DPC_DL_COMPLEX; }
static int is_float(dpc_dlpack_dtype t) { return t.code == DPC_DL_FLOAT || t.code == DPC_DL_COMPLEX; }
static int is_signed(dpc_dlpack_dtype t) { return t.code == DPC_DL_INT || is_float(t); }
static size_t esize(dpc_dlpack_dtype t) { return t.bits / 8; }

/* float16 bits of a value exactly representable in float16, and back. */
static uint16_t to_half(double v) {
    if (v == 0) return signbit(v) ? 0x8000 : 0;
    uint16_t sign = v < 0 ? 0x8000 : 0;
    double a = fabs(v);
    int e = 0;
    double m = frexp(a, &e); /* a = m * 2^e, m in [0.5, 1) */
    int exp = e - 1 + 15;
    uint16_t mant = (uint16_t)((m * 2 - 1) * 1024 + 0.5);
    return (uint16_t)(sign | (exp << 10) | mant);
}
static double from_half(uint16_t h) {
    int exp = (h >> 10) & 31, mant = h & 1023;
    double v = exp == 0 ? ldexp(mant, -24) : ldexp(1024 + mant, exp - 25);
    return (h & 0x8000) ? -v : v;
}

/* Store (re, im) at element i of a host buffer of type t, as a C cast would. */
static void put(dpc_dlpack_dtype t, void *buf, size_t i, double re, double im) {
    char *p = (char *)buf + i * esize(t);
    switch (t.code) {
    case DPC_DL_BOOL: *(uint8_t *)p = re != 0 || im != 0; break;
    case DPC_DL_INT:
        if (t.bits == 8) *(int8_t *)p = (int8_t)re;
        else if (t.bits == 16) *(int16_t *)p = (int16_t)re;
        else if (t.bits == 32) *(int32_t *)p = (int32_t)re;
        else *(int64_t *)p = (int64_t)re;
        break;
    case DPC_DL_UINT:
        if (t.bits == 8) *(uint8_t *)p = (uint8_t)re;
        else if (t.bits == 16) *(uint16_t *)p = (uint16_t)re;
        else if (t.bits == 32) *(uint32_t *)p = (uint32_t)re;
        else *(uint64_t *)p = (uint64_t)re;
        break;
    case DPC_DL_FLOAT:
        if (t.bits == 16) *(uint16_t *)p = to_half(re);
        else if (t.bits == 32) *(float *)p = (float)re;
        else *(double *)p = re;
        break;
    default:
        if (t.bits == 64) { ((float *)p)[0] = (float)re; ((float *)p)[1] = (float)im; }
        else { ((double *)p)[0] = re; ((double *)p)[1] = im; }
    }
}

/* Element i of a host buffer of type t as (re, im). */
static void get(dpc_dlpack_dtype t, const void *buf, size_t i, double *re, double *im) {
    const char *p = (const char *)buf + i * esize(t);
    *im = 0;
    switch (t.code) {
    case DPC_DL_BOOL: *re = *(const uint8_t *)p; break;
    case DPC_DL_INT:
        *re = t.bits == 8 ? *(const int8_t *)p : t.bits == 16 ? *(const int16_t *)p
            : t.bits == 32 ? *(const int32_t *)p : (double)*(const int64_t *)p;
        break;
    case DPC_DL_UINT:
        *re = t.bits == 8 ? *(const uint8_t *)p : t.bits == 16 ? *(const uint16_t *)p
            : t.bits == 32 ? *(const uint32_t *)p : (double)*(const uint64_t *)p;
        break;
    case DPC_DL_FLOAT:
        *re = t.bits == 16 ? from_half(*(const uint16_t *)p) : t.bits == 32 ? *(const float *)p : *(const double *)p;
        break;
    default:
        if (t.bits == 64) { *re = ((const float *)p)[0]; *im = ((const float *)p)[1]; }
        else { *re = ((const double *)p)[0]; *im = ((const double *)p)[1]; }
    }
}

/* Source values: in range for every type; fractions only for float sources
 * and imaginary parts only for complex ones. */
#define NV 10
static void source_value(dpc_dlpack_dtype s, int i, double *re, double *im) {
    static const double ints[NV] = {0, 1, 2, 3, 5, 7, 100, 126, 64, 9};
    static const double negs[NV] = {0, -1, 2, -3, 5, -7, 100, -126, 64, -9};
    static const double fracs[NV] = {0, 1.5, -2.75, 3.25, 0.5, -0.5, 100.75, 126, -64.5, 9};
    *re = s.code == DPC_DL_BOOL ? (i % 3 != 0) : is_float(s) ? fracs[i] : is_signed(s) ? negs[i] : ints[i];
    *im = is_complex(s) ? (i % 2 ? 0.5 * i : 0) : 0;
}

/* What the conversion of (re, im) from s to d should give, as (re, im). */
static void expected(dpc_dlpack_dtype d, double re, double im, double *ere, double *eim) {
    char tmp[16];
    put(d, tmp, 0, re, im);
    get(d, tmp, 0, ere, eim);
}

/* Every source value, converted from s to d, must be representable in d
 * unless d is unsigned and the value negative (then both sides skip it). */
static int comparable(dpc_dlpack_dtype d, double re) {
    return !(d.code == DPC_DL_UINT && re < 0);
}

static void all_pairs(void) {
    int pairs = 0, bad_pairs = 0;
    for (int si = 0; si < NT; ++si) {
        for (int di = 0; di < NT; ++di) {
            dpc_dlpack_dtype s = TYPES[si], d = TYPES[di];
            char sbuf[NV * 16], dbuf[NV * 16], back[2 * NV * 16];
            for (int i = 0; i < NV; ++i) {
                double re, im;
                source_value(s, i, &re, &im);
                put(s, sbuf, (size_t)i, re, im);
            }
            int64_t shape[1] = {NV}, wide[1] = {2 * NV};
            dpc_array a = NULL, b = NULL, z = NULL, zs = NULL, r = NULL;
            CHECK_ST(dpc_array_from_host(NULL, s, 1, shape, sbuf, NULL, 0, &a), DPC_SUCCESS);
            /* Contiguous: astype. */
            CHECK_ST(dpc_array_astype(a, d, &b), DPC_SUCCESS);
            CHECK_ST(dpc_array_to_host(b, dbuf, NULL), DPC_SUCCESS);
            /* Strided: the reversed source into every other element. */
            int64_t rstep[1] = {-1}, two[1] = {2};
            CHECK_ST(dpc_array_slice(a, NULL, NULL, rstep, &r), DPC_SUCCESS);
            CHECK_ST(dpc_array_zeros(NULL, d, 1, wide, DPC_USM_SHARED, &z), DPC_SUCCESS);
            CHECK_ST(dpc_array_slice(z, NULL, NULL, two, &zs), DPC_SUCCESS);
            CHECK_ST(dpc_array_copy(r, zs), DPC_SUCCESS);
            CHECK_ST(dpc_array_to_host(z, back, NULL), DPC_SUCCESS);
            int bad = 0;
            for (int i = 0; i < NV; ++i) {
                double re, im, ere, eim, gre, gim;
                source_value(s, i, &re, &im);
                if (!comparable(d, re)) continue;
                expected(d, re, im, &ere, &eim);
                get(d, dbuf, (size_t)i, &gre, &gim);
                if (gre != ere || gim != eim) {
                    if (bad < 3)
                        fprintf(stderr, "%s -> %s: element %d (%g%+gi) gave %g%+gi, expected %g%+gi\n", NAMES[si],
                                NAMES[di], i, re, im, gre, gim, ere, eim);
                    ++bad;
                }
                /* Strided copy: back[2k] = src[NV-1-k]. */
                get(d, back, (size_t)(2 * (NV - 1 - i)), &gre, &gim);
                if (gre != ere || gim != eim) ++bad;
                get(d, back, (size_t)(2 * (NV - 1 - i) + 1), &gre, &gim);
                if (gre != 0 || gim != 0) ++bad;
            }
            ++pairs;
            if (bad) {
                ++bad_pairs;
                fprintf(stderr, "%s -> %s: %d wrong elements\n", NAMES[si], NAMES[di], bad);
            }
            dpc_array_release(a);
            dpc_array_release(b);
            dpc_array_release(r);
            dpc_array_release(z);
            dpc_array_release(zs);
        }
    }
    CHECK(pairs == NT * NT);
    CHECK(bad_pairs == 0);
}

/* For ndim 0..8 and 10: a reversed-and-transposed source copied into a
 * strided destination view, same type (bit moves) and float64 -> int32. */
static void ndim_sweep(void) {
    int dims[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10};
    for (size_t k = 0; k < sizeof dims / sizeof *dims; ++k) {
        int nd = dims[k];
        int64_t shape[10], cstr[10];
        for (int d = 0; d < nd; ++d) shape[d] = nd > 8 ? 2 : 2 + (d % 3 == 0); /* 3,2,2,3,... */
        int64_t n = count_of(nd, shape);
        cstr[nd > 0 ? nd - 1 : 0] = 1;
        for (int d = nd - 2; d >= 0; --d) cstr[d] = cstr[d + 1] * shape[d + 1];
        double *host = malloc(sizeof(double) * (size_t)n);
        for (int64_t i = 0; i < n; ++i) host[i] = (double)i - 3;
        dpc_array a = NULL, r = NULL, t = NULL;
        CHECK_ST(dpc_array_from_host(NULL, F64, nd, shape, host, NULL, 0, &a), DPC_SUCCESS);
        /* r: every axis reversed (negative strides); t: r transposed. */
        int64_t steps[10];
        int32_t axes[10];
        for (int d = 0; d < nd; ++d) { steps[d] = -1; axes[d] = nd - 1 - d; }
        CHECK_ST(dpc_array_slice(a, NULL, NULL, nd ? steps : NULL, &r), DPC_SUCCESS);
        CHECK_ST(dpc_array_permute(r, axes, &t), DPC_SUCCESS);
        int64_t tshape[10], tstr[10];
        for (int d = 0; d < nd; ++d) { tshape[d] = shape[nd - 1 - d]; tstr[d] = -cstr[nd - 1 - d]; }
        /* Element j of t (C order) is host[(n-1) + offset_of(t layout)]. */
        for (int pass = 0; pass < 2; ++pass) {
            dpc_dlpack_dtype dt = pass == 0 ? F64 : I32;
            /* Destination: every other element along the last axis of a wider array. */
            int64_t wshape[10];
            for (int d = 0; d < nd; ++d) wshape[d] = tshape[d] * (d == nd - 1 ? 2 : 1);
            dpc_array w = NULL, ws = NULL;
            CHECK_ST(dpc_array_zeros(NULL, dt, nd, wshape, 0, &w), DPC_SUCCESS);
            int64_t wsteps[10];
            for (int d = 0; d < nd; ++d) wsteps[d] = d == nd - 1 ? 2 : 1;
            CHECK_ST(dpc_array_slice(w, NULL, NULL, nd ? wsteps : NULL, &ws), DPC_SUCCESS);
            CHECK_ST(dpc_array_copy(t, ws), DPC_SUCCESS);
            int64_t wn = count_of(nd, wshape);
            double *wd = malloc(sizeof(double) * (size_t)wn);
            int32_t *wi = malloc(sizeof(int32_t) * (size_t)wn);
            CHECK_ST(dpc_array_to_host(w, pass == 0 ? (void *)wd : (void *)wi, NULL), DPC_SUCCESS);
            int bad = 0;
            for (int64_t j = 0; j < wn; ++j) {
                /* C index j of w -> index of t when the last coordinate is even. */
                int64_t rem = j, tj = 0, mul = 1, odd = 0;
                for (int d = nd - 1; d >= 0; --d) {
                    int64_t c = rem % wshape[d];
                    rem /= wshape[d];
                    if (d == nd - 1) { odd = c % 2; c /= 2; }
                    tj += c * mul;
                    mul *= tshape[d];
                }
                double want = odd ? 0 : host[(n - 1) + offset_of_c_index(nd, tshape, tstr, tj)];
                double got = pass == 0 ? wd[j] : (double)wi[j];
                if (pass == 1) want = (double)(int32_t)want;
                bad += got != want;
            }
            if (bad) fprintf(stderr, "ndim %d pass %d: %d wrong elements\n", nd, pass, bad);
            CHECK(bad == 0);
            free(wd);
            free(wi);
            dpc_array_release(ws);
            dpc_array_release(w);
        }
        dpc_array_release(t);
        dpc_array_release(r);
        dpc_array_release(a);
        free(host);
    }
}

/* Zero strides (broadcast), overlap, size 0, errors. */
static void broadcast_overlap_errors(void) {
    int32_t row[4] = {1, 2, 3, 4}, out[12];
    int64_t s4[1] = {4}, s34[2] = {3, 4}, s43[2] = {4, 3};
    dpc_array r = NULL, m = NULL;
    CHECK_ST(dpc_array_from_host(NULL, I32, 1, s4, row, NULL, 0, &r), DPC_SUCCESS);
    CHECK_ST(dpc_array_zeros(NULL, F64, 2, s34, 0, &m), DPC_SUCCESS);
    CHECK_ST(dpc_array_copy(r, m), DPC_SUCCESS); /* (4,) -> (3, 4), int32 -> float64 */
    double md[12];
    CHECK_ST(dpc_array_to_host(m, md, NULL), DPC_SUCCESS);
    int bad = 0;
    for (int i = 0; i < 12; ++i) bad += md[i] != row[i % 4];
    CHECK(bad == 0);
    /* A 0-d source fills everything. */
    int32_t seven = 7;
    dpc_array s0 = NULL, mi = NULL;
    CHECK_ST(dpc_array_from_host(NULL, I32, 0, NULL, &seven, NULL, 0, &s0), DPC_SUCCESS);
    CHECK_ST(dpc_array_empty(NULL, I32, 2, s34, 0, &mi), DPC_SUCCESS);
    CHECK_ST(dpc_array_copy(s0, mi), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_host(mi, out, NULL), DPC_SUCCESS);
    bad = 0;
    for (int i = 0; i < 12; ++i) bad += out[i] != 7;
    CHECK(bad == 0);
    /* Shapes that do not broadcast: the message names both. */
    dpc_array m43 = NULL;
    CHECK_ST(dpc_array_zeros(NULL, I32, 2, s43, 0, &m43), DPC_SUCCESS);
    CHECK_ST(dpc_array_copy(mi, m43), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("[3, 4]");
    CHECK_MSG_HAS("[4, 3]");
    CHECK_ST(dpc_array_copy(m43, r), DPC_ERROR_INVALID_ARGUMENT);
    /* Read-only destination. */
    dpc_array ro = NULL;
    CHECK_ST(dpc_array_as_read_only(mi, &ro), DPC_SUCCESS);
    CHECK_ST(dpc_array_copy(r, ro), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("read-only");
    CHECK_ST(dpc_array_copy(ro, m), DPC_SUCCESS); /* reading from it is fine */
    /* Overlap: an array reversed into itself, and shifted by one. */
    int32_t iota[12];
    for (int i = 0; i < 12; ++i) iota[i] = i;
    int64_t s12[1] = {12}, rev[1] = {-1};
    dpc_array v = NULL, vr = NULL;
    CHECK_ST(dpc_array_from_host(NULL, I32, 1, s12, iota, NULL, 0, &v), DPC_SUCCESS);
    CHECK_ST(dpc_array_slice(v, NULL, NULL, rev, &vr), DPC_SUCCESS);
    CHECK_ST(dpc_array_copy(vr, v), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_host(v, out, NULL), DPC_SUCCESS);
    bad = 0;
    for (int i = 0; i < 12; ++i) bad += out[i] != 11 - i;
    CHECK(bad == 0);
    int64_t lo[1] = {0}, hi[1] = {11}, lo1[1] = {1}, hi1[1] = {12};
    dpc_array head = NULL, tail = NULL;
    CHECK_ST(dpc_array_slice(v, lo, hi, NULL, &head), DPC_SUCCESS);
    CHECK_ST(dpc_array_slice(v, lo1, hi1, NULL, &tail), DPC_SUCCESS);
    CHECK_ST(dpc_array_copy(head, tail), DPC_SUCCESS); /* v[1:] = v[:-1] */
    CHECK_ST(dpc_array_to_host(v, out, NULL), DPC_SUCCESS);
    bad = out[0] != 11;
    for (int i = 1; i < 12; ++i) bad += out[i] != 12 - i;
    CHECK(bad == 0);
    /* Size 0. */
    int64_t s0x4[2] = {0, 4};
    dpc_array e1 = NULL, e2 = NULL;
    CHECK_ST(dpc_array_empty(NULL, I32, 2, s0x4, 0, &e1), DPC_SUCCESS);
    CHECK_ST(dpc_array_empty(NULL, F64, 2, s0x4, 0, &e2), DPC_SUCCESS);
    CHECK_ST(dpc_array_copy(e1, e2), DPC_SUCCESS);
    dpc_array e3 = NULL;
    CHECK_ST(dpc_array_astype(e1, F64, &e3), DPC_SUCCESS);
    /* Bad handles and pointers. */
    CHECK_ST(dpc_array_copy(NULL, m), DPC_ERROR_INVALID_HANDLE);
    CHECK_ST(dpc_array_copy(m, NULL), DPC_ERROR_INVALID_HANDLE);
    CHECK_ST(dpc_array_astype(m, I32, NULL), DPC_ERROR_NULL_POINTER);
    dpc_dlpack_dtype bogus = {DPC_DL_FLOAT, 24, 1};
    dpc_array never = NULL;
    CHECK_ST(dpc_array_astype(m, bogus, &never), DPC_ERROR_INVALID_ARGUMENT);
    CHECK(never == NULL);
    dpc_array arrs[] = {r, m, s0, mi, m43, ro, v, vr, head, tail, e1, e2, e3};
    for (size_t i = 0; i < sizeof arrs / sizeof *arrs; ++i) CHECK_ST(dpc_array_release(arrs[i]), DPC_SUCCESS);
}

/* Host (kDLCPU) arrays on either side, another context, to_device. */
static void host_and_contexts(void) {
    double hv[6] = {1.5, -2.5, 3.75, 4, -5, 6.25};
    int64_t shape[2] = {2, 3};
    dpc_dlpack_managed_tensor ht = {{hv, {DPC_DL_CPU, 0}, 2, {DPC_DL_FLOAT, 64, 1}, shape, NULL, 0}, NULL, NULL};
    dpc_array h = NULL;
    CHECK_ST(dpc_array_from_dlpack(&ht, &h), DPC_SUCCESS);
    /* Host -> device with conversion. */
    dpc_array di = NULL;
    CHECK_ST(dpc_array_empty(NULL, I32, 2, shape, 0, &di), DPC_SUCCESS);
    CHECK_ST(dpc_array_copy(h, di), DPC_SUCCESS);
    int32_t out[6];
    CHECK_ST(dpc_array_to_host(di, out, NULL), DPC_SUCCESS);
    int bad = 0;
    for (int i = 0; i < 6; ++i) bad += out[i] != (int32_t)hv[i];
    CHECK(bad == 0);
    /* astype on a host array: an error with advice. */
    dpc_array never = NULL;
    CHECK_ST(dpc_array_astype(h, I32, &never), DPC_ERROR_INVALID_ARGUMENT);
    CHECK_MSG_HAS("dpc_array_to_device");
    /* Device -> host, transposed, with conversion (int32 -> float64). */
    int32_t tv[6] = {10, 20, 30, 40, 50, 60};
    dpc_array src = NULL, srcT = NULL;
    int64_t s32[2] = {3, 2};
    CHECK_ST(dpc_array_from_host(NULL, I32, 2, s32, tv, NULL, 0, &src), DPC_SUCCESS);
    int32_t ax[2] = {1, 0};
    CHECK_ST(dpc_array_permute(src, ax, &srcT), DPC_SUCCESS); /* (2, 3) */
    CHECK_ST(dpc_array_copy(srcT, h), DPC_SUCCESS);
    bad = 0;
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j) bad += hv[i * 3 + j] != tv[j * 2 + i];
    CHECK(bad == 0);
    /* Host -> host with conversion (through the default device). */
    float fv[6] = {0};
    dpc_dlpack_managed_tensor ft = {{fv, {DPC_DL_CPU, 0}, 2, {DPC_DL_FLOAT, 32, 1}, shape, NULL, 0}, NULL, NULL};
    dpc_array hf = NULL;
    CHECK_ST(dpc_array_from_dlpack(&ft, &hf), DPC_SUCCESS);
    CHECK_ST(dpc_array_copy(h, hf), DPC_SUCCESS);
    bad = 0;
    for (int i = 0; i < 6; ++i) bad += fv[i] != (float)hv[i];
    CHECK(bad == 0);
    /* Another context on the same device: staged, converted. */
    dpc_device dev = NULL;
    CHECK_ST(dpc_device_default(&dev), DPC_SUCCESS);
    dpc_context ctx = NULL;
    CHECK_ST(dpc_context_create(&dev, 1, &ctx), DPC_SUCCESS);
    dpc_queue q2 = NULL;
    CHECK_ST(dpc_queue_create(ctx, dev, DPC_QUEUE_IN_ORDER, &q2), DPC_SUCCESS);
    dpc_array other = NULL;
    CHECK_ST(dpc_array_zeros(q2, F64, 2, shape, 0, &other), DPC_SUCCESS);
    CHECK_ST(dpc_array_copy(srcT, other), DPC_SUCCESS);
    double od[6];
    CHECK_ST(dpc_array_to_host(other, od, NULL), DPC_SUCCESS);
    bad = 0;
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j) bad += od[i * 3 + j] != tv[j * 2 + i];
    CHECK(bad == 0);
    /* to_device of a strided view: same context on the device, and onto q2. */
    dpc_array td = NULL, td2 = NULL;
    CHECK_ST(dpc_array_to_device(srcT, NULL, DPC_USM_SHARED, &td), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_device(srcT, q2, 0, &td2), DPC_SUCCESS);
    int32_t o1[6], o2[6];
    CHECK_ST(dpc_array_to_host(td, o1, NULL), DPC_SUCCESS);
    CHECK_ST(dpc_array_to_host(td2, o2, NULL), DPC_SUCCESS);
    uint32_t flags = 0;
    CHECK_ST(dpc_array_get_flags(td, &flags), DPC_SUCCESS);
    CHECK(flags & DPC_ARRAY_C_CONTIGUOUS);
    bad = 0;
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j) bad += o1[i * 3 + j] != tv[j * 2 + i] || o2[i * 3 + j] != tv[j * 2 + i];
    CHECK(bad == 0);
    dpc_array arrs[] = {h, di, src, srcT, hf, other, td, td2};
    for (size_t i = 0; i < sizeof arrs / sizeof *arrs; ++i) CHECK_ST(dpc_array_release(arrs[i]), DPC_SUCCESS);
    dpc_queue_release(q2);
    dpc_context_release(ctx);
}

int main(void) {
    /* Arrays on the default device (the SYCL default selector's choice); no
     * device at all is a failure, not a skip. */
    dpc_device all[TEST_MAX_DEVICES];
    if (test_devices("test_array_copy", all, TEST_MAX_DEVICES) == 0) return 1;
    all_pairs();
    ndim_sweep();
    broadcast_overlap_errors();
    host_and_contexts();
    return check_report("test_array_copy");
}
