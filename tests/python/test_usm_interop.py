"""dpcore's default context is the one dpnp and dpctl use: USM passes both
ways without copies, and a dpctl.SyclQueue can be adopted."""
import ctypes

import pytest

from dpcore_ctypes import P, PP, SZ, check, load

import dpctl
import dpnp
import numpy as np

DEVICE, SHARED, HOST = 1, 2, 3


@pytest.fixture(scope="module")
def lib():
    return load()


@pytest.fixture
def dev(lib, device_filter):
    """Each device dpcore finds (conftest.py's device_filter), as a dpcore handle."""
    d = P()
    check(lib, lib.dpc_device_select(device_filter.encode(), ctypes.byref(d)))
    return d


def default_queue(lib, dev):
    q = P()
    check(lib, lib.dpc_queue_default(dev, ctypes.byref(q)))
    return q


def ctx_of(lib, q):
    c = P()
    check(lib, lib.dpc_queue_get_context(q, ctypes.byref(c)))
    return c


def test_dpnp_memory_is_usm_of_dpcore_default_context(lib, dev, device_filter):
    x = dpnp.arange(1000, dtype="float32", device=device_filter)
    ptr = x.__sycl_usm_array_interface__["data"][0]
    q = default_queue(lib, dev)
    ctx = ctx_of(lib, q)
    kind = ctypes.c_int32(-1)
    check(lib, lib.dpc_usm_get_pointer_kind(ctx, P(ptr), ctypes.byref(kind)))
    assert kind.value == DEVICE
    owner_dev = P()
    check(lib, lib.dpc_usm_get_pointer_device(ctx, P(ptr), ctypes.byref(owner_dev)))
    assert owner_dev.value == dev.value
    owner = P()
    check(lib, lib.dpc_usm_get_pointer_context(P(ptr), ctypes.byref(owner)))
    same = ctypes.c_bool(False)
    check(lib, lib.dpc_context_equal(owner, ctx, ctypes.byref(same)))
    assert same.value, "dpnp's memory is in dpcore's default context"
    base, size = P(), SZ()
    check(lib, lib.dpc_usm_get_pointer_range(ctx, P(ptr + 40), ctypes.byref(base), ctypes.byref(size)))
    assert base.value <= ptr and size.value >= 4000
    # Read dpnp's memory through dpcore, on dpcore's canonical queue.
    out = np.zeros(1000, dtype="float32")
    check(lib, lib.dpc_usm_memcpy(q, P(out.ctypes.data), P(ptr), 4000, None, 0, None))
    check(lib, lib.dpc_queue_wait(q))
    assert (out == np.arange(1000, dtype="float32")).all()


class _View:
    """An object exposing dpcore memory through the SYCL USM array interface."""

    def __init__(self, ptr, n, queue):
        self.__sycl_usm_array_interface__ = {
            "data": (ptr, False),
            "shape": (n,),
            "strides": None,
            "typestr": "|u1",
            "version": 1,
            "syclobj": queue,
        }


def test_dpcore_memory_is_usm_for_dpctl(lib, dev, device_filter):
    q = default_queue(lib, dev)
    for kind, name in [(DEVICE, "device"), (SHARED, "shared"), (HOST, "host")]:
        p = P()
        check(lib, lib.dpc_usm_alloc(q, kind, 4096, 0, ctypes.byref(p)))
        try:
            pat = ctypes.c_uint32(0x01020304)
            check(lib, lib.dpc_usm_fill(q, p, ctypes.byref(pat), 4, 1024, None, 0, None))
            check(lib, lib.dpc_queue_wait(q))
            # dpctl checks the pointer against its default queue's context.
            mem = dpctl.memory.as_usm_memory(_View(p.value, 4096, dpctl.SyclQueue(device_filter)))
            assert mem.get_usm_type() == name
            host = np.frombuffer(mem.copy_to_host(), dtype="uint32")
            assert (host == 0x01020304).all()
        finally:
            check(lib, lib.dpc_usm_free(p))


def test_adopt_dpctl_queue(lib, dev, device_filter):
    import ctypes as C

    dq = dpctl.SyclQueue(device_filter, property="in_order")
    cap = dq._get_capsule()
    get_ptr = C.pythonapi.PyCapsule_GetPointer
    get_ptr.restype = C.c_void_p
    get_ptr.argtypes = [C.py_object, C.c_char_p]
    sycl_queue_ptr = get_ptr(cap, b"SyclQueueRef")
    q = P()
    check(lib, lib.dpc_queue_adopt(P(sycl_queue_ptr), ctypes.byref(q)))
    try:
        flags = C.c_uint32()
        check(lib, lib.dpc_queue_get_flags(q, C.byref(flags)))
        assert flags.value & 1  # in order
        qdev = P()
        check(lib, lib.dpc_queue_get_device(q, C.byref(qdev)))
        assert qdev.value == dev.value
        # dpctl's queue lives in the platform default context, which is
        # dpcore's default context for the device.
        dctx = P()
        check(lib, lib.dpc_context_default(dev, C.byref(dctx)))
        eq = C.c_bool(False)
        check(lib, lib.dpc_context_equal(ctx_of(lib, q), dctx, C.byref(eq)))
        assert eq.value
        # Work through the adopted queue on memory dpnp made with that queue.
        x = dpnp.zeros(256, dtype="uint32", sycl_queue=dq)
        pat = C.c_uint32(7)
        check(lib, lib.dpc_usm_fill(q, P(x.__sycl_usm_array_interface__["data"][0]), C.byref(pat), 4, 256, None, 0, None))
        check(lib, lib.dpc_queue_wait(q))
        assert (dpnp.asnumpy(x) == 7).all()
    finally:
        check(lib, lib.dpc_queue_release(q))
    del dq  # the owner goes away; nothing of dpcore's refers to its object
