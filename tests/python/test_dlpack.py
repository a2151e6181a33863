"""DLPack between dpcore and two real producers/consumers, dpnp (kDLOneAPI)
and numpy (kDLCPU), through the Python DLPack protocol: capsules named
"dltensor_versioned" / "dltensor", renamed "used_..." by the consumer, and
a deleter that runs exactly once.

dpcore's DLPack structures are read here through the raw offsets of
dlpack.h (LP64), not through dpcore's own definitions, so the layout of
dpcore's exports and what dpcore reads from numpy's and dpnp's capsules are
both pinned against real producers.

Self-contained: every ctypes signature used is declared in this file.
"""
import ctypes
import gc
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

import dpctl  # noqa: F401  (required, like numpy and dpnp: a missing one fails the run)
import dpnp
import numpy as np

# Devices: every device test runs once per device dpcore finds, through
# conftest.py's session fixture `device_filter` (the device's filter string,
# e.g. opencl:cpu:0). The fixtures below (device, dl_id, queue, ctx) are built
# on that device, dpcore's arrays are made on its canonical queue (never the
# default device's), and the dpnp arrays the tests compare with are made on
# the same device (`device=device_filter`: dpnp/dpctl and dpcore use the same
# kDLOneAPI ids for SYCL devices, checked in test_device_ids.py). Tests of
# host (kDLCPU, numpy) memory take no device fixture and run once.

