#!/usr/bin/env python3
"""Write the seed corpus of the api_sequence fuzzer (fuzz/corpus/api_sequence).

Each seed is a sequence of ops in the format that
fuzz/fuzz_targets/api_sequence.rs decodes (the encoders below follow its
reads one for one): a op byte, then its operands. Handle operands below
200 pick an entry of the harness's table of that kind, so seeds build
their handles first (device 0, its default queue, ...) and then use them.
A few dozen seeds, at least one per op family.

    python3 fuzz/seeds.py [OUT_DIR]
"""
import hashlib
import os
import struct
import sys

# Op numbers (the `match op` arms of api_sequence.rs).
DEVICE_GET, DEVICE_SELECT, SELECTOR, DEVICE_INFO, PARTITION = 0, 1, 2, 3, 4
CONTEXT_CREATE, CONTEXT_DEFAULT, CONTEXT_OPS = 5, 6, 7
QUEUE_CREATE, QUEUE_CREATE2, QUEUE_OPS = 8, 9, 10
RETAIN, RELEASE = 11, 12
USM_ALLOC, USM_FREE, USM_FREE_AFTER, MEMCPY, MEMSET, FILL, PREFETCH = 13, 14, 15, 16, 17, 18, 19
PTR_QUERY, EVENT_OPS = 20, 21
ARRAY_CREATE, ARRAY_FROM_USM, SLICE, PERMUTE, RESHAPE, RO_OR_TO_DEVICE = 22, 23, 24, 25, 26, 27
ARRAY_COPY, ASTYPE, ARRAY_QUERY, COPY_TO_HOST, TO_DLPACK, FROM_DLPACK = 28, 29, 30, 31, 32, 33
SPIRV_BYTES, SPIRV_MUTATED, OPENCL_C, TRUSTED_BUNDLE, BUNDLE_OPS, KERNEL_OPS = 34, 35, 36, 37, 38, 39
LAUNCH, WAIT_DEFERRED, MESSAGES, LAUNCH_BUFFER, NATIVE = 40, 41, 42, 43, 44

# Handle kinds (tables).
DEVICE, SELECTOR_K, PLATFORM, CONTEXT, QUEUE, EVENT, BUNDLE, KERNEL, ARRAY = range(1, 10)


def u8(v):
    return bytes([v & 0xFF])


def u16(v):
    return struct.pack("<H", v & 0xFFFF)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


def b(flag):
    return u8(1 if flag else 0)


def pick(i=0):
    """Entry i of the table (the table must have an entry)."""
    return u8(i)


def made_up(sel=201):
    """A value that is not a live handle (200..255: NULL, random, ...)."""
    assert sel >= 200
    if sel % 6 == 1:
        return u8(sel) + u64(0xDEADBEEF)
    if sel % 6 == 2:
        return u8(sel) + u8(3) + u16(77)
    if sel % 6 == 3:
        return u8(sel) + u8(0) + u8(0)
    return u8(sel)


def size(v):
    if v == 0:
        return u8(0)
    if v == 1:
        return u8(1)
    if v < 256:
        return u8(2) + u8(v)
    if v < 65536:
        return u8(5) + u16(v)
    return u8(7) + u64(v)


def size_extreme(k):
    """usize::MAX, MAX-7, 1<<63, (1<<63)-1, 1<<32, 1<<40, (1<<31)+1, MAX/2+3."""
    return u8(6) + u8(k)


def i64v(v):
    if v == 0:
        return u8(0)
    if v == 1:
        return u8(1)
    if 0 <= v < 16:
        return u8(2) + u8(v)
    if -16 < v < 0:
        return u8(4) + u8(-v)
    if -32768 <= v < 32768:
        return u8(5) + u16(v)
    return u8(7) + u64(v)


I64_MIN, I64_MAX, SLICE_NONE = 0, 1, 8


def i64_extreme(k):
    """i64::MIN, MAX, MIN+1, MAX-1, 1<<32, 1<<62, -(1<<62), (1<<31)+1, SLICE_NONE."""
    return u8(6) + u8(k)


def ndim(n):
    if n == 0:
        return u8(0)
    if 1 <= n <= 4:
        return u8(1) + u8(n - 1)
    if n < 70:
        return u8(6) + u8(n)
    return u8(7) + u32(n)


# dtype selectors (GOOD table order of api_sequence.rs).
F32, F64, F16, I8, I16, I32, I64, U8, U32, U64, BOOL, C64, C128 = range(13)


def dtype(k):
    return u8(k)


def dtype_raw(code, bits, lanes):
    return u8(224) + u8(code) + u8(bits) + u16(lanes)


def cstring(s):
    s = s.encode() if isinstance(s, str) else s
    return u8(len(s)) + s


def blob(data):
    return u16(len(data)) + data


