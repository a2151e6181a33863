// dpcore's array copy library: strided copies with data type conversion,
// used by dpc_array_copy / dpc_array_astype / dpc_array_to_device.
//
// scripts/build-kernels.sh compiles this file once per module, one small
// module per conversion so that a program pays (about 40 ms on the OpenCL
// CPU device) only for the conversions it uses, and packs them all into
// copy_cast.pack, which libdpcore.so embeds:
//
//   -DDPC_SRC=S -DDPC_DST=D   module "S_D": a conversion from type S to D
//                             (tags b i8 i16 i32 i64 u8 u16 u32 u64 f16 f32
//                             f64 c64 c128; S != D)
//   -DDPC_MOVE=N              module "mN": a bit-exact copy of N-byte
//                             elements (N = 1, 2, 4, 8, 16), for copies
//                             without conversion
//   -DDPC_FP64                with any float64/complex128 type (those modules
//                             need a device with fp64; the others do not)
//
// Every module has the same four kernels, on its element types S and D
// (strides in elements; i, j, k = get_global_id(0), (1), (2)):
//
//   dpc_copy1(const S* src, long sstride, D* dst, long dstride)
//       dst[i * dstride] = convert(src[i * sstride])
//   dpc_copy2(const S* src, long ss0, long ss1, D* dst, long ds0, long ds1)
//       dst[i * ds0 + j * ds1] = convert(src[i * ss0 + j * ss1])
//   dpc_copy3(const S* src, long4 ss, D* dst, long4 ds)
//       the same over (i, j, k) with strides ss.xyz, ds.xyz
//   dpc_copyn(const S* src, D* dst, int nd, long8 shape, long8 sstrides,
//             long8 dstrides)
//       i is a C-order index into shape[0..nd) (nd <= 8); the offsets are
//       sum(index[d] * strides[d]). No division in the first three.
//
// Conversions (numpy's astype where it is defined): to bool is "!= 0"
// (either part of a complex); from bool is 0 or 1; complex to real keeps the
// real part; real to complex has imaginary part 0; float to integer
// truncates toward zero (out of range is undefined, as in C); float16 is
// read and written with vload_half / vstore_half (round to nearest even),
// so no device fp16 support is needed.

#ifdef DPC_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#define OVL static inline __attribute__((overloadable))

// ---- loads: a storage pointer to a value of the compute type
#define LOAD_b(p)    ((uchar)((p)[0] != 0))
#define LOAD_i8(p)   ((p)[0])
#define LOAD_i16(p)  ((p)[0])
#define LOAD_i32(p)  ((p)[0])
#define LOAD_i64(p)  ((p)[0])
#define LOAD_u8(p)   ((p)[0])
#define LOAD_u16(p)  ((p)[0])
#define LOAD_u32(p)  ((p)[0])
#define LOAD_u64(p)  ((p)[0])
#define LOAD_f16(p)  vload_half(0, (p))
#define LOAD_f32(p)  ((p)[0])
#define LOAD_f64(p)  ((p)[0])
#define LOAD_c64(p)  ((p)[0])
#define LOAD_c128(p) ((p)[0])

#define ST_b    uchar
#define ST_i8   char
#define ST_i16  short
#define ST_i32  int
#define ST_i64  long
#define ST_u8   uchar
#define ST_u16  ushort
#define ST_u32  uint
#define ST_u64  ulong
#define ST_f16  half
#define ST_f32  float
#define ST_f64  double
#define ST_c64  float2
#define ST_c128 double2

// ---- stores: one overload per compute type
#define INT_TYPES(X, A) X(A, char) X(A, short) X(A, int) X(A, long) \
    X(A, uchar) X(A, ushort) X(A, uint) X(A, ulong)

// Integer destinations.
#define STORE_INT_FROM_INT(T, V) \
    OVL void store_##T(__global T* p, V x) { p[0] = (T)x; }
#define STORE_INT(T)                                                          \
    INT_TYPES(STORE_INT_FROM_INT, T)                                          \
    OVL void store_##T(__global T* p, float x) { p[0] = f2_##T(x); }          \
    OVL void store_##T(__global T* p, float2 x) { p[0] = f2_##T(x.x); }       \
    STORE_INT_FP64(T)

