"""Array copies and conversions on the device: dpcore (dpc_array_astype,
dpc_array_copy, through ctypes) against dpnp.tensor (astype, asarray;
the tensor library that moved from dpctl to dpnp, with its precompiled SYCL kernels), in one process.

Both sides read the same source memory: a dpnp.tensor array, imported into
dpcore zero-copy through its DLPack capsule. Both run on in-order queues of
the same device in its default context, and each timed call includes
allocating the result and waiting for it (dpcore's array calls return when
done; dpctl's are followed by a queue wait). Each row is warmed up, then
timed in 9 interleaved rounds of a batch sized to ~0.2 s; the table shows
the median time per call and dpcore time / dpctl time (below 1 = dpcore
faster).

    . scripts/env.sh && python benches/copies.py
"""
import ctypes
import pathlib
import statistics
import sys
import time

import dpctl
import dpnp.tensor as dpt
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
lib = ctypes.CDLL(str(ROOT / "target" / "release" / "libdpcore.so"))
P, PP = ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)


class DType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


DTYPES = {
    "int32": DType(0, 32, 1),
    "float16": DType(2, 16, 1),
    "float32": DType(2, 32, 1),
    "float64": DType(2, 64, 1),
}

for name, args in {
    "dpc_array_from_dlpack_versioned": [P, PP],
    "dpc_array_astype": [P, DType, PP],
    "dpc_array_copy": [P, P],
    "dpc_array_empty": [P, DType, ctypes.c_int32, ctypes.POINTER(ctypes.c_int64), ctypes.c_int32, PP],
    "dpc_array_permute": [P, ctypes.POINTER(ctypes.c_int32), PP],
    "dpc_array_release": [P],
    "dpc_last_error_message": [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)],
}.items():
    getattr(lib, name).argtypes = args
    getattr(lib, name).restype = ctypes.c_int32

capi = ctypes.pythonapi
capi.PyCapsule_GetPointer.restype = ctypes.c_void_p
capi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
capi.PyCapsule_SetName.argtypes = [ctypes.py_object, ctypes.c_char_p]


def check(st):
    if st != 0:
        buf = ctypes.create_string_buffer(4096)
        lib.dpc_last_error_message(buf, 4096, None)
        sys.exit(f"dpcore status {st}: {buf.value.decode()}")


def import_dpctl(x):
    """A dpcore array viewing x's memory (zero-copy, DLPack 1.0)."""
    cap = x.__dlpack__(max_version=(1, 0))
    ptr = capi.PyCapsule_GetPointer(cap, b"dltensor_versioned")
    a = P()
    check(lib.dpc_array_from_dlpack_versioned(ptr, ctypes.byref(a)))
    capi.PyCapsule_SetName(cap, b"used_dltensor_versioned")
    return a


def timed(fn, target=0.2):
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    return max(1, int(target / one))


def bench(rows):
    print("| operation | elements | dpcore ms | dpctl ms | dpcore / dpctl |")
    print("|---|---|---|---|---|")
    for label, n, ours, theirs in rows:
        reps = {f: timed(f) for f in (ours, theirs)}
        times = {ours: [], theirs: []}
        for r in range(9):
            order = (ours, theirs) if r % 2 == 0 else (theirs, ours)
            for f in order:
                t0 = time.perf_counter()
                for _ in range(reps[f]):
                    f()
                times[f].append((time.perf_counter() - t0) / reps[f])
        a, b = statistics.median(times[ours]), statistics.median(times[theirs])
        print(f"| {label} | {n} | {a * 1e3:.3f} | {b * 1e3:.3f} | {a / b:.2f} |")


def main():
    dev = dpctl.SyclDevice()
    q = dpctl.SyclQueue(dev.sycl_platform.default_context, dev, property="in_order")
    print(f"device: {dev.filter_string} ({dev.name})\n")
    rng = np.random.default_rng(0)
    rows = []

    def astype_row(label, x, dt):
        a = import_dpctl(x)

        def ours():
            out = P()
            check(lib.dpc_array_astype(a, DTYPES[dt], ctypes.byref(out)))
            lib.dpc_array_release(out)

        def theirs():
            dpt.astype(x, dt)
            q.wait()

        rows.append((label, x.size, ours, theirs))
        return a

    def copy_row(label, x, y_shape, dt):
        """Copy the (strided) view x into a new C-contiguous array."""
        a = import_dpctl(x)
        shape = (ctypes.c_int64 * len(y_shape))(*y_shape)

        def ours():
            out = P()
            check(lib.dpc_array_empty(None, DTYPES[dt], len(y_shape), shape, 0, ctypes.byref(out)))
            check(lib.dpc_array_copy(a, out))
            lib.dpc_array_release(out)

        def theirs():
            dpt.asarray(x, dtype=dt, order="C", copy=True)
            q.wait()

        rows.append((label, x.size, ours, theirs))
        return a

    keep = []
    small = dpt.asarray(rng.random(1000, dtype=np.float32), sycl_queue=q)
    big = dpt.asarray(rng.random(1 << 22, dtype=np.float32), sycl_queue=q)
    mat = dpt.asarray(rng.random((2048, 2048), dtype=np.float32), sycl_queue=q)
    cube = dpt.asarray(rng.random((64, 128, 256), dtype=np.float32), sycl_queue=q)
    keep.append(astype_row("astype float32 -> int32, contiguous", small, "int32"))
    keep.append(astype_row("astype float32 -> int32, contiguous", big, "int32"))
    keep.append(astype_row("astype float32 -> float64, contiguous", big, "float64"))
    keep.append(astype_row("astype float32 -> float16, contiguous", big, "float16"))
    keep.append(copy_row("copy reversed 1-D view (::-1)", big[::-1], (1 << 22,), "float32"))
    keep.append(copy_row("copy transposed 2048x2048 view", mat.T, (2048, 2048), "float32"))
    keep.append(copy_row("copy + convert to float64, transposed 2048x2048", mat.T, (2048, 2048), "float64"))
    keep.append(
        copy_row("copy 3-D view [:, ::2, ::-1] permuted", dpt.permute_dims(cube[:, ::2, ::-1], (2, 0, 1)),
                 (256, 64, 64), "float32"))
    bench(rows)
    for a in keep:
        lib.dpc_array_release(a)


if __name__ == "__main__":
    main()
