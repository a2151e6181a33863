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
"""
import os as _os
import sys as _sys

# Where dpcore looks for the SYCL runtime when nothing has loaded it yet:
# this interpreter's environment (a venv need not be activated to be used).
_os.environ.setdefault("DPCORE_PYTHON_PREFIX", _sys.prefix)

from ._dpcore import (  # noqa: F401
    Array,
    Device,
    Error,
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
