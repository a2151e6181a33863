"""Kernels from Python (python/dpcore/_dpcore_kernels.cpp, dpcore/kernels.py):
bundles from SPIR-V (bytes and paths), OpenCL C and SYCL source, kernel
introspection, and launches whose queue comes from the array arguments,
with real launches on every device dpcore finds and numerical checks.

Errors are the C API's: its messages reach Python as dpcore.Error (a
failed build carries the compiler's log as .build_log); a launch's arrays
that share no queue raise ValueError (as dpcore.common_queue does).
"""
import gc
import pathlib
import sys
import time

import pytest

import dpctl
import dpctl.memory
import dpnp
import numpy as np

import dpcore

ROOT = pathlib.Path(__file__).resolve().parents[2]
KERNELS = ROOT / "kernels"
N = 1000


@pytest.fixture
def dev(device_filter):
    return dpcore.Device(device_filter)


@pytest.fixture
def vadd(dev):
    return dpcore.Bundle.from_spirv((KERNELS / "vadd.spv").read_bytes(), dev)


def on(dev, host):
    return dpcore.asarray(np.asarray(host), queue=dev)


def is_opencl(dev):
    return dev.filter_string.startswith("opencl:")


# ---------------------------------------------------------------- bundles

def test_spirv_bytes_introspection(dev, vadd):
    assert vadd.source_kind == "SPIR-V"
    assert vadd.device == dev
    assert sorted(vadd.kernel_names) == sorted(["vadd_i32", "vadd_i64", "vadd_f32", "vadd_f64", "noop", "noop_ptr"])
    assert vadd.kernel_count == 6
    assert "vadd_i32" in vadd and vadd.has_kernel("noop") and "nope" not in vadd
    k = vadd.get_kernel("vadd_i32")
    assert k.name == "vadd_i32" and vadd["noop"].name == "noop"
    assert k.num_args == 4 and vadd["noop"].num_args == 0 and vadd["noop_ptr"].num_args == 1
    assert k.device == dev and k.bundle.kernel_count == 6
    assert k.max_work_group_size >= 1
    info = k.info
    assert info["num_args"] == 4 and info["max_work_group_size"] == k.max_work_group_size
    assert set(info) == {"num_args", "max_work_group_size", "preferred_work_group_size_multiple",
                         "private_mem_size", "local_mem_size", "max_sub_group_size", "max_num_sub_groups",
                         "compile_sub_group_size", "compile_num_sub_groups"}
    assert "vadd_i32" in repr(k) and "SPIR-V" in repr(vadd)


def test_missing_kernel_lists_the_bundles_kernels(vadd):
    with pytest.raises(dpcore.Error, match="vadd_f64"):  # the message lists what the bundle has
        vadd.get_kernel("no_such_kernel")


def test_spirv_from_paths_and_buffers(dev):
    path = KERNELS / "saxpy.spv"
    data = path.read_bytes()
    for src in (path, str(path), bytearray(data), memoryview(data), np.frombuffer(data, dtype=np.uint8)):
        b = dpcore.Bundle.from_spirv(src, dev)
        assert b.kernel_names == ["saxpy"]
    # Other device arguments: a filter string, a dpcore.Queue, a dpctl.SyclQueue.
    for where in (dev.filter_string, dev.default_queue, dpctl.SyclQueue(dev.filter_string),
                  dpctl.SyclDevice(dev.filter_string)):
        assert dpcore.Bundle.from_spirv(data, where).device == dev
    with pytest.raises(TypeError, match="device must be"):
        dpcore.Bundle.from_spirv(data, 3.5)
    with pytest.raises(TypeError, match="bytes-like"):
        dpcore.Bundle.from_spirv(12345, dev)


def test_bad_spirv_blob_raises_the_c_api_error(dev):
    with pytest.raises(dpcore.Error, match="dpc_bundle_create_from_spirv") as e:
        dpcore.Bundle.from_spirv(b"\x03\x02\x23\x07 this is not SPIR-V at all", dev)
    assert "SPIR-V" in str(e.value)
    with pytest.raises(dpcore.Error, match="dpc_bundle_create_from_spirv"):
        dpcore.Bundle.from_spirv(b"", dev)
    with pytest.raises(dpcore.Error, match="no_such.spv"):
        dpcore.Bundle.from_spirv(KERNELS / "no_such.spv", dev)


