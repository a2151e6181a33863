// onemkl_gemv: oneMKL SYCL BLAS gemv / gemm on arrays from Python, through
// dpcore's pybind11 casters (dpcore/dpcore4pybind11.hpp).
//
// Arguments are `dpcore::usm_ndarray`: dpnp and dpctl arrays, dpcore.Array,
// anything with __sycl_usm_array_interface__, and DLPack producers (numpy,
// torch). The work runs on the arrays' common queue (compute follows data),
// after the work already pending there, and the inputs stay alive until
// oneMKL's event completes, even when Python drops them first.
//
// Host-only SYCL: built with g++ (no -fsycl) against the SYCL and oneMKL
// headers; see build.sh.
#include <pybind11/pybind11.h>

#include <algorithm>
#include <complex>
#include <cstdint>
#include <string>
#include <vector>

#include <oneapi/mkl/blas.hpp>
#include <sycl/sycl.hpp>

#include "dpcore/dpcore4pybind11.hpp"
#include "dpcore/sycl.hpp"

namespace py = pybind11;
namespace blas = oneapi::mkl::blas::row_major;
using dpcore::usm_ndarray;
using oneapi::mkl::transpose;
// dpc_dlpack_dtype is a C struct: dpcore's == for it is not found out here
// (argument-dependent lookup), dpcore::same_dtype is.
using dpcore::same_dtype;

