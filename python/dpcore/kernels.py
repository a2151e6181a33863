"""Kernels from Python: build device code, take its kernels, launch them.

- ``Bundle.from_spirv(spirv_bytes_or_path, device=None, options=None)``,
  ``Bundle.from_opencl(source, ...)``, ``Bundle.from_sycl(source, ...)``
  build a bundle for a device (in its default context, where dpcore, dpnp
  and dpctl arrays live) or for a queue (its device and context).
- ``bundle.kernel_names``, ``bundle.kernel_count``, ``"name" in bundle``,
  ``bundle.get_kernel(name)`` (or ``bundle[name]``); a ``Kernel`` tells its
  ``name``, ``num_args``, ``max_work_group_size``, ... and ``info`` (all of
  them in a dict).
- ``kernel.launch(global_size, *args, local_size=None, queue=None,
  depends=None)`` (or ``dpcore.launch(kernel, global_size, *args, ...)``)
  returns a ``dpcore.Event``. ``global_size[0]`` is the extent of
  ``get_global_id(0)``. The queue is the one the array arguments share
  (compute follows data) unless ``queue=`` names one. A kernel gets an
  array's data pointer only: strided views are refused.

Scalar arguments and their C types:

- a Python ``int``: ``long`` (int64); a Python ``float``: ``double``;
- a numpy scalar (``numpy.int32(5)``, ...): its own type;
- ``dpcore.int8`` ... ``dpcore.uint64``, ``dpcore.float16/32/64`` (e.g.
  ``dpcore.int32(5)``): the named type (``ScalarType.c_name`` gives the
  OpenCL name);
- a pair ``(value, dtype)``, e.g. ``(5, "uint16")``, or
  ``dpcore.Scalar(value, dtype)``: ``dtype`` is anything ``numpy.dtype``
  takes; the bytes are numpy's, so ``dpcore.Scalar([1, 2, 3, 4], "int32")``
  is an OpenCL ``int4`` (16 bytes);
- ``dpcore.LocalMemory(count, dtype="uint8")``: a ``__local`` buffer of
  ``count`` elements.

A Python ``bool`` is refused (say ``dpcore.uint8(b)``). The C API checks
each scalar's size against the kernel's SPIR-V signature, so a Python int
given for an ``int`` parameter is an error that says to give the type.
"""
from ._dpcore import Bundle, Kernel, LocalMemory, Scalar, launch  # noqa: F401

__all__ = ["Bundle", "Kernel", "LocalMemory", "Scalar", "ScalarType", "launch",
           "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
           "float16", "float32", "float64"]


class ScalarType:
    """A C scalar type for kernel arguments: ``dpcore.int32(5)`` is
    ``dpcore.Scalar(5, "int32")``, the 4-byte OpenCL ``int``. It also has a
    ``dtype`` attribute, so ``numpy.dtype(dpcore.int32)`` and
    ``dpcore.empty(n, dtype=dpcore.int32)`` work."""

    __slots__ = ("name", "c_name", "_dtype")

    def __init__(self, name, c_name):
        self.name = name
        self.c_name = c_name
        self._dtype = None

    @property
    def dtype(self):
        """The numpy dtype (numpy is imported here, at first use, not by
        ``import dpcore``)."""
        if self._dtype is None:
            from . import _import_numpy
            self._dtype = _import_numpy().dtype(self.name)
        return self._dtype

    def __call__(self, value):
        return Scalar(value, self.name)

    def __repr__(self):
        return f"dpcore.{self.name} (OpenCL {self.c_name})"


int8 = ScalarType("int8", "char")
uint8 = ScalarType("uint8", "uchar")
int16 = ScalarType("int16", "short")
uint16 = ScalarType("uint16", "ushort")
int32 = ScalarType("int32", "int")
uint32 = ScalarType("uint32", "uint")
int64 = ScalarType("int64", "long")
uint64 = ScalarType("uint64", "ulong")
float16 = ScalarType("float16", "half")
float32 = ScalarType("float32", "float")
float64 = ScalarType("float64", "double")