def test_opencl_c_source_with_options(dev):
    src = "__kernel void fill(__global int* out) { out[get_global_id(0)] = VALUE * (int)get_global_id(0); }"
    if not is_opencl(dev):
        with pytest.raises(dpcore.Error, match="dpc_bundle_create_from_opencl_c"):
            dpcore.Bundle.from_opencl(src, dev, options="-DVALUE=7")
        return
    b = dpcore.Bundle.from_opencl(src, dev, options="-DVALUE=7")
    assert b.source_kind == "OpenCL C" and b.kernel_names == ["fill"] and b["fill"].num_args == 1
    out = dpcore.empty(64, dtype="int32", queue=dev)
    b["fill"].launch(64, out).wait()
    np.testing.assert_array_equal(out.asnumpy(), 7 * np.arange(64))
    # The whole vadd.cl from source, launched like its SPIR-V.
    v = dpcore.Bundle.from_opencl((KERNELS / "vadd.cl").read_text(), dev, options="-cl-std=CL2.0")
    assert v.kernel_count == 6
    a, bb, c = on(dev, np.arange(N, dtype="f4")), on(dev, np.ones(N, "f4")), dpcore.empty(N, "float32", queue=dev)
    v["vadd_f32"].launch(N, a, bb, c, dpcore.float32(0.5)).wait()
    np.testing.assert_allclose(c.asnumpy(), np.arange(N) + 0.5)


def test_build_error_carries_the_log(dev):
    src = (KERNELS / "bad.cl").read_text()
    if not is_opencl(dev):
        with pytest.raises(dpcore.Error):
            dpcore.Bundle.from_opencl(src, dev)
        return
    with pytest.raises(dpcore.Error) as e:
        dpcore.Bundle.from_opencl(src, dev)
    assert isinstance(e.value, RuntimeError)
    assert "undeclared_identifier" in e.value.build_log
    assert "undeclared_identifier" in str(e.value) and "build log" in str(e.value)
    assert e.value.status == "DPC_ERROR_BUILD_FAILED"


def test_sycl_source(dev):
    src = (KERNELS / "sycl" / "vadd_sycl.cpp").read_text()
    if not is_opencl(dev) or "cpu" not in dev.filter_string:
        # Elsewhere the runtime may or may not compile SYCL source; when it
        # cannot, the C API's error comes through.
        try:
            b = dpcore.Bundle.from_sycl(src, dev)
        except dpcore.Error as e:
            assert "dpc_bundle_create_from_sycl" in str(e)
            return
    else:
        # The runtime installed here compiles SYCL source for the OpenCL CPU device.
        b = dpcore.Bundle.from_sycl(src, dev)
    assert b.source_kind == "SYCL"
    with pytest.raises(dpcore.Error, match="dpc_bundle_get_kernel_count"):
        b.kernel_names  # the runtime does not list a SYCL-source bundle's kernels
    assert "vadd_sycl" in b
    k = b["vadd_sycl"]
    a, bb, c = on(dev, np.arange(N, dtype="i4")), on(dev, 2 * np.arange(N, dtype="i4")), dpcore.empty(N, "int32", queue=dev)
    k.launch(N, a, bb, c, local_size=8).wait()
    np.testing.assert_array_equal(c.asnumpy(), 3 * np.arange(N))


# ---------------------------------------------------------------- launches

def test_vadd_i32_dpcore_arrays(dev, vadd):
    a, b = on(dev, np.arange(N, dtype="i4")), on(dev, np.full(N, 5, "i4"))
    c = dpcore.zeros(N, dtype="int32", queue=dev)
    ev = vadd["vadd_i32"].launch(N, a, b, c, dpcore.int32(3))
    assert isinstance(ev, dpcore.Event)
    ev.wait()
    assert ev.complete
    np.testing.assert_array_equal(c.asnumpy(), np.arange(N) + 15)
    # The module-level spelling, a 1-tuple size, numpy and (value, dtype) scalars.
    dpcore.launch(vadd["vadd_i32"], (N,), a, b, c, np.int32(-1)).wait()
    np.testing.assert_array_equal(c.asnumpy(), np.arange(N) - 5)
    vadd["vadd_i32"].launch([N], a, b, c, (2, "int32")).wait()
    np.testing.assert_array_equal(c.asnumpy(), np.arange(N) + 10)