namespace {

// ------------------------------------------------------------ messages

std::string shape_str(const usm_ndarray &a) {
    std::string s = "(";
    for (std::size_t i = 0; i < a.shape().size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(a.shape()[i]);
    }
    return s + (a.shape().size() == 1 ? ",)" : ")");
}

std::string strides_str(const usm_ndarray &a) {
    std::string s = "(";
    for (std::size_t i = 0; i < a.strides().size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(a.strides()[i]);
    }
    return s + (a.strides().size() == 1 ? ",)" : ")") + " elements";
}

struct arg {
    const char *name;
    usm_ndarray *a;
    bool output;
};

// ------------------------------------------------------------ checks

template <class T>
bool is_type(dpc_dlpack_dtype t) {
    return same_dtype(t, dpcore::dtype_of<T>());
}

void check_ndim(const char *fn, const arg &x, int ndim, const char *what) {
    if (x.a->ndim() != ndim)
        throw py::value_error(std::string(fn) + ": " + x.name + " must be " + what + ", got a " +
                              std::to_string(x.a->ndim()) + "-D array of shape " + shape_str(*x.a));
}

/// One data type for all, and one oneMKL's gemv/gemm take.
void check_dtypes(const char *fn, const std::vector<arg> &args) {
    const dpc_dlpack_dtype t = args.front().a->dtype();
    bool same = true;
    for (const arg &x : args) same = same && same_dtype(x.a->dtype(), t);
    if (!same) {
        std::string m = std::string(fn) + ": all arguments must have one data type, got";
        for (std::size_t i = 0; i < args.size(); ++i)
            m += std::string(i ? ", " : " ") + args[i].name + " " + args[i].a->dtype_name();
        throw py::type_error(m);
    }
    if (!is_type<float>(t) && !is_type<double>(t) && !is_type<std::complex<float>>(t) && !is_type<std::complex<double>>(t))
        throw py::type_error(std::string(fn) + ": oneMKL's " + fn +
                             " takes float32, float64, complex64 or complex128 arrays, not " + args.front().a->dtype_name());
}

/// The queue to run on: the device arrays' common queue (ValueError listing
/// every array's device, queue and context when they differ), or the
/// default device's canonical queue when all are host inputs. Host (kDLCPU)
/// inputs are staged to it when `copy_host`; host outputs are refused.
dpcore::queue place(const char *fn, std::vector<arg> &args, bool copy_host) {
    std::vector<const usm_ndarray *> on_device;
    for (const arg &x : args) {
        if (!x.a->is_host()) {
            on_device.push_back(x.a);
            continue;
        }
        if (x.output)
            throw py::value_error(std::string(fn) + ": " + x.name +
                                  " is the output and is host memory (a numpy array?); it must be a device array "
                                  "(dpnp, dpctl, dpcore.Array): the result is written in place, copy_host only "
                                  "stages inputs");
        if (!copy_host)
            throw py::value_error(std::string(fn) + ": " + x.name +
                                  " is host memory (a numpy array?); pass a device array (dpnp, dpctl, "
                                  "dpcore.Array), or copy_host=True to copy it to the device first");
    }
    dpcore::queue q;
    if (on_device.empty()) {  // host inputs only (matmul), copy_host: the default device
        q = dpcore::queue::default_for(dpcore::device::default_device());
    } else {
        try {
            q = dpcore::python::common_queue(on_device);
        } catch (dpcore::python::invalid_argument_error &e) {
            // dpcore numbers the arrays; name them.
            std::string names;
            int i = 0;
            for (const arg &x : args)
                if (!x.a->is_host()) {
                    names += (i ? ", " : "") + std::string("array ") + std::to_string(i) + " is " + x.name;
                    ++i;
                }
            // Keeps dpcore's class and status: dpcore.InvalidArgumentError, a ValueError.
            throw dpcore::python::invalid_argument_error(std::string(fn) +
                                                             ": all arguments must be on one device in one context (" +
                                                             names + "): " + e.what(),
                                                         e.status());
        }
    }
    for (arg &x : args)
        if (x.a->is_host()) *x.a = x.a->on_queue(q, true);  // copied() is now true
    return q;
}

/// A row-major matrix operand: (trans, ld) so that oneMKL reads it right.
/// Rows of unit stride: nontrans with ld = row stride; columns of unit
/// stride (a transposed / Fortran-order view): trans with ld = column stride.
struct mat {
    transpose op;
    std::int64_t ld;
};

mat matrix_layout(const char *fn, const arg &x, bool allow_trans) {
    const usm_ndarray &a = *x.a;
    const std::int64_t r = a.shape(0), c = a.shape(1), s0 = a.stride(0), s1 = a.stride(1);
    // Strides of length-1 axes do not matter.
    if ((s1 == 1 || c <= 1) && (r <= 1 || s0 >= std::max<std::int64_t>(1, c)))
        return {transpose::nontrans, r <= 1 ? std::max<std::int64_t>(1, c) : s0};
    if (allow_trans && (s0 == 1 || r <= 1) && (c <= 1 || s1 >= std::max<std::int64_t>(1, r)))
        return {transpose::trans, c <= 1 ? std::max<std::int64_t>(1, r) : s1};
    throw py::value_error(std::string(fn) + ": " + x.name + " of shape " + shape_str(a) + " has strides " +
                          strides_str(a) + "; oneMKL needs unit stride in the last dimension" +
                          (allow_trans ? " (or the first)" : "") +
                          " and a row stride >= the row length, not negative: it needs a copy (e.g. " + x.name +
                          ".copy())");
}

/// A vector's increment: its stride, positive (oneMKL reads negative
/// increments from the far end, unlike a numpy view) and non-zero.
std::int64_t vector_inc(const char *fn, const arg &x) {
    const usm_ndarray &a = *x.a;
    if (a.shape(0) <= 1) return 1;
    const std::int64_t s = a.stride(0);
    if (s < 0)
        throw py::value_error(std::string(fn) + ": " + x.name + " has a negative stride (" + std::to_string(s) +
                              " elements); oneMKL's negative increments do not mean what a reversed view means: "
                              "pass a copy (e.g. " + x.name + ".copy()) or a view with positive stride");
    if (s == 0)
        throw py::value_error(std::string(fn) + ": " + x.name +
                              " has stride 0 (a broadcast view); oneMKL needs a non-zero increment: pass a copy");
    return s;
}

/// [lowest, highest) byte addresses an array touches.
std::pair<std::uintptr_t, std::uintptr_t> extent(const usm_ndarray &a) {
    auto base = reinterpret_cast<std::uintptr_t>(a.raw_data());
    std::int64_t lo = 0, hi = 0;
    for (int i = 0; i < a.ndim(); ++i) {
        if (a.shape(i) == 0) return {base, base};
        std::int64_t d = a.stride(i) * (a.shape(i) - 1);
        (d < 0 ? lo : hi) += d;
    }
    const std::int64_t item = a.dtype().bits / 8;
    return {base + lo * item, base + (hi + 1) * item};
}

void check_output(const char *fn, const std::vector<arg> &args) {
    const arg &out = args.back();
    if (!out.a->writable())
        throw py::value_error(std::string(fn) + ": " + out.name + " is read-only; the result is written to it");
    auto o = extent(*out.a);
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        auto e = extent(*args[i].a);
        if (o.first < o.second && e.first < e.second && o.first < e.second && e.first < o.second)
            throw py::value_error(std::string(fn) + ": the output " + out.name + " may overlap the input " +
                                  args[i].name + " in memory (their address ranges intersect); pass a separate output array");
    }
}

