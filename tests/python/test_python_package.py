"""The dpcore Python package and the pybind11 casters of
dpcore/dpcore4pybind11.hpp, with real producers and consumers: dpnp, dpctl
and numpy.

The casters are exercised through tests/python/ext/caster_probe.cpp, a small
extension built here with g++ against the header (no SYCL needed), whose
functions report what the casters made of their arguments.
"""
import gc
import os
import pathlib
import subprocess
import sys
import sysconfig
import weakref

import pytest

import dpctl
import dpctl.memory  # noqa: E402
import dpnp
import numpy as np

import dpcore  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
ALL_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
              "float16", "float32", "float64", "complex64", "complex128"]


# ---------------------------------------------------------------- the package

def test_devices_and_queues():
    devs = dpcore.devices()
    assert devs and all(isinstance(d, dpcore.Device) for d in devs)
    d = dpcore.Device()
    assert d.name and ":" in d.filter_string
    assert d.dlpack_id == dpnp.empty(1).__dlpack_device__()[1]
    q = dpcore.Queue()
    assert q.in_order and q.device == d
    assert dpcore.Queue(d.filter_string) == q  # the canonical queue
    assert d.default_queue == q
    # dpctl takes our queue through the SyclQueueRef capsule, and back.
    dq = dpctl.SyclQueue(q._get_capsule())
    assert dpcore.Queue(dq) == q and q == dq
    other = dpctl.SyclQueue(dq.sycl_device)  # a new queue (dpctl makes one per call)
    assert dpcore.Queue(other) != q
    assert "sub-device" in repr(dpcore.Queue(sub_device_queue()))
    q.wait()
    q.barrier().wait()
    with pytest.raises(dpcore.Error, match="opencl"):
        dpcore.Device("level_zero:gpu:7")
    with pytest.raises(TypeError, match="expected a queue"):
        dpcore.Queue(3.5)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_round_trip_every_dtype(dtype):
    host = (np.arange(12) % 5).astype(dtype).reshape(3, 4)
    a = dpcore.asarray(host)
    assert a.dtype == np.dtype(dtype) and a.shape == (3, 4) and a.strides == (4, 1)
    assert a.c_contiguous and a.writable and a.usm_type == "device"
    np.testing.assert_array_equal(a.asnumpy(), host)
    np.testing.assert_array_equal(dpcore.zeros((2, 3), dtype=dtype).asnumpy(), np.zeros((2, 3), dtype))
    np.testing.assert_array_equal(dpcore.full(4, host.flat[3], dtype=dtype).asnumpy(), np.full(4, host.flat[3]))


def test_creation_options_and_errors():
    e = dpcore.empty((2, 0, 3), dtype="f4", usm_type="shared")
    assert e.shape == (2, 0, 3) and e.size == 0 and e.usm_type == "shared"
    assert dpcore.empty((), dtype="i8").ndim == 0
    h = dpcore.asarray([[1, 2], [3, 4]], queue=dpcore.Device(), usm_type="host")
    assert h.usm_type == "host" and h.asnumpy().tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match="usm_type"):
        dpcore.empty(3, usm_type="pinned")
    with pytest.raises(ValueError, match="not"):
        dpcore.empty(3, dtype="U3")
    with pytest.raises(dpcore.Error, match="negative"):
        dpcore.empty((2, -1))


