"""Trust under load (issue 11), from Python:

- DLPack imports are ordered after the producer's pending work (the
  DLPack / array API `stream` contract), through dpcore.from_dlpack and
  through the pybind11 casters (dpcore.asarray and the caster probe);
- dpcore's own __dlpack__ orders its work before the consumer's stream and
  sets IS_COPIED when it copies;
- dpcore.asarray of a Python scalar is 0-d, as in numpy and dpnp;
- a Python process never aborts at exit while dpcore holds Python objects
  for pending work (keep-alives, lent memory, DLPack imports).
"""
import ctypes
import os
import pathlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import dpctl
import dpnp
import numpy as np
import pytest

import dpcore

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRIALS = 50
N = 8_000_000


def pending_dpnp(device_filter):
    """A dpnp array whose last two updates are still running on dpnp's
    out-of-order queue when this returns (3.0 everywhere once done)."""
    x = dpnp.zeros(N, dtype="f4", device=device_filter)
    x.sycl_queue.wait()
    x += 1.0
    x *= 3.0
    return x


class DLPackOnly:
    """A producer seen only through the DLPack protocol (no array
    interface, no attributes the casters know), forwarding `stream`."""

    def __init__(self, a):
        self._a = a

    def __dlpack__(self, **kw):
        return self._a.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


def exact(host):
    values, counts = np.unique(host, return_counts=True)
    return values.tolist() == [3.0] and counts.tolist() == [N]


@pytest.mark.parametrize("path", ["from_dlpack", "asarray", "asarray_dlpack_only", "caster_dlpack_only"])
def test_imports_wait_for_the_producers_pending_work(device_filter, path, probe):  # noqa: F811
    stale = 0
    for _ in range(TRIALS):
        x = pending_dpnp(device_filter)
        if path == "from_dlpack":
            ok = exact(dpcore.from_dlpack(x).asnumpy())
        elif path == "asarray":
            ok = exact(dpcore.asarray(x).asnumpy())
        elif path == "asarray_dlpack_only":
            ok = exact(dpcore.asarray(DLPackOnly(x)).asnumpy())
        else:
            ok = probe.sum_float64(DLPackOnly(x.astype("f8"))) == 3.0 * N
        stale += not ok
    assert stale == 0, f"{stale} of {TRIALS} imports read the producer's memory before its work was done"


def test_caster_through_attributes_waits_too(device_filter, probe):  # noqa: F811
    stale = 0
    for _ in range(TRIALS):
        x = pending_dpnp(device_filter).astype("f8")
        x *= 1.0
        stale += probe.sum_float64(x) != 3.0 * N
    assert stale == 0


def test_a_producer_that_takes_no_stream_is_waited_for(device_filter):
    class NoStream:
        def __init__(self, a):
            self._a = a
            self.sycl_queue = a.sycl_queue

        def __dlpack__(self):  # the legacy protocol: no keywords at all
            return self._a.__dlpack__()

        def __dlpack_device__(self):
            return self._a.__dlpack_device__()

    for _ in range(10):
        assert exact(dpcore.from_dlpack(NoStream(pending_dpnp(device_filter))).asnumpy())


def test_a_oneapi_producer_that_cannot_be_ordered_is_refused(device_filter):
    class Unorderable:
        def __init__(self, a):
            self._a = a

        def __dlpack__(self):
            return self._a.__dlpack__()

        def __dlpack_device__(self):
            return self._a.__dlpack_device__()

    with pytest.raises(TypeError, match="cannot be ordered"):
        dpcore.from_dlpack(Unorderable(dpnp.ones(4, device=device_filter)))


# ---------------------------------------------------------------- dpcore as the producer

PyCapsule_GetPointer = ctypes.pythonapi.PyCapsule_GetPointer
PyCapsule_GetPointer.restype = ctypes.c_void_p
PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
IS_COPIED = 1 << 1


def versioned_flags(cap):
    # DLManagedTensorVersioned: version (8 bytes), manager_ctx, deleter, flags (uint64).
    p = PyCapsule_GetPointer(cap, b"dltensor_versioned")
    return ctypes.c_uint64.from_address(p + 24).value


def test_dlpack_export_sets_is_copied_only_for_copies(device_filter):
    a = dpcore.asarray(np.arange(6, dtype="f4"), queue=dpcore.Queue(device_filter))
    assert versioned_flags(a.__dlpack__(max_version=(1, 0))) & IS_COPIED == 0
    assert versioned_flags(a.__dlpack__(max_version=(1, 0), copy=False)) & IS_COPIED == 0
    assert versioned_flags(a.__dlpack__(max_version=(1, 0), copy=True)) & IS_COPIED
    assert versioned_flags(a.__dlpack__(max_version=(1, 0), dl_device=(1, 0))) & IS_COPIED
    # And consumers see the same data either way.
    np.testing.assert_array_equal(np.from_dlpack(a, device="cpu"), np.arange(6, dtype="f4"))
    np.testing.assert_array_equal(dpnp.asnumpy(dpnp.from_dlpack(a, copy=True)), np.arange(6, dtype="f4"))