/// Barriers on every queue the arrays came from: the work waits for all
/// pending work of their producers, not only on the queue it runs on
/// (arrays of one device and context may come from different queues).
std::vector<sycl::event> pending(const dpcore::queue &q, const std::vector<arg> &args) {
    std::vector<const usm_ndarray *> inputs;
    for (const arg &x : args) inputs.push_back(x.a);
    std::vector<sycl::event> deps;
    for (const dpcore::event &e : dpcore::depends_on_pending(q, inputs)) deps.push_back(dpcore::sycl_event(e));
    return deps;
}

/// Hand the oneMKL event back: keep every array (and the Python objects
/// behind them) alive until it completes, then wait for it (GIL released)
/// or return it as a dpcore.Event.
py::object finish(const sycl::event &done, const std::vector<arg> &args, bool wait) {
    dpcore::event ev;
    try {
        ev = dpcore::from_sycl(done);
        for (const arg &x : args) dpcore::keep_alive({ev}, {x.a});
    } catch (...) {
        // The arguments cannot be handed over: hold them here until the work is done.
        py::gil_scoped_release nogil;
        sycl::event(done).wait();
        throw;
    }
    if (wait) {
        {
            py::gil_scoped_release nogil;
            ev.wait();
        }
        return py::none();
    }
    dpc_event h = ev.release();  // owned by the dpcore.Event from here on
    try {
        return py::module_::import("dpcore").attr("Event").attr("_from_handle")(reinterpret_cast<std::uintptr_t>(h));
    } catch (...) {
        (void)dpc_event_release(h);
        throw;
    }
}

/// out <- 0, the value of an empty sum (BLAS returns at once for n = 0 or
/// k = 0 and leaves the output as it was). dpcore's copy broadcasts a zero
/// over any strides and returns when done.
py::object zero_fill(usm_ndarray &out, const dpcore::queue &q, const std::vector<arg> &args, bool wait) {
    dpcore::array zero = dpcore::array::zeros(q, out.dtype(), {1});
    {
        py::gil_scoped_release nogil;
        out.get_array().assign(zero);
    }
    return wait ? py::object(py::none()) : finish(sycl::event(), args, false);
}

// ------------------------------------------------------------ gemv

template <class T>
sycl::event gemv_t(sycl::queue &q, const mat &la, std::int64_t m, std::int64_t n, const usm_ndarray &A,
                   const usm_ndarray &x, std::int64_t incx, usm_ndarray &y, std::int64_t incy,
                   const std::vector<sycl::event> &deps) {
    // oneMKL's (m, n) are those of the matrix as stored: A^T for trans.
    const bool t = la.op == transpose::trans;
    return blas::gemv(q, la.op, t ? n : m, t ? m : n, T(1), A.data<T>(), la.ld, x.data<T>(), incx, T(0), y.data<T>(),
                      incy, deps);
}

sycl::event submit_gemv(usm_ndarray &A, usm_ndarray &x, usm_ndarray &y, const dpcore::queue &dq,
                        const std::vector<arg> &args) {
    const char *fn = "gemv";
    const mat la = matrix_layout(fn, args[0], true);
    const std::int64_t incx = vector_inc(fn, args[1]), incy = vector_inc(fn, args[2]);
    const std::int64_t m = A.shape(0), n = A.shape(1);
    std::vector<sycl::event> deps = pending(dq, args);
    sycl::queue &q = dpcore::sycl_queue(dq);
    py::gil_scoped_release nogil;
    const dpc_dlpack_dtype t = A.dtype();
    if (is_type<float>(t)) return gemv_t<float>(q, la, m, n, A, x, incx, y, incy, deps);
    if (is_type<double>(t)) return gemv_t<double>(q, la, m, n, A, x, incx, y, incy, deps);
    if (is_type<std::complex<float>>(t))
        return gemv_t<std::complex<float>>(q, la, m, n, A, x, incx, y, incy, deps);
    return gemv_t<std::complex<double>>(q, la, m, n, A, x, incx, y, incy, deps);
}

