"""dpcore::array_view, the borrowed argument of dpcore4pybind11.hpp: each
producer's path (dpcore.Array through its type's C API, dpnp/dpctl
usm_ndarray through its checked C struct, the DLPack C exchange API, the
buffer protocol, the usm_ndarray path for the rest) gives the right pointer,
shape, strides, dtype, flags and queue; bad objects are refused with a clear
error; keep() makes the owning array; nothing leaks (the session's census).

Uses the caster probe (tests/python/ext/caster_probe.cpp, built by the
`probe` fixture of conftest.py) and its exchange-API producer
(tests/python/ext/exchange_producer.hpp).
"""
import gc
import weakref

import pytest

import dpctl
import dpctl.memory
import dpnp
import numpy as np

import dpcore

DPC_USM_DEVICE, DPC_USM_SHARED, DPC_USM_HOST = 1, 2, 3
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128"]


def usm_ptr(x):
    """Element (0, ..., 0) of a dpnp/dpctl array, from its interface."""
    i = x.__sycl_usm_array_interface__
    return i["data"][0] + i["offset"] * x.itemsize


def elem_strides(a):
    return tuple(s // a.itemsize for s in a.strides)


# ---------------------------------------------------------------- dpcore.Array

def test_dpcore_array(probe):
    a = dpcore.asarray(np.arange(12, dtype="f4").reshape(3, 4))
    v = probe.view(a)
    assert v["source"] == "dpcore" and v["shape"] == (3, 4) and v["strides"] == (4, 1)
    assert v["dtype"] == "float32" and v["is_float32"] and v["writable"] and v["c_contiguous"]
    assert v["data"] == a.data_ptr and v["queue"] == a.queue and not v["is_host"]
    assert v["usm_kind"] == DPC_USM_DEVICE
    t = a.T[1:, ::-1]  # a view: other layout, same memory
    vt = probe.view(t)
    assert vt["shape"] == t.shape and vt["strides"] == t.strides and vt["data"] == t.data_ptr
    assert not vt["c_contiguous"]
    assert probe.view(a)["data"] == a.data_ptr  # the layout cached in the object stays right
    h = dpcore.from_dlpack(np.arange(4.0))  # host memory
    vh = probe.view(h)
    assert vh["is_host"] and vh["queue"] is None and vh["source"] == "dpcore"


def test_dpcore_capi_is_read_only_for_dpcore_arrays(probe):
    class Fake:
        _dpc_capi = dpcore.Array._dpc_capi  # the capsule, on a type that is not dpcore.Array

    with pytest.raises(TypeError, match="array_view"):
        probe.view_which(Fake())  # declined, not read as a dpcore.Array


# ---------------------------------------------------------------- dpnp / dpctl

@pytest.mark.parametrize("make", [
    lambda: dpnp.arange(12, dtype="f4").reshape(3, 4),
    lambda: dpnp.arange(12, dtype="f4").reshape(3, 4).T,
    lambda: dpnp.arange(30, dtype="i8").reshape(5, 6)[3:0:-2, ::-3],
    lambda: dpnp.ones((), dtype="c8"),
    lambda: dpnp.ones((2, 0, 3), dtype="f8"),
    lambda: dpnp.ones(7, dtype="u2", usm_type="shared")[::2],
    lambda: dpnp.asarray(np.ones((3, 5), dtype="f4")).T,
    lambda: dpnp.asarray(np.asfortranarray(np.ones((4, 2, 3), dtype="c16"))),
], ids=["c", "transposed", "reversed", "0-d", "empty", "shared-strided", "f-order", "f-order-3d"])
def test_dpnp_arrays(probe, make):
    x = make()
    for obj in (x, x.get_array()):  # dpnp.ndarray and its usm_ndarray
        v = probe.view(obj)
        assert v["source"] == "usm_ndarray"
        assert v["shape"] == x.shape and v["strides"] == elem_strides(x) and v["dtype"] == str(x.dtype)
        assert v["data"] == usm_ptr(x) and v["queue"] == x.sycl_queue and v["has_producer_queue"]
        assert v["c_contiguous"] == x.flags.c_contiguous and v["f_contiguous"] == x.flags.f_contiguous
        assert v["writable"] == x.flags.writable
        assert v["usm_kind"] == {"device": DPC_USM_DEVICE, "shared": DPC_USM_SHARED, "host": DPC_USM_HOST}[x.usm_type]
        # The owning caster agrees.
        d = probe.describe(obj)
        assert d["data"] == v["data"] and tuple(d["strides"]) == v["strides"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_dpnp_every_dtype(probe, dtype):
    x = dpnp.ones(3, dtype=dtype)
    assert probe.view(x)["dtype"] == probe.describe(x)["dtype"] == dtype


def test_dpnp_read_only_and_other_queue(probe):
    x = dpnp.arange(6.0)
    x.flags.writable = False
    assert not probe.view(x)["writable"]
    q = dpctl.SyclQueue(x.sycl_device)  # another queue of the same device
    y = dpnp.ones(3, sycl_queue=q)
    v = probe.view(y)
    assert v["queue"] == q
    assert probe.view_pending_count(dpnp.ones(3), y) == 2  # one barrier per producer queue
    assert probe.view_pending_count(y, y) == 1


# ---------------------------------------------------------------- numpy (its struct), the buffer protocol

@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_every_dtype(probe, dtype):
    h = (np.arange(6) % 2).astype(dtype).reshape(2, 3)
    v = probe.view(h)
    assert v["source"] == "numpy" and v["is_host"] and v["queue"] is None
    assert v["dtype"] == dtype and v["shape"] == (2, 3) and v["strides"] == (3, 1)
    assert v["data"] == h.ctypes.data and v["writable"] and v["c_contiguous"]


def test_numpy_layouts(probe):
    h = np.arange(30, dtype="i8").reshape(5, 6)[3:0:-2, ::-3]
    v = probe.view(h)
    assert v["shape"] == h.shape and v["strides"] == elem_strides(h) and v["data"] == h.ctypes.data
    ro = np.arange(4.0)
    ro.setflags(write=False)
    assert not probe.view(ro)["writable"]
    f = np.asfortranarray(np.ones((3, 2), dtype="f4"))
    assert probe.view(f)["f_contiguous"] and not probe.view(f)["c_contiguous"]
    assert probe.view(np.float64(3.0))["ndim"] == 0  # a numpy scalar speaks the buffer protocol
    assert probe.view(np.float64(3.0))["source"] == "buffer"
    import array
    aa = array.array("d", [1.0, 2.0, 3.0])
    va = probe.view(aa)
    assert va["source"] == "buffer" and va["dtype"] == "float64" and va["shape"] == (3,) and va["writable"]
    mv = memoryview(np.arange(12, dtype="i4").reshape(3, 4))[::2]
    vm = probe.view(mv)
    assert vm["source"] == "buffer" and vm["shape"] == (2, 4) and vm["strides"] == (8, 1) and vm["dtype"] == "int32"
    assert not probe.view(b"abc")["writable"]
    m = np.ma.masked_array(np.ones((1, 2)))  # a numpy subclass: the struct path too
    assert probe.view(m)["source"] == "numpy" and probe.view(m)["shape"] == (1, 2)
    big = np.ones((1,) * 10, dtype="f4")  # beyond the view's inline dimensions
    vb = probe.view(big)
    assert vb["ndim"] == 10 and vb["shape"] == (1,) * 10 and vb["size"] == 1


def test_numpy_refused_with_reason(probe):
    with pytest.raises(TypeError, match="big-endian.*Accepted"):
        probe.view(np.arange(3, dtype=">f4"))
    with pytest.raises(TypeError, match="unsupported buffer format"):
        probe.view(np.array(["ab", "c"]))
    with pytest.raises(TypeError, match="unsupported buffer format"):
        probe.view(np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]))
    with pytest.raises(TypeError, match="unsupported buffer format"):
        probe.view(np.zeros(2, dtype="f4").view("V4"))


