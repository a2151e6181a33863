// caster_bench: the per-call cost of taking one array argument through
// dpcore's pybind11 casters (dpcore::array_view, the borrowed view, and
// dpcore::usm_ndarray, the owning array; dpcore/dpcore4pybind11.hpp) and
// through dpnp's (dpnp::tensor::usm_ndarray, dpnp4pybind11.hpp), in one
// extension. Built and timed by benches/casters.py; not a standalone program
// (hence outside benches/*.cpp, which benches/run.sh builds as programs).
// The numpy reference, nanobind's ndarray caster, is nb_caster_bench.cpp.
#include <pybind11/pybind11.h>

#include <chrono>
#include <cstdint>

#include "dpcore/dpcore4pybind11.hpp"
#include "dpnp4pybind11.hpp"
#include "exchange_producer.hpp"  // tests/python/ext: a DLPack C exchange API producer

namespace py = pybind11;

/// The caster alone: `n` loads of `obj` into a fresh caster of T (made and
/// destroyed each time, as pybind11 does per call) and a read of the ndim,
/// without the Python call around them; ns per load.
template <class T, class Ndim>
double caster_ns(py::handle obj, long n, Ndim ndim) {
    volatile long sink = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i) {
        py::detail::make_caster<T> c;
        if (!c.load(obj, true)) throw py::type_error("the caster declined");
        sink = sink + ndim(py::detail::cast_op<const T &>(c));
    }
    auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(n);
}

PYBIND11_MODULE(caster_bench, m) {
    exchange_producer::define(m);

    // The bare call: pybind11 with an untyped argument.
    m.def("baseline", [](py::object a) { return a.ptr() != nullptr ? 1 : 0; });

    // dpcore's view: the layout read into the stack, nothing made.
    m.def("view_ndim", [](const dpcore::array_view &a) { return a.ndim(); });
    // ... and reading what an extension reads: shape, strides, data, dtype,
    // flags and the queue (a dpcore::queue, as dpnp's get_queue makes a
    // sycl::queue).
    m.def("view_layout", [](const dpcore::array_view &a) {
        dpcore::queue q = a.get_queue();
        volatile std::uintptr_t sink = reinterpret_cast<std::uintptr_t>(a.raw_data()) + a.dtype().bits +
                                       a.writable() + a.c_contiguous() + a.shape_data()[0] + a.strides_data()[0] +
                                       (q ? 1 : 0);
        (void)sink;
        return a.ndim();
    });

    // The casters alone (no Python call): ns per load.
    m.def("loop_view", [](py::handle o, long n) {
        return caster_ns<dpcore::array_view>(o, n, [](const dpcore::array_view &a) { return a.ndim(); });
    });
    m.def("loop_usm", [](py::handle o, long n) {
        return caster_ns<dpcore::usm_ndarray>(o, n, [](const dpcore::usm_ndarray &a) { return a.ndim(); });
    });
    m.def("loop_dpnp", [](py::handle o, long n) {
        return caster_ns<dpnp::tensor::usm_ndarray>(o, n,
                                                    [](const dpnp::tensor::usm_ndarray &a) { return a.get_ndim(); });
    });

    // dpcore's owning array: a reference-counted dpcore array per argument.
    m.def("dpcore_ndim", [](const dpcore::usm_ndarray &a) { return a.ndim(); });

    // dpnp: the caster is a type check; accessors read the object's fields.
    m.def("dpnp_ndim", [](const dpnp::tensor::usm_ndarray &a) { return a.get_ndim(); });
    // ... and reading shape, strides, type, flags, data and the sycl::queue,
    // as a real extension does.
    m.def("dpnp_layout", [](const dpnp::tensor::usm_ndarray &a) {
        std::vector<py::ssize_t> sh = a.get_shape_vector(), st = a.get_strides_vector();
        sycl::queue q = a.get_queue();
        volatile std::uintptr_t sink = reinterpret_cast<std::uintptr_t>(a.get_data()) + a.get_typenum() +
                                       a.get_flags() + sh.size() + st.size();
        (void)sink;
        return a.get_ndim();
    });
}
