"""The dpcore package's exceptions: each failure is a dpcore.Error (a
RuntimeError) carrying its C status, and also the builtin type Python code
expects (MemoryError, ValueError, TypeError, NotImplementedError), raised by
real calls; and numpy is imported only by the calls that need it.

The caster side (dpcore4pybind11.hpp) is tested in test_python_package.py,
with its probe extension."""
import os
import pathlib
import pickle
import re
import subprocess
import sys
import textwrap

import dpctl
import numpy as np
import pytest

import dpcore
from dpcore import _errors

ROOT = pathlib.Path(__file__).resolve().parents[2]


def check(e, builtin, cls, status):
    """`e` is both kinds of exception and names its status."""
    assert isinstance(e, builtin) and isinstance(e, dpcore.Error) and isinstance(e, RuntimeError)
    assert type(e) is cls
    assert e.status == status and e.code == _errors.STATUSES[status][0]
    assert isinstance(e.backend_code, int)


def header_statuses():
    """Every dpc_status of include/dpcore.h, with its value."""
    text = (ROOT / "include" / "dpcore.h").read_text()
    body = re.search(r"enum dpc_status\b.*?\{(.*?)\};", text, flags=re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    return {name: int(value) for name, value in re.findall(r"(DPC_\w+)\s*=\s*(\d+)", body)}


def test_every_status_of_the_header_is_mapped():
    statuses = header_statuses()
    assert statuses.pop("DPC_SUCCESS") == 0
    assert {name: code for name, (code, _) in _errors.STATUSES.items()} == statuses
    for name, code in statuses.items():
        cls = _errors.class_for(code)
        assert issubclass(cls, dpcore.Error), name
        e = _errors._make(code, name, "m")
        assert type(e) is cls and e.status == name and e.code == code and str(e) == "m"
    # Statuses added later go by their block.
    assert _errors.class_for(42) is dpcore.InvalidArgumentError
    assert _errors.class_for(150) is dpcore.Error
    assert _errors.class_for(350) is dpcore.OutOfMemoryError
    assert _errors.class_for(250) is dpcore.Error and _errors.class_for(998) is dpcore.Error


def test_class_hierarchy():
    assert issubclass(dpcore.Error, RuntimeError)
    for cls, builtin in [(dpcore.OutOfMemoryError, MemoryError), (dpcore.InvalidArgumentError, ValueError),
                         (dpcore.TypeMismatchError, TypeError), (dpcore.UnsupportedError, NotImplementedError)]:
        assert issubclass(cls, dpcore.Error) and issubclass(cls, builtin)
    assert dpcore.Error is dpcore._dpcore.Error
    e = dpcore.Error("raised by Python code")
    assert e.status is None and e.code is None and e.backend_code == 0
    # Named, and pickled (e.g. by multiprocessing), as the package's.
    with pytest.raises(dpcore.Error) as info:
        dpcore.empty(10**15)
    assert repr(info.value).startswith("OutOfMemoryError(") and dpcore.OutOfMemoryError.__module__ == "dpcore"
    back = pickle.loads(pickle.dumps(info.value))
    assert type(back) is dpcore.OutOfMemoryError and str(back) == str(info.value)
    assert (back.status, back.code, back.backend_code) == (info.value.status, info.value.code, 0)


def test_out_of_memory_is_a_memory_error():
    # 8 PB: more than any device has; dpcore says what was asked and what exists.
    with pytest.raises(MemoryError) as info:
        dpcore.empty(10**15, dtype="f8")
    check(info.value, MemoryError, dpcore.OutOfMemoryError, "DPC_ERROR_OUT_OF_DEVICE_MEMORY")
    assert "8000000000000000 bytes" in str(info.value)
    with pytest.raises(dpcore.Error) as info:
        dpcore.zeros((10**6, 10**6), dtype="c16", usm_type="shared")
    check(info.value, MemoryError, dpcore.OutOfMemoryError, "DPC_ERROR_OUT_OF_DEVICE_MEMORY")


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError) as info:
        dpcore.Device("gpu:banana:x")
    check(info.value, ValueError, dpcore.InvalidArgumentError, "DPC_ERROR_INVALID_SELECTOR")
    assert "banana" in str(info.value) and "Grammar" in str(info.value)
    with pytest.raises(ValueError) as info:
        dpcore.empty((2, -1))
    check(info.value, ValueError, dpcore.InvalidArgumentError, "DPC_ERROR_INVALID_ARGUMENT")
    assert "negative" in str(info.value)
    with pytest.raises(ValueError) as info:
        dpcore.zeros(3).as_read_only().copy_from(dpcore.zeros(3))
    check(info.value, ValueError, dpcore.InvalidArgumentError, "DPC_ERROR_INVALID_ARGUMENT")
    with pytest.raises(ValueError) as info:
        dpcore.Array._from_handle(12345).shape  # not a dpcore handle
    check(info.value, ValueError, dpcore.InvalidArgumentError, "DPC_ERROR_INVALID_HANDLE")
    # Checked by the module itself, with the same class and status.
    for call in [lambda: dpcore.empty(3, usm_type="pinned"), lambda: dpcore.empty(3, dtype="U3"),
                 lambda: dpcore.empty(3, dtype=">f4"), lambda: dpcore.zeros(4)[::0],
                 lambda: dpcore.zeros((2, 3)).transpose(0), lambda: dpcore.asarray([1.0], copy=False)]:
        with pytest.raises(ValueError) as info:
            call()
        check(info.value, ValueError, dpcore.InvalidArgumentError, "DPC_ERROR_INVALID_ARGUMENT")


