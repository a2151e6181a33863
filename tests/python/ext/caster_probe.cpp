// A test extension for dpcore4pybind11.hpp: each function shows what the
// casters made of its arguments. Built by tests/python/test_python_package.py.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "dpcore/dpcore4pybind11.hpp"
#include "exchange_producer.hpp"

namespace py = pybind11;

static const char *origin_name(dpcore::origin o) {
    switch (o) {
    case dpcore::origin::dpcore_array: return "dpcore";
    case dpcore::origin::sycl_usm_array_interface: return "suai";
    case dpcore::origin::dlpack: return "dlpack";
    case dpcore::origin::dlpack_legacy: return "dlpack_legacy";
    case dpcore::origin::copy: return "copy";
    case dpcore::origin::usm_ndarray_attributes: return "tensor";
    }
    return "?";
}

static const char *source_name(dpcore::array_view::source s) {
    using src = dpcore::array_view::source;
    switch (s) {
    case src::none: return "none";
    case src::dpcore_array: return "dpcore";
    case src::usm_ndarray: return "usm_ndarray";
    case src::exchange_api: return "exchange_api";
    case src::numpy: return "numpy";
    case src::buffer: return "buffer";
    case src::imported: return "imported";
    }
    return "?";
}

PYBIND11_MODULE(caster_probe, m) {
    // dpcore::error from any function of this module becomes dpcore's class
    // for its status (the casters would register this at their first use).
    dpcore::python::register_error_translator();
    // A failing dpcore call outside the casters: dpcore::error from the
    // wrappers of dpcore.hpp.
    m.def("select", [](const std::string &filter) { return dpcore::device::select(filter).name(); });
    m.def("fail", [](int status, const std::string &what) {
        throw dpcore::error(static_cast<dpc_status>(status), what, 42);
    });
    exchange_producer::define(m);
    // array_view: what the cheap caster read.
    m.def("view", [](const dpcore::array_view &a) {
        py::dict d;
        std::vector<int64_t> sh, st;
        for (int i = 0; i < a.ndim(); ++i) {
            sh.push_back(a.shape(i));
            st.push_back(a.stride(i));
        }
        d["ndim"] = a.ndim();
        d["shape"] = py::tuple(py::cast(sh));
        d["strides"] = py::tuple(py::cast(st));
        d["size"] = a.size();
        d["dtype"] = a.dtype_name();
        d["writable"] = a.writable();
        d["c_contiguous"] = a.c_contiguous();
        d["f_contiguous"] = a.f_contiguous();
        d["source"] = source_name(a.get_source());
        d["is_host"] = a.is_host();
        d["usm_kind"] = a.usm_kind();
        d["data"] = reinterpret_cast<uintptr_t>(a.raw_data());
        d["queue"] = a.get_queue();  // a dpcore.Queue, or None for host memory
        d["has_producer_queue"] = static_cast<bool>(a.producer_queue());
        d["has_stream"] = a.work_stream() != nullptr;
        d["is_float32"] = a.is_type<float>();
        d["object_is_arg"] = true;
        return d;
    });
    m.def("view_identity", [](const dpcore::array_view &a) -> const dpcore::array_view & { return a; });
    m.def("view_which", [](const dpcore::array_view &) { return "array"; });
    m.def("view_which", [](int) { return "int"; });
    m.def("view_which", [](const std::string &) { return "str"; });
    m.def("view_axis", [](const dpcore::array_view &a, int i) { return a.shape(i); });
    m.def("view_data_f64", [](const dpcore::array_view &a) { return reinterpret_cast<uintptr_t>(a.data<double>()); });
    // keep(): the owning dpcore array, returned as a dpcore.Array.
    m.def("view_keep", [](const dpcore::array_view &a) { return a.keep().get_array(); });
    m.def("view_keep_alive", [](const dpcore::array_view &a) {
        dpcore::queue q = a.get_queue();
        dpcore::keep_alive(dpcore::depends_on_pending(q, {&a}), {&a});
    });
    m.def("view_pending_count", [](const dpcore::array_view &a, const dpcore::array_view &b) {
        return dpcore::depends_on_pending(a.get_queue(), {&a, &b}).size();
    });
    m.def("view_two", [](const dpcore::array_view &a, const dpcore::array_view &b) {
        return py::make_tuple(reinterpret_cast<uintptr_t>(a.raw_data()), reinterpret_cast<uintptr_t>(b.raw_data()));
    });
    m.def("describe", [](const dpcore::usm_ndarray &a) {
        py::dict d;
        d["ndim"] = a.ndim();
        d["shape"] = a.shape();
        d["strides"] = a.strides();
        d["dtype"] = a.dtype_name();
        d["writable"] = a.writable();
        d["c_contiguous"] = a.c_contiguous();
        d["f_contiguous"] = a.f_contiguous();
        d["origin"] = origin_name(a.get_origin());
        d["is_host"] = a.is_host();
        d["data"] = reinterpret_cast<uintptr_t>(a.raw_data());
        d["queue"] = a.get_queue();  // through the queue caster: a dpcore.Queue or None
        d["is_float32"] = a.is_type<float>();
        return d;
    });
    // Overloads: the array caster must decline what it does not take.
    m.def("which", [](const dpcore::usm_ndarray &) { return "array"; });
    m.def("which", [](int) { return "int"; });
    m.def("which", [](const std::string &) { return "str"; });
    m.def("which_queue", [](const dpcore::queue &) { return "queue"; });
    m.def("which_queue", [](py::object) { return "object"; });
    m.def("queue_of", [](const dpcore::queue &q) { return q; });
    m.def("same_queue", [](const dpcore::queue &a, const dpcore::queue &b) { return a == b; });
    m.def("identity", [](const dpcore::array &a) { return a; });
    m.def("sum_float64", [](const dpcore::usm_ndarray &a) {
        // Typed access: throws dpcore::error (RuntimeError) unless float64.
        double *p = a.data<double>();
        (void)p;
        std::vector<double> host(static_cast<std::size_t>(a.size()));
        dpcore::array c = a.get_array();
        if (!a.c_contiguous()) c = c.to_device(a.get_queue());
        c.to_host(host.data());
        double s = 0;
        for (double v : host) s += v;
        return s;
    });
    m.def("stage", [](const dpcore::usm_ndarray &a, const dpcore::queue &q, bool allow) {
        dpcore::usm_ndarray r = a.on_queue(q, allow);
        return py::make_tuple(r, r.copied());
    });
    m.def("keep", [](const dpcore::usm_ndarray &a) { dpcore::keep_alive(a.get_queue(), {&a}); });
    m.def("wait_deferred", []() {
        py::gil_scoped_release nogil;  // the deferred release takes the GIL
        dpcore::check(dpc_usm_wait_deferred_frees(), "dpc_usm_wait_deferred_frees");
    });
    m.def("record", [](const dpcore::usm_ndarray &a) {
        dpcore::event e = a.get_queue().barrier();
        dpcore::python::record_for_producers({&a}, e);
        return e.get() != nullptr;
    });
    m.def("barrier_of", [](const dpcore::usm_ndarray &a) { return a.get_queue().barrier(); });
    m.def("event_done", [](const dpcore::event &e) {
        e.wait();
        return e.complete();
    });
    m.def("pending_count", [](const dpcore::usm_ndarray &a, const dpcore::usm_ndarray &b) {
        return dpcore::depends_on_pending(a.get_queue(), {&a, &b}).size();
    });
    m.def("common_named", [](const dpcore::usm_ndarray &a, const dpcore::usm_ndarray &b) {
        return dpcore::python::common_queue_named({{"A", &a}, {"x", &b}});
    });
    m.def("common", [](const dpcore::usm_ndarray &a, const dpcore::usm_ndarray &b) {
        return dpcore::python::common_queue({&a, &b});
    });
}