def test_indexing_views_match_numpy():
    host = np.arange(2 * 3 * 4 * 5, dtype="i4").reshape(2, 3, 4, 5)
    a = dpcore.asarray(host)
    for key in [1, -1, (0, 2), (slice(None, None, -1),), (Ellipsis, 3), (1, Ellipsis, slice(4, 0, -2)),
                (slice(None), slice(1, None, 2), -2), (0, 0, 0, 0), (slice(5, 1), 1)]:
        v = a[key]
        np.testing.assert_array_equal(v.asnumpy(), host[key], err_msg=str(key))
    np.testing.assert_array_equal(a.T.asnumpy(), host.T)
    np.testing.assert_array_equal(a.transpose(2, 0, 3, 1).asnumpy(), host.transpose(2, 0, 3, 1))
    np.testing.assert_array_equal(a.reshape(6, 20).asnumpy(), host.reshape(6, 20))
    with pytest.raises(dpcore.Error, match=r"\[5, 4, 3, 2\].*\[120\]"):
        a.T.reshape(120)  # needs a copy: refused, both shapes named
    with pytest.raises(dpcore.Error, match="negative"):
        a.reshape(-1)
    with pytest.raises(IndexError):
        a[2]
    with pytest.raises(IndexError):
        a[0, 0, 0, 0, 0]
    assert len(a) == 2


def test_astype_to_device_copy_from():
    host = np.linspace(-3, 3, 12).reshape(3, 4)
    a = dpcore.asarray(host)
    np.testing.assert_array_equal(a.astype("i4").asnumpy(), host.astype("i4"))
    other_q = sub_device_queue()
    b = a[:, ::-1].to_device(other_q)
    assert b.queue == other_q and b.c_contiguous
    np.testing.assert_array_equal(b.asnumpy(), host[:, ::-1])
    z = dpcore.zeros((3, 4), dtype="f4")
    z.copy_from(a.T.T)
    np.testing.assert_allclose(z.asnumpy(), host.astype("f4"))
    z[1:, :].copy_from(dpnp.ones(4, dtype="i8"))  # broadcast, converted, from dpnp memory
    assert z.asnumpy()[1:].tolist() == [[1.0] * 4] * 2
    with pytest.raises(dpcore.Error, match="read-only"):
        z.as_read_only().copy_from(a)


# ---------------------------------------------------------------- zero-copy exchange

def test_dpcore_to_dpnp_zero_copy_both_ways():
    a = dpcore.asarray(np.arange(6, dtype="f8"))
    x = dpnp.from_dlpack(a)
    assert x.__sycl_usm_array_interface__["data"][0] == a.data_ptr
    x[2] = 42.0
    assert a.asnumpy()[2] == 42.0
    a[0:1].copy_from(dpcore.asarray([7.0]))
    assert float(x[0]) == 7.0
    # Through __sycl_usm_array_interface__ too (dpnp.asarray always copies;
    # its tensor library's asarray does not).
    import dpnp.tensor as dpt
    y = dpt.asarray(a[::2])
    assert y.__sycl_usm_array_interface__["data"][0] == a.data_ptr and y.strides == (2,)
    np.testing.assert_array_equal(dpt.asnumpy(y), a.asnumpy()[::2])


def test_dpnp_to_dpcore_zero_copy_with_producers_queue():
    x = dpnp.arange(24, dtype="f4").reshape(4, 6)[::-1, 1::2]
    a = dpcore.asarray(x)
    iface = x.__sycl_usm_array_interface__
    assert a.data_ptr == iface["data"][0] + iface["offset"] * 4
    assert a.strides == (-6, 2) and a.queue == x.sycl_queue
    np.testing.assert_array_equal(a.asnumpy(), dpnp.asnumpy(x))
    a[0, 0:1].copy_from(dpcore.asarray([-1.0]))
    assert float(x[0, 0]) == -1.0
    # The DLPack path gives the same memory (queue: the device's canonical one).
    b = dpcore.from_dlpack(x)
    assert b.data_ptr == a.data_ptr and b.queue == dpcore.Queue()


def test_host_arrays_with_numpy():
    n = np.arange(10.0)
    h = dpcore.from_dlpack(n)
    assert h.queue is None and h.usm_type is None and h.__dlpack_device__() == (1, 0)
    back = np.from_dlpack(h)
    back[0] = 5.0
    assert n[0] == 5.0  # zero-copy both ways
    assert not hasattr(h, "__sycl_usm_array_interface__")
    d = dpcore.asarray(n)  # to a device: a copy
    assert d.__dlpack_device__()[0] == 14
    np.testing.assert_array_equal(np.from_dlpack(d, device="cpu"), n)  # device -> host copy
    with pytest.raises(ValueError, match="copy=False"):
        dpcore.asarray(n, copy=False)


