// dpcore's array_view caster on torch tensors, through torch's DLPack C
// exchange API (benches/torch_exchange.py builds and runs it on the GPU
// machine, where torch is installed). Each function takes one argument and
// returns little, so a call's cost is pybind11's plus the caster's.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <vector>

#include "dpcore/dpcore4pybind11.hpp"

namespace py = pybind11;

namespace {
const char *source_name(dpcore::array_view::source s) {
    using src = dpcore::array_view::source;
    switch (s) {
    case src::none: return "none";
    case src::dpcore_array: return "dpcore_array";
    case src::usm_ndarray: return "usm_ndarray";
    case src::exchange_api: return "exchange_api";
    case src::numpy: return "numpy";
    case src::buffer: return "buffer";
    case src::imported: return "imported";
    }
    return "?";
}
}  // namespace

PYBIND11_MODULE(torch_exchange_bench, m) {
    m.def("bare", [](const py::object &) { return 0; });
    m.def("view_ndim", [](const dpcore::array_view &a) { return a.ndim(); });
    m.def("view_info", [](const dpcore::array_view &a) {
        py::dict d;
        std::vector<int64_t> sh, st;
        for (int i = 0; i < a.ndim(); ++i) {
            sh.push_back(a.shape(i));
            st.push_back(a.stride(i));
        }
        d["shape"] = py::tuple(py::cast(sh));
        d["strides"] = py::tuple(py::cast(st));
        d["dtype"] = a.dtype_name();
        d["data"] = reinterpret_cast<uintptr_t>(a.raw_data());
        d["source"] = source_name(a.get_source());
        d["writable"] = a.writable();
        d["has_stream"] = a.work_stream() != nullptr;
        return d;
    });
    // The sum of a host float32 view, read through the view's pointer and
    // strides: the pointer is the tensor's memory.
    m.def("view_sum_f32", [](const dpcore::array_view &a) {
        if (a.dtype_name() != "float32" || a.ndim() != 2) throw py::value_error("want a 2-D float32 array");
        const float *p = static_cast<const float *>(a.raw_data());
        double s = 0;
        for (int64_t i = 0; i < a.shape(0); ++i)
            for (int64_t j = 0; j < a.shape(1); ++j) s += p[i * a.stride(0) + j * a.stride(1)];
        return s;
    });
}
