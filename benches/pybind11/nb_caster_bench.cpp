// nb_caster_bench: nanobind's ndarray caster, the reference for numpy
// arguments in benches/casters.py (which builds it with nanobind's own
// sources). One function: take an array, return its ndim.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <chrono>

namespace nb = nanobind;

NB_MODULE(nb_caster_bench, m) {
    m.def("nb_ndim", [](nb::ndarray<> a) { return a.ndim(); });
    m.def("nb_baseline", [](nb::handle a) { return a.ptr() != nullptr ? 1 : 0; });
    // The caster alone (no Python call): ns per load, as in caster_bench.
    m.def("loop_nb", [](nb::handle o, long n) {
        volatile long sink = 0;
        auto t0 = std::chrono::steady_clock::now();
        for (long i = 0; i < n; ++i) {
            nb::detail::make_caster<nb::ndarray<>> c;
            if (!c.from_python(o, 0, nullptr)) throw nb::type_error("the caster declined");
            sink = sink + static_cast<long>(c.value.ndim());
        }
        auto t1 = std::chrono::steady_clock::now();
        return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(n);
    });
}
