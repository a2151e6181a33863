// nb_caster_bench: nanobind's ndarray caster, the reference for numpy
// arguments in benches/casters.py (which builds it with nanobind's own
// sources). One function: take an array, return its ndim.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

namespace nb = nanobind;

NB_MODULE(nb_caster_bench, m) {
    m.def("nb_ndim", [](nb::ndarray<> a) { return a.ndim(); });
    m.def("nb_baseline", [](nb::handle a) { return a.ptr() != nullptr ? 1 : 0; });
}