// float to integer: signed types truncate; unsigned ones go through long
// (as numpy does on x86-64), ulong directly above 2^63.
static inline char f2_char(float x) { return (char)x; }
static inline short f2_short(float x) { return (short)x; }
static inline int f2_int(float x) { return (int)x; }
static inline long f2_long(float x) { return (long)x; }
static inline uchar f2_uchar(float x) { return (uchar)(long)x; }
static inline ushort f2_ushort(float x) { return (ushort)(long)x; }
static inline uint f2_uint(float x) { return (uint)(long)x; }
static inline ulong f2_ulong(float x) { return x >= 9223372036854775808.0f ? (ulong)x : (ulong)(long)x; }

#ifdef DPC_FP64
static inline ulong d2_ulong(double x) { return x >= 9223372036854775808.0 ? (ulong)x : (ulong)(long)x; }
static inline char d2_char(double x) { return (char)x; }
static inline short d2_short(double x) { return (short)x; }
static inline int d2_int(double x) { return (int)x; }
static inline long d2_long(double x) { return (long)x; }
static inline uchar d2_uchar(double x) { return (uchar)(long)x; }
static inline ushort d2_ushort(double x) { return (ushort)(long)x; }
static inline uint d2_uint(double x) { return (uint)(long)x; }
#define STORE_INT_FP64(T)                                                     \
    OVL void store_##T(__global T* p, double x) { p[0] = d2_##T(x); }         \
    OVL void store_##T(__global T* p, double2 x) { p[0] = d2_##T(x.x); }
#else
#define STORE_INT_FP64(T)
#endif

STORE_INT(char) STORE_INT(short) STORE_INT(int) STORE_INT(long)
STORE_INT(uchar) STORE_INT(ushort) STORE_INT(uint) STORE_INT(ulong)

// bool destination: stored as one byte, 0 or 1.
#define STORE_B_FROM(A, V) OVL void store_b(__global uchar* p, V x) { p[0] = x != 0; }
INT_TYPES(STORE_B_FROM, _)
STORE_B_FROM(_, float)
OVL void store_b(__global uchar* p, float2 x) { p[0] = x.x != 0 || x.y != 0; }
#ifdef DPC_FP64
STORE_B_FROM(_, double)
OVL void store_b(__global uchar* p, double2 x) { p[0] = x.x != 0 || x.y != 0; }
#endif

// Real floating destinations.
#define STORE_REAL_FROM(T, V) OVL void store_##T(__global T* p, V x) { p[0] = (T)x; }
#define STORE_REAL(T)                                                          \
    INT_TYPES(STORE_REAL_FROM, T)                                              \
    STORE_REAL_FROM(T, float)                                                  \
    OVL void store_##T(__global T* p, float2 x) { p[0] = (T)x.x; }             \
    STORE_REAL_FP64(T)
#ifdef DPC_FP64
#define STORE_REAL_FP64(T)                                                     \
    STORE_REAL_FROM(T, double)                                                 \
    OVL void store_##T(__global T* p, double2 x) { p[0] = (T)x.x; }
#else
#define STORE_REAL_FP64(T)
#endif
STORE_REAL(float)
#ifdef DPC_FP64
STORE_REAL(double)
#endif

// float16 destination through vstore_half (round to nearest even).
#define STORE_HALF_FROM(A, V) OVL void store_half(__global half* p, V x) { vstore_half((float)x, 0, p); }
INT_TYPES(STORE_HALF_FROM, _)
STORE_HALF_FROM(_, float)
OVL void store_half(__global half* p, float2 x) { vstore_half(x.x, 0, p); }
#ifdef DPC_FP64
OVL void store_half(__global half* p, double x) { vstore_half(x, 0, p); }
OVL void store_half(__global half* p, double2 x) { vstore_half(x.x, 0, p); }
#endif

// Complex destinations.
#define STORE_CPLX_FROM(C, V) \
    OVL void store_c##C(__global C##2* p, V x) { p[0] = (C##2)((C)x, (C)0); }
#define STORE_CPLX(C)                                                          \
    INT_TYPES(STORE_CPLX_FROM, C)                                              \
    STORE_CPLX_FROM(C, float)                                                  \
    OVL void store_c##C(__global C##2* p, float2 x) { p[0] = convert_##C##2(x); } \
    STORE_CPLX_FP64(C)
#ifdef DPC_FP64
#define STORE_CPLX_FP64(C)                                                     \
    STORE_CPLX_FROM(C, double)                                                 \
    OVL void store_c##C(__global C##2* p, double2 x) { p[0] = convert_##C##2(x); }
