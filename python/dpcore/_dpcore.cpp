// The compiled part of the `dpcore` Python package: Device, Queue, Event
// and Array objects over dpcore's C API, so that Python users can make
// dpcore arrays without another array library, and so that extensions
// built with dpcore4pybind11.hpp have dpcore objects to accept and return.
// Not an array library: no arithmetic beyond what the C API offers.
//
// Built by scripts/build-python.sh with g++ and pybind11; needs only
// libdpcore.so (no SYCL headers).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cfloat>
#include <cmath>
#include <complex>
#include <cstring>
#include <string>
#include <vector>

#include "dpcore/dpcore4pybind11.hpp"

namespace py = pybind11;
using namespace dpcore;

void bind_kernels(py::module_ &m);  // _dpcore_kernels.cpp: Bundle, Kernel, launch

namespace {

struct PyDevice {
    device d;
};
struct PyQueue {
    queue q;
};
struct PyEvent {
    event e;
};
struct PyArray {
    array a;
    // The layout, read once on the first cast (array_capi_layout): a view
    // never changes, so the casters need not ask the C API again.
    dpc_array_layout layout{};
    bool has_layout = false;
};

// Errors: a bad argument value raises python::invalid_argument_error
// (dpcore.InvalidArgumentError, a ValueError), an argument of the wrong type
// python::type_mismatch_error (dpcore.TypeMismatchError, a TypeError), and a
// failed dpcore call dpcore::error, which the translator registered in
// PYBIND11_MODULE turns into the class of its status (dpcore/_errors.py has
// the table). Python's protocols keep their builtin types: IndexError for
// indexing, AttributeError for the interface of a host array, BufferError
// for __dlpack__.
using python::invalid_argument_error;
using python::type_mismatch_error;

/// The numpy module, imported at the first call that needs it (host data,
/// asnumpy, Array.dtype, data types only numpy spells), through
/// dpcore._import_numpy, which keeps a fork from happening while that import
/// is half done. Not a guarded function-local static: importing releases
/// the GIL, and a C++ static initialiser in progress then blocks every other
/// thread that asks (a deadlock with the GIL) and, after a fork, the child
/// for ever (seen: 4 hangs in 25 forks). The GIL orders the check and the
/// store; two threads racing may both import (the same module), and one
/// extra reference is kept.
py::object numpy() {
    static py::object *np = nullptr;  // never destroyed: outlives the interpreter
    if (!np) {
        py::object m = py::module_::import("dpcore").attr("_import_numpy")();
        if (!np) np = new py::object(std::move(m));
    }
    return *np;
}

/// The type name of `obj`, for messages.
std::string type_name(py::handle obj) { return Py_TYPE(obj.ptr())->tp_name; }

/// A data type spelled so that dpcore needs no numpy to read it: numpy's
/// names of the supported types ("float32", "bool", ...), array-interface
/// type strings in the native byte order ("f4", "<f8", "=c16", "|b1", "u1",
/// ...) and Python's bool, float and complex (numpy's meanings). False for
/// anything else; numpy decides then.
bool dtype_without_numpy(py::handle spec, dpc_dlpack_dtype &out) {
    PyObject *o = spec.ptr();
    if (o == reinterpret_cast<PyObject *>(&PyFloat_Type)) return out = make_dtype(DPC_DL_FLOAT, 64), true;
    if (o == reinterpret_cast<PyObject *>(&PyBool_Type)) return out = make_dtype(DPC_DL_BOOL, 8), true;
    if (o == reinterpret_cast<PyObject *>(&PyComplex_Type)) return out = make_dtype(DPC_DL_COMPLEX, 128), true;
    if (!PyUnicode_Check(o)) return false;
    Py_ssize_t n = 0;
    const char *c = PyUnicode_AsUTF8AndSize(o, &n);
    if (!c) {
        PyErr_Clear();
        return false;
    }
    const std::string s(c, static_cast<std::size_t>(n));
    static const struct {
        const char *name;
        uint8_t code, bits;
    } names[] = {{"bool", DPC_DL_BOOL, 8},        {"int8", DPC_DL_INT, 8},       {"int16", DPC_DL_INT, 16},
                 {"int32", DPC_DL_INT, 32},       {"int64", DPC_DL_INT, 64},     {"uint8", DPC_DL_UINT, 8},
                 {"uint16", DPC_DL_UINT, 16},     {"uint32", DPC_DL_UINT, 32},   {"uint64", DPC_DL_UINT, 64},
                 {"float16", DPC_DL_FLOAT, 16},   {"float32", DPC_DL_FLOAT, 32}, {"float64", DPC_DL_FLOAT, 64},
                 {"complex64", DPC_DL_COMPLEX, 64}, {"complex128", DPC_DL_COMPLEX, 128}};
    for (const auto &e : names)
        if (s == e.name) return out = make_dtype(e.code, e.bits), true;
    const uint16_t probe = 1;
    const bool little = *reinterpret_cast<const unsigned char *>(&probe) == 1;
    std::size_t i = 0;
    if (!s.empty() && (s[0] == '=' || s[0] == '|' || (s[0] == '<' && little))) i = 1;
    const std::string digits = s.size() > i ? s.substr(i + 1) : std::string();
    int bytes = digits == "1" ? 1 : digits == "2" ? 2 : digits == "4" ? 4 : digits == "8" ? 8 : digits == "16" ? 16 : 0;
    if (bytes == 0) return false;
    const uint8_t bits = static_cast<uint8_t>(bytes * 8);
    switch (s[i]) {
    case 'b': return bytes == 1 && (out = make_dtype(DPC_DL_BOOL, 8), true);
    case 'i': return bytes <= 8 && (out = make_dtype(DPC_DL_INT, bits), true);
    case 'u': return bytes <= 8 && (out = make_dtype(DPC_DL_UINT, bits), true);
    case 'f': return bytes >= 2 && bytes <= 8 && (out = make_dtype(DPC_DL_FLOAT, bits), true);
    case 'c': return (bytes == 8 || bytes == 16) && (out = make_dtype(DPC_DL_COMPLEX, bits), true);
    default: return false;
    }
}

/// A dpcore data type from anything numpy.dtype() takes (numpy only for
/// what dtype_without_numpy does not read). Not a data type at all:
/// TypeMismatchError; a data type dpcore arrays cannot hold:
/// InvalidArgumentError.
dpc_dlpack_dtype to_dtype(py::handle spec) {
    dpc_dlpack_dtype t{};
    if (dtype_without_numpy(spec, t)) return t;
    py::object dt;
    try {
        dt = numpy().attr("dtype")(spec);
    } catch (py::error_already_set &e) {
        if (!e.matches(PyExc_TypeError)) throw;
        throw type_mismatch_error("dtype: " + std::string(py::str(e.value())) + " (a dpcore data type is a numpy "
                                  "dtype or anything numpy.dtype() takes, e.g. 'float32')");
    }
    std::string kind = py::str(dt.attr("kind"));
    int size = dt.attr("itemsize").cast<int>();
    std::string order = py::str(dt.attr("byteorder"));
    if (order == ">") throw invalid_argument_error("big-endian data types are not supported");
    uint8_t bits = static_cast<uint8_t>(size * 8);
    if (kind == "b") return make_dtype(DPC_DL_BOOL, 8);
    if (kind == "i") return make_dtype(DPC_DL_INT, bits);
    if (kind == "u") return make_dtype(DPC_DL_UINT, bits);
    if (kind == "f" && size <= 8) return make_dtype(DPC_DL_FLOAT, bits);
    if (kind == "c" && size <= 16) return make_dtype(DPC_DL_COMPLEX, bits);
    throw invalid_argument_error("dpcore arrays hold bool, int, uint, float and complex data, not " +
                                 std::string(py::str(dt)));
}

/// `x` (already range-checked for `bits`) stored in `out` as the integer
/// of that width: I8, I16, I32 or I64 for 8, 16, 32 or 64 bits.
template <typename I8, typename I16, typename I32, typename I64, typename T>
void store_width(unsigned char *out, int bits, T x) {
    auto put = [out](auto v) { std::memcpy(out, &v, sizeof v); };
    if (bits == 8) put(static_cast<I8>(x));
    else if (bits == 16) put(static_cast<I16>(x));
    else if (bits == 32) put(static_cast<I32>(x));
    else put(static_cast<I64>(x));
}

/// One element for dpcore.full from a Python bool, int, float or complex,
/// converted to `dt` (numpy's default for the value when `want` is null),
/// written to `out` (16 bytes): only the conversions numpy.asarray makes
/// the same way without a warning or an error. False for anything else
/// (numpy converts then, and raises what it raises).
bool scalar_without_numpy(py::handle value, const dpc_dlpack_dtype *want, dpc_dlpack_dtype &dt,
                          unsigned char *out) {
    PyObject *v = value.ptr();
    const bool is_bool = PyBool_Check(v), is_int = PyLong_CheckExact(v), is_float = PyFloat_CheckExact(v),
               is_complex = PyComplex_CheckExact(v);
    if (!is_bool && !is_int && !is_float && !is_complex) return false;
    dt = want ? *want
         : is_bool ? make_dtype(DPC_DL_BOOL, 8)
         : is_int ? make_dtype(DPC_DL_INT, 64)
         : is_float ? make_dtype(DPC_DL_FLOAT, 64)
                    : make_dtype(DPC_DL_COMPLEX, 128);
    auto as_double = [&](double &d) {
        d = is_float ? PyFloat_AS_DOUBLE(v) : PyLong_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return false;
        }
        return true;
    };
    auto fits_float = [](double d) { return !std::isfinite(d) || std::fabs(d) <= FLT_MAX; };
    switch (dt.code) {
    case DPC_DL_BOOL:
        if (!is_bool) return false;
        out[0] = v == Py_True ? 1 : 0;
        return true;
    case DPC_DL_INT: {
        if (!is_bool && !is_int) return false;
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow || (x == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return false;
        }
        const int bits = dt.bits;
        if (bits < 64 && (x < -(1LL << (bits - 1)) || x > (1LL << (bits - 1)) - 1)) return false;
        store_width<int8_t, int16_t, int32_t, int64_t>(out, bits, x);
        return true;
    }
    case DPC_DL_UINT: {
        if (!is_bool && !is_int) return false;
        unsigned long long x = PyLong_AsUnsignedLongLong(v);  // negative or too big: an error
        if (PyErr_Occurred()) {
            PyErr_Clear();
            return false;
        }
        const int bits = dt.bits;
        if (bits < 64 && x > (1ULL << bits) - 1) return false;
        store_width<uint8_t, uint16_t, uint32_t, uint64_t>(out, bits, x);
        return true;
    }
    case DPC_DL_FLOAT: {
        double d = 0;
        if (is_complex || (dt.bits != 32 && dt.bits != 64) || !as_double(d)) return false;
        if (dt.bits == 64) {
            std::memcpy(out, &d, 8);
            return true;
        }
        if (!fits_float(d)) return false;  // numpy warns of the overflow
        const float f = static_cast<float>(d);
        std::memcpy(out, &f, 4);
        return true;
    }
    case DPC_DL_COMPLEX: {
        double re = 0, im = 0;
        if (is_complex) {
            re = PyComplex_RealAsDouble(v);
            im = PyComplex_ImagAsDouble(v);
        } else if (!as_double(re)) {
            return false;
        }
        if (dt.bits == 128) {
            const std::complex<double> c(re, im);
            std::memcpy(out, &c, 16);
            return true;
        }
        if (dt.bits != 64 || !fits_float(re) || !fits_float(im)) return false;
        const std::complex<float> c(static_cast<float>(re), static_cast<float>(im));
        std::memcpy(out, &c, 8);
        return true;
    }
    default: return false;
    }
}

