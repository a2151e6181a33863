"""dpcore's device order, filter strings and kDLOneAPI ids agree with what
dpctl and dpnp report, loading libdpcore.so through ctypes like any binding."""
import ctypes
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIB = ROOT / "target" / "release" / "libdpcore.so"

import dpctl
import dpnp


@pytest.fixture(scope="module")
def lib():
    assert LIB.exists(), f"{LIB} is not built: run `make build`"
    lib = ctypes.CDLL(str(LIB))
    lib.dpc_device_count.argtypes = [ctypes.POINTER(ctypes.c_size_t)]
    lib.dpc_device_get.argtypes = [ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p)]
    lib.dpc_device_get_info_string.argtypes = [
        ctypes.c_void_p, ctypes.c_int32, ctypes.c_char_p, ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_size_t)]
    lib.dpc_device_get_dlpack_id.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32)]
    lib.dpc_device_from_dlpack_id.argtypes = [ctypes.c_int32, ctypes.POINTER(ctypes.c_void_p)]
    lib.dpc_device_select.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    return lib


def devices(lib):
    n = ctypes.c_size_t()
    assert lib.dpc_device_count(ctypes.byref(n)) == 0
    out = []
    for i in range(n.value):
        h = ctypes.c_void_p()
        assert lib.dpc_device_get(i, ctypes.byref(h)) == 0
        out.append(h)
    return out


def info(lib, h, key):
    buf = ctypes.create_string_buffer(512)
    size = ctypes.c_size_t()
    assert lib.dpc_device_get_info_string(h, key, buf, 512, ctypes.byref(size)) == 0
    return buf.value.decode()


NAME, FILTER = 1, 7


def test_same_devices_in_same_order_as_dpctl(lib):
    ours = devices(lib)
    theirs = dpctl.get_devices()
    assert len(ours) == len(theirs) > 0
    for h, d in zip(ours, theirs):
        assert info(lib, h, NAME) == d.name
        assert info(lib, h, FILTER) == d.filter_string


def test_dlpack_ids_match_dpnp_arrays(lib):
    for h in devices(lib):
        filt = info(lib, h, FILTER)
        x = dpnp.ones(4, device=filt)
        dev_type, dev_id = x.__dlpack_device__()
        assert int(dev_type) == 14  # kDLOneAPI
        ours = ctypes.c_int32(-1)
        assert lib.dpc_device_get_dlpack_id(h, ctypes.byref(ours)) == 0
        assert ours.value == dev_id
        back = ctypes.c_void_p()
        assert lib.dpc_device_from_dlpack_id(dev_id, ctypes.byref(back)) == 0
        assert back.value == h.value


def test_dpctl_filter_strings_select_the_same_device(lib):
    for d in dpctl.get_devices():
        h = ctypes.c_void_p()
        assert lib.dpc_device_select(d.filter_string.encode(), ctypes.byref(h)) == 0
        assert info(lib, h, NAME) == d.name