FILTERS = ["", "opencl:cpu:0", "opencl", "cpu", "gpu", "level_zero:gpu:0", "opencl:cpu", ":", "::",
           "opencl:cpu:1", "*", "opencl:*:0", "opencl:cpu:-1", "opencl:cpu:99999999999999999999",
           "cuda:gpu:0", "ext_oneapi_level_zero"]


def filt(name, extra=None):
    i = FILTERS.index(name)
    if extra is None:
        return u8(i) + u8(1)
    return u8(i) + u8(0) + cstring(extra)


def filt_raw(s):
    return u8(200) + cstring(s)


def options(i=0):
    return u8(i)


def options_raw(s):
    return u8(250) + cstring(s)


def no_events():
    return u8(1)


def events(*picks):
    return u8(0) + u8(len(picks)) + b"".join(picks)


def op(n, *parts):
    return u8(n) + b"".join(parts)


# Common prefixes -------------------------------------------------------------

def dev0():
    return op(DEVICE_GET, b(True), u8(0))


def queue0():
    """Device 0 and its canonical queue (queue table entry 0)."""
    return dev0() + op(QUEUE_CREATE2, pick(0), b(True), u8(0), u8(2))


def alloc(kind=1, nbytes=256, q=None):
    """USM of kind on queue table entry 0 (kind byte %4; size as u16 %8192)."""
    return op(USM_ALLOC, u8(1) + pick(0) if q is None else q, b(True), u8(kind), u8(1), u16(nbytes), u8(3))


def usm_ptr(idx=0, mode=0, extra=0):
    """Live allocation idx; mode 0 base, 1 base+extra, 2 last byte, 3 end-extra."""
    return u8(idx) + u8(mode) + (u8(extra) if mode in (1, 3) else b"")


def usm_len(mode, v=0):
    """0: the room to the end; 1: room+1+v; 2: size(v); 3: v % (room+1)."""
    if mode == 0:
        return u8(0)
    if mode == 1:
        return u8(1) + u8(v)
    if mode == 2:
        return u8(2) + size(v)
    return u8(3) + u8(v)


def free_(idx=0, interior=None, made=None, array=None, after=None):
    """USM_FREE (after None) or USM_FREE_AFTER (after: the events bytes) of
    live-or-freed allocation idx, idx+interior, a made-up pointer (made: 0
    NULL, 1 the host buffer, 2 0x1000), or the data pointer of array table
    entry `array`. Assumes the input has made an allocation."""
    body = u8(0) + u8(made) + (u64(0x1000) if made == 2 else b"") if made is not None else u8(1) + u8(idx) + (u8(0) + u8(interior) if interior else u8(1))
    body += (u8(0) + pick(array)) if array is not None else u8(1)
    if after is None:
        return op(USM_FREE, body)
    return op(USM_FREE_AFTER, body, after)


def from_usm(dt, shape, strides=None, ptr=None, made_up_ptr=None, flags=1, vouch=False, lend=True):
    """ARRAY_FROM_USM on queue 0; ptr: usm_ptr bytes (a live allocation)."""
    pairs = b"".join(i64v(e) + i64v(st) for e, st in zip(shape, strides or [1] * len(shape)))
    body = pick(0) + dtype(dt) + ndim(len(shape)) + pairs + b(strides is None)
    if made_up_ptr is None:
        body += ptr + u8(1) + u8(flags) + (b(True) if vouch else b(False) + u8(1))
    else:
        body += (ptr + u8(0) if ptr is not None else b"") + u64(made_up_ptr) + u8(flags) + u8(1)
    return op(ARRAY_FROM_USM, body, b(lend))


I64_MIN_V, I64_MAX_V = -(1 << 63), (1 << 63) - 1


def slice_(arr, starts, stops, steps):
    """SLICE of array table entry arr; None is DPC_SLICE_NONE."""
    def val(v):
        if v is None:
            return u8(0)
        if v == I64_MIN_V:
            return u8(1) + i64_extreme(I64_MIN)
        if v == I64_MAX_V:
            return u8(1) + i64_extreme(I64_MAX)
        if v == I64_MIN_V + 1:
            return u8(1) + i64_extreme(2)
        return u8(1) + i64v(v)
    n = len(starts)
    return op(SLICE, pick(arr), u8(n), b"".join(val(v) for v in starts), b"".join(val(v) for v in stops),
              b"".join(val(v) for v in steps), u8(1))


def array_create(how=0, dt=F32, shape=(8,), kind=0, q=None):
    """how: 0 empty, 1 zeros, 2 full, 3 from_host."""
    return op(ARRAY_CREATE, u8(1) + pick(0) if q is None else q, dtype(dt), ndim(len(shape)),
              b"".join(i64v(e) for e in shape), b(True), u8(kind), u8(how))