# ---------------------------------------------------------------- the casters

def test_caster_origins_and_layout(probe):
    a = dpcore.asarray(np.arange(12, dtype="f4").reshape(3, 4))
    d = probe.describe(a)
    assert d["origin"] == "dpcore" and d["shape"] == [3, 4] and d["is_float32"] and d["queue"] == dpcore.Queue()
    x = dpnp.arange(12, dtype="f4").reshape(3, 4).T
    d = probe.describe(x)
    # dpnp arrays: read through the usm_ndarray's attributes (its interface
    # dict would wait for the queue), with the same result.
    assert d["origin"] == "tensor" and d["strides"] == [1, 4] and d["f_contiguous"] and not d["c_contiguous"]
    assert d["queue"] == x.sycl_queue  # the producer's own queue
    iface = x.__sycl_usm_array_interface__
    assert d["data"] == iface["data"][0] + iface["offset"] * 4
    y = dpnp.arange(30, dtype="i8").reshape(5, 6)[3:0:-2, ::-3]
    dy, iy = probe.describe(y), y.__sycl_usm_array_interface__
    assert dy["origin"] == "tensor" and dy["data"] == iy["data"][0] + iy["offset"] * 8
    assert dy["strides"] == list(iy["strides"]) and dy["shape"] == list(iy["shape"])
    assert probe.describe(y.get_array())["origin"] == "tensor"
    assert not probe.describe(dpnp.ones(3).get_array()[::2])["c_contiguous"]
    m = dpctl.memory.MemoryUSMShared(32)
    d = probe.describe(m)
    assert d["origin"] == "suai" and d["dtype"] == "uint8" and d["shape"] == [32]
    d = probe.describe(np.arange(5, dtype="i2")[::-1])
    assert d["origin"] == "dlpack" and d["is_host"] and d["queue"] is None and d["strides"] == [-1]


class LegacyOnly:
    """Speaks only the legacy DLPack protocol (no max_version keyword)."""

    def __init__(self, a):
        self.a = a

    def __dlpack__(self, stream=None):
        return self.a.__dlpack__()

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


class Suai:
    """Describes someone else's USM memory through the interface only."""

    def __init__(self, owner, dtype, shape, syclobj):
        self.owner = owner
        self.__sycl_usm_array_interface__ = {
            "data": (owner.__sycl_usm_array_interface__["data"][0], False), "shape": shape,
            "strides": None, "typestr": np.dtype(dtype).str, "version": 1, "syclobj": syclobj}


def test_caster_legacy_dlpack_and_instance_interfaces(probe):
    d = probe.describe(LegacyOnly(np.arange(4.0)))
    assert d["origin"] == "dlpack_legacy" and d["is_host"]
    x = dpnp.arange(8, dtype="f8")
    s = Suai(x, "f8", (2, 4), x.sycl_queue)
    d = probe.describe(s)
    assert d["origin"] == "suai" and d["shape"] == [2, 4] and d["queue"] == x.sycl_queue
    assert probe.sum_float64(s) == 28.0
    # No syclobj: the device whose default context knows the pointer.
    s2 = Suai(x, "f8", (8,), None)
    assert probe.describe(s2)["queue"] == dpcore.Queue()


def test_caster_declines_and_explains(probe):
    assert probe.which(dpnp.ones(2)) == "array"
    assert probe.which(3) == "int" and probe.which("x") == "str"
    with pytest.raises(TypeError) as e:
        probe.which(3.5)
    assert "__sycl_usm_array_interface__" in str(e.value) and "__dlpack__" in str(e.value)
    # An array kind that cannot be taken: TypeError with the reason and the kinds.
    with pytest.raises(TypeError, match="byte order.*Accepted: dpcore.usm_ndarray"):
        probe.which(np.arange(3, dtype=">f4"))
    with pytest.raises(TypeError, match="typestr"):
        probe.describe(Suai(dpnp.ones(2), "U2", (1,), None))
    bad = Suai(dpnp.ones(2), "f8", (2,), None)
    bad.__sycl_usm_array_interface__["data"] = (np.arange(2.0).ctypes.data, False)
    with pytest.raises(TypeError, match="not USM"):
        probe.describe(bad)
    with pytest.raises(RuntimeError, match="holds float32, not float64"):
        probe.sum_float64(dpcore.zeros(2, dtype="f4"))