py::object np_dtype(dpc_dlpack_dtype t) { return numpy().attr("dtype")(dtype_name(t)); }

std::string typestr(dpc_dlpack_dtype t) {
    char k = t.code == DPC_DL_BOOL ? 'b'
             : t.code == DPC_DL_INT ? 'i'
             : t.code == DPC_DL_UINT ? 'u'
             : t.code == DPC_DL_FLOAT ? 'f'
                                      : 'c';
    return std::string(t.bits == 8 ? "|" : "<") + k + std::to_string(t.bits / 8);
}

int32_t usm_kind_from(const std::string &s) {
    if (s == "device") return DPC_USM_DEVICE;
    if (s == "shared") return DPC_USM_SHARED;
    if (s == "host") return DPC_USM_HOST;
    throw invalid_argument_error("usm_type must be 'device', 'shared' or 'host', not '" + s + "'");
}

py::object usm_name(int32_t k) {
    switch (k) {
    case DPC_USM_DEVICE: return py::str("device");
    case DPC_USM_SHARED: return py::str("shared");
    case DPC_USM_HOST: return py::str("host");
    default: return py::none();
    }
}

/// A shape: an int or a sequence of ints (TypeMismatchError for anything
/// else, InvalidArgumentError for an int beyond int64).
std::vector<int64_t> to_shape(py::handle shape) {
    auto extent = [&](py::handle x) -> int64_t {
        if (!PyLong_Check(x.ptr()) && !PyIndex_Check(x.ptr()))
            throw type_mismatch_error("a shape is an int or a sequence of ints, not one holding a " + type_name(x));
        py::object i = py::reinterpret_steal<py::object>(PyNumber_Index(x.ptr()));
        if (!i) throw py::error_already_set();
        long long v = PyLong_AsLongLong(i.ptr());
        if (v == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            throw invalid_argument_error("a shape's extents must fit in int64, not " + std::string(py::str(x)));
        }
        return static_cast<int64_t>(v);
    };
    if (PyLong_Check(shape.ptr())) return {extent(shape)};
    if (!PySequence_Check(shape.ptr()) || PyUnicode_Check(shape.ptr()) || PyBytes_Check(shape.ptr()))
        throw type_mismatch_error("a shape is an int or a sequence of ints, not a " + type_name(shape));
    std::vector<int64_t> s;
    for (py::handle x : shape) s.push_back(extent(x));
    return s;
}