def test_saxpy_and_python_floats(dev):
    saxpy = dpcore.Bundle.from_spirv(KERNELS / "saxpy.spv", dev)["saxpy"]
    x, y = on(dev, np.linspace(0, 1, N, dtype="f4")), on(dev, np.ones(N, "f4"))
    saxpy.launch(N, dpcore.float32(2.5), x, y).wait()
    np.testing.assert_allclose(y.asnumpy(), 2.5 * np.linspace(0, 1, N, dtype="f4") + 1, rtol=1e-6)
    v64 = dpcore.Bundle.from_spirv(KERNELS / "vadd.spv", dev)["vadd_f64"]
    a, b, c = on(dev, np.arange(N, dtype="f8")), on(dev, np.ones(N)), dpcore.empty(N, queue=dev)
    v64.launch(N, a, b, c, 0.25).wait()  # a Python float is a double
    np.testing.assert_allclose(c.asnumpy(), np.arange(N) + 0.25)


def test_every_scalar_spelling(dev):
    k = dpcore.Bundle.from_spirv(KERNELS / "scalars.spv", dev)["scalars"]
    out = dpcore.zeros(7, dtype="int64", queue=dev)
    # char, short, int, long, float, double, int4
    k.launch(1, out, dpcore.int8(-5), np.int16(-1234), (123456789, "int32"), -1099511627779,
             dpcore.float32(12345.75), -9876543210.5, dpcore.Scalar([1000, 2000, 1000, 281], "int32")).wait()
    np.testing.assert_array_equal(out.asnumpy(), [-5, -1234, 123456789, -1099511627779, 12345, -9876543210, 4281])


def test_scalar_objects():
    s = dpcore.int32(5)
    assert isinstance(s, dpcore.Scalar) and s.nbytes == 4 and s.dtype == np.int32 and s.value == 5
    assert s.tobytes() == np.int32(5).tobytes()
    assert dpcore.Scalar([1, 2, 3, 4], "int32").nbytes == 16
    assert dpcore.uint8(255).tobytes() == b"\xff" and dpcore.float16(1.5).nbytes == 2
    assert np.dtype(dpcore.int32) == np.int32 and dpcore.int32.c_name == "int"
    e = dpcore.empty(3, dtype=dpcore.uint16)
    assert e.dtype == np.uint16
    with pytest.raises(ValueError, match="300 does not fit in int8"):
        dpcore.int8(300)
    with pytest.raises(ValueError, match="-1 does not fit in uint32"):
        dpcore.uint32(-1)
    with pytest.raises(TypeError, match="float"):
        dpcore.int32(1.5)
    with pytest.raises(TypeError, match="scalar argument"):
        dpcore.Scalar("x", "U1")
    assert dpcore.LocalMemory(64, "float32").nbytes == 256 and dpcore.LocalMemory(10).nbytes == 10
    with pytest.raises(ValueError):
        dpcore.LocalMemory(0)


def test_ndim_launches(dev):
    b = dpcore.Bundle.from_spirv(KERNELS / "ndim.spv", dev)
    out = dpcore.zeros(15, dtype="uint32", queue=dev)
    b["ids_2d"].launch((5, 3), out, dpcore.uint32(5)).wait()  # global_size[0]: get_global_id(0)
    y, x = np.divmod(np.arange(15), 5)
    np.testing.assert_array_equal(out.asnumpy(), y * 1000 + x)
    out3 = dpcore.zeros(24, dtype="uint32", queue=dev)
    b["ids_3d"].launch((4, 3, 2), out3, dpcore.uint32(4), dpcore.uint32(3), local_size=(2, 1, 2)).wait()
    z, rest = np.divmod(np.arange(24), 12)
    y, x = np.divmod(rest, 4)
    np.testing.assert_array_equal(out3.asnumpy(), z * 1000000 + y * 1000 + x)


def test_local_memory_reduction(dev):
    k = dpcore.Bundle.from_spirv(KERNELS / "reduce.spv", dev)["reduce_sum_f32"]
    host = np.random.default_rng(0).random(N, dtype="f4")
    partial = dpcore.zeros(16, dtype="float32", queue=dev)
    k.launch(1024, on(dev, host), partial, dpcore.LocalMemory(64, "float32"), dpcore.uint32(N),
             local_size=64).wait()
    np.testing.assert_allclose(partial.asnumpy().sum(), host.sum(), rtol=1e-4)


def test_depends_orders_launches(dev, vadd):
    k = vadd["vadd_i32"]
    a, b, c, d = (on(dev, np.arange(N, dtype="i4")), on(dev, np.ones(N, "i4")),
                  dpcore.zeros(N, dtype="int32", queue=dev), dpcore.zeros(N, dtype="int32", queue=dev))
    e1 = k.launch(N, a, b, c, dpcore.int32(1))
    e2 = k.launch(N, c, b, d, dpcore.int32(1), depends=[e1])
    e2.wait()
    np.testing.assert_array_equal(d.asnumpy(), np.arange(N) + 2)
    with pytest.raises(TypeError, match="depends"):
        k.launch(N, a, b, c, dpcore.int32(1), depends=[object()])