def export(arr=0, versioned=True, major=1, minor=0):
    if versioned:
        return op(TO_DLPACK, pick(arr), b(True), u8(major), u8(minor))
    return op(TO_DLPACK, pick(arr), b(False))


def import_(corruptions=b"", n=0, null_deleter=False, version=None, flags=None, versioned=True):
    tail = u8(0 if null_deleter else 1)
    if versioned:
        tail += (u8(0) + u8(version[0]) + u8(version[1])) if version else u8(1)
        tail += (u8(0) + u64(flags)) if flags is not None else u8(1)
    return op(FROM_DLPACK, u8(0), u8(n), corruptions, tail)


# The real kernels, in api_sequence.rs's order.
SPV = ["vadd", "saxpy", "scalars", "ndim", "reduce", "many_args"]


def trusted(i, c=None, d=None):
    return op(TRUSTED_BUNDLE, c or pick(0), d or pick(0), u8(i))


def seeds():
    s = {}
    # --- devices, selectors, platforms -------------------------------------
    s["device_get"] = dev0() + op(DEVICE_GET, b(False), size(5)) + op(DEVICE_GET, b(False), size_extreme(0))
    s["device_select_filters"] = b"".join(
        op(DEVICE_SELECT, filt(f), b(i % 2 == 0)) for i, f in enumerate(FILTERS)
    ) + op(DEVICE_SELECT, filt_raw("opencl:cpu:0:0:0"), b(False)) + op(DEVICE_SELECT, filt_raw("\xff\xfe:cpu"), b(False))
    s["selector"] = (op(SELECTOR, filt("opencl:cpu:0"), pick(0), pick(0), u8(64))
                     + op(SELECTOR, filt("opencl", ":gpu:7"), pick(1), made_up(200), u8(3))
                     + op(RELEASE, u8(SELECTOR_K - 1), pick(0)) + op(RELEASE, u8(SELECTOR_K - 1), pick(0))
                     + op(SELECTOR, filt("cpu"), pick(0), pick(0), u8(0)))
    info = dev0()
    for sub in range(10):
        key = [8 + 1, 8 + 7, 8 + 1, 0, 0, 0, 0, 0, 8 + 1, 0][sub]
        extra = {3: u8(2), 5: b(True), 7: pick(0), 8: pick(0), 9: size(0)}.get(sub, b"")
        info += op(DEVICE_INFO, pick(0), u8(key), b(sub in (1,)), u16(256 if sub else 3), u8(sub), extra)
    info += op(DEVICE_INFO, made_up(202), u8(9), b(False), u16(10), u8(0))
    info += op(DEVICE_INFO, pick(0), u8(255), b(True), u16(0), u8(1))
    s["device_info"] = info
    s["partition"] = (dev0() + op(PARTITION, pick(0), u8(64), u8(0), size(1))
                      + op(PARTITION, pick(0), u8(64), u8(0), size(0))
                      + op(PARTITION, pick(0), u8(2), u8(1), u8(3), size(1), size(1), size_extreme(0))
                      + op(PARTITION, pick(0), u8(64), u8(2), u8(2 + 5))
                      + op(CONTEXT_DEFAULT, pick(1)) + op(QUEUE_CREATE2, pick(1), b(True), u8(0), u8(2))
                      + op(RELEASE, u8(DEVICE - 1), pick(1)) + op(RELEASE, u8(DEVICE - 1), pick(1)))
    # --- contexts and queues -----------------------------------------------
    s["context_create"] = (dev0() + op(CONTEXT_CREATE, u8(1), pick(0))
                           + op(CONTEXT_CREATE, u8(2), pick(0), pick(0))
                           + op(CONTEXT_CREATE, u8(0))
                           + op(CONTEXT_CREATE, u8(2), pick(0), made_up(201))
                           + op(CONTEXT_OPS, pick(0), u8(0)) + op(CONTEXT_OPS, pick(0), u8(1), size(3))
                           + op(CONTEXT_OPS, pick(0), u8(2), pick(0)) + op(CONTEXT_OPS, pick(0), u8(3)))
    s["context_default_queue"] = (dev0() + op(CONTEXT_DEFAULT, pick(0))
                                  + op(QUEUE_CREATE, pick(0), pick(0), b(True), u8(3))
                                  + op(QUEUE_CREATE, pick(0), pick(0), b(False), u32(0xFFFFFFFF))
                                  + op(QUEUE_CREATE, made_up(205), pick(0), b(True), u8(1)))
    s["queue_ops"] = (queue0() + op(QUEUE_CREATE2, pick(0), b(True), u8(1), u8(0))
                      + op(QUEUE_CREATE2, pick(0), b(True), u8(0), u8(1), filt("opencl:cpu:0"))
                      + op(QUEUE_CREATE2, pick(0), b(True), u8(0), u8(1), filt("gpu"))
                      + b"".join(op(QUEUE_OPS, pick(i % 2), u8(sub), *( [no_events(), b(True)] if sub == 1 else [pick(1)] if sub == 5 else [])) for i, sub in enumerate(range(6))))
    s["retain_release"] = (queue0() + op(CONTEXT_CREATE, u8(1), pick(0))
                           + b"".join(op(RETAIN, u8(k - 1), pick(0)) for k in range(1, 10))
                           + b"".join(op(RELEASE, u8(k - 1), pick(0)) for k in range(1, 10))
                           + b"".join(op(RELEASE, u8(k - 1), pick(0)) for k in range(1, 10))
                           + op(RELEASE, u8(CONTEXT - 1), pick(0)) + op(RELEASE, u8(QUEUE - 1), made_up(202))
                           + op(QUEUE_CREATE, pick(0), pick(0), b(True), u8(0)))
    # --- USM -----------------------------------------------------------------
    s["usm_alloc"] = (queue0() + alloc(1, 64) + alloc(2, 4096) + alloc(3, 1)
                      + op(USM_ALLOC, u8(1), pick(0), b(True), u8(0), u8(1), u16(8), u8(3))
                      + op(USM_ALLOC, u8(1), pick(0), b(True), u8(1), u8(0), size_extreme(0), u8(3))
                      + op(USM_ALLOC, u8(1), pick(0), b(True), u8(1), u8(0), size_extreme(2), u8(3))
                      + op(USM_ALLOC, u8(1), pick(0), b(True), u8(1), u8(1), u16(8), u8(2), size_extreme(0))
                      + op(USM_ALLOC, u8(1), pick(0), b(True), u8(1), u8(1), u16(8), u8(2), size(3))
                      + op(USM_ALLOC, u8(0), b(False), u32(7), u8(1), u16(8), u8(3))
                      + op(USM_ALLOC, u8(1), pick(0), b(True), u8(1), u8(1), u16(0), u8(3)))
    s["usm_free"] = (queue0() + alloc(1, 64) + alloc(2, 64)
                     + free_(0) + free_(0) + free_(1, interior=3) + free_(made=1) + free_(made=2) + free_(made=0)
                     + free_(1, after=no_events()) + free_(1, after=no_events()))
    s["usm_free_after_events"] = (queue0() + alloc(2, 256) + alloc(2, 256)
                                  + op(MEMSET, pick(0), usm_ptr(0), usm_len(0), no_events(), b(True), u8(7))
                                  + free_(0, after=events(pick(0), pick(0)))
                                  + op(RELEASE, u8(EVENT - 1), pick(0))
                                  + free_(1, after=events(pick(0))))
    s["memcpy"] = (queue0() + alloc(2, 256) + alloc(1, 128)
                   + op(MEMCPY, pick(0), size(128), b(False), u8(1), usm_ptr(0), u8(1), usm_ptr(1), no_events(), b(True))
                   + op(MEMCPY, pick(0), size(200), b(False), u8(1), usm_ptr(1), u8(1), usm_ptr(0), no_events(), b(False))
                   + op(MEMCPY, pick(0), size(64), b(False), u8(0), u16(0), u8(1), usm_ptr(1, 3, 8), events(pick(0)), b(True))
                   + op(MEMCPY, pick(0), size_extreme(0), b(False), u8(1), usm_ptr(0, 1, 16), u8(1), usm_ptr(1), no_events(), b(False))
                   + op(MEMCPY, pick(0), size(0), b(False), u8(1), usm_ptr(0), u8(1), usm_ptr(1), events(pick(0), made_up(201)), b(True)))
    s["memset_fill"] = (queue0() + alloc(1, 256) + alloc(3, 100)
                        + op(MEMSET, pick(0), usm_ptr(0), usm_len(0), no_events(), b(True), u8(1))
                        + op(MEMSET, pick(0), usm_ptr(0, 1, 10), usm_len(1, 5), no_events(), b(False), u8(2))
                        + op(MEMSET, pick(0), usm_ptr(1, 2), usm_len(2, 0xFFFFFFFF), no_events(), b(False), u8(3))
                        + op(FILL, pick(0), usm_ptr(0), usm_len(0), no_events(), b(True), b(True), u8(2), b(True))
                        + op(FILL, pick(0), usm_ptr(0, 1, 4), usm_len(0), no_events(), b(False), b(True), u8(4), b(True))
                        + op(FILL, pick(0), usm_ptr(1), usm_len(0), no_events(), b(False), b(False), size(3), b(False), size(4))
                        + op(FILL, pick(0), usm_ptr(0), usm_len(0), no_events(), b(False), b(True), u8(3), b(False), size_extreme(0))
                        + op(FILL, pick(0), usm_ptr(0), usm_len(0), no_events(), b(False), b(True), u8(0), b(False), size(300)))
    s["prefetch_advise"] = (queue0() + alloc(2, 4096)
                            + op(PREFETCH, pick(0), usm_ptr(0), usm_len(0), no_events(), b(True), b(True))
                            + op(PREFETCH, pick(0), usm_ptr(0, 3, 1), usm_len(1, 100), no_events(), b(False), b(True))
                            + op(PREFETCH, pick(0), usm_ptr(0), usm_len(0), no_events(), b(False), b(False), u32(0))
                            + op(PREFETCH, pick(0), usm_ptr(0), usm_len(2, 1 << 40), no_events(), b(False), b(False), u32(3)))
    s["pointer_queries"] = (queue0() + op(CONTEXT_DEFAULT, pick(0)) + alloc(1, 64) + alloc(3, 64)
                            + b"".join(op(PTR_QUERY, pick(0), usm_ptr(i % 2, 1, 3), b(True), u8(sub)) for i, sub in enumerate(range(4)))
                            + b"".join(op(PTR_QUERY, pick(0), usm_ptr(0), b(False), u8(m), *( [u64(0x1000)] if m == 2 else []), u8(sub)) for m in range(3) for sub in range(4))
                            + free_(0)
                            + op(PTR_QUERY, made_up(200), usm_ptr(0), b(True), u8(0)))
    s["events"] = (queue0() + alloc(1, 64)
                   + op(MEMSET, pick(0), usm_ptr(0), usm_len(0), no_events(), b(True), u8(0))
                   + op(QUEUE_OPS, pick(0), u8(1), events(pick(0)), b(True))
                   + b"".join(op(EVENT_OPS, pick(i % 2), u8(i), *( [u8(2), pick(0), pick(1)] if i == 1 else [])) for i in range(4))
                   + op(RELEASE, u8(EVENT - 1), pick(0)) + op(EVENT_OPS, pick(0), u8(0))
                   + op(EVENT_OPS, pick(1), u8(1), u8(3), pick(0), pick(1), made_up(201)))
    # --- arrays ------------------------------------------------------------------
    s["array_create"] = (queue0() + array_create(0) + array_create(1, F64, (3, 4)) + array_create(2, I32, (2, 2, 2))
                         + array_create(3, U8, (16,)) + array_create(1, C128, ()) + array_create(0, F32, (0, 5))
                         + array_create(1, BOOL, (4,), 2) + array_create(1, F16, (4,), 3)
                         + op(ARRAY_CREATE, u8(0), dtype_raw(2, 24, 1), ndim(1), i64v(4), b(True), u8(0), u8(0))
                         + op(ARRAY_CREATE, u8(1), pick(0), dtype(F32), ndim(65), b"".join(i64v(1) for _ in range(64)), b(True), u8(0), u8(0))
                         + op(ARRAY_CREATE, u8(1), pick(0), dtype(F32), ndim(1), i64v(-3), b(True), u8(0), u8(1))
                         + op(ARRAY_CREATE, u8(1), pick(0), dtype(F32), ndim(1), i64v(4), b(False), u32(9), u8(1)))
    s["array_shape_overflow"] = (queue0()
                                 + op(ARRAY_CREATE, u8(1), pick(0), dtype(F64), ndim(3), i64_extreme(4), i64_extreme(4), i64v(0), b(True), u8(0), u8(0))
                                 + op(ARRAY_CREATE, u8(1), pick(0), dtype(F64), ndim(2), i64_extreme(I64_MAX), i64v(2), b(True), u8(0), u8(1))
                                 + op(ARRAY_CREATE, u8(1), pick(0), dtype(C128), ndim(2), i64_extreme(5), i64v(15), b(True), u8(0), u8(2)))
    s["array_from_usm"] = (queue0() + alloc(1, 1024)
                           + from_usm(F32, (8, 8), None, usm_ptr(0), vouch=True)
                           + from_usm(F32, (300,), None, usm_ptr(0))
                           + from_usm(F64, (2,), [(1 << 62)], usm_ptr(0), lend=False)
                           + from_usm(F32, (4, 8), [-8, 1], usm_ptr(0, 1, 200))
                           + from_usm(F32, (4, 8), [-8, 1], usm_ptr(0, 3, 0))
                           + from_usm(F32, (4,), None, usm_ptr(0), made_up_ptr=0x1234)
                           + from_usm(F32, (4,), None, usm_ptr(0), flags=3)
                           + op(COPY_TO_HOST, pick(0), u16(4096)) + op(ARRAY_COPY, pick(0), pick(1)))
    views = queue0() + array_create(1, F32, (4, 6))
    views += slice_(0, [1, 0], [3, 5], [1, 2])
    views += slice_(0, [None, None], [None, None], [I64_MAX_V, I64_MIN_V])
    views += slice_(0, [None, None], [None, None], [0, 1])
    views += slice_(0, [-2, -100], [100, -1], [-1, -3])
    views += op(PERMUTE, pick(0), u8(2), b(True), b(True))
    views += op(PERMUTE, pick(1), u8(2), b(False), u8(4), b(False), u8(4))
    views += op(RESHAPE, pick(0), ndim(3), i64v(2), i64v(3), i64v(4))
    views += op(RESHAPE, pick(0), ndim(1), i64v(7))
    views += op(RESHAPE, pick(0), ndim(2), i64_extreme(4), i64_extreme(4))
    views += op(RO_OR_TO_DEVICE, pick(0), b(True))
    views += op(RO_OR_TO_DEVICE, pick(1), b(False), u8(1), pick(0), u8(3))
    views += op(RO_OR_TO_DEVICE, pick(0), b(False), u8(0), u8(2))
    s["views"] = views
    s["slice_huge_step"] = (queue0() + array_create(1, F32, (10,))
                            + slice_(0, [0], [I64_MAX_V], [I64_MAX_V])
                            + slice_(0, [None], [None], [I64_MIN_V])
                            + slice_(0, [3], [None], [I64_MIN_V + 1])
                            + op(COPY_TO_HOST, pick(1), u16(64)) + op(ARRAY_COPY, pick(2), pick(0)))
    s["copy_astype"] = (queue0() + array_create(1, F32, (4, 4)) + array_create(2, I64, (4, 4)) + array_create(1, F64, (4,))
                        + op(ARRAY_COPY, pick(0), pick(1)) + op(ARRAY_COPY, pick(2), pick(0)) + op(ARRAY_COPY, pick(0), pick(2))
                        + op(ASTYPE, pick(0), dtype(C64)) + op(ASTYPE, pick(1), dtype(BOOL)) + op(ASTYPE, pick(1), dtype_raw(9, 9, 9))
                        + op(RO_OR_TO_DEVICE, pick(0), b(True)) + op(ARRAY_COPY, pick(1), pick(3)))
    s["array_queries"] = (queue0() + array_create(1, F32, (2, 3))
                          + b"".join(op(ARRAY_QUERY, pick(0), u8(sub), *( [u8(3)] if sub == 1 else [u8(2), pick(0), pick(0)] if sub == 5 else [no_events()] if sub == 6 else [])) for sub in range(7))
                          + op(ARRAY_QUERY, pick(0), u8(0)) + op(ARRAY_QUERY, made_up(201), u8(3)))
    s["copy_to_host"] = (queue0() + array_create(1, F64, (8, 8)) + op(COPY_TO_HOST, pick(0), u16(512))
                         + op(COPY_TO_HOST, pick(0), u16(100)) + op(COPY_TO_HOST, pick(0), u16(0)))
    s["release_after"] = (queue0() + alloc(1, 64) + array_create(1, F32, (16,))
                          + op(MEMSET, pick(0), usm_ptr(0), usm_len(0), no_events(), b(True), u8(0))
                          + op(ARRAY_QUERY, pick(0), u8(6), events(pick(0)))
                          + op(ARRAY_QUERY, pick(0), u8(6), no_events()))
    s["free_array_memory"] = (queue0() + array_create(0, F32, (16,))
                              + op(USM_FREE, u8(0), u8(0), u8(0), pick(0))
                              + op(USM_FREE_AFTER, u8(0), u8(0), u8(0), pick(0), no_events())
                              + op(COPY_TO_HOST, pick(0), u16(64)))
    # --- DLPack -------------------------------------------------------------------------
    base = queue0() + array_create(1, F32, (4, 4))
    s["dlpack_roundtrip"] = (base + export(0) + import_() + export(0, False) + import_(versioned=False)
                             + export(1, True, 0, 0) + op(ARRAY_COPY, pick(1), pick(0)))
    corr = {
        "ndim": u8(0) + ndim(70) + b"".join(i64v(2) for _ in range(64)),
        "shape": u8(1) + b(True) + i64v(100) + b(False) + u8(1),
        "shape_null": u8(1) + b(False) + b(False) + u8(0),
        "shape_overflow": u8(1) + b(True) + i64_extreme(I64_MAX) + b(True) + i64_extreme(I64_MAX) + u8(1),
        "strides": u8(2) + b(False) + b"".join(i64_extreme(1) if i == 0 else i64v(1) for i in range(64)),
        "strides_big": u8(2) + b(False) + b"".join(i64v(1000) for _ in range(64)),
        "dtype": u8(3) + dtype(C128),
        "device_cpu": u8(4) + u8(0),
        "device_cuda": u8(4) + u8(2),
        "device_id": u8(5) + b(False) + u32(0x7FFFFFFF),
        "byte_offset": u8(6) + b(True) + u8(200),
        "byte_offset_huge": u8(6) + b(False) + size_extreme(0),
        "data_null": u8(9),
        "data_other": u8(7) + u64(0x4000),
    }
    for name, c in corr.items():
        s["dlpack_corrupt_" + name] = base + export(0) + import_(c, 1) + op(COPY_TO_HOST, pick(1), u16(4096))
    s["dlpack_corrupt_null_deleter"] = base + export(0) + import_(null_deleter=True)
    s["dlpack_corrupt_version"] = base + export(0) + import_(version=(2, 0)) + export(0) + import_(flags=0xFFFF)
    s["dlpack_corrupt_legacy"] = base + export(0, False) + import_(corr["shape"] + corr["dtype"], 2, versioned=False)
    # --- bundles and kernels -------------------------------------------------------------
    s["spirv_bytes"] = (dev0() + op(CONTEXT_DEFAULT, pick(0))
                        + op(SPIRV_BYTES, pick(0), pick(0), blob(b"\x03\x02\x23\x07" + b"\x00" * 16), b(False), options())
                        + op(SPIRV_BYTES, pick(0), pick(0), blob(b"\x03\x02\x23\x07\x00\x00\x01\x00" + b"\x00" * 12 + struct.pack("<I", (3 << 16) | 15) + b"\x06\x00\x00\x00\x00\x00\x00\x00"), b(False), options())
                        + op(SPIRV_BYTES, pick(0), pick(0), blob(b"garbage!"), b(True), options())
                        + op(SPIRV_BYTES, pick(0), pick(0), blob(b""), b(False), options()))
    for i, k in enumerate(SPV):
        muts = [u8(0) + u16(7 + i) + u32(0xFFFFFFFF), u8(1) + u16(40 + i) + u8(3), u8(2) + u16(12 + i) + u8(1) + u8(0),
                u8(4) + u16(30 + i) + u16(5) + u8(21), u8(5) + u16(9 + i) + u8(0), u8(3) + u8(2) + u16(50 + i)]
        s["spirv_mutated_" + k] = (dev0() + op(CONTEXT_DEFAULT, pick(0))
                                   + op(SPIRV_MUTATED, pick(0), pick(0), u8(i), u8(0), muts[i % len(muts)], options())
                                   + op(SPIRV_MUTATED, pick(0), pick(0), u8(i), u8(1), muts[(i + 1) % len(muts)], muts[(i + 3) % len(muts)], options())
                                   + op(BUNDLE_OPS, pick(0), u8(64), u8(0), size(0)))
    s["opencl_c"] = (dev0() + op(CONTEXT_DEFAULT, pick(0))
                     + op(OPENCL_C, pick(0), pick(0), blob(b"__kernel void k(__global int* p, int n) { p[get_global_id(0)] = n; }"), options())
                     + op(OPENCL_C, pick(0), pick(0), blob(b"__kernel void k(__global int* p) { p[0] = undeclared; }"), options())
                     + op(OPENCL_C, pick(0), pick(0), blob(b"__kernel void s(int a, float b, long c) { }"), options(1))
                     + op(OPENCL_C, pick(0), pick(0), blob(b"kernel void"), options_raw("-cl-std=CL9.9 -Dfoo"))
                     + op(BUNDLE_OPS, pick(0), u8(64), u8(1), u8(200), cstring("k"))
                     + op(BUNDLE_OPS, pick(0), u8(64), u8(2), u8(200), cstring("s"))
                     + op(BUNDLE_OPS, pick(0), u8(64), u8(2), u8(200), cstring("k"))
                     + op(KERNEL_OPS, pick(0), u8(64), u8(3)))
    s["trusted_bundles"] = (dev0() + op(CONTEXT_DEFAULT, pick(0)) + b"".join(trusted(i) for i in range(len(SPV)))
                            + b"".join(op(KERNEL_OPS, pick(i), u8(128), u8(2 + i % 9)) for i in range(8))
                            + op(BUNDLE_OPS, pick(1), u8(3), u8(0), size(1))
                            + op(BUNDLE_OPS, pick(0), u8(128), u8(1), u8(0))
                            + op(RELEASE, u8(BUNDLE - 1), pick(0)) + op(KERNEL_OPS, pick(0), u8(128), u8(3))
                            + op(RELEASE, u8(BUNDLE - 1), pick(0)))
    # Launches: a launch buffer (and array over it) on the queue, the vadd
    # bundle (kernels vadd_i32, vadd_i64, vadd_f32, vadd_f64 in some order).
    lb = queue0() + op(CONTEXT_DEFAULT, pick(0)) + op(LAUNCH_BUFFER, pick(0), u8(0), dtype(F32)) + op(LAUNCH_BUFFER, pick(0), u8(1), dtype(I32))

    def arg(kind, sz, val):
        return u8(kind) + sz + val

    ptr = lambda i=0: arg(0, u8(0), u8(i))
    scalar4 = lambda v=3: arg(3, u8(0), u8(v) + u8(1))
    scalar8 = lambda v=3: arg(3, u8(1), u8(v) + u8(1))
    local = lambda n: arg(5, u8(2), u16(n))
    array = lambda i=0: arg(6, u8(0), u8(1) + u8(i))

    def launch(k, args, dims=1, g=(16, 1, 1, 1), l_mode=1, local_null=False, evs=None, want=True, nargs_mode=1):
        body = u8(1) + u8(k) + u8(1) + pick(0) + ({0: u8(0), 1: u8(3), 2: u8(1), 3: u8(2)}[dims] if dims <= 3 else u8(7) + u32(dims))
        for gi in g:
            body += u8(gi - 1) + u8(l_mode) + (u8(1) if l_mode == 3 else b"")
        body += b(local_null) + u8(nargs_mode) + u8(len(args)) + b"".join(args)
        body += (evs or no_events()) + b(want)
        return op(LAUNCH, body)

    s["launch_vadd"] = (lb + trusted(0)
                        + launch(0, [ptr(0), ptr(1), ptr(0), scalar4()]) + launch(1, [ptr(0), ptr(1), ptr(0), scalar8()])
                        + launch(2, [array(0), array(1), array(0), scalar4()], evs=events(pick(0)))
                        + launch(3, [ptr(0), ptr(1), ptr(0)]) + launch(0, [ptr(0), ptr(1), ptr(0), scalar8()])
                        + launch(0, [ptr(0), ptr(1), scalar4(), scalar4()]) + launch(0, [ptr(0), ptr(1), ptr(0), local(64)])
                        + launch(0, [ptr(0), ptr(1), ptr(0), arg(3, u8(2), u16(299) + u8(1) + u8(1))])
                        + launch(0, [ptr(0), ptr(1), ptr(0), arg(3, u8(0), u8(1) + u8(0))])
                        + launch(0, [ptr(0), ptr(1), ptr(0), u8(7) + u8(17) + u8(0)])
                        + launch(0, [ptr(0), ptr(1), ptr(0), scalar4()], dims=0)
                        + launch(0, [ptr(0), ptr(1), ptr(0), scalar4()], dims=5))
    s["launch_shapes"] = (lb + trusted(3) + trusted(4)
                          + launch(0, [ptr(0), scalar4(4)], dims=2, g=(4, 4, 1, 1))
                          + launch(1, [ptr(0), scalar4(4), scalar4(4)], dims=3, g=(4, 4, 4, 1))
                          + launch(0, [ptr(0), scalar4(4)], dims=2, g=(4, 4, 1, 1), l_mode=3)
                          + launch(2, [ptr(0), ptr(1), local(64), scalar4(15)], g=(16, 1, 1, 1), l_mode=0)
                          + launch(2, [ptr(0), ptr(1), arg(5, u8(3), size_extreme(0)), scalar4(15)])
                          + launch(0, [ptr(0), scalar4(4)], dims=2, g=(4, 4, 1, 1), l_mode=2))
    s["launch_many_args"] = (lb + trusted(5) + trusted(2)
                             + launch(0, [ptr(0)] + [scalar8(1) for _ in range(64)], nargs_mode=0)
                             + launch(0, [ptr(0)] + [scalar8(1) for _ in range(63)], nargs_mode=0)
                             + launch(1, [ptr(0), arg(3, u8(2), u16(1) + u8(1) + u8(1)), arg(3, u8(2), u16(2) + u8(1) + u8(1)), scalar4(), scalar8(),
                                          scalar4(), scalar8(), arg(3, u8(2), u16(16) + u8(1) + u8(1))]))
    s["launch_bad_handles"] = (lb + trusted(0) + op(RELEASE, u8(KERNEL - 1), pick(0))
                               + op(LAUNCH, u8(0), made_up(201), u8(1), pick(0), u8(1), b"\x0f\x01" * 4, b(True), u8(1), u8(0), no_events(), b(False))
                               + launch(0, [array(0), array(0), array(0), scalar4()], evs=events(made_up(202))))
    s["messages"] = (op(DEVICE_SELECT, filt("gpu"), b(False)) + b"".join(op(MESSAGES, u16(n), u8(sub)) for sub in range(4) for n in (0, 16, 4096))
                     + queue0() + b"".join(op(NATIVE, u8(i), pick(0)) for i in range(5)) + op(WAIT_DEFERRED))
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "api_sequence")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        if name.startswith("seed-"):
            os.remove(os.path.join(out, name))
    for name, data in seeds().items():
        assert len(data) <= 4096, (name, len(data))
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds())} seeds to {out}")


if __name__ == "__main__":
    main()