/// The queue for a `queue=` argument: None (the default device's canonical
/// queue), a dpcore.Device (its canonical queue), a filter string, or any
/// queue object the caster takes.
queue queue_arg(py::handle obj) {
    if (obj.is_none()) return queue::default_for(device::default_device());
    if (py::isinstance<PyDevice>(obj)) return queue::default_for(obj.cast<const PyDevice &>().d);
    if (py::isinstance<py::str>(obj)) return queue::default_for(device::select(obj.cast<std::string>()));
    queue q;
    if (!python::to_queue(obj, q))
        throw type_mismatch_error(std::string("expected a queue (") + python::queue_kinds +
                                  "), a dpcore.Device, a filter string or None, not " + type_name(obj));
    return q;
}

PyArray wrap(array a) { return PyArray{std::move(a)}; }

std::vector<int32_t> reversed_axes(int nd) {
    std::vector<int32_t> ax(static_cast<std::size_t>(nd));
    for (int i = 0; i < nd; ++i) ax[i] = nd - 1 - i;
    return ax;
}

array permute(const array &a, const std::vector<int32_t> &axes) {
    dpc_array v = nullptr;
    check(dpc_array_permute(a.get(), axes.data(), &v), "dpc_array_permute");
    return array::adopt(v);
}

/// A device's filter string, or its name for a sub-device (which has none).
std::string label(const device &d) {
    try {
        return d.filter_string();
    } catch (const dpcore::error &) {
        return "sub-device \"" + d.name() + "\"";
    }
}

/// One capsule destructor per DLPack flavour: runs the deleter of a tensor
/// nobody consumed.
void capsule_versioned(PyObject *cap) {
    if (PyCapsule_IsValid(cap, "dltensor_versioned")) {
        auto *t = static_cast<dpc_dlpack_managed_tensor_versioned *>(PyCapsule_GetPointer(cap, "dltensor_versioned"));
        if (t && t->deleter) t->deleter(t);
    } else {
        PyErr_Clear();
    }
}
void capsule_legacy(PyObject *cap) {
    if (PyCapsule_IsValid(cap, "dltensor")) {
        auto *t = static_cast<dpc_dlpack_managed_tensor *>(PyCapsule_GetPointer(cap, "dltensor"));
        if (t && t->deleter) t->deleter(t);
    } else {
        PyErr_Clear();
    }
}

