"""dpcore's exception classes and the mapping from dpcore's C statuses to them.

Every error dpcore raises is a ``dpcore.Error`` (a ``RuntimeError``) and, where
Python has a builtin type for the kind of failure, also an instance of that
type, so callers can catch either::

    dpc_status                          class                    also a
    ----------------------------------  -----------------------  -------------------
    DPC_ERROR_INVALID_ARGUMENT     1    InvalidArgumentError     ValueError
    DPC_ERROR_NULL_POINTER         2    InvalidArgumentError     ValueError
    DPC_ERROR_INVALID_HANDLE       3    InvalidArgumentError     ValueError
    DPC_ERROR_BUFFER_TOO_SMALL     4    InvalidArgumentError     ValueError
    DPC_ERROR_OUT_OF_RANGE         5    InvalidArgumentError     ValueError
    DPC_ERROR_INVALID_UTF8         6    InvalidArgumentError     ValueError
    DPC_ERROR_INVALID_POINTER      7    InvalidArgumentError     ValueError
    DPC_ERROR_NOT_FOUND            8    InvalidArgumentError     ValueError
    DPC_ERROR_INVALID_SELECTOR     100  InvalidArgumentError     ValueError
    DPC_ERROR_DEVICE_NOT_FOUND     101  Error                    RuntimeError
    DPC_ERROR_BACKEND_UNAVAILABLE  200  Error                    RuntimeError
    DPC_ERROR_BACKEND              201  Error                    RuntimeError
    DPC_ERROR_UNSUPPORTED          202  UnsupportedError         NotImplementedError
    DPC_ERROR_PLUGIN_INCOMPATIBLE  203  Error                    RuntimeError
    DPC_ERROR_BUILD_FAILED         204  Error                    RuntimeError
    DPC_ERROR_DEVICE_LOST          205  Error                    RuntimeError
    DPC_ERROR_OUT_OF_HOST_MEMORY   300  OutOfMemoryError         MemoryError
    DPC_ERROR_OUT_OF_DEVICE_MEMORY 301  OutOfMemoryError         MemoryError
    DPC_ERROR_INTERNAL             999  Error                    RuntimeError

A status added to the C API later is mapped by its block: 1-99 (caller
errors) InvalidArgumentError, 300-399 (memory) OutOfMemoryError, any other
Error. DPC_ERROR_DEVICE_NOT_FOUND is an Error, not a ValueError: a
well-formed request no device matches (on this machine, with this runtime;
also "no default device" when no runtime is found) is no bad argument.

An argument of the wrong Python type (an object that is no array or queue
where one is needed, something that is no data type, a shape that is no
int or sequence of ints) raises ``TypeMismatchError`` (also a ``TypeError``)
with status ``DPC_ERROR_INVALID_ARGUMENT``; so do the pybind11 casters of
``dpcore/dpcore4pybind11.hpp`` when an object of an accepted kind cannot be
taken. Python's protocols keep their own builtin types: indexing raises
``IndexError``, ``__sycl_usm_array_interface__`` of a host array
``AttributeError``, ``__dlpack__`` to a device it cannot reach
``BufferError``; pybind11's "incompatible function arguments" is a plain
``TypeError``.

Each instance carries ``status`` (the status's name, e.g.
``"DPC_ERROR_INVALID_ARGUMENT"``), ``code`` (its number) and
``backend_code`` (the runtime's own error code, or 0); ``str(e)`` is
dpcore's message. An instance made by Python code without them (``raise
dpcore.Error("...")``) has ``status`` and ``code`` None.
"""


class Error(RuntimeError):
    """A failed dpcore call. ``status``: the dpc_status name
    (``"DPC_ERROR_BACKEND"``, ...); ``code``: its number; ``backend_code``: the
    runtime's own error code, or 0. The subclasses are also instances of
    Python's builtin type for the kind of failure (see ``dpcore._errors``)."""

    status = None
    code = None
    backend_code = 0


class InvalidArgumentError(Error, ValueError):
    """A bad argument value: invalid argument, NULL or invalid pointer or
    handle, buffer too small, index out of range, invalid UTF-8, a named
    thing (a kernel, a file) that does not exist, a malformed filter
    string."""


class TypeMismatchError(Error, TypeError):
    """An argument of the wrong type: an object that is no array or queue,
    something that is no data type."""


class OutOfMemoryError(Error, MemoryError):
    """Host or device memory could not be allocated (the message states the
    request and what was available)."""


class UnsupportedError(Error, NotImplementedError):
    """The device, the runtime or dpcore does not support the request."""


# Shown (and pickled) as dpcore.<name>, where the package exports them.
for _cls in (Error, InvalidArgumentError, TypeMismatchError, OutOfMemoryError, UnsupportedError):
    _cls.__module__ = "dpcore"

#: dpc_status name -> (code, class), for every status of include/dpcore.h.
STATUSES = {
    "DPC_ERROR_INVALID_ARGUMENT": (1, InvalidArgumentError),
    "DPC_ERROR_NULL_POINTER": (2, InvalidArgumentError),
    "DPC_ERROR_INVALID_HANDLE": (3, InvalidArgumentError),
    "DPC_ERROR_BUFFER_TOO_SMALL": (4, InvalidArgumentError),
    "DPC_ERROR_OUT_OF_RANGE": (5, InvalidArgumentError),
    "DPC_ERROR_INVALID_UTF8": (6, InvalidArgumentError),
    "DPC_ERROR_INVALID_POINTER": (7, InvalidArgumentError),
    "DPC_ERROR_NOT_FOUND": (8, InvalidArgumentError),
    "DPC_ERROR_INVALID_SELECTOR": (100, InvalidArgumentError),
    "DPC_ERROR_DEVICE_NOT_FOUND": (101, Error),
    "DPC_ERROR_BACKEND_UNAVAILABLE": (200, Error),
    "DPC_ERROR_BACKEND": (201, Error),
    "DPC_ERROR_UNSUPPORTED": (202, UnsupportedError),
    "DPC_ERROR_PLUGIN_INCOMPATIBLE": (203, Error),
    "DPC_ERROR_BUILD_FAILED": (204, Error),
    "DPC_ERROR_DEVICE_LOST": (205, Error),
    "DPC_ERROR_OUT_OF_HOST_MEMORY": (300, OutOfMemoryError),
    "DPC_ERROR_OUT_OF_DEVICE_MEMORY": (301, OutOfMemoryError),
    "DPC_ERROR_INTERNAL": (999, Error),
}
_BY_CODE = {code: cls for code, cls in STATUSES.values()}


def class_for(code):
    """The exception class for a dpc_status number."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls
    if 1 <= code <= 99:
        return InvalidArgumentError
    if 300 <= code <= 399:
        return OutOfMemoryError
    return Error


def _make(code, name, message, backend_code=0, wrong_type=False):
    """The exception for a failed call: called by the compiled module and by
    dpcore4pybind11.hpp (at run time, by import) to raise it."""
    cls = TypeMismatchError if wrong_type else class_for(code)
    e = cls(message)
    e.status = name
    e.code = code
    e.backend_code = backend_code
    return e