def test_wrong_types_are_type_errors():
    for call, match in [(lambda: dpcore.common_queue(dpcore.zeros(1), 3), "takes arrays, not int"),
                        (lambda: dpcore.from_dlpack(object()), "needs an object with __dlpack__"),
                        (lambda: dpcore.Queue(3.5), "expected a queue"),
                        (lambda: dpcore.zeros(2, dtype=object()), "as a data type"),
                        (lambda: dpcore.zeros(2, dtype="no such type"), "not understood"),
                        (lambda: dpcore.zeros("abc"), "a shape is an int or a sequence of ints, not a str"),
                        (lambda: dpcore.zeros((2, 1.5)), "holding a float"),
                        (lambda: len(dpcore.zeros(())), "0-d"),
                        (lambda: dpcore.zeros((2, 3)).transpose("ab"), "axes as ints"),
                        (lambda: dpcore.zeros(2).__dlpack__(stream=3.5), "stream must be")]:
        with pytest.raises(TypeError, match=match) as info:
            call()
        check(info.value, TypeError, dpcore.TypeMismatchError, "DPC_ERROR_INVALID_ARGUMENT")
    # An array kind the caster cannot take: the caster's TypeError is dpcore's too.
    with pytest.raises(TypeError, match="byte order") as info:
        dpcore.asarray(dpcore.zeros(1)).copy_from(np.arange(3, dtype=">f4"))
    check(info.value, TypeError, dpcore.TypeMismatchError, "DPC_ERROR_INVALID_ARGUMENT")


def test_no_such_device_is_a_runtime_error():
    """A well-formed filter string no device here matches: not a bad
    argument (it names a device on another machine), so a plain
    dpcore.Error listing the devices that exist."""
    with pytest.raises(RuntimeError) as info:
        dpcore.Queue("level_zero:gpu:7")
    check(info.value, RuntimeError, dpcore.Error, "DPC_ERROR_DEVICE_NOT_FOUND")
    assert not isinstance(info.value, ValueError) and "the devices are" in str(info.value)


def test_unsupported_is_not_implemented():
    # A sub-device has no filter string (those select root devices only).
    sub = dpctl.SyclDevice().create_sub_devices(partition=1)[0]
    dev = dpcore.Queue(dpctl.SyclQueue(sub)).device
    with pytest.raises(NotImplementedError) as info:
        dev.filter_string
    check(info.value, NotImplementedError, dpcore.UnsupportedError, "DPC_ERROR_UNSUPPORTED")
    assert "root devices only" in str(info.value)


