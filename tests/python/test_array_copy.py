"""dpc_array_copy and dpc_array_astype against numpy as the reference.

Conversions must match numpy's `astype` exactly: to bool is "non-zero"
(complex: either part), complex to real keeps the real part, float to
integer truncates toward zero (only in-range values are tested), float16
rounds to nearest even. Copies must match numpy's assignment `dst[...] =
src` for any strides on either side, broadcasting, and overlapping memory.

The array helpers (from_host, to_host, capsule import, ...) come from
test_dlpack.py; the two new functions, and dpc_array_zeros, are declared
here on a separate handle of the same library.
"""
import ctypes
import pathlib
import sys
import warnings
from ctypes import POINTER, byref, c_int32, c_int64

import pytest

import dpctl  # noqa: F401  (required: dpnp needs it; conftest.py imports every required package)
import dpnp
import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # also under --import-mode=importlib
    sys.path.insert(0, str(HERE))

import test_dlpack as T  # noqa: E402
from test_dlpack import (  # noqa: E402
    DL_BOOL,
    DL_FLOAT,
    DLDataType,
    DPC_ARRAY_C_CONTIGUOUS,
    DPC_ARRAY_WRITABLE,
    DPC_ERROR_INVALID_ARGUMENT,
    DPC_ERROR_NULL_POINTER,
    DPC_SLICE_NONE,
    USM_DEVICE,
    USM_SHARED,
    P,
    PP,
    check,
    data_of,
    dl_dtype,
    dtype_of,
    flags_of,
    i64_array,
    import_capsule,
    last_error,
    ndim_of,
    shape_of,
    to_host,
    usm_kind_of,
    usm_ptr,
)

DPC_ERROR_INVALID_HANDLE = 3

ComplexWarning = np.exceptions.ComplexWarning


def _load():
    lib = ctypes.CDLL(str(T.LIB_PATH))
    sigs = {
        "dpc_array_copy": [P, P],
        "dpc_array_astype": [P, DLDataType, PP],
        "dpc_array_zeros": [P, DLDataType, c_int32, POINTER(c_int64), c_int32, PP],
    }
    for name, args in sigs.items():
        f = getattr(lib, name)
        f.argtypes = args
        f.restype = c_int32
    return lib


LIB = _load()


def dl(dt):
    return DLDataType(*dl_dtype(dt))