/// Shapes and types of gemv's arguments; returns the queue to run on.
dpcore::queue prepare_gemv(std::vector<arg> &args, bool copy_host) {
    const char *fn = "gemv";
    check_ndim(fn, args[0], 2, "2-D (m, n)");
    check_ndim(fn, args[1], 1, "1-D (n,)");
    check_ndim(fn, args[2], 1, "1-D (m,)");
    const usm_ndarray &A = *args[0].a, &x = *args[1].a, &y = *args[2].a;
    if (x.shape(0) != A.shape(1) || y.shape(0) != A.shape(0))
        throw py::value_error("gemv: shapes do not match: A " + shape_str(A) + ", x " + shape_str(x) + ", y " +
                              shape_str(y) + "; y = A @ x needs A (m, n), x (n,), y (m,)");
    check_dtypes(fn, args);
    dpcore::queue q = place(fn, args, copy_host);
    check_output(fn, args);
    return q;
}

py::object gemv(usm_ndarray A, usm_ndarray x, usm_ndarray y, bool wait, bool copy_host) {
    std::vector<arg> args{{"A", &A, false}, {"x", &x, false}, {"y", &y, true}};
    dpcore::queue q = prepare_gemv(args, copy_host);
    if (y.size() == 0) return wait ? py::object(py::none()) : finish(sycl::event(), args, false);
    if (A.shape(1) == 0) return zero_fill(y, q, args, wait);  // oneMKL leaves y alone for n = 0
    sycl::event done = submit_gemv(A, x, y, q, args);
    return finish(done, args, wait);
}

// ------------------------------------------------------------ gemm

template <class T>
sycl::event gemm_t(sycl::queue &q, const mat &la, const mat &lb, std::int64_t m, std::int64_t n, std::int64_t k,
                   const usm_ndarray &A, const usm_ndarray &B, usm_ndarray &C, std::int64_t ldc,
                   const std::vector<sycl::event> &deps) {
    return blas::gemm(q, la.op, lb.op, m, n, k, T(1), A.data<T>(), la.ld, B.data<T>(), lb.ld, T(0), C.data<T>(), ldc,
                      deps);
}

sycl::event submit_gemm(usm_ndarray &A, usm_ndarray &B, usm_ndarray &C, const dpcore::queue &dq,
                        const std::vector<arg> &args) {
    const char *fn = "gemm";
    const mat la = matrix_layout(fn, args[0], true), lb = matrix_layout(fn, args[1], true);
    const mat lc = matrix_layout(fn, args[2], false);
    const std::int64_t m = A.shape(0), k = A.shape(1), n = B.shape(1);
    std::vector<sycl::event> deps = pending(dq, args);
    sycl::queue &q = dpcore::sycl_queue(dq);
    py::gil_scoped_release nogil;
    const dpc_dlpack_dtype t = A.dtype();
    if (is_type<float>(t)) return gemm_t<float>(q, la, lb, m, n, k, A, B, C, lc.ld, deps);
    if (is_type<double>(t)) return gemm_t<double>(q, la, lb, m, n, k, A, B, C, lc.ld, deps);
    if (is_type<std::complex<float>>(t))
        return gemm_t<std::complex<float>>(q, la, lb, m, n, k, A, B, C, lc.ld, deps);
    return gemm_t<std::complex<double>>(q, la, lb, m, n, k, A, B, C, lc.ld, deps);
}

dpcore::queue prepare_gemm(std::vector<arg> &args, bool copy_host) {
    const char *fn = "gemm";
    check_ndim(fn, args[0], 2, "2-D (m, k)");
    check_ndim(fn, args[1], 2, "2-D (k, n)");
    check_ndim(fn, args[2], 2, "2-D (m, n)");
    const usm_ndarray &A = *args[0].a, &B = *args[1].a, &C = *args[2].a;
    if (B.shape(0) != A.shape(1) || C.shape(0) != A.shape(0) || C.shape(1) != B.shape(1))
        throw py::value_error("gemm: shapes do not match: A " + shape_str(A) + ", B " + shape_str(B) + ", C " +
                              shape_str(C) + "; C = A @ B needs A (m, k), B (k, n), C (m, n)");
    check_dtypes(fn, args);
    dpcore::queue q = place(fn, args, copy_host);
    check_output(fn, args);
    return q;
}