def test_dlpack_export_orders_dpcore_work_before_the_consumers_stream(device_filter):
    q = dpcore.Queue(device_filter)
    consumer = dpctl.SyclQueue(device_filter)
    for _ in range(10):
        a = dpcore.full((N,), 3.0, dtype="f4", queue=q)
        y = dpnp.from_dlpack(a)  # dpnp passes its queue as the stream
        assert exact(dpnp.asnumpy(y))
    a = dpcore.full((4,), 1.0, dtype="f4", queue=q)
    a.__dlpack__(stream=consumer, max_version=(1, 0))
    # What other consumers pass: -1 (no synchronisation, as mpi4py asks) and
    # the address of their sycl::queue (the exchange API's and torch XPU's
    # stream token), here dpctl's.
    a.__dlpack__(stream=-1, max_version=(1, 0))
    b = dpcore.full((N,), 3.0, dtype="f4", queue=q)
    cap = b.__dlpack__(stream=consumer.addressof_ref(), max_version=(1, 0))
    assert type(cap).__name__ == "PyCapsule"
    consumer.wait()  # the barrier put on the consumer's queue waits for b's fill
    del cap
    with pytest.raises(ValueError, match="integer stream"):
        a.__dlpack__(stream=7)
    with pytest.raises(ValueError, match="integer stream"):
        a.__dlpack__(stream=0)
    with pytest.raises(TypeError, match="stream must be"):
        a.__dlpack__(stream="queue")


@pytest.mark.parametrize("value,dtype", [(3.5, None), (7, None), (True, None), (2.5, "f4"), (1 + 2j, None)])
def test_asarray_of_a_scalar_is_zero_dimensional(value, dtype):
    a = dpcore.asarray(value, dtype=dtype)
    ref = np.asarray(value, dtype=dtype)
    assert a.shape == () == ref.shape == dpnp.asarray(value, dtype=dtype).shape
    assert a.ndim == 0
    assert a.asnumpy().dtype == ref.dtype
    assert a.asnumpy() == ref


# ---------------------------------------------------------------- exit with pending work

EXIT_SNIPPETS = {
    # The README's example extension, as the issue reproduces it.
    "gemv_pending": (
        "import dpnp, onemkl_gemv; A = dpnp.ones((4, 3), dtype='f4'); x = dpnp.arange(3, dtype='f4'); "
        "r = dpnp.from_dlpack(onemkl_gemv.matmul(A, x)); "
        "onemkl_gemv.gemv(A, x, dpnp.zeros(4, dtype='f4'), wait=False)"),
    # DLPack imports still held by dpcore, with dpnp work pending on them.
    "dlpack_imports": (
        "import dpnp, dpcore; xs = [dpnp.ones(100000, dtype='f4') for _ in range(8)]; "
        "[x.__imul__(2.0) for x in xs]; ys = [dpcore.from_dlpack(x) for x in xs]; "
        "zs = [dpcore.asarray(x) for x in xs]"),
    # Keep-alives of lent Python objects released by dpcore's thread at exit.
    "keep_alives": (
        "import dpnp, dpcore, onemkl_gemv; A = dpnp.ones((64, 64), dtype='f4'); "
        "[onemkl_gemv.gemv(A, dpnp.ones(64, dtype='f4'), dpnp.zeros(64, dtype='f4'), wait=False) "
        "for _ in range(20)]; d = dpcore.asarray(dpnp.ones(1000, dtype='f4'))"),
}
EXIT_RUNS = int(os.environ.get("DPCORE_TEST_EXIT_RUNS", "24"))


@pytest.fixture(scope="module")
def gemv_dir():
    d = ROOT / "examples-pybind11" / "onemkl_gemv"
    r = subprocess.run(["bash", str(d / "build.sh")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return d


@pytest.mark.parametrize("name", sorted(EXIT_SNIPPETS))
def test_exit_with_pending_work_never_aborts(name, gemv_dir):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(gemv_dir), os.environ.get("PYTHONPATH", "")]))

    def run(_):
        return subprocess.run([sys.executable, "-c", EXIT_SNIPPETS[name]], env=env, capture_output=True,
                              text=True, timeout=120)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, range(EXIT_RUNS)))
    bad = [r for r in results if r.returncode != 0]
    assert not bad, (f"{len(bad)} of {EXIT_RUNS} runs failed; first: exit {bad[0].returncode}\n"
                     f"{bad[0].stderr[-2000:]}")