py::object export_dlpack(const array &a, py::handle max_version) {
    if (!max_version.is_none()) {
        auto mv = max_version.cast<std::pair<uint32_t, uint32_t>>();
        if (mv.first >= 1) {
            dpc_dlpack_managed_tensor_versioned *t = nullptr;
            check(dpc_array_to_dlpack_versioned(a.get(), mv.first, mv.second, &t), "dpc_array_to_dlpack_versioned");
            PyObject *cap = PyCapsule_New(t, "dltensor_versioned", capsule_versioned);
            if (!cap) {
                t->deleter(t);
                throw py::error_already_set();
            }
            return py::reinterpret_steal<py::object>(cap);
        }
    }
    dpc_dlpack_managed_tensor *t = nullptr;
    check(dpc_array_to_dlpack(a.get(), &t), "dpc_array_to_dlpack");
    PyObject *cap = PyCapsule_New(t, "dltensor", capsule_legacy);
    if (!cap) {
        t->deleter(t);
        throw py::error_already_set();
    }
    return py::reinterpret_steal<py::object>(cap);
}

/// Mark a DLPack 1.x capsule's tensor as a copy (DLPACK_FLAG_BITMASK_IS_COPIED);
/// legacy capsules have no flags.
py::object mark_copied(py::object cap) {
    if (PyCapsule_IsValid(cap.ptr(), "dltensor_versioned")) {
        auto *t = static_cast<dpc_dlpack_managed_tensor_versioned *>(
            PyCapsule_GetPointer(cap.ptr(), "dltensor_versioned"));
        t->flags |= DPC_DLPACK_FLAG_IS_COPIED;
    }
    return cap;
}

/// The producer's half of the DLPack stream contract: work already
/// submitted on `src`'s queue completes before anything the consumer
/// submits to `stream` after this call. `stream` is what consumers pass:
/// None or -1 (DLPack's "no synchronisation", as mpi4py asks), a
/// dpctl.SyclQueue, a dpcore.Queue, a 'SyclQueueRef' capsule, or an integer
/// `sycl::queue*` (the stream token of the DLPack C exchange API and of
/// torch XPU: the consumer's own queue, which cannot be checked beyond
/// being a non-zero aligned address).
void order_for_consumer(const array &src, py::handle stream) {
    if (stream.is_none()) return;
    queue mine = src.get_queue();
    queue theirs;
    if (PyLong_Check(stream.ptr()) && !PyBool_Check(stream.ptr())) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(stream.ptr(), &overflow);
        if (!overflow && v == -1) return;
        unsigned long long addr = overflow ? 0 : static_cast<unsigned long long>(v);
        if (overflow == 1) {
            addr = PyLong_AsUnsignedLongLong(stream.ptr());
            if (PyErr_Occurred()) {
                PyErr_Clear();
                addr = 0;
            }
        }
        if (addr == 0 || v < -1 || addr % alignof(void *) != 0)
            throw invalid_argument_error("__dlpack__: an integer stream is -1 (no synchronisation) or the address "
                                         "of the consumer's sycl::queue, not " + std::string(py::repr(stream)));
        if (!mine) return;  // host memory: nothing pending
        dpc_queue q = nullptr;
        check(dpc_queue_adopt(reinterpret_cast<void *>(static_cast<uintptr_t>(addr)), &q), "dpc_queue_adopt");
        theirs = queue::adopt(q);
    } else if (!python::to_queue(stream, theirs)) {
        throw type_mismatch_error(std::string("__dlpack__: stream must be None, -1, a dpctl.SyclQueue, a dpcore.Queue, "
                                              "a 'SyclQueueRef' capsule or a sycl::queue* address, not ") +
                                  type_name(stream));
    }
    if (!mine) return;  // host memory: nothing pending
    event pending = mine.barrier();
    (void)theirs.barrier({pending});
}

py::tuple dlpack_device(const array &a) {
    queue q = a.get_queue();
    if (!q) return py::make_tuple(DPC_DL_CPU, 0);
    return py::make_tuple(DPC_DL_ONEAPI, q.get_device().dlpack_id());
}

py::object asnumpy(const array &a) {
    py::object out = numpy().attr("empty")(py::tuple(py::cast(a.shape())), np_dtype(a.dtype()));
    void *p = reinterpret_cast<void *>(out.attr("ctypes").attr("data").cast<uintptr_t>());
    {
        py::gil_scoped_release nogil;
        a.to_host(p);
    }
    return out;
}

/// A view for a basic index: ints, slices, Ellipsis (numpy's rules, no
/// new axes or advanced indexing).
array getitem(const array &a, py::handle key) {
    std::vector<py::object> items;
    if (py::isinstance<py::tuple>(key)) {
        for (py::handle k : key) items.push_back(py::reinterpret_borrow<py::object>(k));
    } else {
        items.push_back(py::reinterpret_borrow<py::object>(key));
    }
    std::vector<int64_t> shape = a.shape();
    int nd = static_cast<int>(shape.size());
    int n_ellipsis = 0, n_index = 0;
    for (auto &k : items) {
        if (k.ptr() == Py_Ellipsis) ++n_ellipsis;
        else if (PyLong_Check(k.ptr()) || PySlice_Check(k.ptr())) ++n_index;
        else throw py::index_error("dpcore arrays take ints, slices and ... as indices");
    }
    if (n_ellipsis > 1) throw py::index_error("an index can only have a single ellipsis ('...')");
    if (n_index > nd) throw py::index_error("too many indices for an array of " + std::to_string(nd) + " dimensions");
    std::vector<int64_t> starts(nd, DPC_SLICE_NONE), stops(nd, DPC_SLICE_NONE), steps(nd, 1);
    std::vector<bool> drop(nd, false);
    int axis = 0;
    for (auto &k : items) {
        if (k.ptr() == Py_Ellipsis) {
            axis += nd - n_index;
            continue;
        }
        if (PyLong_Check(k.ptr())) {
            int64_t i = k.cast<int64_t>(), n = shape[axis];
            if (i < -n || i >= n)
                throw py::index_error("index " + std::to_string(i) + " is out of bounds for axis " +
                                      std::to_string(axis) + " with size " + std::to_string(n));
            if (i < 0) i += n;
            starts[axis] = i;
            stops[axis] = i + 1;
            drop[axis] = true;
        } else {
            py::slice s = py::reinterpret_borrow<py::slice>(k);
            py::object st = s.attr("start"), sp = s.attr("stop"), sk = s.attr("step");
            if (!st.is_none()) starts[axis] = st.cast<int64_t>();
            if (!sp.is_none()) stops[axis] = sp.cast<int64_t>();
            if (!sk.is_none()) steps[axis] = sk.cast<int64_t>();
            if (steps[axis] == 0) throw invalid_argument_error("slice step cannot be zero");
        }
        ++axis;
    }
    dpc_array v = nullptr;
    check(dpc_array_slice(a.get(), starts.data(), stops.data(), steps.data(), &v), "dpc_array_slice");
    array view = array::adopt(v);
    bool any_drop = false;
    for (bool d : drop) any_drop = any_drop || d;
    if (!any_drop) return view;
    std::vector<int64_t> kept;
    std::vector<int64_t> vshape = view.shape();
    for (int i = 0; i < nd; ++i)
        if (!drop[i]) kept.push_back(vshape[i]);
    dpc_array r = nullptr;
    check(dpc_array_reshape(view.get(), static_cast<int32_t>(kept.size()), kept.data(), &r), "dpc_array_reshape");
    return array::adopt(r);
}