py::object gemm(usm_ndarray A, usm_ndarray B, usm_ndarray C, bool wait, bool copy_host) {
    std::vector<arg> args{{"A", &A, false}, {"B", &B, false}, {"C", &C, true}};
    dpcore::queue q = prepare_gemm(args, copy_host);
    if (C.size() == 0) return wait ? py::object(py::none()) : finish(sycl::event(), args, false);
    if (A.shape(1) == 0) return zero_fill(C, q, args, wait);  // oneMKL leaves C alone for k = 0
    sycl::event done = submit_gemm(A, B, C, q, args);
    return finish(done, args, wait);
}

// ------------------------------------------------------------ matmul

/// A @ B into a new array on the inputs' queue; returns when it is computed.
dpcore::array matmul(usm_ndarray A, usm_ndarray B, bool copy_host) {
    if (B.ndim() != 1 && B.ndim() != 2)
        throw py::value_error("matmul: B must be 1-D (n,) or 2-D (n, p), got a " + std::to_string(B.ndim()) +
                              "-D array of shape " + shape_str(B));
    if (A.ndim() != 2)
        throw py::value_error("matmul: A must be 2-D (m, n), got a " + std::to_string(A.ndim()) +
                              "-D array of shape " + shape_str(A));
    if (A.shape(1) != B.shape(0))
        throw py::value_error("matmul: shapes do not match: A " + shape_str(A) + ", B " + shape_str(B) +
                              "; A @ B needs A (m, n) and B (n,) or (n, p)");
    std::vector<arg> in{{"A", &A, false}, {"B", &B, false}};
    check_dtypes("matmul", in);
    dpcore::queue q = place("matmul", in, copy_host);
    std::vector<int64_t> shape{A.shape(0)};
    if (B.ndim() == 2) shape.push_back(B.shape(1));
    if (A.shape(1) == 0) return dpcore::array::zeros(q, A.dtype(), shape);  // empty sums
    dpcore::array out = dpcore::array::empty(q, A.dtype(), shape);
    usm_ndarray C(out);
    if (C.size() == 0) return out;
    std::vector<arg> args{in[0], in[1], {"out", &C, true}};
    sycl::event done = B.ndim() == 1 ? submit_gemv(A, B, C, q, args) : submit_gemm(A, B, C, q, args);
    finish(done, args, true);
    return out;
}

}  // namespace

PYBIND11_MODULE(onemkl_gemv, m) {
    m.doc() =
        "oneMKL SYCL BLAS gemv/gemm (row-major) on dpnp, dpctl, dpcore and other USM arrays, through dpcore's "
        "pybind11 casters.";
    // Raises when dpcore's SYCL plugin runs another libsycl major version
    // than the headers this module was compiled with.
    dpcore::check_sycl_runtime();

    m.def("gemv", &gemv, py::arg("A"), py::arg("x"), py::arg("y"), py::kw_only(), py::arg("wait") = true,
          py::arg("copy_host") = false,
          R"(y <- A @ x (oneMKL row_major::gemv) on the arrays' common queue.

A (m, n), x (n,), y (m,): one of float32, float64, complex64, complex128 for
all three. A needs unit stride in one dimension (C order, a row slice, or a
transposed/Fortran-order view); x and y may be strided (positive strides).
Host (numpy) A and x are refused unless copy_host=True, which copies them to
the device first; y must be a device array.

The work waits for the work already pending on the arrays' queues, and the
arguments stay alive until it completes. wait=True (default): returns None
once y is written. wait=False: returns a dpcore.Event at once; call its
wait() before reading y.)");

    m.def("gemm", &gemm, py::arg("A"), py::arg("B"), py::arg("C"), py::kw_only(), py::arg("wait") = true,
          py::arg("copy_host") = false,
          R"(C <- A @ B (oneMKL row_major::gemm) on the arrays' common queue.

A (m, k), B (k, n), C (m, n), one data type as for gemv. A and B need unit
stride in one dimension (transposed views are passed as oneMKL's trans); C
needs unit stride in its last dimension. Returns None (wait=True) or a
dpcore.Event (wait=False), as gemv.)");

    m.def("matmul", &matmul, py::arg("A"), py::arg("B"), py::kw_only(), py::arg("copy_host") = false,
          R"(A @ B as a new dpcore.Array on the inputs' queue (device USM).

A (m, n); B (n,) (gemv, result (m,)) or (n, p) (gemm, result (m, p)).
Host (numpy) inputs need copy_host=True; when both are host arrays the
result is on dpcore's default device. Returns once the result is computed. dpnp.asarray / dpnp.from_dlpack take
the result without a copy.)");
}