# ---------------------------------------------------------------- DLPack C exchange API

@pytest.mark.parametrize("cls", ["ExchangeArray", "ExchangeArrayManaged"])
def test_exchange_api_producer(probe, cls):
    a = dpcore.asarray(np.arange(12, dtype="f8").reshape(3, 4))[:, 1:]
    p = getattr(probe, cls)(a)
    calls = probe.exchange_stream_calls()
    v = probe.view(p)
    assert v["source"] == "exchange_api" and v["shape"] == (3, 3) and v["strides"] == (4, 1)
    assert v["data"] == a.data_ptr and v["dtype"] == "float64" and not v["c_contiguous"]
    assert v["has_stream"] and probe.exchange_stream_calls() == calls + 1  # the producer's work stream asked
    assert v["queue"] == a.queue  # the stream (the canonical queue here) as a dpcore queue
    k = probe.view_keep(p)  # an owning array: no __dlpack__ here, so through the managed tensor
    assert k.data_ptr == a.data_ptr and k.shape == (3, 3)
    del k
    h = getattr(probe, cls)(dpcore.from_dlpack(np.arange(3.0)))  # kDLCPU: no stream
    vh = probe.view(h)
    assert vh["is_host"] and not vh["has_stream"] and vh["queue"] is None


def test_type_gaining_an_api_is_looked_at_again(probe):
    class Sub(np.ndarray):
        pass

    s = np.arange(3.0).view(Sub)
    assert probe.view(s)["source"] == "numpy"
    Sub.__dlpack_c_exchange_api__ = probe.ExchangeArray.__dlpack_c_exchange_api__
    try:
        # Now the exchange API is tried, and this producer refuses the object:
        # an error, not a crash or a stale path.
        with pytest.raises(TypeError, match="exchange API.*not an ExchangeArray"):
            probe.view(s)
    finally:
        del Sub.__dlpack_c_exchange_api__
    assert probe.view(s)["source"] == "numpy"