from ctypes import (  # noqa: E402
    POINTER,
    byref,
    c_char_p,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIB_PATH = ROOT / "target" / "release" / "libdpcore.so"

P = c_void_p
PP = POINTER(c_void_p)
I64P = POINTER(c_int64)

# ---------------------------------------------------------------- constants

DPC_ARRAY_WRITABLE = 1
DPC_ARRAY_C_CONTIGUOUS = 2
DPC_ARRAY_F_CONTIGUOUS = 4
DPC_SLICE_NONE = -(2**63)

K_DL_CPU = 1
K_DL_CUDA = 2
K_DL_ONEAPI = 14

DL_INT, DL_UINT, DL_FLOAT, DL_COMPLEX, DL_BOOL = 0, 1, 2, 5, 6
DLPACK_FLAG_READ_ONLY = 1 << 0
DLPACK_FLAG_IS_COPIED = 1 << 1

USM_UNKNOWN, USM_DEVICE, USM_SHARED, USM_HOST = 0, 1, 2, 3

DPC_SUCCESS = 0
DPC_ERROR_INVALID_ARGUMENT = 1
DPC_ERROR_NULL_POINTER = 2
DPC_ERROR_INVALID_POINTER = 7
DPC_ERROR_DEVICE_NOT_FOUND = 101
DPC_ERROR_UNSUPPORTED = 202

# Offsets of dlpack.h on LP64.
# DLManagedTensorVersioned
MTV_VERSION_MAJOR, MTV_VERSION_MINOR = 0, 4
MTV_MANAGER_CTX, MTV_DELETER, MTV_FLAGS, MTV_DL_TENSOR = 8, 16, 24, 32
MTV_SIZE = 80
# DLManagedTensor (legacy)
MT_DL_TENSOR, MT_MANAGER_CTX, MT_DELETER = 0, 48, 56
MT_SIZE = 64
# DLTensor
T_DATA, T_DEVICE_TYPE, T_DEVICE_ID, T_NDIM = 0, 8, 12, 16
T_DTYPE_CODE, T_DTYPE_BITS, T_DTYPE_LANES = 20, 21, 22
T_SHAPE, T_STRIDES, T_BYTE_OFFSET = 24, 32, 40
T_SIZE = 48


class DLDataType(ctypes.Structure):
    _fields_ = [("code", c_uint8), ("bits", c_uint8), ("lanes", c_uint16)]


# A DLManagedTensorVersioned made here (for the import error paths), with a
# deleter that records its calls.
class _Tensor(ctypes.Structure):
    _fields_ = [
        ("data", c_void_p), ("device_type", c_int32), ("device_id", c_int32), ("ndim", c_int32),
        ("dtype", DLDataType), ("shape", I64P), ("strides", I64P), ("byte_offset", c_uint64),
    ]


class _ManagedVersioned(ctypes.Structure):
    _fields_ = [
        ("major", c_uint32), ("minor", c_uint32), ("manager_ctx", c_void_p), ("deleter", c_void_p),
        ("flags", c_uint64), ("dl_tensor", _Tensor),
    ]


class CraftedTensor:
    """A 1-D float32 DLManagedTensorVersioned over `data` (an address) that
    counts its deleter's calls."""

    def __init__(self, data, n, device_type, device_id):
        self.calls = []

        @DELETER_T
        def deleter(t):
            self.calls.append(t)

        self._deleter = deleter
        self._shape = i64_array([n])
        m = _ManagedVersioned()
        m.major, m.minor = 1, 0
        m.deleter = ctypes.cast(deleter, c_void_p)
        m.dl_tensor.data = data
        m.dl_tensor.device_type, m.dl_tensor.device_id = device_type, device_id
        m.dl_tensor.ndim = 1
        m.dl_tensor.dtype = DLDataType(DL_FLOAT, 32, 1)
        m.dl_tensor.shape = ctypes.cast(self._shape, I64P)
        self.m = m
        self.addr = ctypes.addressof(m)

    def import_(self):
        out = P()
        return LIB.dpc_array_from_dlpack_versioned(P(self.addr), byref(out)), out


# ---------------------------------------------------------------- library


def _load():
    assert LIB_PATH.exists(), f"{LIB_PATH} is not built: run `make build`"
    lib = ctypes.CDLL(str(LIB_PATH))
    sigs = {
        "dpc_last_error_message": [c_char_p, c_size_t, POINTER(c_size_t)],
        "dpc_device_select": [c_char_p, PP],
        "dpc_device_get_dlpack_id": [P, POINTER(c_int32)],
        "dpc_queue_default": [P, PP],
        "dpc_queue_get_context": [P, PP],
        "dpc_queue_get_device": [P, PP],
        "dpc_queue_release": [P],
        "dpc_usm_get_pointer_kind": [P, P, POINTER(c_int32)],
        "dpc_array_from_host": [P, DLDataType, c_int32, I64P, P, I64P, c_int32, PP],
        "dpc_array_to_host": [P, P, I64P],
        "dpc_array_retain": [P],
        "dpc_array_release": [P],
        "dpc_array_get_ndim": [P, POINTER(c_int32)],
        "dpc_array_get_shape": [P, I64P],
        "dpc_array_get_strides": [P, I64P],
        "dpc_array_get_dtype": [P, POINTER(DLDataType)],
        "dpc_array_get_data": [P, PP],
        "dpc_array_get_flags": [P, POINTER(c_uint32)],
        "dpc_array_get_queue": [P, PP],
        "dpc_array_get_usm_kind": [P, POINTER(c_int32)],
        "dpc_array_slice": [P, I64P, I64P, I64P, PP],
        "dpc_array_permute": [P, POINTER(c_int32), PP],
        "dpc_array_as_read_only": [P, PP],
        "dpc_array_to_dlpack_versioned": [P, c_uint32, c_uint32, PP],
        "dpc_array_to_dlpack": [P, PP],
        "dpc_array_from_dlpack_versioned": [P, PP],
        "dpc_array_from_dlpack": [P, PP],
    }
    for name, args in sigs.items():
        f = getattr(lib, name)
        f.argtypes = args
        f.restype = c_int32
    return lib


LIB = _load()


def last_error():
    buf = ctypes.create_string_buffer(4096)
    n = c_size_t()
    LIB.dpc_last_error_message(buf, 4096, byref(n))
    return buf.value.decode(errors="replace")


def check(status):
    if status != DPC_SUCCESS:
        raise AssertionError(f"dpcore status {status}: {last_error()}")


def expect_status(status, expected):
    assert status == expected, f"expected status {expected}, got {status} ({last_error() if status else 'success'})"


# ---------------------------------------------------------------- capsules
#
# Names handed to PyCapsule_New/SetName must outlive the capsule: keep them
# in module-level buffers.
_NAME_BUFS = {
    n: ctypes.create_string_buffer(n)
    for n in (b"dltensor_versioned", b"dltensor", b"used_dltensor_versioned", b"used_dltensor")
}


def _name_ptr(name):
    return ctypes.addressof(_NAME_BUFS[name])


_api = ctypes.pythonapi
capsule_new = ctypes.PYFUNCTYPE(ctypes.py_object, c_void_p, c_void_p, c_void_p)(("PyCapsule_New", _api))
capsule_get_pointer = ctypes.PYFUNCTYPE(c_void_p, ctypes.py_object, c_char_p)(("PyCapsule_GetPointer", _api))
capsule_get_name = ctypes.PYFUNCTYPE(c_char_p, ctypes.py_object)(("PyCapsule_GetName", _api))
capsule_set_name = ctypes.PYFUNCTYPE(c_int, ctypes.py_object, c_void_p)(("PyCapsule_SetName", _api))
# For the destructor: the capsule is being deallocated (reference count 0),
# so it is passed as a raw address and never turned into a Python reference.
# A CFUNCTYPE(None, py_object) destructor increfs and decrefs the dying
# capsule, which deallocates it again: a segfault on CPython 3.11.
_raw_is_valid = ctypes.PYFUNCTYPE(c_int, c_void_p, c_char_p)(("PyCapsule_IsValid", _api))
_raw_get_pointer = ctypes.PYFUNCTYPE(c_void_p, c_void_p, c_char_p)(("PyCapsule_GetPointer", _api))

DELETER_T = ctypes.CFUNCTYPE(None, c_void_p)

# (name, tensor address) of every capsule whose destructor ran the deleter.
DESTRUCTOR_RAN = []


@ctypes.CFUNCTYPE(None, c_void_p)
def _capsule_destructor(cap):
    for name, deleter_off in ((b"dltensor_versioned", MTV_DELETER), (b"dltensor", MT_DELETER)):
        if _raw_is_valid(cap, name):  # still this name: nobody consumed it
            t = _raw_get_pointer(cap, name)
            d = c_void_p.from_address(t + deleter_off).value
            if d:
                DELETER_T(d)(t)
            DESTRUCTOR_RAN.append((name, t))
            return


_DESTRUCTOR_ADDR = ctypes.cast(_capsule_destructor, c_void_p).value


def call_deleter(t, versioned=True):
    d = c_void_p.from_address(t + (MTV_DELETER if versioned else MT_DELETER)).value
    assert d, "tensor without a deleter"
    DELETER_T(d)(t)


def import_capsule(cap):
    """Consume a "dltensor_versioned" or "dltensor" capsule into a dpcore array.
    dpcore owns the tensor from the call on (it runs the deleter itself if the
    import fails), so the capsule is marked used whatever the status."""
    name = capsule_get_name(cap)
    if name == b"dltensor_versioned":
        fn, used = LIB.dpc_array_from_dlpack_versioned, b"used_dltensor_versioned"
    elif name == b"dltensor":
        fn, used = LIB.dpc_array_from_dlpack, b"used_dltensor"
    else:
        raise AssertionError(f"not a fresh DLPack capsule: {name!r}")
    t = capsule_get_pointer(cap, name)
    out = P()
    status = fn(P(t), byref(out))
    assert capsule_set_name(cap, _name_ptr(used)) == 0
    check(status)
    return out


# ---------------------------------------------------------------- raw reads


def u8(a):
    return c_uint8.from_address(a).value


def u16(a):
    return c_uint16.from_address(a).value


def i32(a):
    return c_int32.from_address(a).value


def u32(a):
    return c_uint32.from_address(a).value


def i64(a):
    return c_int64.from_address(a).value


def u64(a):
    return c_uint64.from_address(a).value


def ptr(a):
    return c_void_p.from_address(a).value


def read_dl_tensor(a):
    ndim = i32(a + T_NDIM)
    shape_p, strides_p = ptr(a + T_SHAPE), ptr(a + T_STRIDES)
    return {
        "data": ptr(a + T_DATA) or 0,
        "device": (i32(a + T_DEVICE_TYPE), i32(a + T_DEVICE_ID)),
        "ndim": ndim,
        "dtype": (u8(a + T_DTYPE_CODE), u8(a + T_DTYPE_BITS), u16(a + T_DTYPE_LANES)),
        "shape": tuple(i64(shape_p + 8 * i) for i in range(ndim)) if ndim else (),
        "strides": None if not strides_p else tuple(i64(strides_p + 8 * i) for i in range(ndim)),
        "byte_offset": u64(a + T_BYTE_OFFSET),
    }


def read_versioned(t):
    return {
        "version": (u32(t + MTV_VERSION_MAJOR), u32(t + MTV_VERSION_MINOR)),
        "manager_ctx": ptr(t + MTV_MANAGER_CTX),
        "deleter": ptr(t + MTV_DELETER),
        "flags": u64(t + MTV_FLAGS),
        "tensor": read_dl_tensor(t + MTV_DL_TENSOR),
    }


def read_legacy(t):
    return {
        "manager_ctx": ptr(t + MT_MANAGER_CTX),
        "deleter": ptr(t + MT_DELETER),
        "tensor": read_dl_tensor(t + MT_DL_TENSOR),
    }


def c_strides(shape):
    out, acc = [], 1
    for n in reversed(shape):
        out.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(out))


# ---------------------------------------------------------------- dpcore helpers