def test_queue_caster(probe):
    q = dpcore.Queue()
    dq = dpctl.SyclQueue(q._get_capsule())
    assert probe.which_queue(q) == "queue" and probe.which_queue(dq) == "queue"
    assert probe.which_queue(dq._get_capsule()) == "queue"
    assert probe.which_queue(17) == "object"
    assert probe.same_queue(q, dq)
    r = probe.queue_of(dq)
    assert isinstance(r, dpcore.Queue) and r == q


def test_returned_arrays_go_to_dpnp_and_back(probe):
    a = dpcore.asarray(np.arange(6.0))
    r = probe.identity(a)
    assert isinstance(r, dpcore.Array) and r.data_ptr == a.data_ptr
    x = dpnp.from_dlpack(probe.identity(dpnp.arange(3.0)))
    np.testing.assert_array_equal(dpnp.asnumpy(x), [0.0, 1.0, 2.0])
    assert probe.describe(probe.identity(a))["origin"] == "dpcore"


def test_staging_only_on_request(probe):
    q = dpcore.Queue()
    n = np.arange(4.0)
    with pytest.raises(RuntimeError, match="allow the copy"):
        probe.stage(n, q, False)
    r, copied = probe.stage(n, q, True)
    assert copied and isinstance(r, dpcore.Array) and r.queue == q
    d = dpcore.asarray(n)
    r2, copied2 = probe.stage(d, q, False)
    assert not copied2 and r2.data_ptr == d.data_ptr


def sub_device_queue():
    """A queue on a sub-device (its own device and context): dpctl gives the
    platform default context to a new SyclContext of one root device."""
    subs = dpctl.SyclDevice().create_sub_devices(partition=1)
    return dpctl.SyclQueue(subs[0])


def test_common_queue_lists_every_argument(probe):
    a = dpcore.asarray([1.0])
    b = dpnp.asarray([2.0], sycl_queue=sub_device_queue())
    assert probe.common(a, dpcore.asarray([3.0])) == dpcore.Queue()
    with pytest.raises(ValueError) as e:
        probe.common(a, b)
    msg = str(e.value)
    assert "array 0" in msg and "array 1" in msg and msg.count("context") >= 2
    with pytest.raises(ValueError, match="array 0"):
        dpcore.common_queue(a, b)


def test_keep_alive_releases_the_producer_after_the_work(probe):
    released = []
    x = dpnp.arange(1000, dtype="f8")
    s = Suai(x, "f8", (1000,), x.sycl_queue)
    ref = weakref.ref(s, lambda _: released.append(True))
    probe.keep(s)
    del s
    gc.collect()
    probe.wait_deferred()
    gc.collect()
    assert released == [True]


def test_no_crash_at_exit_with_lent_objects(tmp_path):
    # A lent dpnp object still held by dpcore when the interpreter exits.
    code = ("import dpnp, dpcore\n"
            "x = dpnp.arange(10.0)\n"
            "a = dpcore.asarray(x)\n"
            "keep = [a]\n")
    r = subprocess.run(["python", "-c", code], capture_output=True, text=True, env=os.environ, timeout=120)
    assert r.returncode == 0, r.stderr