# ---------------------------------------------------------------- the usm_ndarray path

class Suai:
    def __init__(self, owner, shape):
        self.owner = owner
        self.__sycl_usm_array_interface__ = {
            "data": (usm_ptr(owner), False), "shape": shape, "strides": None,
            "typestr": owner.dtype.str, "version": 1, "syclobj": owner.sycl_queue}


class LegacyOnly:
    def __init__(self, a):
        self.a = a

    def __dlpack__(self, stream=None):
        return self.a.__dlpack__()

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


def test_other_producers_take_the_usm_ndarray_path(probe):
    x = dpnp.arange(8.0)
    v = probe.view(Suai(x, (2, 4)))
    assert v["source"] == "imported" and v["shape"] == (2, 4) and v["data"] == usm_ptr(x)
    assert v["queue"] == x.sycl_queue
    m = dpctl.memory.MemoryUSMShared(16)  # speaks the buffer protocol too, but is USM: the interface
    vm = probe.view(m)
    assert vm["source"] == "imported" and vm["dtype"] == "uint8" and not vm["is_host"]
    vl = probe.view(LegacyOnly(np.arange(4.0)))
    assert vl["source"] == "imported" and vl["is_host"]


def test_declines_and_explains(probe):
    assert probe.view_which(dpnp.ones(2)) == "array"
    assert probe.view_which(np.ones(2)) == "array"
    assert probe.view_which(3) == "int" and probe.view_which("x") == "str"
    with pytest.raises(TypeError) as e:
        probe.view_which(3.5)
    assert "array_view" in str(e.value) and "__dlpack__" in str(e.value)
    with pytest.raises(IndexError, match="axis 2 of a 1-D array"):
        probe.view_axis(np.ones(2), 2)
    with pytest.raises(RuntimeError, match="holds float32, not float64"):
        probe.view_data_f64(dpnp.ones(2, dtype="f4"))
    with pytest.raises(TypeError, match="typestr"):
        probe.view(type("BadSuai", (), {"__sycl_usm_array_interface__": {
            "data": (0, False), "shape": (1,), "typestr": "U2", "version": 1}})())
    assert probe.view_identity(np.ones(2)) is not None


# ---------------------------------------------------------------- lifetime

def test_keep_makes_an_owning_array(probe):
    for make in (lambda: dpnp.arange(5.0), lambda: dpcore.asarray(np.arange(5.0)), lambda: np.arange(5.0),
                 lambda: dpnp.arange(5.0).get_array()):
        x = make()
        ptr = probe.view(x)["data"]
        k = probe.view_keep(x)
        assert isinstance(k, dpcore.Array) and k.data_ptr == ptr and k.shape == (5,)
        del x
        gc.collect()
        np.testing.assert_array_equal(np.from_dlpack(k, device="cpu") if k.queue else np.from_dlpack(k),
                                      np.arange(5.0))


class Forward:
    """Forwards a dpnp array's interface; unlike dpnp arrays it can be weakly
    referenced."""

    def __init__(self, a):
        self.a = a

    @property
    def __sycl_usm_array_interface__(self):
        return self.a.__sycl_usm_array_interface__


def test_views_hold_nothing_after_the_call(probe):
    f = Forward(dpnp.ones(4))
    w = weakref.ref(f)
    probe.view(f)  # the usm_ndarray path inside the view: released with it
    del f
    gc.collect()
    probe.wait_deferred()
    assert w() is None
    f2 = Forward(dpnp.ones(4))
    w2 = weakref.ref(f2)
    probe.view_keep_alive(f2)  # kept until the barrier completes, then dropped
    del f2
    dpcore.Queue().wait()
    probe.wait_deferred()
    gc.collect()
    assert w2() is None