#else
#define STORE_CPLX_FP64(C)
#endif
STORE_CPLX(float)
#ifdef DPC_FP64
STORE_CPLX(double)
#endif

#define STORE_b    store_b
#define STORE_i8   store_char
#define STORE_i16  store_short
#define STORE_i32  store_int
#define STORE_i64  store_long
#define STORE_u8   store_uchar
#define STORE_u16  store_ushort
#define STORE_u32  store_uint
#define STORE_u64  store_ulong
#define STORE_f16  store_half
#define STORE_f32  store_float
#define STORE_f64  store_double
#define STORE_c64  store_cfloat
#define STORE_c128 store_cdouble

// ---- the kernels
#define KERNELS(SRC_T, DST_T, LOAD, STORE)                                    \
__kernel void dpc_copy1(__global const SRC_T* src, long sstride,              \
                        __global DST_T* dst, long dstride)                    \
{                                                                             \
    long i = (long)get_global_id(0);                                          \
    STORE(dst + i * dstride, LOAD(src + i * sstride));                        \
}                                                                             \
__kernel void dpc_copy2(__global const SRC_T* src, long ss0, long ss1,       \
                        __global DST_T* dst, long ds0, long ds1)              \
{                                                                             \
    long i = (long)get_global_id(0), j = (long)get_global_id(1);              \
    STORE(dst + i * ds0 + j * ds1, LOAD(src + i * ss0 + j * ss1));            \
}                                                                             \
__kernel void dpc_copy3(__global const SRC_T* src, long4 ss,                  \
                        __global DST_T* dst, long4 ds)                        \
{                                                                             \
    long i = (long)get_global_id(0), j = (long)get_global_id(1),              \
         k = (long)get_global_id(2);                                          \
    STORE(dst + i * ds.x + j * ds.y + k * ds.z,                               \
          LOAD(src + i * ss.x + j * ss.y + k * ss.z));                        \
}                                                                             \
__kernel void dpc_copyn(__global const SRC_T* src, __global DST_T* dst,       \
                        int nd, long8 shape, long8 sstrides, long8 dstrides)  \
{                                                                             \
    long sh[8], ss[8], ds[8];                                                 \
    vstore8(shape, 0, sh);                                                    \
    vstore8(sstrides, 0, ss);                                                 \
    vstore8(dstrides, 0, ds);                                                 \
    long so = 0, dof = 0;                                                     \
    if (get_global_size(0) <= 0x7fffffff) {                                   \
        /* 32-bit index arithmetic: divisions are much cheaper. */           \
        uint i = (uint)get_global_id(0);                                      \
        for (int d = nd - 1; d >= 0; --d) {                                   \
            uint q = i / (uint)sh[d], k = i - q * (uint)sh[d];                \
            i = q;                                                            \
            so += (long)k * ss[d];                                            \
            dof += (long)k * ds[d];                                           \
        }                                                                     \
    } else {                                                                  \
        long i = (long)get_global_id(0);                                      \
        for (int d = nd - 1; d >= 0; --d) {                                   \
            long q = i / sh[d], k = i - q * sh[d];                            \
            i = q;                                                            \
            so += k * ss[d];                                                  \
            dof += k * ds[d];                                                 \
        }                                                                     \
    }                                                                         \
    STORE(dst + dof, LOAD(src + so));                                         \
}

#define EXPAND_KERNELS(S, D) \
    KERNELS(ST_##S, ST_##D, LOAD_##S, STORE_##D)
#define PAIR(S, D) EXPAND_KERNELS(S, D)

#if defined(DPC_SRC) && defined(DPC_DST)
PAIR(DPC_SRC, DPC_DST)
#elif defined(DPC_MOVE)
#define MOVE_T_1 uchar
#define MOVE_T_2 ushort
#define MOVE_T_4 uint
#define MOVE_T_8 ulong
#define MOVE_T_16 ulong2
#define MOVE_LOAD(p) ((p)[0])
#define MOVE_STORE(p, x) ((p)[0] = (x))
#define MOVE_KERNELS(N) KERNELS(MOVE_T_##N, MOVE_T_##N, MOVE_LOAD, MOVE_STORE)
#define MOVE_EXPAND(N) MOVE_KERNELS(N)
MOVE_EXPAND(DPC_MOVE)
#else
#error "define DPC_SRC and DPC_DST, or DPC_MOVE (see the top of this file)"
#endif