def dl_dtype(dt):
    dt = np.dtype(dt)
    code = {"b": DL_BOOL, "i": DL_INT, "u": DL_UINT, "f": DL_FLOAT, "c": DL_COMPLEX}[dt.kind]
    return (code, dt.itemsize * 8, 1)


def np_dtype(code, bits):
    kind = {DL_BOOL: "b", DL_INT: "i", DL_UINT: "u", DL_FLOAT: "f", DL_COMPLEX: "c"}[code]
    return np.dtype("?") if kind == "b" else np.dtype(f"{kind}{bits // 8}")


def i64_array(vals):
    return (c_int64 * max(len(vals), 1))(*vals)


def from_host(a, usm_kind=0, queue=None):
    """A dpcore copy of host array `a` on `queue` (None: the default device's
    canonical queue; this module's device tests always pass their device's
    queue, test_array_copy.py uses the default)."""
    a = np.asarray(a)
    dt = DLDataType(*dl_dtype(a.dtype))
    shape = i64_array(a.shape)
    host_strides = i64_array([s // a.itemsize for s in a.strides])
    out = P()
    check(LIB.dpc_array_from_host(queue, dt, a.ndim, shape, P(a.ctypes.data), host_strides, usm_kind, byref(out)))
    return out


def select_device(filter_string):
    """The root device `filter_string` selects (valid for the life of the process)."""
    d = P()
    check(LIB.dpc_device_select(filter_string.encode(), byref(d)))
    return d


def default_queue(device):
    """The canonical queue of root device `device` (valid for the life of the process)."""
    q = P()
    check(LIB.dpc_queue_default(device, byref(q)))
    return q


def ndim_of(arr):
    n = c_int32(-1)
    check(LIB.dpc_array_get_ndim(arr, byref(n)))
    return n.value


def shape_of(arr):
    n = ndim_of(arr)
    buf = i64_array([0] * n)
    check(LIB.dpc_array_get_shape(arr, buf))
    return tuple(buf[:n])


def strides_of(arr):
    n = ndim_of(arr)
    buf = i64_array([0] * n)
    check(LIB.dpc_array_get_strides(arr, buf))
    return tuple(buf[:n])


def dtype_of(arr):
    d = DLDataType()
    check(LIB.dpc_array_get_dtype(arr, byref(d)))
    return (d.code, d.bits, d.lanes)


def data_of(arr):
    p = P()
    check(LIB.dpc_array_get_data(arr, byref(p)))
    return p.value or 0


def flags_of(arr):
    f = c_uint32(0xFFFF)
    check(LIB.dpc_array_get_flags(arr, byref(f)))
    return f.value


def usm_kind_of(arr):
    k = c_int32(-1)
    check(LIB.dpc_array_get_usm_kind(arr, byref(k)))
    return k.value


def queue_of(arr):
    q = P()
    check(LIB.dpc_array_get_queue(arr, byref(q)))
    return q


def to_host(arr):
    code, bits, _ = dtype_of(arr)
    out = np.empty(shape_of(arr), dtype=np_dtype(code, bits))
    check(LIB.dpc_array_to_host(arr, P(out.ctypes.data), None))
    return out


def release(arr):
    check(LIB.dpc_array_release(arr))


def export_versioned(arr, major=1, minor=0):
    t = P()
    check(LIB.dpc_array_to_dlpack_versioned(arr, major, minor, byref(t)))
    return t.value


def export_legacy(arr):
    t = P()
    check(LIB.dpc_array_to_dlpack(arr, byref(t)))
    return t.value


def usm_ptr(x):
    """Address of element (0, ..., 0) of a dpnp array (the interface gives the
    start of the memory and an offset in elements)."""
    sai = x.__sycl_usm_array_interface__
    return sai["data"][0] + sai.get("offset", 0) * np.dtype(sai["typestr"]).itemsize


class DpcoreProducer:
    """A dpcore array behind the Python DLPack protocol. It borrows the
    handle: the tests release it whenever they like once the consumer has
    taken its export.

    It also keeps every capsule it made, so a capsule's destructor runs when
    the producer goes, never while a failing consumer unwinds: a ctypes
    callback entered with an exception pending turns that exception into an
    "unraisable" one, and the consumer then fails with "SystemError: ...
    returned NULL without setting an exception" instead of its own error."""

    def __init__(self, arr):
        self.arr = arr
        self.requests = []
        self.capsules = []

    def __dlpack_device__(self):
        # What dpcore itself says, from a throw-away export.
        t = export_versioned(self.arr)
        try:
            return read_versioned(t)["tensor"]["device"]
        finally:
            call_deleter(t)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        self.requests.append({"stream": stream, "max_version": max_version, "dl_device": dl_device, "copy": copy})
        if copy:
            raise BufferError("this producer does not copy")
        if dl_device is not None and tuple(dl_device) != tuple(self.__dlpack_device__()):
            raise BufferError(f"cannot export to {dl_device}")
        if max_version is not None and max_version[0] >= 1:
            t = export_versioned(self.arr, max_version[0], max_version[1])
            cap = capsule_new(t, _name_ptr(b"dltensor_versioned"), _DESTRUCTOR_ADDR)
        else:
            t = export_legacy(self.arr)
            cap = capsule_new(t, _name_ptr(b"dltensor"), _DESTRUCTOR_ADDR)
        self.capsules.append(cap)
        return cap


class LegacyOnlyProducer(DpcoreProducer):
    """A pre-1.0 producer: always a "dltensor" capsule."""

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        return super().__dlpack__(stream=stream, max_version=None, dl_device=dl_device, copy=copy)


# ---------------------------------------------------------------- fixtures


# Each is parametrized through conftest.py's session fixture device_filter:
# a test that takes any of them runs once per device dpcore finds. The
# handles are root devices' and default queues/contexts, valid for the life
# of the process (nothing to release).


@pytest.fixture(scope="module")
def device(device_filter):
    """The dpcore handle of the device under test."""
    return select_device(device_filter)


@pytest.fixture(scope="module")
def dl_id(device):
    """Its kDLOneAPI device id."""
    i = c_int32(-1)
    check(LIB.dpc_device_get_dlpack_id(device, byref(i)))
    return i.value


@pytest.fixture(scope="module")
def queue(device):
    """Its canonical queue: the dpcore arrays of the device tests are made on it."""
    return default_queue(device)


@pytest.fixture(scope="module")
def ctx(queue):
    """Its default context (where dpnp's memory on the device lives too)."""
    c = P()
    check(LIB.dpc_queue_get_context(queue, byref(c)))
    return c


def pointer_kind(ctx, p):
    k = c_int32(-1)
    check(LIB.dpc_usm_get_pointer_kind(ctx, P(p), byref(k)))
    return k.value


def collect():
    for _ in range(3):
        gc.collect()


# ================================================================ deleters
#
# These run first: whether dpcore memory is freed is read with
# dpc_usm_get_pointer_kind, which a stale entry of dpcore's cache of foreign
# (dpnp) ranges can fool once dpnp memory has been imported and freed (see
# test_dpnp_usm_kind_of_reused_range). pytest runs the device tests grouped
# by device (device_filter is session-scoped), in file order within a
# group: these come first on each device, before that device's dpnp
# imports, though on a second device after the first device's.

STALE_HINT = " (or a stale foreign-range entry in dpcore's USM pointer cache, see test_dpnp_usm_kind_of_reused_range)"


def test_unconsumed_capsule_runs_deleter_once(queue, ctx):
    for legacy in (False, True):
        arr = from_host(np.arange(256, dtype="float32"), queue=queue)
        p = data_of(arr)
        prod = DpcoreProducer(arr)
        cap = prod.__dlpack__() if legacy else prod.__dlpack__(max_version=(1, 0))
        name = b"dltensor" if legacy else b"dltensor_versioned"
        assert capsule_get_name(cap) == name
        t = capsule_get_pointer(cap, name)
        release(arr)
        collect()
        assert pointer_kind(ctx, p) == USM_DEVICE, "the export did not keep the memory"
        before = len(DESTRUCTOR_RAN)
        del cap, prod  # the producer holds its capsules
        collect()
        assert DESTRUCTOR_RAN[before:] == [(name, t)]
        assert pointer_kind(ctx, p) == USM_UNKNOWN, "the deleter did not free the memory" + STALE_HINT


def test_consumed_capsule_does_not_run_deleter(queue, ctx):
    arr = from_host(np.arange(64, dtype="int32"), queue=queue)
    p = data_of(arr)
    prod = DpcoreProducer(arr)
    cap = prod.__dlpack__(max_version=(1, 0))
    before = len(DESTRUCTOR_RAN)
    imported = import_capsule(cap)  # dpcore consumes its own export
    del cap, prod
    collect()
    assert DESTRUCTOR_RAN[before:] == []
    release(arr)
    assert data_of(imported) == p
    assert (to_host(imported) == np.arange(64)).all()
    assert pointer_kind(ctx, p) == USM_DEVICE
    release(imported)
    assert pointer_kind(ctx, p) == USM_UNKNOWN, "releasing the import did not free the memory" + STALE_HINT


# ================================================================ 1. dpcore -> dpnp


@pytest.mark.parametrize(
    "host",
    [
        np.arange(1000, dtype="float32") * 0.5 - 3.0,
        np.arange(48, dtype="int64").reshape(6, 8) * 1000 - 7,
    ],
    ids=["float32-1d", "int64-2d"],
)
def test_dpcore_to_dpnp_zero_copy_and_lifetime(host, queue, ctx, dl_id):
    arr = from_host(host, queue=queue)
    p = data_of(arr)
    prod = DpcoreProducer(arr)
    assert prod.__dlpack_device__() == (K_DL_ONEAPI, dl_id)

    x = dpnp.from_dlpack(prod)
    # dpnp asked for the versioned form and got it.
    assert prod.requests and prod.requests[-1]["max_version"] is not None
    assert tuple(prod.requests[-1]["max_version"]) >= (1, 0)
    # Zero copy: dpnp views dpcore's memory.
    assert usm_ptr(x) == p
    assert x.shape == host.shape and x.dtype == host.dtype
    assert tuple(x.__dlpack_device__()) == (K_DL_ONEAPI, dl_id)
    assert (dpnp.asnumpy(x) == host).all()

    # A write through dpnp is seen by dpcore.
    idx = (0,) * host.ndim
    x[idx] = 42
    x.sycl_queue.wait()
    seen = to_host(arr)
    assert seen[idx] == 42
    expected = host.copy()
    expected[idx] = 42
    assert (seen == expected).all()

    # The export keeps the memory alive after the last dpcore handle goes.
    release(arr)
    del prod
    collect()
    assert pointer_kind(ctx, p) == USM_DEVICE, "dpcore freed memory dpnp still views"
    assert (dpnp.asnumpy(x) == expected).all()
    assert np.isclose(float(dpnp.asnumpy(x.sum())), float(expected.sum()))
    x += 1
    assert (dpnp.asnumpy(x) == expected + 1).all()

    # dpnp's deleter (dpcore's export deleter) frees it when dpnp is done.
    del x
    collect()
    assert pointer_kind(ctx, p) == USM_UNKNOWN, "dpnp dropped the export but dpcore did not free the memory" + STALE_HINT


@pytest.mark.parametrize(
    "steps",
    [(-1, 2), (2, -3), (1, 1)],
    ids=["rev-rows-every-2nd-col", "every-2nd-row-rev-every-3rd-col", "full"],
)
def test_dpcore_strided_view_to_dpnp(steps, queue, ctx):
    host = np.arange(6 * 9, dtype="int32").reshape(6, 9) * 3 + 1
    base = from_host(host, queue=queue)
    view = P()
    check(LIB.dpc_array_slice(base, None, None, i64_array(steps), byref(view)))
    expected = host[:: steps[0], :: steps[1]]
    assert shape_of(view) == expected.shape
    assert strides_of(view) == tuple(s // 4 for s in expected.strides)

    x = dpnp.from_dlpack(DpcoreProducer(view))
    assert usm_ptr(x) == data_of(view)
    sai = x.__sycl_usm_array_interface__
    dpnp_strides = sai["strides"] or c_strides(x.shape)
    assert tuple(dpnp_strides) == strides_of(view)
    release(view)
    release(base)
    collect()
    assert (dpnp.asnumpy(x) == expected).all()
    del x
    collect()


def test_dpcore_transposed_view_to_dpnp(queue):
    host = np.arange(3 * 4 * 5, dtype="float64").reshape(3, 4, 5) / 7
    base = from_host(host, queue=queue)
    view = P()
    axes = (c_int32 * 3)(2, 0, 1)
    check(LIB.dpc_array_permute(base, axes, byref(view)))
    release(base)
    x = dpnp.from_dlpack(DpcoreProducer(view))
    assert usm_ptr(x) == data_of(view)
    release(view)
    collect()
    assert (dpnp.asnumpy(x) == host.transpose(2, 0, 1)).all()


def test_dpcore_legacy_export_to_dpnp(queue, dl_id):
    host = np.arange(20, dtype="uint16").reshape(4, 5)
    arr = from_host(host, queue=queue)
    prod = LegacyOnlyProducer(arr)
    x = dpnp.from_dlpack(prod)
    assert usm_ptr(x) == data_of(arr)
    release(arr)
    collect()
    assert (dpnp.asnumpy(x) == host).all()


def test_dpcore_read_only_export_to_dpnp(queue):
    host = np.arange(10, dtype="float32")
    arr = from_host(host, queue=queue)
    ro = P()
    check(LIB.dpc_array_as_read_only(arr, byref(ro)))
    assert not flags_of(ro) & DPC_ARRAY_WRITABLE
    t = export_versioned(ro)
    assert read_versioned(t)["flags"] & DLPACK_FLAG_READ_ONLY
    call_deleter(t)
    # The legacy form cannot say read-only: refused.
    t = P()
    expect_status(LIB.dpc_array_to_dlpack(ro, byref(t)), DPC_ERROR_INVALID_ARGUMENT)
    x = dpnp.from_dlpack(DpcoreProducer(ro))
    assert usm_ptr(x) == data_of(arr)
    assert not x.flags.writable, "dpnp ignored the read-only flag of dpcore's export"
    release(ro)
    release(arr)
    collect()
    assert (dpnp.asnumpy(x) == host).all()


# ================================================================ 2. dpnp -> dpcore


def test_dpnp_to_dpcore_versioned(device_filter, ctx, dl_id):
    x = dpnp.arange(24, dtype="float64", device=device_filter).reshape(4, 6) * 1.5
    usm = x.get_array().usm_data  # what dpnp's tensor holds a reference to
    refs = sys.getrefcount(usm)
    cap = x.__dlpack__(max_version=(1, 0))
    assert capsule_get_name(cap) == b"dltensor_versioned"
    arr = import_capsule(cap)
    assert capsule_get_name(cap) == b"used_dltensor_versioned"
    del cap  # consumed: its destructor must leave the tensor alone
    collect()

    assert data_of(arr) == usm_ptr(x)
    assert shape_of(arr) == (4, 6)
    assert strides_of(arr) == (6, 1)
    assert dtype_of(arr) == (DL_FLOAT, 64, 1)
    assert usm_kind_of(arr) == USM_DEVICE
    assert flags_of(arr) & DPC_ARRAY_WRITABLE
    assert flags_of(arr) & DPC_ARRAY_C_CONTIGUOUS
    q = queue_of(arr)
    assert q.value
    check(LIB.dpc_queue_release(q))
    assert (to_host(arr) == dpnp.asnumpy(x)).all()

    # dpnp writes, dpcore sees them (same memory).
    x[1, 2] = -7.0
    x.sycl_queue.wait()
    assert to_host(arr)[1, 2] == -7.0
    # dpcore holds dpnp's tensor (and with it a reference to dpnp's memory object).
    assert sys.getrefcount(usm) > refs

    release(arr)
    collect()
    assert sys.getrefcount(usm) == refs, "dpnp's deleter did not run exactly once on release"
    x += 1
    expected = np.arange(24, dtype="float64").reshape(4, 6) * 1.5 + 1
    expected[1, 2] = -6.0
    assert (dpnp.asnumpy(x) == expected).all()


def test_dpnp_strided_view_to_dpcore(device_filter):
    x = dpnp.arange(7 * 10, dtype="int32", device=device_filter).reshape(7, 10)
    v = x[::2, ::-3]
    cap = v.__dlpack__(max_version=(1, 0))
    t = capsule_get_pointer(cap, b"dltensor_versioned")
    raw = read_versioned(t)["tensor"]
    arr = import_capsule(cap)
    del cap
    assert data_of(arr) == raw["data"] + raw["byte_offset"] == usm_ptr(v)
    assert shape_of(arr) == v.shape
    assert strides_of(arr) == raw["strides"]
    assert strides_of(arr) == (20, -3)
    assert not flags_of(arr) & (DPC_ARRAY_C_CONTIGUOUS | DPC_ARRAY_F_CONTIGUOUS)
    assert (to_host(arr) == dpnp.asnumpy(v)).all()
    del v, x
    collect()
    # dpcore's reference keeps the memory (dpnp's whole allocation) alive.
    expected = np.arange(70, dtype="int32").reshape(7, 10)[::2, ::-3]
    assert (to_host(arr) == expected).all()
    release(arr)
    collect()


def test_dpnp_legacy_capsule_to_dpcore(device_filter):
    x = dpnp.arange(12, dtype="int16", device=device_filter).reshape(3, 4) - 5
    usm = x.get_array().usm_data
    refs = sys.getrefcount(usm)
    cap = x.__dlpack__()
    name = capsule_get_name(cap)
    # Not optional: without max_version the consumer understands only legacy
    # DLPack, so the protocol requires the legacy capsule (dpnp is pinned).
    assert name == b"dltensor", f"dpnp {dpnp.__version__} returns {name!r} without max_version"
    arr = import_capsule(cap)
    assert capsule_get_name(cap) == b"used_dltensor"
    del cap
    collect()
    assert data_of(arr) == usm_ptr(x)
    assert shape_of(arr) == (3, 4)
    assert dtype_of(arr) == (DL_INT, 16, 1)
    assert flags_of(arr) & DPC_ARRAY_WRITABLE
    assert (to_host(arr) == dpnp.asnumpy(x)).all()
    release(arr)
    collect()
    assert sys.getrefcount(usm) == refs
    assert (dpnp.asnumpy(x) == np.arange(12, dtype="int16").reshape(3, 4) - 5).all()


@pytest.mark.parametrize("usm_type,kind", [("device", USM_DEVICE), ("shared", USM_SHARED), ("host", USM_HOST)])
def test_dpnp_usm_kind_through_dlpack(usm_type, kind, device_filter):
    x = dpnp.full(100, 3, dtype="int32", usm_type=usm_type, device=device_filter)
    arr = import_capsule(x.__dlpack__(max_version=(1, 0)))
    try:
        assert usm_kind_of(arr) == kind
        assert (to_host(arr) == 3).all()
    finally:
        release(arr)


def _import_and_free_dpnp_device_array(n, device_filter):
    """Import a dpnp device allocation on `device_filter` into dpcore (so
    dpcore has asked the runtime about it), then let dpnp free it. Returns
    its address range."""
    x = dpnp.zeros(n, dtype="float32", usm_type="device", device=device_filter)
    lo = usm_ptr(x)
    arr = import_capsule(x.__dlpack__(max_version=(1, 0)))
    assert usm_kind_of(arr) == USM_DEVICE
    release(arr)
    q = x.sycl_queue
    del x
    collect()
    q.wait()
    return lo, lo + 4 * n


def test_dpnp_usm_kind_of_reused_range(device_filter, ctx):
    """dpnp frees a device allocation dpcore once imported, then makes host and
    shared allocations, which the runtime may place in the freed range. The
    import (and dpc_usm_get_pointer_kind) must report the kind the memory
    has now."""
    n = 100_000
    wrong, reused, keep = [], 0, []
    for _ in range(3):
        lo, hi = _import_and_free_dpnp_device_array(n, device_filter)
        for usm_type, kind in [("host", USM_HOST), ("shared", USM_SHARED)] * 5:
            y = dpnp.zeros(n, dtype="float32", usm_type=usm_type, device=device_filter)
            keep.append(y)
            a = import_capsule(y.__dlpack__(max_version=(1, 0)))
            got = usm_kind_of(a)
            release(a)
            direct = pointer_kind(ctx, usm_ptr(y))
            inside = lo <= usm_ptr(y) < hi
            reused += inside
            if got != kind or direct != kind:
                wrong.append(
                    f"live dpnp {usm_type} USM at {usm_ptr(y):#x} (inside the freed device range "
                    f"[{lo:#x}, {hi:#x}): {inside}): dpc_array_get_usm_kind {got}, "
                    f"dpc_usm_get_pointer_kind {direct}, expected {kind}"
                )
        del keep[:]
        collect()
    assert not wrong, f"stale USM kind ({reused} allocations reused a freed range):\n" + "\n".join(wrong)


def test_import_refuses_host_memory_in_a_freed_usm_range(device_filter, ctx, dl_id):
    """A kDLOneAPI tensor whose data is not USM (here numpy's malloc memory)
    is refused with DPC_ERROR_INVALID_POINTER, as the header promises, also
    when the malloc memory sits where a dpnp allocation dpcore once imported
    used to be (glibc hands such ranges out again; which sizes it does so for
    depends on the heap's history, so several are tried)."""
    checked, problems = [], []
    for n in (1_000, 10_000, 100_000, 1_000_000):
        lo, hi = _import_and_free_dpnp_device_array(n, device_filter)
        bufs = [np.full(n, 1.0, dtype="float32") for _ in range(20)]
        inside = [b for b in bufs if lo <= b.ctypes.data < hi]
        for b in {b.ctypes.data: b for b in inside[:1] + bufs[:1]}.values():
            kind = pointer_kind(ctx, b.ctypes.data)
            c = CraftedTensor(b.ctypes.data, n, K_DL_ONEAPI, dl_id)
            status, out = c.import_()
            if status == DPC_SUCCESS:
                release(out)
            assert c.calls == [c.addr], f"deleter calls: {c.calls}"
            where = "inside" if lo <= b.ctypes.data < hi else "outside"
            checked.append(where)
            if kind != USM_UNKNOWN or status != DPC_ERROR_INVALID_POINTER:
                problems.append(
                    f"numpy buffer of {4 * n} bytes at {b.ctypes.data:#x} ({where} the freed dpnp range "
                    f"[{lo:#x}, {hi:#x})): dpc_usm_get_pointer_kind {kind} (expected {USM_UNKNOWN}), "
                    f"kDLOneAPI import status {status} (expected {DPC_ERROR_INVALID_POINTER})"
                )
        del bufs, inside
    assert not problems, "malloc memory taken for USM:\n" + "\n".join(problems)


def test_dpnp_to_dpcore_no_crash_at_exit(device_filter):
    """Arrays alive at interpreter exit in both directions, and unconsumed
    capsules: the process exits cleanly (a fresh process per device: dpnp
    and dpcore arrays both on the device under test)."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        import numpy as np, dpnp
        import test_dlpack as T
        q = T.default_queue(T.select_device({device_filter!r}))
        x = dpnp.arange(100, dtype="float32", device={device_filter!r})
        kept = T.import_capsule(x.__dlpack__(max_version=(1, 0)))      # never released
        legacy = T.import_capsule(x.__dlpack__())                       # never released
        a = T.from_host(np.arange(10, dtype="int64"), queue=q)
        y = dpnp.from_dlpack(T.DpcoreProducer(a))                       # dpnp outlives the handle
        T.release(a)
        b = T.from_host(np.ones(5, dtype="float32"), queue=q)
        unconsumed = T.DpcoreProducer(b).__dlpack__(max_version=(1, 0))  # destructor runs at exit
        assert float(dpnp.asnumpy(y).sum()) == 45.0
        assert (T.to_host(kept) == np.arange(100, dtype="float32")).all()
        print("done")
        """
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert r.returncode == 0, f"exit status {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert r.stdout.strip().endswith("done")
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr


# ================================================================ 3. host arrays (numpy)


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.arange(30, dtype="float64").reshape(5, 6) / 3,
        lambda: (np.arange(40, dtype="int32").reshape(5, 8) - 20)[::2, ::-3],
        lambda: np.asfortranarray(np.arange(12, dtype="uint8").reshape(3, 4)),
        lambda: np.array(2.5 + 1j, dtype="complex128"),
    ],
    ids=["c-contig", "strided", "fortran", "0-d"],
)
def test_numpy_to_dpcore_host_array(make):
    a = make()
    refs = sys.getrefcount(a)
    cap = a.__dlpack__(max_version=(1, 0))
    t = capsule_get_pointer(cap, b"dltensor_versioned")
    assert read_versioned(t)["tensor"]["device"] == (K_DL_CPU, 0)
    arr = import_capsule(cap)
    del cap
    collect()
    assert data_of(arr) == a.ctypes.data
    assert shape_of(arr) == a.shape
    if a.size > 1:
        assert strides_of(arr) == tuple(s // a.itemsize for s in a.strides)
    assert dtype_of(arr) == dl_dtype(a.dtype)
    assert usm_kind_of(arr) == USM_UNKNOWN
    q = queue_of(arr)
    assert not q.value, "a kDLCPU import has no queue"
    assert flags_of(arr) & DPC_ARRAY_WRITABLE
    assert (to_host(arr) == a).all()
    # Same memory: a numpy write is seen by dpcore.
    a[(0,) * a.ndim] = 99
    assert to_host(arr)[(0,) * a.ndim] == 99
    assert sys.getrefcount(a) > refs
    release(arr)
    collect()
    assert sys.getrefcount(a) == refs, "numpy's deleter did not run exactly once on release"


def test_numpy_legacy_capsule_to_dpcore():
    a = np.arange(9, dtype="int8").reshape(3, 3) - 4
    refs = sys.getrefcount(a)
    cap = a.__dlpack__()
    assert capsule_get_name(cap) == b"dltensor"
    t = capsule_get_pointer(cap, b"dltensor")
    assert read_legacy(t)["tensor"]["device"] == (K_DL_CPU, 0)
    arr = import_capsule(cap)
    del cap
    assert data_of(arr) == a.ctypes.data
    assert (to_host(arr) == a).all()
    release(arr)
    collect()
    assert sys.getrefcount(a) == refs


def test_dpcore_host_array_to_numpy():
    a = np.arange(24, dtype="float32").reshape(4, 6) * 2 - 1
    expected = a.copy()
    addr = a.ctypes.data
    h = import_capsule(a.__dlpack__(max_version=(1, 0)))
    prod = DpcoreProducer(h)
    assert prod.__dlpack_device__() == (K_DL_CPU, 0)
    t = export_versioned(h)
    raw = read_versioned(t)
    call_deleter(t)
    assert raw["tensor"]["device"] == (K_DL_CPU, 0)
    assert raw["tensor"]["data"] == addr

    b = np.from_dlpack(prod)
    assert tuple(prod.requests[-1]["max_version"]) >= (1, 0)
    assert b.ctypes.data == addr
    assert b.shape == a.shape and b.dtype == a.dtype
    assert b.flags.writeable
    release(h)
    del a, prod
    collect()
    # The chain numpy -> dpcore -> numpy keeps the first numpy array's memory.
    assert (b == expected).all()
    b[2, 3] = 1234
    assert b[2, 3] == 1234


def test_dpcore_host_strided_view_to_numpy():
    a = np.arange(60, dtype="int64").reshape(6, 10)
    h = import_capsule(a.__dlpack__(max_version=(1, 0)))
    v = P()
    check(LIB.dpc_array_slice(h, i64_array([1, DPC_SLICE_NONE]), None, i64_array([2, -1]), byref(v)))
    release(h)
    b = np.from_dlpack(DpcoreProducer(v))
    release(v)
    collect()
    expected = a[1::2, ::-1]
    assert b.ctypes.data == expected.ctypes.data
    assert b.strides == expected.strides
    assert (b == expected).all()


def test_dpcore_read_only_host_array_to_numpy():
    a = np.arange(8, dtype="float64")
    h = import_capsule(a.__dlpack__(max_version=(1, 0)))
    ro = P()
    check(LIB.dpc_array_as_read_only(h, byref(ro)))
    release(h)
    b = np.from_dlpack(DpcoreProducer(ro))
    release(ro)
    assert b.ctypes.data == a.ctypes.data
    assert not b.flags.writeable
    assert (b == np.arange(8)).all()


# ================================================================ 4. read-only


def test_read_only_numpy_import():
    a = np.arange(16, dtype="int32").reshape(4, 4)
    a.flags.writeable = False
    cap = a.__dlpack__(max_version=(1, 0))
    t = capsule_get_pointer(cap, b"dltensor_versioned")
    assert read_versioned(t)["flags"] & DLPACK_FLAG_READ_ONLY
    arr = import_capsule(cap)
    try:
        assert data_of(arr) == a.ctypes.data
        assert not flags_of(arr) & DPC_ARRAY_WRITABLE
        assert flags_of(arr) & DPC_ARRAY_C_CONTIGUOUS
        assert (to_host(arr) == a).all()
        # Re-exported, it stays read-only; the legacy form is refused.
        t2 = export_versioned(arr)
        assert read_versioned(t2)["flags"] & DLPACK_FLAG_READ_ONLY
        call_deleter(t2)
        out = P()
        expect_status(LIB.dpc_array_to_dlpack(arr, byref(out)), DPC_ERROR_INVALID_ARGUMENT)
        # A view of a read-only import is read-only too.
        v = P()
        check(LIB.dpc_array_slice(arr, None, None, i64_array([-1, 1]), byref(v)))
        assert not flags_of(v) & DPC_ARRAY_WRITABLE
        release(v)
    finally:
        release(arr)


def test_writable_numpy_import_is_writable():
    a = np.arange(4, dtype="int32")
    cap = a.__dlpack__(max_version=(1, 0))
    assert read_versioned(capsule_get_pointer(cap, b"dltensor_versioned"))["flags"] & DLPACK_FLAG_READ_ONLY == 0
    arr = import_capsule(cap)
    assert flags_of(arr) & DPC_ARRAY_WRITABLE
    release(arr)


# ================================================================ 5. layout


DTYPES = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
          "float32", "float64", "complex64", "complex128"]


def _check_against_dpcore(raw, arr, expect_data):
    """What dpcore read from a producer's tensor equals the raw fields."""
    assert data_of(arr) == raw["data"] + raw["byte_offset"] == expect_data
    assert shape_of(arr) == raw["shape"]
    assert dtype_of(arr) == raw["dtype"]
    if raw["strides"] is not None:
        assert strides_of(arr) == raw["strides"]
    else:
        assert strides_of(arr) == c_strides(raw["shape"])


def _check_dpcore_export(arr, device):
    """dpcore's own export, read at dlpack.h's offsets, equals its getters."""
    t = export_versioned(arr)
    raw = read_versioned(t)
    assert raw["version"] == (1, 0)
    assert raw["deleter"]
    assert raw["flags"] & ~(DLPACK_FLAG_READ_ONLY | DLPACK_FLAG_IS_COPIED) == 0
    tt = raw["tensor"]
    assert tt["device"] == device
    assert tt["data"] + tt["byte_offset"] == data_of(arr)
    assert tt["ndim"] == ndim_of(arr)
    assert tt["shape"] == shape_of(arr)
    assert (tt["strides"] or c_strides(tt["shape"])) == strides_of(arr)
    assert tt["dtype"] == dtype_of(arr)
    call_deleter(t)
    writable = bool(flags_of(arr) & DPC_ARRAY_WRITABLE)
    assert bool(raw["flags"] & DLPACK_FLAG_READ_ONLY) == (not writable)
    if not writable:
        out = P()
        expect_status(LIB.dpc_array_to_dlpack(arr, byref(out)), DPC_ERROR_INVALID_ARGUMENT)
        return
    t = export_legacy(arr)
    raw = read_legacy(t)
    assert raw["deleter"]
    tt = raw["tensor"]
    assert tt["device"] == device
    assert tt["data"] + tt["byte_offset"] == data_of(arr)
    assert tt["shape"] == shape_of(arr)
    assert (tt["strides"] or c_strides(tt["shape"])) == strides_of(arr)
    assert tt["dtype"] == dtype_of(arr)
    call_deleter(t, versioned=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layout_numpy_capsule(dtype):
    a = (np.arange(2 * 3 * 4) % 5).astype(dtype).reshape(2, 3, 4).transpose(1, 2, 0)[:, ::-2, :]
    cap = a.__dlpack__(max_version=(1, 0))
    t = capsule_get_pointer(cap, b"dltensor_versioned")
    raw = read_versioned(t)
    assert raw["version"][0] == 1
    assert raw["deleter"]
    assert raw["flags"] & DLPACK_FLAG_READ_ONLY == 0
    tt = raw["tensor"]
    assert tt["device"] == (K_DL_CPU, 0)
    assert tt["ndim"] == a.ndim == 3
    assert tt["dtype"] == dl_dtype(a.dtype)
    assert tt["shape"] == a.shape
    assert tt["strides"] == tuple(s // a.itemsize for s in a.strides)
    assert tt["data"] + tt["byte_offset"] == a.ctypes.data

    arr = import_capsule(cap)
    try:
        _check_against_dpcore(tt, arr, a.ctypes.data)
        assert (to_host(arr) == a).all()
        _check_dpcore_export(arr, (K_DL_CPU, 0))
    finally:
        release(arr)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layout_dpnp_capsule(dtype, device_filter, dl_id):
    host = (np.arange(2 * 3 * 4) % 5).astype(dtype).reshape(2, 3, 4)
    x = dpnp.asarray(host, device=device_filter).transpose(1, 2, 0)[:, ::-2, :]
    expected = host.transpose(1, 2, 0)[:, ::-2, :]
    sai = x.__sycl_usm_array_interface__
    cap = x.__dlpack__(max_version=(1, 0))
    t = capsule_get_pointer(cap, b"dltensor_versioned")
    raw = read_versioned(t)
    assert raw["version"][0] == 1
    assert raw["deleter"]
    assert raw["flags"] & DLPACK_FLAG_READ_ONLY == 0
    tt = raw["tensor"]
    assert tt["device"] == (K_DL_ONEAPI, dl_id)
    assert tt["ndim"] == 3
    assert tt["dtype"] == dl_dtype(expected.dtype)
    assert tt["shape"] == x.shape == expected.shape
    assert tt["strides"] == tuple(sai["strides"])
    assert tt["strides"] == tuple(s // expected.itemsize for s in expected.strides)
    assert tt["data"] + tt["byte_offset"] == usm_ptr(x)

    arr = import_capsule(cap)
    try:
        _check_against_dpcore(tt, arr, usm_ptr(x))
        assert (to_host(arr) == expected).all()
        _check_dpcore_export(arr, (K_DL_ONEAPI, dl_id))
    finally:
        release(arr)


def test_layout_zero_dim_and_empty(device_filter, dl_id):
    for a in (np.array(7, dtype="int64"), np.zeros((0, 3), dtype="float32")):
        cap = a.__dlpack__(max_version=(1, 0))
        raw = read_versioned(capsule_get_pointer(cap, b"dltensor_versioned"))["tensor"]
        assert raw["ndim"] == a.ndim and raw["shape"] == a.shape
        arr = import_capsule(cap)
        try:
            assert ndim_of(arr) == a.ndim
            assert shape_of(arr) == a.shape
            assert (to_host(arr) == a).all()
            _check_dpcore_export(arr, (K_DL_CPU, 0))
        finally:
            release(arr)
    x = dpnp.asarray(np.array(3.5, dtype="float32"), device=device_filter)
    cap = x.__dlpack__(max_version=(1, 0))
    raw = read_versioned(capsule_get_pointer(cap, b"dltensor_versioned"))
    assert raw["tensor"]["ndim"] == 0 and raw["tensor"]["shape"] == ()
    arr = import_capsule(cap)
    try:
        assert ndim_of(arr) == 0
        assert data_of(arr) == usm_ptr(x)
        # dpnp 0.20 marks 0-d exports read-only; dpcore honours what it says.
        assert bool(flags_of(arr) & DPC_ARRAY_WRITABLE) == (not raw["flags"] & DLPACK_FLAG_READ_ONLY)
        assert to_host(arr) == 3.5
        _check_dpcore_export(arr, (K_DL_ONEAPI, dl_id))
    finally:
        release(arr)


def test_dpcore_export_fields(queue, dl_id):
    host = np.arange(12, dtype="complex64").reshape(3, 4) * (1 + 2j)
    arr = from_host(host, queue=queue)
    try:
        p = data_of(arr)
        for mv in [(1, 0), (1, 7), (2, 3)]:
            t = export_versioned(arr, *mv)
            raw = read_versioned(t)
            assert raw["version"] == (1, 0)
            assert raw["flags"] == 0
            assert raw["tensor"] == {
                "data": p,
                "device": (K_DL_ONEAPI, dl_id),
                "ndim": 2,
                "dtype": (DL_COMPLEX, 64, 1),
                "shape": (3, 4),
                "strides": raw["tensor"]["strides"],
                "byte_offset": 0,
            }
            assert raw["tensor"]["strides"] in (None, (4, 1))
            call_deleter(t)
        t = P()
        expect_status(LIB.dpc_array_to_dlpack_versioned(arr, 0, 99, byref(t)), DPC_ERROR_UNSUPPORTED)
        _check_dpcore_export(arr, (K_DL_ONEAPI, dl_id))
    finally:
        release(arr)


# ================================================================ import failures


def test_own_struct_definitions_match_offsets():
    assert ctypes.sizeof(_Tensor) == T_SIZE
    assert _Tensor.dtype.offset == T_DTYPE_CODE and _Tensor.byte_offset.offset == T_BYTE_OFFSET
    assert ctypes.sizeof(_ManagedVersioned) == MTV_SIZE
    assert _ManagedVersioned.dl_tensor.offset == MTV_DL_TENSOR and _ManagedVersioned.flags.offset == MTV_FLAGS


@pytest.mark.parametrize(
    "case",
    ["ok-cpu", "version-2", "cuda", "oneapi-bad-id", "oneapi-malloc-pointer", "bad-dtype", "null-shape", "null-data"],
)
def test_import_deleter_runs_exactly_once(case, dl_id):
    # Per device through dl_id: "oneapi-malloc-pointer" claims the device
    # under test's id; the other cases do not depend on the device (cheap, they
    # simply repeat per device, keeping one test with one set of case ids).
    host = np.arange(6, dtype="float32")
    c = CraftedTensor(host.ctypes.data, 6, K_DL_CPU, 0)
    m = c.m
    expected = {
        "ok-cpu": DPC_SUCCESS,
        "version-2": DPC_ERROR_UNSUPPORTED,
        "cuda": DPC_ERROR_UNSUPPORTED,
        "oneapi-bad-id": DPC_ERROR_DEVICE_NOT_FOUND,
        "oneapi-malloc-pointer": DPC_ERROR_INVALID_POINTER,
        "bad-dtype": DPC_ERROR_INVALID_ARGUMENT,
        "null-shape": DPC_ERROR_INVALID_ARGUMENT,
        "null-data": DPC_ERROR_NULL_POINTER,
    }[case]
    if case == "version-2":
        m.major = 2
    elif case == "cuda":
        m.dl_tensor.device_type = K_DL_CUDA
    elif case == "oneapi-bad-id":
        m.dl_tensor.device_type, m.dl_tensor.device_id = K_DL_ONEAPI, 1000
    elif case == "oneapi-malloc-pointer":
        m.dl_tensor.device_type, m.dl_tensor.device_id = K_DL_ONEAPI, dl_id
    elif case == "bad-dtype":
        m.dl_tensor.dtype = DLDataType(DL_FLOAT, 7, 1)
    elif case == "null-shape":
        m.dl_tensor.shape = None
    elif case == "null-data":
        m.dl_tensor.data = None

    status, out = c.import_()
    expect_status(status, expected)
    if status == DPC_SUCCESS:
        assert c.calls == [], "deleter ran while the array is alive"
        assert data_of(out) == host.ctypes.data
        assert (to_host(out) == host).all()
        release(out)
    assert c.calls == [c.addr], f"deleter calls: {c.calls}"
