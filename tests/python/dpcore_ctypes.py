"""Minimal ctypes access to libdpcore.so for the tests (the Python package
of a later issue replaces it)."""
import ctypes
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIB_PATH = ROOT / "target" / "release" / "libdpcore.so"

P = ctypes.c_void_p
PP = ctypes.POINTER(ctypes.c_void_p)
SZ = ctypes.c_size_t


def load():
    assert LIB_PATH.exists(), f"{LIB_PATH} is not built: run `make build`"
    lib = ctypes.CDLL(str(LIB_PATH))
    sigs = {
        "dpc_device_count": [ctypes.POINTER(SZ)],
        "dpc_device_get": [SZ, PP],
        "dpc_device_get_info_string": [P, ctypes.c_int32, ctypes.c_char_p, SZ, ctypes.POINTER(SZ)],
        "dpc_device_get_dlpack_id": [P, ctypes.POINTER(ctypes.c_int32)],
        "dpc_device_from_dlpack_id": [ctypes.c_int32, PP],
        "dpc_device_select": [ctypes.c_char_p, PP],
        "dpc_context_default": [P, PP],
        "dpc_context_equal": [P, P, ctypes.POINTER(ctypes.c_bool)],
        "dpc_context_get_native": [P, PP],
        "dpc_queue_default": [P, PP],
        "dpc_queue_adopt": [P, PP],
        "dpc_queue_get_context": [P, PP],
        "dpc_queue_get_device": [P, PP],
        "dpc_queue_get_flags": [P, ctypes.POINTER(ctypes.c_uint32)],
        "dpc_queue_release": [P],
        "dpc_queue_wait": [P],
        "dpc_context_release": [P],
        "dpc_usm_alloc": [P, ctypes.c_int32, SZ, SZ, PP],
        "dpc_usm_free": [P],
        "dpc_usm_memcpy": [P, P, P, SZ, P, SZ, P],
        "dpc_usm_fill": [P, P, P, SZ, SZ, P, SZ, P],
        "dpc_usm_get_pointer_kind": [P, P, ctypes.POINTER(ctypes.c_int32)],
        "dpc_usm_get_pointer_device": [P, P, PP],
        "dpc_usm_get_pointer_context": [P, PP],
        "dpc_usm_get_pointer_range": [P, P, PP, ctypes.POINTER(SZ)],
        "dpc_last_error_message": [ctypes.c_char_p, SZ, ctypes.POINTER(SZ)],
    }
    for name, args in sigs.items():
        f = getattr(lib, name)
        f.argtypes = args
        f.restype = ctypes.c_int32
    return lib


def check(lib, status):
    if status != 0:
        buf = ctypes.create_string_buffer(4096)
        n = SZ()
        lib.dpc_last_error_message(buf, 4096, ctypes.byref(n))
        raise AssertionError(f"dpcore status {status}: {buf.value.decode()}")