def test_work_is_recorded_with_dpnps_order_manager(probe, monkeypatch):
    import dpctl.utils
    x = dpnp.arange(10.0)
    mgr = dpctl.utils.SequentialOrderManager[x.sycl_queue]
    calls = []
    real = mgr.add_event_pair

    def spy(host_ev, comp_ev):
        calls.append((host_ev, comp_ev))
        return real(host_ev, comp_ev)

    monkeypatch.setattr(mgr, "add_event_pair", spy)
    probe.record(x)
    assert len(calls) == 1
    host_ev, comp_ev = calls[0]
    assert isinstance(comp_ev, dpctl.SyclEvent)
    comp_ev.wait()  # dpctl's copy of dpcore's event works on its own
    probe.record(dpcore.asarray([1.0]))  # no producer queue: nothing to record
    assert len(calls) == 1


def test_events_and_named_compute_follows_data(probe):
    a = dpcore.asarray([1.0, 2.0])
    e = probe.barrier_of(a)
    assert isinstance(e, dpcore.Event)
    assert probe.event_done(e) and e.complete
    with pytest.raises(TypeError):
        probe.event_done(a)
    x = dpnp.ones(2)  # dpnp's own (out-of-order) queue
    y = dpnp.ones(2, sycl_queue=dpctl.SyclQueue(x.sycl_device))  # another runtime queue, same context
    assert probe.pending_count(x, y) == 2 and probe.pending_count(x, x) == 1
    assert probe.common_named(x, y) is not None
    with pytest.raises(ValueError, match=r"array 0 \(A\).*array 1 \(x\)"):
        probe.common_named(a, dpnp.ones(1, sycl_queue=sub_device_queue()))


def test_caster_errors_are_dpcores_classes(probe, monkeypatch):
    """The header raises the dpcore package's classes, looked up at run time:
    the casters' TypeErrors, common_queue's ValueError and dpcore::error
    from the wrappers (through the translator the probe registers)."""
    with pytest.raises(TypeError, match="byte order") as e:
        probe.which(np.arange(3, dtype=">f4"))
    assert isinstance(e.value, dpcore.TypeMismatchError) and e.value.status == "DPC_ERROR_INVALID_ARGUMENT"
    with pytest.raises(ValueError, match="holds float32, not float64") as e:
        probe.sum_float64(dpcore.zeros(2, dtype="f4"))
    assert type(e.value) is dpcore.InvalidArgumentError and e.value.code == 1
    with pytest.raises(ValueError, match="allow the copy") as e:
        probe.stage(np.arange(4.0), dpcore.Queue(), False)
    assert isinstance(e.value, dpcore.Error) and e.value.status == "DPC_ERROR_INVALID_ARGUMENT"
    with pytest.raises(ValueError, match=r"array 0 \(A\)") as e:
        probe.common_named(dpcore.asarray([1.0]), dpnp.asarray([2.0], sycl_queue=sub_device_queue()))
    assert isinstance(e.value, dpcore.InvalidArgumentError) and e.value.status.startswith("DPC_ERROR_")
    with pytest.raises(ValueError, match="banana") as e:
        probe.select("gpu:banana:x")
    assert type(e.value) is dpcore.InvalidArgumentError and e.value.status == "DPC_ERROR_INVALID_SELECTOR"
    with pytest.raises(MemoryError, match="probe") as e:
        probe.fail(301, "probe")
    assert type(e.value) is dpcore.OutOfMemoryError and e.value.backend_code == 42
    with pytest.raises(NotImplementedError) as e:
        probe.fail(202, "probe")
    assert type(e.value) is dpcore.UnsupportedError and e.value.status == "DPC_ERROR_UNSUPPORTED"
    with pytest.raises(dpcore.Error) as e:
        probe.fail(205, "probe")
    assert type(e.value) is dpcore.Error and e.value.status == "DPC_ERROR_DEVICE_LOST"
    # Without the dpcore package the same errors are plain builtins.
    monkeypatch.setitem(sys.modules, "dpcore._errors", None)
    with pytest.raises(RuntimeError, match="probe") as e:
        probe.fail(301, "probe")
    assert type(e.value) is RuntimeError
    with pytest.raises(TypeError, match="byte order") as e:
        probe.which(np.arange(3, dtype=">f4"))
    assert type(e.value) is TypeError
