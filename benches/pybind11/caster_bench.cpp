// caster_bench: the per-call cost of taking one array argument through
// dpcore's pybind11 caster (dpcore::usm_ndarray, dpcore/dpcore4pybind11.hpp)
// and through dpnp's (dpnp::tensor::usm_ndarray, dpnp4pybind11.hpp), in one
// extension. Built and timed by benches/casters.py; not a standalone program
// (hence outside benches/*.cpp, which benches/run.sh builds as programs).
#include <pybind11/pybind11.h>

#include <cstdint>

#include "dpcore/dpcore4pybind11.hpp"
#include "dpnp4pybind11.hpp"

namespace py = pybind11;

PYBIND11_MODULE(caster_bench, m) {
    // The bare call: pybind11 with an untyped argument.
    m.def("baseline", [](py::object a) { return a.ptr() != nullptr ? 1 : 0; });

    // dpcore: converting takes a dpcore array view (retained or imported)
    // plus a snapshot of shape, strides, dtype, flags, data and queue.
    m.def("dpcore_ndim", [](const dpcore::usm_ndarray &a) { return a.ndim(); });

    // dpnp: the caster is a type check; accessors read the object's fields.
    m.def("dpnp_ndim", [](const dpnp::tensor::usm_ndarray &a) { return a.get_ndim(); });
    // ... and reading what dpcore's snapshot holds (shape, strides, type,
    // flags, data and the sycl::queue), as a real extension does.
    m.def("dpnp_layout", [](const dpnp::tensor::usm_ndarray &a) {
        std::vector<py::ssize_t> sh = a.get_shape_vector(), st = a.get_strides_vector();
        sycl::queue q = a.get_queue();
        volatile std::uintptr_t sink = reinterpret_cast<std::uintptr_t>(a.get_data()) + a.get_typenum() +
                                       a.get_flags() + sh.size() + st.size();
        (void)sink;
        return a.get_ndim();
    });
}