array from_python(py::handle obj, py::handle dtype, py::handle queue_obj, const std::string &usm_type,
                  py::handle copy) {
    usm_ndarray u;
    bool forced_copy = !copy.is_none() && copy.cast<bool>();
    bool no_copy = !copy.is_none() && !copy.cast<bool>();
    if (python::to_array(obj, u)) {
        array a = u.get_array();
        bool moved = false;
        if (!queue_obj.is_none()) {
            queue q = queue_arg(queue_obj);
            if (u.is_host() || u.get_queue() != q) {
                if (no_copy) throw invalid_argument_error("the array is not on the requested queue and copy=False");
                a = a.to_device(q, usm_kind_from(usm_type));
                moved = true;
            }
        } else if (u.is_host()) {
            if (no_copy) throw invalid_argument_error("the array is host memory and copy=False");
            a = a.to_device(queue_arg(py::none()), usm_kind_from(usm_type));
            moved = true;
        }
        if (!dtype.is_none() && to_dtype(dtype) != a.dtype()) {
            if (no_copy) throw invalid_argument_error("a data type conversion needs a copy and copy=False");
            a = a.astype(to_dtype(dtype));
            moved = true;
        }
        if (forced_copy && !moved) a = a.to_device(a.get_queue(), usm_kind_from(usm_type));
        return a;
    }
    if (no_copy)
        throw invalid_argument_error("making a dpcore array from a Python sequence needs a copy and copy=False");
    // numpy.asarray with order "C" keeps a scalar 0-d (ascontiguousarray
    // would make it shape (1,)).
    py::object host = numpy().attr("asarray")(
        obj, dtype.is_none() ? py::object(py::none()) : py::reinterpret_borrow<py::object>(dtype), "C");
    dpc_dlpack_dtype dt = to_dtype(host.attr("dtype"));
    std::vector<int64_t> shape = host.attr("shape").cast<std::vector<int64_t>>();
    void *p = reinterpret_cast<void *>(host.attr("ctypes").attr("data").cast<uintptr_t>());
    queue q = queue_arg(queue_obj);
    dpc_array h = nullptr;
    check(dpc_array_from_host(q.get(), dt, static_cast<int32_t>(shape.size()), shape.data(), p, nullptr,
                              usm_kind_from(usm_type), &h),
          "dpc_array_from_host");
    return array::adopt(h);
}

py::object queue_to_dpctl(const queue &q);

py::dict suai(const array &a) {
    queue q = a.get_queue();
    if (!q) throw py::attribute_error("a host (kDLCPU) dpcore.Array has no __sycl_usm_array_interface__");
    py::dict d;
    d["data"] = py::make_tuple(reinterpret_cast<uintptr_t>(a.raw_data()), !a.writable());
    d["shape"] = py::tuple(py::cast(a.shape()));
    d["strides"] = a.c_contiguous() ? py::object(py::none()) : py::object(py::tuple(py::cast(a.strides())));
    d["typestr"] = typestr(a.dtype());
    d["version"] = 1;
    d["offset"] = 0;
    d["syclobj"] = queue_to_dpctl(q);
    return d;
}

/// The capsule dpctl.SyclQueue() takes: our sycl::queue*, borrowed (dpctl
/// copies the queue).
py::capsule queue_capsule(const queue &q) { return python::borrowed_capsule(q, q.native(), "SyclQueueRef"); }

py::object queue_to_dpctl(const queue &q) {
    try {
        py::object dpctl = py::module_::import("dpctl");
        return dpctl.attr("SyclQueue")(queue_capsule(q));
    } catch (py::error_already_set &) {
        // No dpctl: our own queue object speaks the same capsule protocol.
        return py::cast(PyQueue{q});
    }
}

std::string describe(const array &a) {
    std::string s = "dpcore.Array(shape=(";
    std::vector<int64_t> sh = a.shape();
    for (std::size_t i = 0; i < sh.size(); ++i) s += (i ? ", " : "") + std::to_string(sh[i]);
    if (sh.size() == 1) s += ",";
    s += "), dtype=" + dtype_name(a.dtype());
    queue q = a.get_queue();
    if (q) {
        s += ", device=" + label(q.get_device());
        int32_t k = a.usm_kind();
        s += std::string(", usm_type=") + (k == DPC_USM_SHARED ? "shared" : k == DPC_USM_HOST ? "host" : "device");
    } else {
        s += ", device=cpu (host memory)";
    }
    return s + ")";
}

