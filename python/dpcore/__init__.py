"""dpcore for Python: devices, queues and n-d USM arrays over dpcore's C API.

A small package, not an array library: it makes dpcore arrays (``empty``,
``zeros``, ``full``, ``asarray``, ``from_dlpack``), copies and converts them
(``Array.astype``, ``Array.to_device``, ``Array.copy_from``), views them
(indexing with ints and slices, ``T``, ``transpose``, ``reshape``) and hands
them to other libraries zero-copy through DLPack (``__dlpack__``,
``__dlpack_device__``) and ``__sycl_usm_array_interface__``. pybind11
extensions built with ``dpcore/dpcore4pybind11.hpp`` take and return these
objects, as well as dpnp, dpctl, numpy and torch arrays.

Kernels from Python (``dpcore.kernels``, exported here): ``Bundle`` from
SPIR-V, OpenCL C or SYCL source, its ``Kernel`` objects, and ``launch`` on
the queue the array arguments share, with typed scalars (``dpcore.int32(5)``,
``Scalar``) and ``LocalMemory``.

``get_include()`` gives the directories an extension's build needs;
``scripts/dpcore-config --includes --libs`` gives the full flags.

Errors: every failure is a ``dpcore.Error`` (a ``RuntimeError``) with
``status`` (the C status's name, e.g. ``"DPC_ERROR_INVALID_ARGUMENT"``),
``code`` and ``backend_code``; most are also the builtin type Python code
expects: ``OutOfMemoryError`` is a ``MemoryError``, ``InvalidArgumentError``
a ``ValueError``, ``TypeMismatchError`` a ``TypeError``, ``UnsupportedError``
a ``NotImplementedError``. The mapping of every status is in
``dpcore._errors`` (``help(dpcore._errors)``) and in the README.

numpy is imported only when a call needs it (host data in ``asarray`` and
``full``, ``Array.asnumpy``, ``Array.dtype``, data types spelled other than
by name or type string), not by ``import dpcore`` or by making arrays.
"""
import _thread
import os as _os
import sys as _sys

# Where dpcore looks for the SYCL runtime when nothing has loaded it yet:
# this interpreter's environment (a venv need not be activated to be used).
_os.environ.setdefault("DPCORE_PYTHON_PREFIX", _sys.prefix)


def _point_opencl_loader():
    """The intel-opencl-rt wheel's ICD file names a path that does not
    exist, so the OpenCL loader finds no platform unless OCL_ICD_FILENAMES
    names the library. When neither OCL_ICD_FILENAMES nor OCL_ICD_VENDORS is
    set and this environment has Intel's OpenCL CPU runtime, name it (and
    the ICDs the system registers) now, before any SYCL runtime in the
    process lists its platforms (dpnp or dpctl imported after dpcore see the
    device too). The C library does the same for C programs
    (src/runtime.rs); `dpcore-info --diagnose` reports it."""
    if _os.environ.get("OCL_ICD_FILENAMES") or _os.environ.get("OCL_ICD_VENDORS"):
        return
    cpu = _os.path.join(_sys.prefix, "lib", "libintelocl.so")
    if not _os.path.exists(cpu):
        return
    icds = [cpu]
    vendors = "/etc/OpenCL/vendors"
    try:
        names = sorted(n for n in _os.listdir(vendors) if n.endswith(".icd"))
    except OSError:
        names = []
    for n in names:
        try:
            with open(_os.path.join(vendors, n)) as f:
                lib = f.read().strip()
        except OSError:
            continue
        if lib and lib not in icds and (not lib.startswith("/") or _os.path.exists(lib)):
            icds.append(lib)
    _os.environ["OCL_ICD_FILENAMES"] = ":".join(icds)


_point_opencl_loader()

from ._errors import (  # noqa: F401
    Error,
    InvalidArgumentError,
    OutOfMemoryError,
    TypeMismatchError,
    UnsupportedError,
)

_numpy_lock = _thread.allocate_lock()


def _import_numpy():
    """numpy, imported at the first call that needs it. A fork waits while
    this import is under way (the hooks below): a child forked in the middle
    of it would wait for ever on numpy's import lock, held by a thread the
    child does not have."""
    with _numpy_lock:
        import numpy
    return numpy


_os.register_at_fork(before=_numpy_lock.acquire, after_in_parent=_numpy_lock.release,
                     after_in_child=_numpy_lock.release)

from ._dpcore import (  # noqa: E402,F401
    Array,
    Device,
    Event,
    Queue,
    __c_version__,
    asarray,
    common_queue,
    devices,
    empty,
    from_dlpack,
    full,
    zeros,
)
from .kernels import *  # noqa: F401,F403  Bundle, Kernel, launch, Scalar, int32, ...

__version__ = __c_version__
_HERE = _os.path.dirname(_os.path.abspath(__file__))


def _layout():
    """Where this installation keeps its files: ("checkout", root) when run
    from the source tree (python/dpcore), ("wheel", dir) when the package
    directory is itself the prefix (pip install: dpcore/include,
    dpcore/lib, ...), ("prefix", prefix) for make install's
    PREFIX/lib/pythonX.Y/site-packages/dpcore."""
    root = _os.path.dirname(_os.path.dirname(_HERE))
    if _os.path.exists(_os.path.join(root, "include", "dpcore.h")) and \
            _os.path.exists(_os.path.join(root, "Cargo.toml")):
        return "checkout", root
    if _os.path.exists(_os.path.join(_HERE, "include", "dpcore.h")):
        return "wheel", _HERE
    return "prefix", _os.path.normpath(_os.path.join(_HERE, "..", "..", "..", ".."))


def get_include():
    """Include directories for building an extension against dpcore: the C
    header's and the C++ headers' (dpcore/dpcore4pybind11.hpp)."""
    kind, where = _layout()
    if kind == "checkout":
        return [_os.path.join(where, "include"), _os.path.join(where, "cpp-interop", "include")]
    return [_os.path.join(where, "include")]


def get_library_dir():
    """The directory holding libdpcore.so (and the SYCL plugin)."""
    kind, where = _layout()
    return _os.path.join(where, "target", "release") if kind == "checkout" else _os.path.join(where, "lib")


def _installed_dir(*parts):
    kind, where = _layout()
    d = _os.path.join(where, *parts)
    if kind == "checkout" or not _os.path.isdir(d):
        raise FileNotFoundError(
            f"{'/'.join(parts)} is made by installing dpcore (pip install . or make install), "
            f"not in the {kind} at {where}")
    return d


def get_cmake_dir():
    """The directory of dpcoreConfig.cmake: give it to CMake as dpcore_DIR
    (or its prefix in CMAKE_PREFIX_PATH). Raises FileNotFoundError in a
    checkout, which has no installed CMake package."""
    return _installed_dir("lib", "cmake", "dpcore")


def get_pkgconfig_dir():
    """The directory of dpcore.pc (for PKG_CONFIG_PATH)."""
    return _installed_dir("lib", "pkgconfig")


def _info_program():
    """The dpcore-info program of this installation, or None."""
    kind, where = _layout()
    p = _os.path.join(where, "target", "release" if kind == "checkout" else "", "dpcore-info") \
        if kind == "checkout" else _os.path.join(where, "bin", "dpcore-info")
    return p if _os.access(p, _os.X_OK) else None


def default_device():
    """The device dpcore picks by default (GPU over accelerator over CPU)."""
    return Device()