def np_astype(a, dt):
    """numpy's reference conversion, without its warnings (complex to real,
    float16 overflow to inf)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", ComplexWarning)
        return a.astype(dt)


def assert_same(got, expected):
    """Exact equality (NaN equals NaN), and the same sign on zeros."""
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_array_equal(got, expected, strict=True)
    if expected.dtype.kind in "fc":
        parts = (np.real, np.imag) if expected.dtype.kind == "c" else (lambda x: x,)
        for part in parts:
            g, e = part(got), part(expected)
            mask = ~np.isnan(e)
            bad = np.signbit(g[mask]) != np.signbit(e[mask])
            assert not bad.any(), f"sign differs at {e[mask][bad][:10]} (got {g[mask][bad][:10]})"


class Arrays:
    """dpcore handles made by a test, released at its end."""

    def __init__(self):
        self.handles = []

    def keep(self, h):
        assert h.value, "NULL handle"
        self.handles.append(h)
        return h

    def host(self, a, usm_kind=0):
        a = np.asarray(a)  # (not np.ascontiguousarray: it makes 0-d arrays 1-d)
        return self.keep(T.from_host(a if a.flags.c_contiguous else a.copy(order="C"), usm_kind))

    def zeros(self, shape, dt, usm_kind=0):
        out = P()
        check(LIB.dpc_array_zeros(None, dl(dt), len(shape), i64_array(shape), usm_kind, byref(out)))
        return self.keep(out)

    def view(self, arr, *key):
        """arr[key] for a tuple of slices (missing trailing dimensions: `:`)."""
        n = ndim_of(arr)
        key = list(key) + [slice(None)] * (n - len(key))
        none = DPC_SLICE_NONE
        starts = [none if s.start is None else s.start for s in key]
        stops = [none if s.stop is None else s.stop for s in key]
        steps = [1 if s.step is None else s.step for s in key]
        out = P()
        check(T.LIB.dpc_array_slice(arr, i64_array(starts), i64_array(stops), i64_array(steps), byref(out)))
        return self.keep(out)

    def permute(self, arr, axes):
        out = P()
        check(T.LIB.dpc_array_permute(arr, (c_int32 * len(axes))(*axes), byref(out)))
        return self.keep(out)

    def read_only(self, arr):
        out = P()
        check(T.LIB.dpc_array_as_read_only(arr, byref(out)))
        return self.keep(out)

    def astype(self, arr, dt):
        out = P()
        check(LIB.dpc_array_astype(arr, dl(dt), byref(out)))
        return self.keep(out)

    def imported(self, obj):
        return self.keep(import_capsule(obj.__dlpack__(max_version=(1, 0))))

    def release_all(self):
        while self.handles:
            check(T.LIB.dpc_array_release(self.handles.pop()))


@pytest.fixture
def arrays():
    a = Arrays()
    yield a
    a.release_all()


def copy(src, dst):
    check(LIB.dpc_array_copy(src, dst))


# ================================================================ 1. astype, every dtype


RNG = np.random.default_rng(12345)


def _wide_floats(n):
    """Finite floats over many scales (subnormal to overflow for float16)."""
    x = RNG.standard_normal(n) * 10.0 ** RNG.integers(-9, 7, n)
    return np.concatenate([x, [0.0, -0.0, np.inf, -np.inf, np.nan]])


F16_TIES = [
    1 + 2**-11,                # tie: to even (1.0)
    1 + 3 * 2**-11,            # tie: to even (1 + 2**-9)
    1 + 2**-11 + 2**-40,       # just above a tie (float64 only: float32 would round to the tie first)
    2049.0, 2051.0, 2050.0,    # ties and an exact one above 2048
    65504.0, 65519.0, 65520.0, 1e5, -65520.0,  # max, below the overflow tie, the tie (inf), overflow
    2**-24, 2**-25, 3 * 2**-26, 2**-26, 1e-8, 6e-5, 2**-14 - 2**-25,  # subnormals
    -0.0, 0.0, np.inf, -np.inf, np.nan, -1.5, 0.1, 1 / 3,
]

# (source dtype, destination dtype, source values)
CASES = [
    # bool ->
    ("bool", "int32", [True, False, True, True, False]),
    ("bool", "float16", [True, False, False, True]),
    ("bool", "complex64", [False, True, True]),
    ("bool", "uint64", [True, False, True]),
    # int8 ->
    ("int8", "float32", [0, 1, -1, 7, -8, 100, -128, 127]),
    ("int8", "uint16", [0, 1, -1, -128, 127, -2]),  # negatives wrap modulo 2**16
    # int16 ->
    ("int16", "float16", [0, 1, -1, 2047, 2048, 2049, 2051, -2051, 4097, 32767, -32768, 1000]),
    ("int16", "bool", [0, 1, -1, 0, 256, -32768]),
    # int32 ->
    ("int32", "int64", [0, 1, -1, 2**31 - 1, -(2**31), 123456789]),
    ("int32", "float64", [0, 1, -1, 2**31 - 1, -(2**31), 123456789]),
    ("int32", "float32", [0, 16777216, 16777217, 16777219, -16777219, 2**31 - 1, -(2**31), 33554435]),
    ("int32", "uint32", [0, 1, -1, -(2**31), 2**31 - 1]),
    # int64 ->
    ("int64", "int8", [0, 1, -1, 127, -128, 42]),
    ("int64", "float64", [0, 2**53, 2**53 + 1, 2**53 + 3, -(2**53) - 1, 2**63 - 1, -(2**63)]),
    ("int64", "complex128", [0, -5, 2**40, -(2**62)]),
    ("int64", "int64", [0, -1, 2**63 - 1, -(2**63)]),
    # uint8 ->
    ("uint8", "int16", [0, 1, 127, 128, 255]),
    ("uint8", "float32", [0, 1, 254, 255]),
    ("uint8", "bool", [0, 1, 128, 255, 0]),
    # uint16 ->
    ("uint16", "uint32", [0, 1, 32768, 65535]),
    ("uint16", "complex128", [0, 1, 65535, 4096]),
    # uint32 ->
    ("uint32", "float64", [0, 1, 2**31, 2**32 - 1]),
    ("uint32", "int64", [0, 1, 2**31, 2**32 - 1]),
    # uint64 ->
    ("uint64", "float32", [0, 1, 2**24 + 1, 2**63, 2**63 + 1, 2**64 - 1, 2**40 + 2**16 + 1]),
    ("uint64", "float64", [0, 1, 2**53 + 1, 2**63, 2**63 + 2**11, 2**63 + 2**10 + 1, 2**64 - 1]),
    ("uint64", "int64", [0, 1, 2**62, 2**63 - 1]),
    # float16 ->
    ("float16", "float32", np.arange(2**16, dtype="uint16").view("float16")),  # every float16
    ("float16", "int16", [0.0, -0.0, 2.5, -2.75, 0.99, -0.99, 32752.0, -32768.0, 1000.5, 65.0]),
    ("float16", "bool", [0.0, -0.0, 1.0, 2**-24, np.inf, np.nan, -3.0]),
    ("float16", "complex64", [0.0, -0.0, 1.5, -2**-24, 65504.0, np.inf, np.nan]),
    # float32 ->
    ("float32", "float16", np.concatenate([F16_TIES, _wide_floats(5000)])),
    ("float32", "int32", np.concatenate([[0.0, -0.0, 2.5, -2.5, -2.75, 0.99, -0.99, 2147483520.0, -2147483648.0],
                                         RNG.uniform(-2e9, 2e9, 200)])),
    ("float32", "uint8", [0.0, 0.5, 2.5, 2.75, 127.9, 128.0, 254.99, 255.0]),
    ("float32", "float64", np.concatenate([_wide_floats(500), [1e-45, 3.4028235e38]])),
    ("float32", "complex128", [0.0, -0.0, 1.5, -1e-40, np.inf, np.nan]),
    # float64 ->
    ("float64", "float32", np.concatenate([_wide_floats(2000), [1e39, -1e39, 1e-40, 1e-46, 1 + 2**-24, 1 + 3 * 2**-24,
                                                                 1 + 2**-24 + 2**-60, 3.4028235677973366e38]])),
    ("float64", "float16", np.concatenate([F16_TIES, _wide_floats(5000)])),
    ("float64", "int64", [0.0, -0.0, 2.5, -2.75, 0.99, -0.99, 2.0**62 + 2**10, -(2.0**63), 2.0**63 - 1024, 1e18 + 0.5]),
    ("float64", "uint64", [0.0, 0.5, 2.75, 2.0**53 + 2, 2.0**63 - 1024, 2.0**63, 2.0**63 + 2048, 1.5e19, 2.0**64 - 2048]),
    ("float64", "uint32", [0.0, 0.5, 2.75, 2.0**31, 2.0**31 + 0.5, 4294967295.5, 1e9 + 0.25]),
    ("float64", "bool", [0.0, -0.0, 1e-320, 0.5, -1.0, np.inf, np.nan]),
    # complex64 ->
    ("complex64", "float32", [0, 1 + 2j, -3.5 + 0.5j, 1j, 2.25 - 4j, -0.0 + 1j]),
    ("complex64", "bool", [0, 1j, 0.5 + 0j, -0.0 - 0.0j, 1e-40 + 0j, 0 + 1e-40j, np.nan + 0j]),
    ("complex64", "complex128", [0, 1 + 2j, -3.5 + 0.5j, complex(np.inf, -np.inf), complex(np.nan, 1.0), 1e-40 - 1e-41j]),
    # complex128 ->
    ("complex128", "complex64", [0, 1 + 2j, 1e300 + 1e-300j, (1 + 2**-24) + (1 + 3 * 2**-24) * 1j, 1e-40 - 1e-46j]),
    ("complex128", "float64", [0, 1 + 2j, -3.5 + 0.5j, 1j, 1e300 - 1e300j]),
    ("complex128", "int32", [0, 2.5 + 1j, -2.75 + 3j, 7j, -(2.0**31) + 1j, 2147483647.9 - 1j]),
    ("complex128", "float16", [0, 2049 + 1j, 1 + 2**-11 + 2**-40 - 5j, 65520 + 0j, -0.0 + 1j]),
]


def _case_id(c):
    return f"{c[0]}->{c[1]}"


def test_cases_cover_every_dtype():
    every = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
             "float16", "float32", "float64", "complex64", "complex128"}
    assert {c[0] for c in CASES} == every
    assert {c[1] for c in CASES} == every


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_astype_matches_numpy(case, arrays):
    src_dt, dst_dt, values = case
    if isinstance(values, np.ndarray) and values.dtype == np.dtype(src_dt):
        a = values
    else:
        a = np.array(values, dtype=src_dt)
    if src_dt.startswith("complex"):
        assert (a.imag != 0).any(), "complex sources need a nonzero imaginary part"
    expected = np_astype(a, dst_dt)

    src = arrays.host(a)
    out = arrays.astype(src, dst_dt)
    assert dtype_of(out) == dl_dtype(dst_dt)
    assert shape_of(out) == a.shape
    assert flags_of(out) & DPC_ARRAY_C_CONTIGUOUS
    assert flags_of(out) & DPC_ARRAY_WRITABLE
    if src_dt == dst_dt:
        assert data_of(out) != data_of(src), "astype to the same dtype must still copy"
    assert_same(to_host(out), expected)
    # The source is untouched.
    assert_same(to_host(src), a)

    # The same conversion through dpc_array_copy into a strided destination.
    dst = arrays.zeros((2,) + a.shape, dst_dt)
    copy(src, arrays.view(dst, slice(None, None, -1)))  # broadcast into both rows, reversed
    assert_same(to_host(dst), np.stack([expected, expected]))


def test_astype_strided_view_and_usm_kind(arrays):
    host = (np.arange(4 * 5 * 6, dtype="float64").reshape(4, 5, 6) - 60) / 4
    base = arrays.host(host, usm_kind=USM_SHARED)
    v = arrays.view(arrays.permute(base, (2, 0, 1)), slice(None, None, -2), slice(1, None), slice(4, 0, -3))
    expected_view = host.transpose(2, 0, 1)[::-2, 1:, 4:0:-3]
    assert shape_of(v) == expected_view.shape
    out = arrays.astype(v, "int16")
    assert usm_kind_of(out) == USM_SHARED
    assert flags_of(out) & DPC_ARRAY_C_CONTIGUOUS
    assert T.strides_of(out) == T.c_strides(expected_view.shape)
    assert_same(to_host(out), expected_view.astype("int16"))

    out2 = arrays.astype(v, "float64")
    assert usm_kind_of(out2) == USM_SHARED
    assert_same(to_host(out2), expected_view)

    dev = arrays.host(host)
    assert usm_kind_of(arrays.astype(dev, "float32")) == USM_DEVICE


def test_astype_zero_dim_and_empty(arrays):
    a = np.array(-2.75, dtype="float32")
    out = arrays.astype(arrays.host(a), "int8")
    assert ndim_of(out) == 0
    assert_same(to_host(out), a.astype("int8"))
    e = np.zeros((0, 3), dtype="complex64")
    out = arrays.astype(arrays.host(e), "bool")
    assert shape_of(out) == (0, 3)
    assert dtype_of(out) == (DL_BOOL, 8, 1)


# ================================================================ 2. strided copies


def test_copy_reversed_sliced_3d(arrays):
    host = np.arange(4 * 5 * 6, dtype="int32").reshape(4, 5, 6) * 3 - 100
    src = arrays.view(arrays.host(host), slice(None, None, -1), slice(1, 5, 2), slice(None, None, -2))
    src_np = host[::-1, 1:5:2, ::-2]
    assert shape_of(src) == src_np.shape == (4, 2, 3)

    for dst_dt in ("int32", "float64"):
        for key in [
            (slice(1, 5), slice(None, None, 3), slice(1, None, 3)),
            (slice(None, 4), slice(None, None, -3), slice(-1, 0, -3)),
        ]:
            dst_host = np.zeros((5, 6, 8), dtype=dst_dt)
            dst = arrays.zeros(dst_host.shape, dst_dt)
            dv = arrays.view(dst, *key)
            assert shape_of(dv) == dst_host[key].shape == src_np.shape
            copy(src, dv)
            dst_host[key] = src_np
            assert_same(to_host(dst), dst_host)


def test_copy_transposed_3d(arrays):
    host = np.arange(3 * 4 * 5, dtype="float32").reshape(3, 4, 5) / 8 - 3
    src = arrays.permute(arrays.host(host), (2, 0, 1))
    src_np = host.transpose(2, 0, 1)  # (5, 3, 4)
    for dst_dt in ("float32", "int64", "complex64"):
        dst_host = np.zeros((5, 6, 4), dtype=dst_dt)
        dst = arrays.zeros(dst_host.shape, dst_dt)
        copy(src, arrays.view(dst, slice(None), slice(None, None, -2)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ComplexWarning)
            dst_host[:, ::-2] = src_np
        assert_same(to_host(dst), dst_host)
    # A transposed destination too (a C-ordered source written in F order).
    dst_host = np.zeros((5, 4, 3), dtype="float32")
    dst = arrays.zeros(dst_host.shape, "float32")
    copy(arrays.host(host), arrays.permute(dst, (2, 1, 0)))
    dst_host.transpose(2, 1, 0)[...] = host
    assert_same(to_host(dst), dst_host)


# ================================================================ 3. broadcasting


@pytest.mark.parametrize(
    "src_shape,dst_shape",
    [((1, 4), (3, 4)), ((4,), (3, 4)), ((3, 1), (3, 4)), ((), (2, 3)), ((2, 1, 3), (2, 4, 3)), ((1,), (5,))],
    ids=["1x4-3x4", "4-3x4", "3x1-3x4", "0d-2x3", "2x1x3-2x4x3", "1-5"],
)
def test_copy_broadcast(src_shape, dst_shape, arrays):
    n = int(np.prod(src_shape))
    a = (np.arange(n, dtype="float64") * 1.25 - 2).reshape(src_shape)
    for dst_dt in ("float64", "int32", "float16"):
        expected = np.zeros(dst_shape, dtype=dst_dt)
        expected[...] = a
        dst = arrays.zeros(dst_shape, dst_dt)
        src = arrays.host(a)
        assert shape_of(src) == src_shape and shape_of(dst) == dst_shape
        copy(src, dst)
        assert_same(to_host(dst), expected)


def test_copy_broadcast_into_strided_view(arrays):
    a = np.array([1.5, -2.5, 3.75], dtype="float32")
    expected = np.zeros((4, 6, 3), dtype="int16")
    expected[::-2, 1::2] = a
    dst = arrays.zeros(expected.shape, "int16")
    copy(arrays.host(a), arrays.view(dst, slice(None, None, -2), slice(1, None, 2)))
    assert_same(to_host(dst), expected)


def test_copy_zero_stride_source(arrays, device_filter):
    """A dpnp broadcast view (strides 0 on the device) as the source."""
    x = dpnp.broadcast_to(dpnp.arange(4, dtype="int32", device=device_filter) - 1, (3, 4))
    src = arrays.imported(x)
    assert T.strides_of(src) == (0, 1)
    dst = arrays.zeros((3, 4), "float32")
    copy(src, dst)
    assert_same(to_host(dst), np.broadcast_to(np.arange(4, dtype="float32") - 1, (3, 4)).copy())
    out = arrays.astype(src, "bool")
    assert_same(to_host(out), np.broadcast_to(np.arange(4) - 1 != 0, (3, 4)).copy())


# ================================================================ 4. dpnp and numpy memory
# dpnp memory on each device dpcore finds (conftest.py's device_filter); dpcore's
# own arrays (from_host, zeros) on the default device.


def test_dpnp_source_zero_copy(arrays, device_filter):
    x = (dpnp.arange(24, dtype="f4", device=device_filter) * 0.75 - 7).reshape(4, 6)[::-1, ::2]
    expected = dpnp.asnumpy(x)
    assert expected.shape == (4, 3)
    src = arrays.imported(x)
    assert data_of(src) == usm_ptr(x), "the DLPack import is not zero-copy"
    assert T.strides_of(src) == (-6, 2)

    out = arrays.astype(src, "int32")
    assert usm_kind_of(out) == usm_kind_of(src)
    assert_same(to_host(out), expected.astype("int32"))

    dst_host = np.zeros((4, 6), dtype="float64")
    dst = arrays.zeros(dst_host.shape, "float64")
    copy(src, arrays.view(dst, slice(None), slice(1, None, 2)))
    dst_host[:, 1::2] = expected
    assert_same(to_host(dst), dst_host)


def test_copy_into_dpnp_memory(arrays, device_filter):
    y = dpnp.zeros((5, 8), dtype="f8", device=device_filter)
    yv = y[1:4, ::-2]
    dst = arrays.imported(yv)
    assert flags_of(dst) & DPC_ARRAY_WRITABLE
    assert data_of(dst) == usm_ptr(yv)

    a = np.arange(12, dtype="int32").reshape(3, 4) * 7 - 30
    copy(arrays.host(a), dst)
    expected = np.zeros((5, 8), dtype="f8")
    expected[1:4, ::-2] = a
    assert_same(dpnp.asnumpy(y), expected)

    # dpnp to dpnp: a broadcast dpnp source into the same dpnp array.
    x = dpnp.asarray(np.array([0.5, -1.5, 2.5, -3.5], dtype="f4"), device=device_filter)
    copy(arrays.imported(x), arrays.imported(y[::2, :4]))
    expected[::2, :4] = np.array([0.5, -1.5, 2.5, -3.5])
    assert_same(dpnp.asnumpy(y), expected)
    # dpnp still computes on the result.
    assert float(dpnp.asnumpy(y.sum())) == float(expected.sum())


def test_copy_between_host_and_device(arrays):
    """numpy memory (kDLCPU imports) on either side of a copy."""
    a = np.zeros((3, 4), dtype="float32")
    dst = arrays.imported(a)
    src_np = (np.arange(12, dtype="int64").reshape(4, 3) - 6).T
    copy(arrays.permute(arrays.host(src_np.T.copy()), (1, 0)), dst)
    assert_same(a, src_np.astype("float32"))

    b = np.broadcast_to(np.array([1.5, 0.0, -2.25], dtype="float64"), (2, 3))  # read-only, strides 0
    src = arrays.imported(b)
    d = arrays.zeros((2, 3), "int8")
    copy(src, d)
    assert_same(to_host(d), b.astype("int8"))


# ================================================================ 5. errors


def test_copy_into_read_only(arrays):
    a = arrays.host(np.arange(6, dtype="float32"))
    dst = arrays.host(np.full(6, 9, dtype="float32"))
    ro = arrays.read_only(dst)
    status = LIB.dpc_array_copy(a, ro)
    msg = last_error()
    assert status == DPC_ERROR_INVALID_ARGUMENT, (status, msg)
    assert "read-only" in msg, msg
    assert_same(to_host(dst), np.full(6, 9, dtype="float32"))

    h = np.full((2, 3), 5, dtype="int32")
    h.flags.writeable = False
    hro = arrays.imported(h)
    status = LIB.dpc_array_copy(arrays.host(np.zeros((2, 3), "int32")), hro)
    msg = last_error()
    assert status == DPC_ERROR_INVALID_ARGUMENT, (status, msg)
    assert "read-only" in msg, msg
    assert (h == 5).all()


@pytest.mark.parametrize(
    "src_shape,dst_shape,texts",
    [
        ((4,), (2, 3), ("[4]", "[2, 3]")),
        ((2, 3), (3,), ("[2, 3]", "[3]")),
        ((2, 3), (2, 4), ("[2, 3]", "[2, 4]")),
        ((3, 1), (2, 4), ("[3, 1]", "[2, 4]")),
        ((2, 3), (), ("[2, 3]", "[]")),
    ],
)
def test_copy_shapes_that_do_not_broadcast(src_shape, dst_shape, texts, arrays):
    src = arrays.host(np.ones(src_shape, dtype="float32"))
    dst = arrays.host(np.full(dst_shape, 3, dtype="float32"))
    status = LIB.dpc_array_copy(src, dst)
    msg = last_error()
    assert status == DPC_ERROR_INVALID_ARGUMENT, (status, msg)
    for t in texts:
        assert t in msg, f"{t!r} not in {msg!r}"
    assert (to_host(dst) == 3).all()


def test_null_handles_and_bad_arguments(arrays):
    a = arrays.host(np.arange(4, dtype="float32"))
    assert LIB.dpc_array_copy(None, a) == DPC_ERROR_INVALID_HANDLE, last_error()
    assert LIB.dpc_array_copy(a, None) == DPC_ERROR_INVALID_HANDLE, last_error()
    assert LIB.dpc_array_copy(None, None) == DPC_ERROR_INVALID_HANDLE, last_error()
    out = P()
    assert LIB.dpc_array_astype(None, dl("int32"), byref(out)) == DPC_ERROR_INVALID_HANDLE, last_error()
    assert not out.value
    assert LIB.dpc_array_astype(a, dl("int32"), None) == DPC_ERROR_NULL_POINTER, last_error()
    for bad in (DLDataType(DL_FLOAT, 7, 1), DLDataType(DL_FLOAT, 32, 2), DLDataType(99, 32, 1), DLDataType(DL_BOOL, 16, 1)):
        status = LIB.dpc_array_astype(a, bad, byref(out))
        assert status == DPC_ERROR_INVALID_ARGUMENT, (bad.code, bad.bits, bad.lanes, status, last_error())
        assert not out.value


def test_astype_of_host_array_is_refused(arrays):
    h = arrays.imported(np.arange(5, dtype="float64"))
    out = P()
    status = LIB.dpc_array_astype(h, dl("int32"), byref(out))
    assert status == DPC_ERROR_INVALID_ARGUMENT, (status, last_error())
    assert not out.value


# ================================================================ 6. overlapping memory


def test_copy_reversed_view_into_itself(arrays):
    host = np.arange(10, dtype="int64") * 3 - 4
    a = arrays.host(host)
    copy(arrays.view(a, slice(None, None, -1)), a)
    expected = host.copy()
    expected[:] = expected[::-1].copy()
    assert_same(to_host(a), expected)


def test_copy_overlapping_shift(arrays):
    host = np.arange(12, dtype="float32")
    for src_key, dst_key in [(slice(None, -1), slice(1, None)), (slice(1, None), slice(None, -1)),
                             (slice(None, -3, 2), slice(-5, None, 1))]:
        a = arrays.host(host)
        copy(arrays.view(a, src_key), arrays.view(a, dst_key))
        expected = host.copy()
        expected[dst_key] = expected[src_key]  # numpy copies overlaps as if through a temporary
        assert_same(to_host(a), expected)


def test_copy_overlapping_2d(arrays):
    host = np.arange(25, dtype="int32").reshape(5, 5) - 12
    a = arrays.host(host)
    copy(arrays.permute(a, (1, 0)), a)  # in-place transpose
    assert_same(to_host(a), host.T.copy())

    b = arrays.host(host)
    copy(arrays.view(b, slice(2, 3)), b)  # row 2 broadcast over all rows, itself included
    expected = host.copy()
    expected[:] = expected[2:3].copy()
    assert_same(to_host(b), expected)

    c = arrays.host(host)
    copy(arrays.view(c, slice(None, None, -1), slice(None, None, -1)), arrays.view(c))
    assert_same(to_host(c), host[::-1, ::-1].copy())