/// dpcore.Array's C API for dpcore4pybind11.hpp's casters (python::array_capi,
/// published on the type as `_dpc_capi`): the handle and layout of an Array
/// without a Python attribute lookup. Called with the GIL, on an object whose
/// type is dpcore.Array or a subclass; the handle and layout are borrowed
/// from the object.
int array_capi_layout(PyObject *o, dpc_array *handle_out, const dpc_array_layout **layout_out) {
    auto *inst = reinterpret_cast<py::detail::instance *>(o);
    PyArray *p = nullptr;
    if (inst->simple_layout) {
        if (inst->simple_holder_constructed) p = static_cast<PyArray *>(inst->simple_value_holder[0]);
    } else {
        auto vh = py::detail::values_and_holders(inst).begin();
        if (vh->holder_constructed()) p = vh->template value_ptr<PyArray>();
    }
    if (!p || !p->a) return -1;
    if (!p->has_layout) {
        if (dpc_array_get_layout(p->a.get(), &p->layout) != DPC_SUCCESS) return -1;
        p->has_layout = true;
    }
    *handle_out = p->a.get();
    *layout_out = &p->layout;
    return 0;
}
const python::array_capi array_capi_table{python::array_capi_version, sizeof(python::array_capi), &array_capi_layout};

}  // namespace