def test_protocol_errors_keep_their_builtin_types():
    a = dpcore.zeros((2, 3))
    with pytest.raises(IndexError):
        a[5]
    assert not hasattr(dpcore.from_dlpack(np.arange(3.0)), "__sycl_usm_array_interface__")
    with pytest.raises(BufferError):
        a.__dlpack__(dl_device=(2, 0))


@pytest.mark.parametrize("fault,cls,status", [
    ("out_of_memory", dpcore.OutOfMemoryError, "DPC_ERROR_OUT_OF_DEVICE_MEMORY"),
    ("out_of_host_memory", dpcore.OutOfMemoryError, "DPC_ERROR_OUT_OF_HOST_MEMORY"),
    ("unsupported", dpcore.UnsupportedError, "DPC_ERROR_UNSUPPORTED"),
    ("invalid_argument", dpcore.InvalidArgumentError, "DPC_ERROR_INVALID_ARGUMENT"),
    ("not_found", dpcore.InvalidArgumentError, "DPC_ERROR_NOT_FOUND"),
    ("backend", dpcore.Error, "DPC_ERROR_BACKEND"),
    ("device_lost", dpcore.Error, "DPC_ERROR_DEVICE_LOST"),
    ("build_failed", dpcore.Error, "DPC_ERROR_BUILD_FAILED"),
    ("internal", dpcore.Error, "DPC_ERROR_INTERNAL"),
])
def test_runtime_failures_by_fault_injection(fault, cls, status):
    """The statuses the runtime reports (injected at the allocation, in a
    fresh process) reach Python as their classes."""
    code = textwrap.dedent(f"""
        import dpcore
        try:
            dpcore.zeros(4)
        except dpcore.Error as e:
            print(type(e).__name__, e.status, e.code)
        else:
            print("no error")
    """)
    env = dict(os.environ, DPCORE_FAULTS=f"usm_alloc:1:{fault}")
    env.pop("DPCORE_LEAK_CHECK", None)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [cls.__name__, status, str(_errors.STATUSES[status][0])]


def run_fresh(code):
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_making_arrays_does_not_import_numpy():
    out = run_fresh("""
        import sys
        import dpcore
        assert "numpy" not in sys.modules, "import dpcore imported numpy"
        a = dpcore.zeros(1)
        assert "numpy" not in sys.modules, "dpcore.zeros(1) imported numpy"
        b = dpcore.empty((2, 3), dtype="f4", usm_type="shared")
        c = dpcore.zeros((4,), dtype=complex)[::2].astype("c8").T
        d = dpcore.asarray(b, dtype="float64")
        e = dpcore.from_dlpack(d).to_device(dpcore.Queue(), usm_type="host")
        f = dpcore.full((2, 2), 7, dtype="i4")
        g = dpcore.full(3, 1.5)
        h = dpcore.full(1, 2 + 1j, dtype="c8")
        i = dpcore.full((), True)
        caps = (a.__dlpack__(), a.__dlpack__(max_version=(1, 0)), a.__dlpack_device__())
        text = repr(c) + repr(e) + repr(a.queue) + repr(a.device) + str(a.shape + a.strides)
        try:
            dpcore.zeros(-1)
        except ValueError:
            pass
        assert "numpy" not in sys.modules, "making arrays imported numpy"
        print("no numpy")
        assert a.asnumpy().tolist() == [0.0]
        assert f.asnumpy().tolist() == [[7, 7], [7, 7]] and str(f.dtype) == "int32"
        assert g.asnumpy().tolist() == [1.5] * 3 and str(g.dtype) == "float64"
        assert h.asnumpy().tolist() == [2 + 1j] and str(h.dtype) == "complex64"
        assert i.asnumpy().tolist() is True and str(i.dtype) == "bool"
        assert "numpy" in sys.modules
        print("numpy when needed")
    """)
    assert out.split("\n")[:2] == ["no numpy", "numpy when needed"]