def test_mixed_producers_dpnp_and_dpcore(dev, vadd):
    """dpnp arrays (on dpctl's out-of-order queue) and a dpcore array (on
    dpcore's canonical queue) of one device and context: the launch runs on
    the first array's queue after dpnp's pending work, and dpnp's next
    operation sees the result."""
    k = vadd["vadd_i32"]
    a = dpnp.arange(N, dtype="i4", device=dev.filter_string) * 2  # pending dpnp work
    b = on(dev, np.full(N, 3, "i4"))
    c = dpnp.empty(N, dtype="i4", device=dev.filter_string)
    ev = k.launch(N, a, b, c, dpcore.int32(10))
    d = c + 1  # ordered after the kernel through dpctl's order manager
    np.testing.assert_array_equal(dpnp.asnumpy(d), 2 * np.arange(N) + 31)
    ev.wait()
    # The dpcore array first: the launch runs on dpcore's queue.
    e = dpcore.zeros(N, dtype="int32", queue=dev)
    k.launch(N, b, a, e, dpcore.int32(1)).wait()
    np.testing.assert_array_equal(e.asnumpy(), 2 * np.arange(N) + 3)
    # dpnp.tensor's usm_ndarray and dpctl's USM memory objects are arrays too.
    t = dpnp.tensor.arange(N, dtype="i4", device=dev.filter_string)
    m = dpctl.memory.MemoryUSMShared(4 * N, queue=dpctl.SyclQueue(dev.filter_string))
    k.launch(N, t, b, m, dpcore.int32(2)).wait()
    np.testing.assert_array_equal(np.frombuffer(m.copy_to_host(), dtype="i4"), np.arange(N) + 6)
    # A strided view would be read as contiguous memory: refused, naming the argument.
    with pytest.raises(ValueError, match="argument 0: a strided view"):
        k.launch(N // 2, a[::2], b[: N // 2], e[: N // 2], dpcore.int32(1))


def test_queue_inference_error_and_override(dev, vadd):
    k = vadd["vadd_i32"]
    # Arrays in another context (a new dpctl context for the same device): no common queue.
    # (dpctl.SyclContext(device) is the cached default context; a list makes a new one.)
    sdev = dpctl.SyclDevice(dev.filter_string)
    q2 = dpctl.SyclQueue(dpctl.SyclContext([sdev]), sdev)
    a = on(dev, np.arange(N, dtype="i4"))
    other = dpnp.ones(N, dtype="i4", sycl_queue=q2)
    c = dpcore.zeros(N, dtype="int32", queue=dev)
    with pytest.raises(ValueError, match=r"share no queue") as e:
        k.launch(N, a, other, c, dpcore.int32(1))
    msg = str(e.value)
    assert "argument 0" in msg and "argument 1" in msg and "queue=" in msg
    # A host (numpy) array has no queue to infer.
    with pytest.raises(ValueError, match="host"):
        k.launch(N, a, np.ones(N, "i4"), c, dpcore.int32(1))
    # queue= overrides the inference: another runtime queue of the same device and context ...
    for q in (dpctl.SyclQueue(dev.filter_string), dev, dev.filter_string, dev.default_queue,
              dpctl.SyclDevice(dev.filter_string)):
        c2 = dpcore.zeros(N, dtype="int32", queue=dev)
        k.launch(N, a, a, c2, dpcore.int32(1), queue=q).wait()
        np.testing.assert_array_equal(c2.asnumpy(), 2 * np.arange(N))
    # ... and a queue in another context is refused by the C API's checks.
    with pytest.raises(dpcore.Error, match="context"):
        k.launch(N, a, a, c, dpcore.int32(1), queue=q2)
    # A kernel built for the other context runs there with that context's arrays.
    k2 = dpcore.Bundle.from_spirv(KERNELS / "vadd.spv", q2)["vadd_i32"]
    out = dpnp.zeros(N, dtype="i4", sycl_queue=q2)
    k2.launch(N, other, other, out, dpcore.int32(4)).wait()
    np.testing.assert_array_equal(dpnp.asnumpy(out), np.full(N, 5))
    # No array argument and no queue: the C API says it has nothing to infer from.
    with pytest.raises(dpcore.Error, match="no argument is an array"):
        vadd["noop"].launch(1)
    vadd["noop"].launch(1, queue=dev).wait()


def test_wrong_argument_count_and_kinds(dev, vadd):
    k = vadd["vadd_i32"]
    a, c = on(dev, np.arange(N, dtype="i4")), dpcore.zeros(N, dtype="int32", queue=dev)
    with pytest.raises(dpcore.Error, match="takes 4 arguments but 3 were given"):
        k.launch(N, a, a, c)
    with pytest.raises(dpcore.Error, match="takes 4 arguments but 5 were given"):
        k.launch(N, a, a, c, dpcore.int32(1), dpcore.int32(1))
    # A Python int is an int64: the SPIR-V says int (4 bytes); the message says what to do.
    with pytest.raises(dpcore.Error, match=r"argument 3 of kernel \"vadd_i32\" is a 4-byte value") as e:
        k.launch(N, a, a, c, 1)
    assert "dpcore.int32" in str(e.value)
    with pytest.raises(dpcore.Error, match=r"argument 3 .*4-byte value.*8 bytes"):
        k.launch(N, a, a, c, np.int64(1))
    with pytest.raises(dpcore.Error, match=r"argument 1 of kernel \"vadd_i32\" is a global/constant pointer"):
        k.launch(N, a, dpcore.int32(1), c, dpcore.int32(1))
    with pytest.raises(dpcore.Error, match=r"argument 3 of kernel \"vadd_i32\" is a 4-byte value.*POINTER"):
        k.launch(N, a, a, c, a)
    with pytest.raises(dpcore.Error, match=r"argument 0 .*pointer.*DPC_ARG_LOCAL"):
        k.launch(N, dpcore.LocalMemory(16), a, c, dpcore.int32(1))
    # Sizes the C API checks.
    with pytest.raises(dpcore.Error, match="does not divide"):
        k.launch(N, a, a, c, dpcore.int32(1), local_size=7)
    with pytest.raises(ValueError, match="local_size has 2 sizes and global_size 1"):
        k.launch(N, a, a, c, dpcore.int32(1), local_size=(10, 1))
    with pytest.raises(dpcore.Error, match="dims is 4"):
        k.launch((10, 10, 10, 1), a, a, c, dpcore.int32(1))
    # What cannot be an argument at all, named by position.
    with pytest.raises(TypeError, match="argument 3: a Python bool"):
        k.launch(N, a, a, c, True)
    with pytest.raises(TypeError, match="argument 2: cannot pass an argument of type 'object'"):
        k.launch(N, a, a, object(), dpcore.int32(1))
    with pytest.raises(TypeError, match="global_size"):
        k.launch("many", a, a, c, dpcore.int32(1))
    with pytest.raises(ValueError, match="argument 3: 1099511627776 does not fit in int32"):
        k.launch(N, a, a, c, (2**40, "int32"))


def test_arguments_live_until_the_kernel_is_done(dev, vadd):
    k = vadd["vadd_i32"]
    c = dpcore.zeros(N, dtype="int32", queue=dev)
    # Temporaries only: the launch holds them (a dpcore array, dpnp's array)
    # until it completes.
    ev = k.launch(N, on(dev, np.arange(N, dtype="i4")), dpnp.arange(N, dtype="i4", device=dev.filter_string) * 2,
                  c, dpcore.int32(2))
    gc.collect()
    ev.wait()
    np.testing.assert_array_equal(c.asnumpy(), 5 * np.arange(N))
    # ... and lets them go afterwards (on dpcore's deferred-release thread).
    src = dpnp.arange(N, dtype="i4", device=dev.filter_string)
    before = sys.getrefcount(src)
    k.launch(N, src, src, c, dpcore.int32(1)).wait()
    deadline = time.monotonic() + 10
    while sys.getrefcount(src) != before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sys.getrefcount(src) == before
    np.testing.assert_array_equal(c.asnumpy(), 2 * np.arange(N))


def test_launches_from_threads(dev, vadd):
    """Launches release the GIL while they submit; four threads launching at
    once each get their own results."""
    import threading
    k = vadd["vadd_i32"]
    errors, outs = [], {}

    def work(t):
        try:
            a = on(dev, np.arange(N, dtype="i4"))
            for i in range(20):
                c = dpcore.empty(N, dtype="int32", queue=dev)
                k.launch(N, a, a, c, dpcore.int32(t + i)).wait()
                outs[(t, i)] = c.asnumpy()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for (t, i), c in outs.items():
        np.testing.assert_array_equal(c, np.arange(N) * (1 + t + i))
