"""examples-pybind11/onemkl_gemv: oneMKL SYCL BLAS gemv/gemm through dpcore's
pybind11 casters, checked against numpy.

Builds the extension once per session (its build.sh skips an up-to-date
module) and runs it on dpnp, dpcore, numpy and plain
__sycl_usm_array_interface__ inputs, on the default SYCL device.
"""
import gc
import pathlib
import subprocess
import sys
import time
import weakref

import pytest

import dpctl
import dpctl.memory as dpctl_memory
import dpcore
import dpnp
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples-pybind11" / "onemkl_gemv"

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
RTOL = {np.float32: 2e-5, np.complex64: 2e-5, np.float64: 1e-12, np.complex128: 1e-12}


@pytest.fixture(scope="session")
def mod():
    r = subprocess.run(["bash", str(EXAMPLE / "build.sh")], capture_output=True, text=True)
    assert r.returncode == 0, f"build.sh failed:\n{r.stdout}\n{r.stderr}"
    sys.path.insert(0, str(EXAMPLE))
    try:
        import onemkl_gemv
    finally:
        sys.path.remove(str(EXAMPLE))
    return onemkl_gemv


def rand(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if np.issubdtype(dtype, np.complexfloating):
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def ptr(a):
    return a.__sycl_usm_array_interface__["data"][0]


class SuaiView:
    """Any object with __sycl_usm_array_interface__: dpctl USM memory seen
    as a C-contiguous array of `shape` and `typestr`."""

    def __init__(self, mem, shape, typestr):
        self.mem, self.shape, self.typestr = mem, shape, typestr

    @property
    def __sycl_usm_array_interface__(self):
        return {
            "data": (self.mem._pointer, False),
            "shape": self.shape,
            "strides": None,
            "typestr": self.typestr,
            "version": 1,
            "syclobj": self.mem.sycl_queue,
        }


class Forward:
    """Forwards a dpnp array's interface; unlike dpnp arrays it can be
    weakly referenced, to see when the extension lets it go."""

    def __init__(self, a):
        self.a = a

    @property
    def __sycl_usm_array_interface__(self):
        return self.a.__sycl_usm_array_interface__


# ------------------------------------------------------------ dpnp


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_gemv_dpnp_strided_x_and_y_slice(mod, dtype):
    m, n = 33, 20
    A = rand((m, n), dtype, 1)
    xf = rand(2 * n, dtype, 2)
    yf = rand(m + 7, dtype, 3)
    dA, dxf, dyf = dpnp.asarray(A), dpnp.asarray(xf), dpnp.asarray(yf)
    x = dxf[::2]  # stride 2
    y = dyf[3 : 3 + m]  # offset slice
    assert mod.gemv(dA, x, y) is None
    got = dpnp.asnumpy(dyf)
    np.testing.assert_allclose(got[3 : 3 + m], A @ xf[::2], rtol=RTOL[dtype], atol=RTOL[dtype] * 10)
    np.testing.assert_array_equal(got[:3], yf[:3])  # untouched outside the slice
    np.testing.assert_array_equal(got[3 + m :], yf[3 + m :])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_gemv_dpnp_strided_y_and_layouts_of_A(mod, dtype):
    m, n = 17, 12
    Af = rand((m, n + 5), dtype, 4)
    x = rand(n, dtype, 5)
    dAf, dx = dpnp.asarray(Af), dpnp.asarray(x)
    dyf = dpnp.zeros(3 * m, dtype=dtype)
    tol = dict(rtol=RTOL[dtype], atol=RTOL[dtype] * 10)
    # A a column slice: unit stride in its last dimension, lda = n + 5.
    mod.gemv(dAf[:, 2 : 2 + n], dx, dyf[::3])
    np.testing.assert_allclose(dpnp.asnumpy(dyf)[::3], Af[:, 2 : 2 + n] @ x, **tol)
    # A a transposed (Fortran-order) view: oneMKL's trans.
    At = rand((n, m), dtype, 6)
    y = dpnp.empty(m, dtype=dtype)
    mod.gemv(dpnp.asarray(At).T, dx, y)
    np.testing.assert_allclose(dpnp.asnumpy(y), At.T @ x, **tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
def test_gemm_dpnp(mod, dtype):
    m, k, n = 9, 14, 6
    A, B = rand((m, k), dtype, 7), rand((k, n), dtype, 8)
    C = dpnp.empty((m, n), dtype=dtype)
    assert mod.gemm(dpnp.asarray(A), dpnp.asarray(B), C) is None
    np.testing.assert_allclose(dpnp.asnumpy(C), A @ B, rtol=RTOL[dtype], atol=RTOL[dtype] * 10)
    # Transposed operands (oneMKL's trans) and C a column slice (ldc > n).
    Cf = dpnp.zeros((m, n + 3), dtype=dtype)
    mod.gemm(dpnp.asarray(A.T.copy()).T, dpnp.asarray(B.T.copy()).T, Cf[:, 1 : 1 + n])
    got = dpnp.asnumpy(Cf)
    np.testing.assert_allclose(got[:, 1 : 1 + n], A @ B, rtol=RTOL[dtype], atol=RTOL[dtype] * 10)
    assert not got[:, 0].any() and not got[:, 1 + n :].any()


# ------------------------------------------------------------ dpcore, SUAI, numpy


def test_dpcore_arrays(mod):
    A, x = rand((8, 5), np.float64, 9), rand(5, np.float64, 10)
    y = dpcore.zeros(8, dtype="float64")
    mod.gemv(dpcore.asarray(A), dpcore.asarray(x), y)
    np.testing.assert_allclose(y.asnumpy(), A @ x, rtol=1e-12)
    B = rand((5, 4), np.float64, 11)
    C = dpcore.empty((8, 4), dtype="float64")
    mod.gemm(dpcore.asarray(A), dpcore.asarray(B), C)
    np.testing.assert_allclose(C.asnumpy(), A @ B, rtol=1e-12)


def test_dpcore_and_dpnp_mixed(mod):
    # One device, one (default) context, two queues: runs on A's queue after
    # the work pending on both.
    A, x = rand((6, 4), np.complex128, 12), rand(4, np.complex128, 13)
    y = dpnp.empty(6, dtype=np.complex128)
    mod.gemv(dpcore.asarray(A), dpnp.asarray(x) * 2, y)
    np.testing.assert_allclose(dpnp.asnumpy(y), A @ (2 * x), rtol=1e-12)


def test_any_object_with_suai(mod):
    m, n = 6, 5
    A, x = rand((m, n), np.float32, 14), rand(n, np.float32, 15)
    q = dpctl.SyclQueue()
    mems = []
    for host in (A, x, np.zeros(m, np.float32)):
        mem = dpctl_memory.MemoryUSMShared(host.nbytes, queue=q)
        mem.copy_from_host(host.reshape(-1).view(np.uint8))
        mems.append(mem)
    # dpctl memory's own interface is 1-D uint8: the wrapper gives the shape.
    assert mems[0].__sycl_usm_array_interface__["typestr"] == "|u1"
    sA, sx, sy = (SuaiView(mem, s, "<f4") for mem, s in zip(mems, [(m, n), (n,), (m,)]))
    mod.gemv(sA, sx, sy)
    got = np.empty(m, np.float32)
    mems[2].copy_to_host(got.view(np.uint8))
    np.testing.assert_allclose(got, A @ x, rtol=2e-5, atol=1e-5)
    r = mod.matmul(sA, sx)
    np.testing.assert_allclose(r.asnumpy(), A @ x, rtol=2e-5, atol=1e-5)


def test_numpy_inputs_with_copy_host(mod):
    A, x = rand((7, 3), np.float64, 16), rand(3, np.float64, 17)
    y = dpnp.empty(7, dtype=np.float64)
    mod.gemv(A, x, y, copy_host=True)
    np.testing.assert_allclose(dpnp.asnumpy(y), A @ x, rtol=1e-12)
    mod.gemv(dpnp.asarray(A), x[::-1].copy(), y, copy_host=True)  # one host input
    np.testing.assert_allclose(dpnp.asnumpy(y), A @ x[::-1], rtol=1e-12)
    # A strided host view is staged as a C-contiguous copy.
    Af = rand((7, 6), np.float64, 18)
    mod.gemv(Af[:, ::2], x, y, copy_host=True)
    np.testing.assert_allclose(dpnp.asnumpy(y), Af[:, ::2] @ x, rtol=1e-12)
    C = dpnp.empty((7, 7), dtype=np.float64)
    mod.gemm(A, A.T.copy(), C, copy_host=True)
    np.testing.assert_allclose(dpnp.asnumpy(C), A @ A.T, rtol=1e-12)
    r = mod.matmul(A, x, copy_host=True)
    np.testing.assert_allclose(r.asnumpy(), A @ x, rtol=1e-12)


def test_numpy_refused_without_copy_host(mod):
    A, x = rand((7, 3), np.float64, 16), rand(3, np.float64, 17)
    y = dpnp.empty(7, dtype=np.float64)
    with pytest.raises(ValueError, match=r"gemv: A is host memory.*copy_host=True"):
        mod.gemv(A, dpnp.asarray(x), y)
    with pytest.raises(ValueError, match=r"gemv: x is host memory.*copy_host=True"):
        mod.gemv(dpnp.asarray(A), x, y)
    with pytest.raises(ValueError, match=r"y is the output.*must be a device array"):
        mod.gemv(dpnp.asarray(A), dpnp.asarray(x), np.empty(7), copy_host=True)
    with pytest.raises(ValueError, match=r"matmul: A is host memory"):
        mod.matmul(A, x)


# ------------------------------------------------------------ errors


def test_mixed_contexts_raise_listing_every_argument(mod):
    dev = dpctl.SyclDevice()
    # dpctl.SyclContext(dev) is the cached default context; a list makes a new one.
    other = dpctl.SyclQueue(dpctl.SyclContext([dev]), dev)
    assert other.sycl_context != dpnp.empty(1).sycl_queue.sycl_context
    A = dpnp.ones((4, 3), dtype=np.float32)
    x = dpnp.ones(3, dtype=np.float32, sycl_queue=other)
    y = dpnp.empty(4, dtype=np.float32)
    with pytest.raises(ValueError) as e:
        mod.gemv(A, x, y)
    msg = str(e.value)
    assert "one device in one context" in msg
    # The example keeps dpcore's class and status (dpcore.InvalidArgumentError).
    assert type(e.value) is dpcore.InvalidArgumentError and e.value.status.startswith("DPC_ERROR_")
    assert "array 0 is A, array 1 is x, array 2 is y" in msg
    # dpcore's part: every array's device, queue and context.
    assert msg.count(dev.filter_string) == 3, msg
    assert msg.count("queue") >= 3 and msg.count("context") >= 3, msg
    with pytest.raises(ValueError, match="gemm: all arguments must be on one device"):
        mod.gemm(A, dpnp.ones((3, 2), dtype=np.float32, sycl_queue=other), dpnp.empty((4, 2), dtype=np.float32))


def test_dtype_errors(mod):
    A = dpnp.ones((4, 3), dtype=np.float32)
    with pytest.raises(TypeError, match=r"one data type, got A float32, x float64, y float32"):
        mod.gemv(A, dpnp.ones(3, dtype=np.float64), dpnp.empty(4, dtype=np.float32))
    with pytest.raises(TypeError, match=r"float32, float64, complex64 or complex128 .*not int32"):
        mod.gemv(A.astype(np.int32), dpnp.ones(3, dtype=np.int32), dpnp.empty(4, dtype=np.int32))
    with pytest.raises(TypeError, match=r"gemm: .*got A float32, B complex64, C float32"):
        mod.gemm(A, dpnp.ones((3, 2), dtype=np.complex64), dpnp.empty((4, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="incompatible function arguments"):
        mod.gemv("not an array", A, A)


def test_shape_and_layout_errors(mod):
    A = dpnp.ones((4, 3), dtype=np.float64)
    x, y = dpnp.ones(3), dpnp.empty(4)
    with pytest.raises(ValueError, match=r"A \(4, 3\), x \(5,\), y \(4,\).*A \(m, n\), x \(n,\), y \(m,\)"):
        mod.gemv(A, dpnp.ones(5), y)
    with pytest.raises(ValueError, match=r"A \(4, 3\), x \(3,\), y \(3,\)"):
        mod.gemv(A, x, dpnp.empty(3))
    with pytest.raises(ValueError, match=r"A must be 2-D \(m, n\), got a 1-D array of shape \(3,\)"):
        mod.gemv(x, x, y)
    with pytest.raises(ValueError, match=r"gemm: shapes do not match: A \(4, 3\), B \(4, 2\), C \(4, 2\)"):
        mod.gemm(A, dpnp.ones((4, 2)), dpnp.empty((4, 2)))
    with pytest.raises(ValueError, match=r"x has a negative stride \(-1 elements\)"):
        mod.gemv(A, x[::-1], y)
    with pytest.raises(ValueError, match=r"y has a negative stride"):
        mod.gemv(A, x, y[::-1])
    with pytest.raises(ValueError, match=r"A of shape \(4, 3\) has strides \(6, 2\) elements.*needs a copy"):
        mod.gemv(dpnp.ones((4, 6))[:, ::2], x, y)
    with pytest.raises(ValueError, match=r"A of shape \(4, 3\) has strides \(3, -1\).*needs a copy"):
        mod.gemv(A[:, ::-1], x, y)
    with pytest.raises(ValueError, match=r"C of shape \(4, 2\) has strides \(1, 4\).*in the last dimension"):
        mod.gemm(A, dpnp.ones((3, 2)), dpnp.empty((2, 4)).T)
    with pytest.raises(ValueError, match=r"the output y may overlap the input A"):
        mod.gemv(A, x, A[:, 0])
    with pytest.raises(ValueError, match=r"y is read-only"):
        mod.gemv(A, x, dpcore.zeros(4).as_read_only())


# ------------------------------------------------------------ results to Python


def test_matmul_result_goes_to_dpnp_zero_copy(mod):
    A, x, B = rand((10, 7), np.complex64, 19), rand(7, np.complex64, 20), rand((7, 3), np.complex64, 21)
    dA = dpnp.asarray(A)
    r = mod.matmul(dA, dpnp.asarray(x))
    assert isinstance(r, dpcore.Array) and r.shape == (10,) and r.dtype == np.complex64
    d = dpnp.from_dlpack(r)
    assert ptr(d) == ptr(r) == r.data_ptr
    assert d.sycl_queue.sycl_context == dA.sycl_queue.sycl_context
    np.testing.assert_allclose(dpnp.asnumpy(d), A @ x, rtol=2e-5, atol=1e-5)
    r2 = mod.matmul(dA, dpnp.asarray(B))
    assert r2.shape == (10, 3)
    d2 = dpnp.from_dlpack(r2)
    assert ptr(d2) == r2.data_ptr
    np.testing.assert_allclose(dpnp.asnumpy(d2 + 0), A @ B, rtol=2e-5, atol=1e-5)
    # The result comes back in through the caster.
    np.testing.assert_allclose(mod.matmul(r2.T, dpnp.ones(10, dtype=np.complex64)).asnumpy(),
                               (A @ B).T @ np.ones(10), rtol=2e-5, atol=1e-5)


def test_wait_false_returns_event(mod):
    A, x = rand((50, 40), np.float64, 22), rand(40, np.float64, 23)
    y = dpnp.empty(50)
    ev = mod.gemv(dpnp.asarray(A), dpnp.asarray(x), y, wait=False)
    assert isinstance(ev, dpcore.Event)
    ev.wait()
    np.testing.assert_allclose(dpnp.asnumpy(y), A @ x, rtol=1e-12)
    C = dpnp.empty((50, 50))
    ev = mod.gemm(dpnp.asarray(A), dpnp.asarray(A.T.copy()), C, wait=False)
    assert isinstance(ev, dpcore.Event)
    ev.wait()
    np.testing.assert_allclose(dpnp.asnumpy(C), A @ A.T, rtol=1e-12)


def test_inputs_outlive_their_python_objects(mod):
    m, n = 768, 768
    A_h, x_h = rand((m, n), np.complex128, 24), rand(n, np.complex128, 25)
    expected = A_h @ x_h
    A, x = Forward(dpnp.asarray(A_h)), Forward(dpnp.asarray(x_h))
    y = dpnp.empty(m, dtype=np.complex128)
    ev = mod.gemv(A, x, y, wait=False)
    refs = [weakref.ref(A), weakref.ref(x)]
    del A, x
    gc.collect()
    # Memory freed too early would likely be reused by these.
    junk = [dpnp.full((m, n), 7.0, dtype=np.complex128), dpnp.full(n, 7.0, dtype=np.complex128)]
    ev.wait()
    np.testing.assert_allclose(dpnp.asnumpy(y), expected, rtol=1e-12)
    # ... and they are let go once the work is done (no leak).
    deadline = time.monotonic() + 10
    while any(r() is not None for r in refs) and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    assert all(r() is None for r in refs)
    del junk


def test_host_inputs_staged_with_wait_false(mod):
    A, x = rand((64, 32), np.float32, 26), rand(32, np.float32, 27)
    y = dpnp.empty(64, dtype=np.float32)
    ev = mod.gemv(A, x, y, wait=False, copy_host=True)
    del A  # the staged copy is the extension's to keep alive
    gc.collect()
    ev.wait()
    np.testing.assert_allclose(dpnp.asnumpy(y), rand((64, 32), np.float32, 26) @ x, rtol=2e-5, atol=1e-5)


def test_empty_shapes(mod):
    y = dpnp.empty(0)
    assert mod.gemv(dpnp.ones((0, 3)), dpnp.ones(3), y) is None
    ev = mod.gemv(dpnp.ones((0, 3)), dpnp.ones(3), y, wait=False)
    ev.wait()
    y = dpnp.full(4, 5.0)
    mod.gemv(dpnp.ones((4, 0)), dpnp.ones(0), y)  # an empty sum
    np.testing.assert_array_equal(dpnp.asnumpy(y), np.zeros(4))
    np.testing.assert_array_equal(mod.matmul(dpnp.ones((4, 0)), dpnp.ones(0)).asnumpy(), np.zeros(4))
    assert mod.matmul(dpnp.ones((0, 3)), dpnp.ones((3, 2))).shape == (0, 2)
    C = dpnp.full((3, 5), 5.0, dtype=np.complex64)[:, 1:4]
    mod.gemm(dpnp.ones((3, 0), dtype=np.complex64), dpnp.ones((0, 3), dtype=np.complex64), C)
    np.testing.assert_array_equal(dpnp.asnumpy(C), np.zeros((3, 3)))