# The data types dpcore reads without numpy; each must mean what numpy says.
SPELLINGS = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
             "float32", "float64", "complex64", "complex128", "b1", "|b1", "<b1", "i1", "i2", "<i4", "=i8", "u1",
             "|u1", "u2", "u4", "u8", "f2", "f4", "<f4", "=f8", "f8", "c8", "<c16", "c16", bool, float, complex]


@pytest.mark.parametrize("spec", SPELLINGS, ids=[str(s) for s in SPELLINGS])
def test_data_types_read_without_numpy_mean_what_numpy_says(spec):
    assert dpcore.zeros(2, dtype=spec).dtype == np.dtype(spec)


@pytest.mark.parametrize("spec", ["int", "b", "f", "d", "i", "double", np.float32, np.dtype("<u2"), "f16", "c32",
                                  "u16", "b2", "V8", ">i4"])
def test_other_data_types_are_numpys(spec):
    """Spellings the fast path does not read go to numpy, which decides."""
    try:
        want = np.dtype(spec)
    except TypeError:
        with pytest.raises(TypeError) as info:
            dpcore.zeros(2, dtype=spec)
        check(info.value, TypeError, dpcore.TypeMismatchError, "DPC_ERROR_INVALID_ARGUMENT")
        return
    if want.kind in "biufc" and want.byteorder != ">" and want.itemsize <= (16 if want.kind == "c" else 8):
        assert dpcore.zeros(2, dtype=spec).dtype == want
    else:
        with pytest.raises(ValueError) as info:
            dpcore.zeros(2, dtype=spec)
        check(info.value, ValueError, dpcore.InvalidArgumentError, "DPC_ERROR_INVALID_ARGUMENT")


def test_numpy_imported_by_another_thread_while_forking():
    """The first numpy import, under way on another thread while the main
    thread forks: the fork waits for it (dpcore._import_numpy's lock), so the
    child can use numpy instead of waiting for ever on its import lock."""
    out = run_fresh("""
        import os, sys, threading, time, warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        import dpcore
        assert "numpy" not in sys.modules
        a = dpcore.zeros(3)
        t = threading.Thread(target=a.asnumpy)
        t.start()
        while "numpy" not in sys.modules:
            time.sleep(0.0005)
        pid = os.fork()
        if pid == 0:
            ok = dpcore.zeros(3).asnumpy().tolist() == [0.0, 0.0, 0.0]
            os._exit(0 if ok else 3)
        t.join()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                print("child", os.waitstatus_to_exitcode(status))
                break
            time.sleep(0.01)
        else:
            os.kill(pid, 9)
            print("child hung")
    """)
    assert out.strip() == "child 0"


FULL_VALUES = [True, False, 0, 7, -3, 255, 256, -129, 2**40, 2**63, -2**63, 2**64, 1.5, -0.0, float("inf"),
               float("nan"), 3.4e38, 1e39, 2 + 3j, complex(1e39, 0)]
FULL_DTYPES = [None, "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float16",
               "float32", "float64", "complex64", "complex128"]


@pytest.mark.parametrize("dtype", FULL_DTYPES)
def test_full_with_python_scalars_matches_numpy(dtype):
    """dpcore.full converts Python scalars itself (no numpy): the result, or
    the error, is numpy.asarray's."""
    import warnings
    for value in FULL_VALUES:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                want = np.asarray(value, dtype=dtype)
            except Exception as e:  # noqa: BLE001 -- dpcore must raise the same
                with pytest.raises(type(e)):
                    dpcore.full(2, value, dtype=dtype)
                continue
            if want.dtype == object:  # an int beyond 64 bits: no dpcore data type holds it
                with pytest.raises(ValueError, match="not object"):
                    dpcore.full(2, value, dtype=dtype)
                continue
            got = dpcore.full(2, value, dtype=dtype)
        assert got.dtype == want.dtype, (value, dtype)
        np.testing.assert_array_equal(got.asnumpy(), np.full(2, want), err_msg=f"{value!r} {dtype}")
