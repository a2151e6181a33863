// A minimal producer of the DLPack C exchange API (dlpack.h 1.3,
// DLPackExchangeAPI), for tests and benchmarks of dpcore's casters: no
// library in the test environment offers one. `ExchangeArray` (and
// `ExchangeArrayManaged`, which leaves dltensor_from_py_object_no_sync NULL
// so that consumers take the owning path) wraps a dpcore array and publishes
// `__dlpack_c_exchange_api__` (a capsule named "dlpack_exchange_api") on its
// type. Its current_work_stream is the device's canonical queue (a
// sycl::queue*), and counts its calls.
#ifndef DPCORE_TESTS_EXCHANGE_PRODUCER_HPP
#define DPCORE_TESTS_EXCHANGE_PRODUCER_HPP

#include <pybind11/pybind11.h>

#include <atomic>
#include <string>

#include "dpcore/dpcore4pybind11.hpp"

namespace exchange_producer {
namespace py = pybind11;

/// The array and what dltensor_from_py_object hands out, computed once (a
/// real producer reads its own fields; this one should not be the cost
/// measured).
struct ExchangeArray {
    dpcore::array a;
    dpc_array_layout l{};
    dpc_dlpack_device dev{DPC_DL_CPU, 0};
    explicit ExchangeArray(dpcore::array arr) : a(std::move(arr)) {
        dpcore::check(dpc_array_get_layout(a.get(), &l), "dpc_array_get_layout");
        if (l.usm_kind != DPC_USM_UNKNOWN) dev = {DPC_DL_ONEAPI, a.get_queue().get_device().dlpack_id()};
    }
};
struct ExchangeArrayManaged : ExchangeArray {
    using ExchangeArray::ExchangeArray;
};

inline std::atomic<long> &stream_calls() {
    static std::atomic<long> n{0};
    return n;
}

/// The wrapped array of a producer object (the API's callers pass objects
/// of the type they found the API on), or NULL with a Python error.
inline PyTypeObject *&exchange_type() {
    static PyTypeObject *t = nullptr;  // ExchangeArray, set by define()
    return t;
}

/// The producer object behind `o`: pybind11's simple instance layout read
/// directly for ExchangeArray objects (this module's own type), a cast
/// otherwise.
inline const ExchangeArray *producer_of(void *o) {
    auto *inst = reinterpret_cast<py::detail::instance *>(o);
    if (exchange_type() && PyObject_TypeCheck(static_cast<PyObject *>(o), exchange_type()) && inst->simple_layout &&
        inst->simple_holder_constructed)
        return static_cast<const ExchangeArray *>(inst->simple_value_holder[0]);
    try {
        return &py::handle(static_cast<PyObject *>(o)).cast<const ExchangeArray &>();
    } catch (...) {
        PyErr_SetString(PyExc_TypeError, "not an ExchangeArray");
        return nullptr;
    }
}
inline const dpcore::array *array_of(void *o) {
    const ExchangeArray *p = producer_of(o);
    return p ? &p->a : nullptr;
}

inline int from_py_object(void *o, dpc_dlpack_managed_tensor_versioned **out) {
    const dpcore::array *a = array_of(o);
    if (!a) return -1;
    if (dpc_array_to_dlpack_versioned(a->get(), 1, 3, out) != DPC_SUCCESS) {
        PyErr_SetString(PyExc_BufferError, dpcore::last_error_message().c_str());
        return -1;
    }
    return 0;
}

inline int dltensor_from_py_object(void *o, dpc_dlpack_tensor *out) {
    const ExchangeArray *p = producer_of(o);
    if (!p) return -1;
    out->data = p->l.data;
    out->byte_offset = 0;
    out->ndim = p->l.ndim;
    out->dtype = p->l.dtype;
    out->shape = const_cast<int64_t *>(p->l.shape);  // the array's own, valid while it lives
    out->strides = const_cast<int64_t *>(p->l.strides);
    out->device = p->dev;
    return 0;
}

inline int current_work_stream(int32_t type, int32_t id, void **out) {
    stream_calls()++;
    *out = nullptr;
    if (type != DPC_DL_ONEAPI) return 0;
    static void *streams[64] = {};  // per device id, looked up once
    if (id >= 0 && id < 64 && streams[id]) {
        *out = streams[id];
        return 0;
    }
    try {
        // The canonical queue lives in dpcore's cache: its address stays valid.
        *out = dpcore::queue::default_for(dpcore::device::from_dlpack_id(id)).native();
    } catch (std::exception &e) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
        return -1;
    }
    if (id >= 0 && id < 64) streams[id] = *out;
    return 0;
}

inline int to_py_object(dpc_dlpack_managed_tensor_versioned *t, void **out) {
    dpc_array h = nullptr;
    if (dpc_array_from_dlpack_versioned(t, &h) != DPC_SUCCESS) {
        PyErr_SetString(PyExc_BufferError, dpcore::last_error_message().c_str());
        return -1;
    }
    try {
        *out = py::cast(ExchangeArray(dpcore::array::adopt(h))).release().ptr();
    } catch (py::error_already_set &e) {
        e.restore();
        return -1;
    }
    return 0;
}

inline int allocate(dpc_dlpack_tensor *, dpc_dlpack_managed_tensor_versioned **, void *ctx,
                    void (*set_error)(void *, const char *, const char *)) {
    set_error(ctx, "NotImplementedError", "the test producer allocates nothing");
    return -1;
}

inline dpcore::python::dlpack_exchange_api make_api(bool with_dltensor) {
    dpcore::python::dlpack_exchange_api api{};
    api.header.version = {1, 3};
    api.header.prev_api = nullptr;
    api.managed_tensor_allocator = &allocate;
    api.managed_tensor_from_py_object_no_sync = &from_py_object;
    api.managed_tensor_to_py_object_no_sync = &to_py_object;
    api.dltensor_from_py_object_no_sync = with_dltensor ? &dltensor_from_py_object : nullptr;
    api.current_work_stream = &current_work_stream;
    return api;
}

/// Adds ExchangeArray, ExchangeArrayManaged and exchange_stream_calls() to `m`.
inline void define(py::module_ &m) {
    static dpcore::python::dlpack_exchange_api full = make_api(true), managed = make_api(false);
    py::class_<ExchangeArray> c(m, "ExchangeArray");
    exchange_type() = reinterpret_cast<PyTypeObject *>(c.ptr());
    c.def(py::init([](const dpcore::usm_ndarray &a) { return ExchangeArray(a.get_array()); }));
    c.attr("__dlpack_c_exchange_api__") = py::capsule(&full, dpcore::python::dlpack_exchange_api_capsule);
    py::class_<ExchangeArrayManaged, ExchangeArray> d(m, "ExchangeArrayManaged");
    d.def(py::init([](const dpcore::usm_ndarray &a) { return ExchangeArrayManaged(a.get_array()); }));
    d.attr("__dlpack_c_exchange_api__") = py::capsule(&managed, dpcore::python::dlpack_exchange_api_capsule);
    m.def("exchange_stream_calls", []() { return stream_calls().load(); });
}

}  // namespace exchange_producer

#endif
