"""dpcore for Python: devices, queues and n-d USM arrays over dpcore's C API.

A small package, not an array library: it makes dpcore arrays (``empty``,
``zeros``, ``full``, ``asarray``, ``from_dlpack``), copies and converts them
(``Array.astype``, ``Array.to_device``, ``Array.copy_from``), views them
(indexing with ints and slices, ``T``, ``transpose``, ``reshape``) and hands
them to other libraries zero-copy through DLPack (``__dlpack__``,
``__dlpack_device__``) and ``__sycl_usm_array_interface__``. pybind11
extensions built with ``dpcore/dpcore4pybind11.hpp`` take and return these
objects, as well as dpnp, dpctl, numpy and torch arrays.

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

__version__ = __c_version__
_HERE = _os.path.dirname(_os.path.abspath(__file__))


def get_include():
    """Include directories for building an extension against dpcore: the C
    header's and the C++ headers' (dpcore/dpcore4pybind11.hpp), in the
    checkout or under the installation prefix."""
    root = _os.path.dirname(_os.path.dirname(_HERE))  # <checkout>/python/dpcore
    if _os.path.exists(_os.path.join(root, "include", "dpcore.h")):
        return [_os.path.join(root, "include"), _os.path.join(root, "cpp-interop", "include")]
    prefix = _os.path.dirname(_os.path.dirname(_os.path.dirname(_os.path.dirname(_HERE))))
    return [_os.path.join(prefix, "include")]  # <prefix>/lib/pythonX.Y/site-packages/dpcore


def default_device():
    """The device dpcore picks by default (GPU over accelerator over CPU)."""
    return Device()
