# cython: language_level=3, boundscheck=False, wraparound=False
"""dpcore from Cython through its C API only (dpcore/dpcore_c.pxd): the
default device's properties, and a scaling kernel run in float32 on float64
input. Every failing dpc_status becomes a RuntimeError with dpcore's message."""
import atexit
from array import array

from dpcore.dpcore_c cimport *

DEVICE_INFO_NAME = DPC_DEVICE_INFO_NAME
DEVICE_INFO_MAX_COMPUTE_UNITS = DPC_DEVICE_INFO_MAX_COMPUTE_UNITS

# OpenCL C, built once per process (and cached by dpcore).
cdef const char *KERNEL_SOURCE = "kernel void scale_f32(global float *x, float f) { x[get_global_id(0)] *= f; }"

cdef dpc_device _device = NULL   # root device and canonical queue: valid for
cdef dpc_queue _queue = NULL     # the life of the process, never released
cdef dpc_kernel _kernel = NULL   # made at first use, released at exit


def _release_kernel():
    """Give the cached kernel back before the process ends (so that
    DPCORE_LEAK_CHECK=1 finds nothing left)."""
    global _kernel
    if _kernel != NULL:
        dpc_kernel_release(_kernel)
        _kernel = NULL


atexit.register(_release_kernel)

cdef str last_error():
    """dpcore's message for the last failure on this thread (two-call pattern)."""
    cdef size_t n = 0
    if dpc_last_error_message(NULL, 0, &n) != DPC_SUCCESS:
        return "(no message)"
    buf = bytearray(n)
    if dpc_last_error_message(buf, n, &n) != DPC_SUCCESS:
        return "(no message)"
    return buf[:n - 1].decode("utf-8", "replace")

cdef int check(dpc_status status) except -1:
    if status != DPC_SUCCESS:
        raise RuntimeError(f"{dpc_status_name(status).decode()}: {last_error()}")
    return 0

cdef dpc_queue default_queue() except NULL:
    global _device, _queue
    if _queue == NULL:
        check(dpc_device_default(&_device))
        check(dpc_queue_default(_device, &_queue))
    return _queue

def device_info_string(int key):
    """A string property of the default device (a DPC_DEVICE_INFO_* key)."""
    default_queue()
    cdef size_t n = 0
    check(dpc_device_get_info_string(_device, key, NULL, 0, &n))
    buf = bytearray(n)
    check(dpc_device_get_info_string(_device, key, buf, n, &n))
    return buf[:n - 1].decode()

def device_name():
    return device_info_string(DPC_DEVICE_INFO_NAME)

cdef dpc_kernel scale_kernel() except NULL:
    global _kernel
    cdef dpc_context context
    cdef dpc_bundle bundle = NULL
    if _kernel == NULL:
        check(dpc_queue_get_context(default_queue(), &context))
        check(dpc_bundle_create_from_opencl_c(context, _device, KERNEL_SOURCE, NULL, &bundle))
        try:
            check(dpc_bundle_get_kernel(bundle, b"scale_f32", &_kernel))
        finally:
            dpc_bundle_release(bundle)  # the kernel keeps its bundle alive
    return _kernel

cdef dpc_status run_scale(dpc_queue q, dpc_kernel k, const double *src, double *dst,
                          int64_t n, float factor) noexcept nogil:
    """host float64 -> device float64 -> float32 -> kernel -> float64 -> host."""
    cdef dpc_dlpack_dtype f64 = dpc_dlpack_dtype(DPC_DL_FLOAT, 64, 1)
    cdef dpc_dlpack_dtype f32 = dpc_dlpack_dtype(DPC_DL_FLOAT, 32, 1)
    cdef dpc_array a64 = NULL, a32 = NULL, b64 = NULL
    cdef dpc_kernel_arg args[2]
    cdef size_t global_size = <size_t>n
    cdef dpc_status st = dpc_array_from_host(q, f64, 1, &n, src, NULL, DPC_USM_DEVICE, &a64)
    if st == DPC_SUCCESS:
        st = dpc_array_astype(a64, f32, &a32)
    if st == DPC_SUCCESS and n > 0:
        args[0] = dpc_kernel_arg(DPC_ARG_ARRAY, 0, <const void *>a32)
        args[1] = dpc_kernel_arg(DPC_ARG_SCALAR, sizeof(float), &factor)
        st = dpc_kernel_launch(q, k, 1, &global_size, NULL, args, 2, NULL, 0, NULL)
    if st == DPC_SUCCESS:  # the canonical queue is in order: after the kernel
        st = dpc_array_astype(a32, f64, &b64)
    if st == DPC_SUCCESS:
        st = dpc_array_to_host(b64, dst, NULL)
    dpc_array_release(a64)  # releasing NULL is a no-op
    dpc_array_release(a32)
    dpc_array_release(b64)
    return st

def scale(values, double factor):
    """[v * factor for v in values], computed in float32 on the default device;
    `values` is a sequence of numbers or a contiguous float64 buffer."""
    cdef const double[::1] src
    try:
        src = values  # numpy float64 arrays, array('d'): no copy
    except (TypeError, ValueError):
        src = array("d", values)
    cdef int64_t n = src.shape[0]
    out = array("d", bytes(8 * n))
    cdef double[::1] dst = out
    cdef dpc_queue q = default_queue()
    cdef dpc_kernel k = scale_kernel()
    cdef dpc_status st
    with nogil:
        st = run_scale(q, k, &src[0] if n else NULL, &dst[0] if n else NULL, n, <float>factor)
    check(st)
    return out.tolist()