PYBIND11_MODULE(_dpcore, m) {
    m.doc() = "dpcore's Device, Queue, Event and Array over its C API";
    // dpcore::error (a failed call) becomes the class of its status. Global,
    // so that extensions sharing pybind11's internals with this module get
    // the same translation for dpcore::error they do not catch.
    py::register_exception_translator(&python::translate_error);
    m.attr("Error") = py::module_::import("dpcore._errors").attr("Error");
    m.attr("__c_version__") = std::string(dpc_version_string());
    // numpy is not imported here: dpcore._import_numpy imports it at the
    // first call that needs it, and holds a fork back until it is done.

    py::class_<PyDevice>(m, "Device", "A SYCL root device, as dpcore lists it.")
        .def(py::init([](py::object filter) {
                 return filter.is_none() ? PyDevice{device::default_device()}
                                         : PyDevice{device::select(filter.cast<std::string>())};
             }),
             py::arg("filter") = py::none(),
             "The default device, or the best device matching a filter string ('opencl:cpu:0', 'gpu', ...).")
        .def_property_readonly("name", [](const PyDevice &d) { return d.d.name(); })
        .def_property_readonly("filter_string", [](const PyDevice &d) { return d.d.filter_string(); })
        .def_property_readonly("dlpack_id", [](const PyDevice &d) { return d.d.dlpack_id(); })
        .def_property_readonly("default_queue", [](const PyDevice &d) { return PyQueue{queue::default_for(d.d)}; })
        .def_property_readonly("_dpc_device", [](const PyDevice &d) { return reinterpret_cast<uintptr_t>(d.d.get()); })
        .def("__eq__",
             [](const PyDevice &a, py::object b) {
                 return py::isinstance<PyDevice>(b) && a.d == b.cast<const PyDevice &>().d;
             })
        .def("__hash__", [](const PyDevice &d) { return d.d.dlpack_id(); })
        .def("__repr__", [](const PyDevice &d) {
            return "<dpcore.Device " + label(d.d) + " \"" + d.d.name() + "\">";
        });

    py::class_<PyEvent>(m, "Event", "Work submitted to a queue.")
        .def("wait", [](const PyEvent &e) {
            py::gil_scoped_release nogil;
            e.e.wait();
        })
        .def_property_readonly("complete", [](const PyEvent &e) { return e.e.complete(); },
                               "Whether the event's command has completed.")
        .def_property_readonly("_dpc_event", [](const PyEvent &e) { return reinterpret_cast<uintptr_t>(e.e.get()); })
        .def_static("_from_handle",
                    [](uintptr_t h) { return PyEvent{event::adopt(reinterpret_cast<dpc_event>(h))}; });

    py::class_<PyQueue>(m, "Queue", "A queue. Queue() is the default device's canonical (in-order) queue.")
        .def(py::init([](py::object arg) { return PyQueue{queue_arg(arg)}; }), py::arg("device") = py::none(),
             "None: the default device's canonical queue; a Device or a filter string: that device's canonical "
             "queue; a dpctl.SyclQueue or a 'SyclQueueRef' capsule: the same runtime queue.")
        .def_property_readonly("device", [](const PyQueue &q) { return PyDevice{q.q.get_device()}; })
        .def_property_readonly("in_order", [](const PyQueue &q) { return q.q.in_order(); })
        .def("wait",
             [](const PyQueue &q) {
                 py::gil_scoped_release nogil;
                 q.q.wait();
             })
        .def("barrier", [](const PyQueue &q) { return PyEvent{q.q.barrier()}; })
        .def("_get_capsule", [](const PyQueue &q) { return queue_capsule(q.q); })
        .def_property_readonly("_dpc_queue", [](const PyQueue &q) { return reinterpret_cast<uintptr_t>(q.q.get()); })
        .def_static("_from_handle", [](uintptr_t h) { return PyQueue{queue::adopt(reinterpret_cast<dpc_queue>(h))}; })
        .def("__eq__",
             [](const PyQueue &a, py::object b) {
                 queue other;
                 try {
                     if (!python::to_queue(b, other)) return false;
                 } catch (py::type_error &) {
                     return false;
                 }
                 return a.q == other;
             })
        .def("__hash__",
             [](const PyQueue &q) {
                 uint64_t id = 0;
                 check(dpc_queue_get_id(q.q.get(), &id), "dpc_queue_get_id");
                 return id;
             })
        .def("__repr__", [](const PyQueue &q) { return "<dpcore.Queue on " + label(q.q.get_device()) + ">"; });

    py::class_<PyArray>(m, "Array",
                        "An n-d USM array (a view: slicing shares memory). Make one with dpcore.empty, zeros, full, "
                        "asarray or from_dlpack.")
        .def_property_readonly("shape", [](const PyArray &a) { return py::tuple(py::cast(a.a.shape())); })
        .def_property_readonly("strides", [](const PyArray &a) { return py::tuple(py::cast(a.a.strides())); },
                               "In elements (numpy's are in bytes).")
        .def_property_readonly("ndim", [](const PyArray &a) { return a.a.ndim(); })
        .def_property_readonly("size", [](const PyArray &a) { return a.a.size(); })
        .def_property_readonly("dtype", [](const PyArray &a) { return np_dtype(a.a.dtype()); })
        .def_property_readonly("itemsize", [](const PyArray &a) { return a.a.dtype().bits / 8; })
        .def_property_readonly("writable", [](const PyArray &a) { return a.a.writable(); })
        .def_property_readonly("c_contiguous", [](const PyArray &a) { return a.a.c_contiguous(); })
        .def_property_readonly("f_contiguous", [](const PyArray &a) { return a.a.f_contiguous(); })
        .def_property_readonly("usm_type", [](const PyArray &a) {
            return a.a.get_queue() ? usm_name(a.a.usm_kind()) : py::object(py::none());
        })
        .def_property_readonly("queue", [](const PyArray &a) {
            queue q = a.a.get_queue();
            return q ? py::cast(PyQueue{q}) : py::object(py::none());
        })
        .def_property_readonly("device", [](const PyArray &a) {
            queue q = a.a.get_queue();
            return q ? py::cast(PyDevice{q.get_device()}) : py::object(py::none());
        })
        .def_property_readonly("data_ptr", [](const PyArray &a) { return reinterpret_cast<uintptr_t>(a.a.raw_data()); })
        .def_property_readonly("_dpc_array", [](const PyArray &a) { return reinterpret_cast<uintptr_t>(a.a.get()); })
        .def_static("_from_handle", [](uintptr_t h) { return wrap(array::adopt(reinterpret_cast<dpc_array>(h))); })
        .def(
            "__dlpack__",
            [](const PyArray &a, py::object stream, py::object max_version, py::object dl_device, py::object copy) {
                array src = a.a;
                if (!dl_device.is_none()) {
                    auto want = dl_device.cast<std::pair<int, int>>();
                    auto have = dlpack_device(src).cast<std::pair<int, int>>();
                    if (want != have) {
                        if (want.first == DPC_DL_CPU && !(copy.is_none() == false && !copy.cast<bool>()))
                            // asnumpy waits for the array's pending work; the
                            // host copy needs no stream.
                            return mark_copied(asnumpy(src).attr("__dlpack__")(py::arg("max_version") = max_version));
                        throw py::buffer_error("cannot export to DLPack device (" + std::to_string(want.first) + ", " +
                                               std::to_string(want.second) + ")");
                    }
                }
                if (!copy.is_none() && copy.cast<bool>()) {
                    src = src.to_device(src.get_queue(), src.usm_kind());
                    order_for_consumer(src, stream);
                    return mark_copied(export_dlpack(src, max_version));
                }
                order_for_consumer(src, stream);
                return export_dlpack(src, max_version);
            },
            py::kw_only(), py::arg("stream") = py::none(), py::arg("max_version") = py::none(),
            py::arg("dl_device") = py::none(), py::arg("copy") = py::none())
        .def("__dlpack_device__", [](const PyArray &a) { return dlpack_device(a.a); })
        .def_property_readonly("__sycl_usm_array_interface__", [](const PyArray &a) { return suai(a.a); })
        .def("asnumpy", [](const PyArray &a) { return asnumpy(a.a); }, "A numpy copy in host memory.")
        .def("astype", [](const PyArray &a, py::object dt) { return wrap(a.a.astype(to_dtype(dt))); })
        .def(
            "to_device",
            [](const PyArray &a, py::object q, const std::string &usm) {
                return wrap(a.a.to_device(queue_arg(q), usm_kind_from(usm)));
            },
            py::arg("queue"), py::arg("usm_type") = "device",
            "A C-contiguous copy on a queue (a Queue, Device, filter string or dpctl.SyclQueue).")
        .def(
            "copy_from",
            [](const PyArray &a, const usm_ndarray &src) {
                py::gil_scoped_release nogil;
                a.a.assign(src.get_array());
            },
            py::arg("src"), "Copy src into this array (converting, broadcasting).")
        .def("as_read_only",
             [](const PyArray &a) {
                 dpc_array v = nullptr;
                 check(dpc_array_as_read_only(a.a.get(), &v), "dpc_array_as_read_only");
                 return wrap(array::adopt(v));
             })
        .def("__getitem__", [](const PyArray &a, py::object key) { return wrap(getitem(a.a, key)); })
        .def("__len__",
             [](const PyArray &a) {
                 if (a.a.ndim() == 0) throw type_mismatch_error("len() of a 0-d array");
                 return a.a.shape()[0];
             })
        .def(
            "transpose",
            [](const PyArray &a, py::args axes) {
                int nd = a.a.ndim();
                if (axes.size() == 0) return wrap(permute(a.a, reversed_axes(nd)));
                py::object seq =
                    axes.size() == 1 && !PyLong_Check(axes[0].ptr()) ? py::object(axes[0]) : py::object(axes);
                std::vector<int32_t> ax;
                try {
                    ax = seq.cast<std::vector<int32_t>>();
                } catch (py::cast_error &) {
                    throw type_mismatch_error("transpose takes axes as ints or one sequence of ints, not " +
                                              std::string(py::str(seq)));
                }
                if (static_cast<int>(ax.size()) != nd) throw invalid_argument_error("axes don't match array");
                return wrap(permute(a.a, ax));
            })
        .def_property_readonly("T", [](const PyArray &a) { return wrap(permute(a.a, reversed_axes(a.a.ndim()))); })
        .def("reshape",
             [](const PyArray &a, py::args shape) {
                 std::vector<int64_t> s = shape.size() == 1 ? to_shape(shape[0]) : to_shape(shape);
                 dpc_array v = nullptr;
                 check(dpc_array_reshape(a.a.get(), static_cast<int32_t>(s.size()), s.data(), &v),
                       "dpc_array_reshape");
                 return wrap(array::adopt(v));
             })
        .def("__repr__", [](const PyArray &a) { return describe(a.a); });

    m.def(
        "empty",
        [](py::object shape, py::object dtype, py::object q, const std::string &usm) {
            return wrap(array::empty(queue_arg(q), to_dtype(dtype), to_shape(shape), usm_kind_from(usm)));
        },
        py::arg("shape"), py::arg("dtype") = "float64", py::arg("queue") = py::none(),
        py::arg("usm_type") = "device", "A new uninitialised C-contiguous array.");
    m.def(
        "zeros",
        [](py::object shape, py::object dtype, py::object q, const std::string &usm) {
            return wrap(array::zeros(queue_arg(q), to_dtype(dtype), to_shape(shape), usm_kind_from(usm)));
        },
        py::arg("shape"), py::arg("dtype") = "float64", py::arg("queue") = py::none(),
        py::arg("usm_type") = "device");
    // The casters' fast path to Array objects (dpcore4pybind11.hpp).
    {
        py::capsule cap(const_cast<python::array_capi *>(&array_capi_table), python::array_capi_name);
        if (PyCapsule_SetContext(cap.ptr(), m.attr("Array").ptr()) != 0) throw py::error_already_set();
        m.attr("Array").attr("_dpc_capi") = cap;  // the type outlives the capsule it holds
    }
    m.def(
        "full",
        [](py::object shape, py::object value, py::object dtype, py::object q, const std::string &usm) {
            // A Python scalar needs no numpy; anything else is numpy's to convert.
            alignas(16) unsigned char one[16] = {};
            dpc_dlpack_dtype want{}, dt{};
            const bool fast = (dtype.is_none() || dtype_without_numpy(dtype, want)) &&
                              scalar_without_numpy(value, dtype.is_none() ? nullptr : &want, dt, one);
            py::object v;
            void *p = one;
            if (!fast) {
                v = numpy().attr("asarray")(value, dtype.is_none() ? py::object(py::none()) : dtype);
                dt = to_dtype(v.attr("dtype"));
                p = reinterpret_cast<void *>(v.attr("ctypes").attr("data").cast<uintptr_t>());
            }
            std::vector<int64_t> s = to_shape(shape);
            dpc_array h = nullptr;
            check(dpc_array_full(queue_arg(q).get(), dt, static_cast<int32_t>(s.size()), s.data(),
                                 usm_kind_from(usm), p, &h),
                  "dpc_array_full");
            return wrap(array::adopt(h));
        },
        py::arg("shape"), py::arg("fill_value"), py::arg("dtype") = py::none(), py::arg("queue") = py::none(),
        py::arg("usm_type") = "device");
    m.def(
        "asarray",
        [](py::object obj, py::object dtype, py::object q, const std::string &usm, py::object copy) {
            return wrap(from_python(obj, dtype, q, usm, copy));
        },
        py::arg("obj"), py::arg("dtype") = py::none(), py::arg("queue") = py::none(), py::arg("usm_type") = "device",
        py::arg("copy") = py::none(),
        "A dpcore array from an array object (zero-copy when it is already on the queue) or from host data "
        "(copied to the queue).");
    m.def(
        "from_dlpack",
        [](py::object obj) {
            if (!PyObject_HasAttrString(obj.ptr(), "__dlpack__"))
                throw type_mismatch_error("from_dlpack needs an object with __dlpack__, not " + type_name(obj));
            return wrap(python::from_dlpack(obj).get_array());
        },
        py::arg("obj"), "Zero-copy import through the DLPack protocol (1.x, legacy as a fallback).");
    m.def(
        "common_queue",
        [](py::args arrays) {
            std::vector<usm_ndarray> us;
            for (py::handle a : arrays) {
                usm_ndarray u;
                if (!python::to_array(a, u))
                    throw type_mismatch_error("common_queue takes arrays, not " + type_name(a));
                us.push_back(u);
            }
            std::vector<const usm_ndarray *> ps;
            for (auto &u : us) ps.push_back(&u);
            return PyQueue{python::common_queue(ps)};
        },
        "Compute follows data: the queue the arrays share, or ValueError listing each one's device and queue.");
    m.def("devices", []() {
        std::size_t n = 0;
        check(dpc_device_count(&n), "dpc_device_count");
        std::vector<PyDevice> out;
        for (std::size_t i = 0; i < n; ++i) {
            dpc_device d = nullptr;
            check(dpc_device_get(i, &d), "dpc_device_get");
            out.push_back(PyDevice{device::adopt(d)});
        }
        return out;
    });
    bind_kernels(m);
}
