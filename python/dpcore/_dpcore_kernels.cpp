// Kernels from Python: the Bundle, Kernel, Scalar and LocalMemory classes
// and dpcore.launch, over dpcore's C API (dpc_bundle_*, dpc_kernel_*).
//
// Bundles are built from SPIR-V (bytes or a file), OpenCL C source or SYCL
// source for a device (in its default context) or a queue (its device and
// context). A launch takes arrays from any producer the casters of
// dpcore4pybind11.hpp take (dpcore, dpnp, dpctl, DLPack), scalars
// (Python int/float, numpy scalars, dpcore.Scalar) and local memory; its
// queue is the arrays' common queue unless `queue=` names one. Whatever the
// C API refuses (argument count, kinds, scalar sizes against the SPIR-V
// signature, sizes, devices, builds) reaches Python with the C API's
// message; a failed build's log rides on the exception as `build_log`.
//
// Compiled with _dpcore.cpp into the one extension module; its only entry
// point is bind_kernels, called from _dpcore.cpp's PYBIND11_MODULE.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dpcore/dpcore4pybind11.hpp"

namespace py = pybind11;
using namespace dpcore;

void bind_kernels(py::module_ &m);

namespace {

// ---------------------------------------------------------------- helpers

/// dpcore.Error, the class _dpcore.cpp registered for dpcore::error (looked
/// up once bind_kernels runs; never destroyed: it outlives the interpreter).
py::object *error_class = nullptr;

/// The build log of the last failure on this thread ("" when none).
std::string last_build_log() {
    std::size_t n = 0;
    if (dpc_last_error_build_log(nullptr, 0, &n) != DPC_SUCCESS || n == 0) return {};
    std::string s(n, '\0');
    if (dpc_last_error_build_log(&s[0], n, &n) != DPC_SUCCESS) return {};
    s.resize(n > 0 ? n - 1 : 0);
    return s;
}

/// check() for the dpc_bundle_create_* calls: a failed build raises
/// dpcore.Error whose message ends with the compiler's log, and which
/// carries it as `build_log` (with `status`, the dpc_status name).
void check_build(dpc_status st, const char *call) {
    if (st == DPC_SUCCESS) return;
    std::string log = last_build_log();
    if (log.empty() || !error_class) check(st, call);  // a plain dpcore::error
    std::string msg = last_error_message();
    std::string prefix = std::string(call) + ": ";
    if (msg.compare(0, prefix.size(), prefix) != 0) msg = prefix + msg;
    msg += "\n--- build log ---\n" + log;
    py::object exc = (*error_class)(msg);
    // Attributes the class may already define (read-only) are left as they are.
    for (auto kv : {std::make_pair("build_log", log), std::make_pair("status", std::string(dpc_status_name(st)))}) {
        if (PyObject_SetAttrString(exc.ptr(), kv.first, py::str(kv.second).ptr()) != 0) PyErr_Clear();
    }
    PyErr_SetObject(error_class->ptr(), exc.ptr());
    throw py::error_already_set();
}

/// The dpcore device of a dpcore.Device (through its handle attribute) or
/// of a dpctl.SyclDevice (through its filter string), or an empty device
/// when `obj` is neither.
device device_of(py::handle obj) {
    static PyObject *key = python::interned("_dpc_device");
    if (uintptr_t h = python::handle_attr(obj, key)) return device::borrow(reinterpret_cast<dpc_device>(h));
    if (std::string(Py_TYPE(obj.ptr())->tp_name).find("SyclDevice") != std::string::npos &&
        PyObject_HasAttrString(obj.ptr(), "filter_string"))
        return device::select(obj.attr("filter_string").cast<std::string>());
    return device();
}

/// Where a bundle is built: `where` is None (the default device), a
/// dpcore.Device or a filter string (that device, in its default context:
/// the one dpcore, dpnp and dpctl arrays live in), or a queue object
/// (dpcore.Queue, dpctl.SyclQueue, a SyclQueueRef capsule: its device and
/// context).
std::pair<context, device> target_of(py::handle where) {
    device d;
    if (where.is_none()) {
        d = device::default_device();
    } else if (py::isinstance<py::str>(where)) {
        d = device::select(where.cast<std::string>());
    } else if ((d = device_of(where))) {
    } else {
        queue q;
        if (!python::to_queue(where, q))
            throw py::type_error(std::string("device must be None, a dpcore.Device, a dpctl.SyclDevice, a filter "
                                             "string or a queue (") +
                                 python::queue_kinds + "), not " + Py_TYPE(where.ptr())->tp_name);
        return {q.get_context(), q.get_device()};
    }
    return {context::default_for(d), d};
}

/// The queue of a launch's `queue=`: a queue object, a dpcore.Device or a
/// filter string (its canonical queue).
queue launch_queue(py::handle obj) {
    if (py::isinstance<py::str>(obj)) return queue::default_for(device::select(obj.cast<std::string>()));
    if (device d = device_of(obj)) return queue::default_for(d);
    queue q;
    if (!python::to_queue(obj, q))
        throw py::type_error(std::string("queue must be None, a queue (") + python::queue_kinds +
                             "), a dpcore.Device or a filter string, not " + Py_TYPE(obj.ptr())->tp_name);
    return q;
}

/// A dpcore.Device object for `d`, through its canonical queue (dpcore.Device
/// has no constructor from a handle).
py::object device_object(const device &d) { return python::from_queue(queue::default_for(d)).attr("device"); }

std::string two_call_string(dpc_status (*f)(dpc_kernel, char *, size_t, size_t *), dpc_kernel k, const char *call) {
    std::size_t n = 0;
    check(f(k, nullptr, 0, &n), call);
    std::string s(n, '\0');
    check(f(k, &s[0], n, &n), call);
    s.resize(n > 0 ? n - 1 : 0);
    return s;
}

py::object numpy() {
    static py::object *np = nullptr;  // never destroyed: outlives the interpreter
    if (!np) {
        py::object mod = py::module_::import("numpy");
        if (!np) np = new py::object(std::move(mod));
    }
    return *np;
}

// ---------------------------------------------------------------- classes

class bundle {
public:
    bundle() = default;
    static bundle adopt(dpc_bundle b, context c, device d) {
        bundle out;
        out.h_ = std::shared_ptr<dpc_bundle_s>(b, [](dpc_bundle x) { (void)dpc_bundle_release(x); });
        out.ctx_ = std::move(c);
        out.dev_ = std::move(d);
        return out;
    }
    dpc_bundle get() const { return h_.get(); }
    const device &get_device() const { return dev_; }
    const context &get_context() const { return ctx_; }

private:
    std::shared_ptr<dpc_bundle_s> h_;
    context ctx_;
    device dev_;
};

struct PyBundle {
    bundle b;
    std::string source;  // "SPIR-V", "OpenCL C", "SYCL"
};

struct PyKernel {
    std::shared_ptr<dpc_kernel_s> k;
    PyBundle bundle;
    std::string name;
};

/// A scalar argument of an explicit C type: its bytes, little-endian, as
/// numpy.asarray(value, dtype) lays them out.
struct PyScalar {
    std::string bytes;
    py::object dtype;
    py::object value;
};

/// Work-group local memory of `nbytes` bytes (a __local pointer argument).
struct PyLocalMemory {
    std::size_t nbytes = 0;
};

PyScalar make_scalar(py::object value, py::object dtype) {
    py::object np = numpy();
    py::object dt = np.attr("dtype")(dtype);
    std::string kind = py::str(dt.attr("kind"));
    if (kind != "b" && kind != "i" && kind != "u" && kind != "f" && kind != "c")
        throw py::type_error("a scalar argument has a bool, integer, floating-point or complex type, not " +
                             std::string(py::str(dt)));
    if (std::string(py::str(dt.attr("byteorder"))) == ">")
        throw py::value_error("big-endian scalar types are not supported");
    if (py::isinstance<py::float_>(value) && (kind == "i" || kind == "u"))
        throw py::type_error("a float (" + std::string(py::repr(value)) + ") given for the integer type " +
                             std::string(py::str(dt)) + "; convert it first");
    py::object arr;
    {
        // numpy 2 raises OverflowError for out-of-range Python ints; numpy 1
        // wraps them with a DeprecationWarning: the check below refuses both.
        py::object warnings = py::module_::import("warnings");
        py::object ctx = warnings.attr("catch_warnings")();
        ctx.attr("__enter__")();
        try {
            warnings.attr("simplefilter")("ignore");
            arr = np.attr("asarray")(value, dt);
        } catch (py::error_already_set &e) {
            ctx.attr("__exit__")(py::none(), py::none(), py::none());
            if (e.matches(PyExc_OverflowError))
                throw py::value_error(std::string(py::repr(value)) + " does not fit in " + std::string(py::str(dt)));
            throw;
        } catch (...) {
            ctx.attr("__exit__")(py::none(), py::none(), py::none());
            throw;
        }
        ctx.attr("__exit__")(py::none(), py::none(), py::none());
    }
    if (kind == "i" || kind == "u" || kind == "b") {
        py::object same = np.attr("array_equal")(arr, np.attr("asarray")(value));
        if (!same.cast<bool>())
            throw py::value_error(std::string(py::repr(value)) + " does not fit in " + std::string(py::str(dt)));
    }
    PyScalar s;
    s.bytes = py::bytes(arr.attr("tobytes")()).cast<std::string>();
    s.dtype = dt;
    s.value = std::move(value);
    return s;
}

// ---------------------------------------------------------------- bundles

PyBundle from_spirv(py::object spirv, py::object where, py::object options) {
    auto [ctx, dev] = target_of(where);
    std::string opts = options.is_none() ? std::string() : options.cast<std::string>();
    const char *o = options.is_none() ? nullptr : opts.c_str();
    dpc_bundle b = nullptr;
    py::object os = py::module_::import("os");
    if (py::isinstance<py::str>(spirv) || py::isinstance(spirv, os.attr("PathLike"))) {
        std::string path = py::str(os.attr("fspath")(spirv));
        dpc_status st;
        {
            py::gil_scoped_release nogil;
            st = dpc_bundle_create_from_spirv_file(ctx.get(), dev.get(), path.c_str(), o, &b);
        }
        check_build(st, "dpc_bundle_create_from_spirv_file");
    } else {
        if (!PyObject_CheckBuffer(spirv.ptr()))
            throw py::type_error(std::string("spirv must be bytes-like (bytes, bytearray, memoryview, numpy array) "
                                             "or a path (str, os.PathLike), not ") +
                                 Py_TYPE(spirv.ptr())->tp_name);
        py::buffer_info info = py::reinterpret_borrow<py::buffer>(spirv).request();
        bool contiguous = true;
        py::ssize_t expect = info.itemsize;
        for (py::ssize_t i = info.ndim; i-- > 0;) {
            if (info.shape[i] > 1 && info.strides[i] != expect) contiguous = false;
            expect *= info.shape[i];
        }
        if (!contiguous) throw py::value_error("spirv: the buffer is not C-contiguous");
        std::size_t size = static_cast<std::size_t>(info.size * info.itemsize);
        dpc_status st;
        {
            py::gil_scoped_release nogil;
            st = dpc_bundle_create_from_spirv(ctx.get(), dev.get(), info.ptr, size, o, &b);
        }
        check_build(st, "dpc_bundle_create_from_spirv");
    }
    return PyBundle{bundle::adopt(b, ctx, dev), "SPIR-V"};
}

PyBundle from_source(dpc_status (*create)(dpc_context, dpc_device, const char *, const char *, dpc_bundle *),
                     const char *call, const char *lang, const std::string &source, py::object where,
                     py::object options) {
    auto [ctx, dev] = target_of(where);
    std::string opts = options.is_none() ? std::string() : options.cast<std::string>();
    const char *o = options.is_none() ? nullptr : opts.c_str();
    dpc_bundle b = nullptr;
    dpc_status st;
    {
        py::gil_scoped_release nogil;
        st = create(ctx.get(), dev.get(), source.c_str(), o, &b);
    }
    check_build(st, call);
    return PyBundle{bundle::adopt(b, ctx, dev), lang};
}

std::size_t kernel_count(const PyBundle &b) {
    std::size_t n = 0;
    check(dpc_bundle_get_kernel_count(b.b.get(), &n), "dpc_bundle_get_kernel_count");
    return n;
}

std::vector<std::string> kernel_names(const PyBundle &b) {
    std::size_t n = kernel_count(b);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t len = 0;
        check(dpc_bundle_get_kernel_name(b.b.get(), i, nullptr, 0, &len), "dpc_bundle_get_kernel_name");
        std::string s(len, '\0');
        check(dpc_bundle_get_kernel_name(b.b.get(), i, &s[0], len, &len), "dpc_bundle_get_kernel_name");
        s.resize(len > 0 ? len - 1 : 0);
        out.push_back(std::move(s));
    }
    return out;
}

bool has_kernel(const PyBundle &b, const std::string &name) {
    bool has = false;
    check(dpc_bundle_has_kernel(b.b.get(), name.c_str(), &has), "dpc_bundle_has_kernel");
    return has;
}

PyKernel get_kernel(const PyBundle &b, const std::string &name) {
    dpc_kernel k = nullptr;
    check(dpc_bundle_get_kernel(b.b.get(), name.c_str(), &k), "dpc_bundle_get_kernel");
    PyKernel out;
    out.k = std::shared_ptr<dpc_kernel_s>(k, [](dpc_kernel x) { (void)dpc_kernel_release(x); });
    out.bundle = b;
    out.name = two_call_string(dpc_kernel_get_name, k, "dpc_kernel_get_name");
    return out;
}

// ---------------------------------------------------------------- kernels

struct info_key {
    const char *name;
    int32_t key;
    const char *doc;
};
const info_key info_keys[] = {
    {"num_args", DPC_KERNEL_INFO_NUM_ARGS,
     "The number of arguments (from the SPIR-V module where there is one, else from the runtime)."},
    {"max_work_group_size", DPC_KERNEL_INFO_MAX_WORK_GROUP_SIZE,
     "The largest work-group this kernel can run with on its device."},
    {"preferred_work_group_size_multiple", DPC_KERNEL_INFO_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
     "The preferred multiple of the work-group size."},
    {"private_mem_size", DPC_KERNEL_INFO_PRIVATE_MEM_SIZE, "Private memory per work-item, in bytes."},
    {"local_mem_size", DPC_KERNEL_INFO_LOCAL_MEM_SIZE, "Local memory the kernel uses, in bytes."},
    {"max_sub_group_size", DPC_KERNEL_INFO_MAX_SUB_GROUP_SIZE, "The largest sub-group size."},
    {"max_num_sub_groups", DPC_KERNEL_INFO_MAX_NUM_SUB_GROUPS, "The most sub-groups in a work-group."},
    {"compile_sub_group_size", DPC_KERNEL_INFO_COMPILE_SUB_GROUP_SIZE,
     "The sub-group size the kernel was compiled for (0: not set)."},
    {"compile_num_sub_groups", DPC_KERNEL_INFO_COMPILE_NUM_SUB_GROUPS,
     "The number of sub-groups the kernel was compiled for (0: not set)."},
};

uint64_t kernel_info(const PyKernel &k, int32_t key) {
    uint64_t v = 0;
    check(dpc_kernel_get_info_u64(k.k.get(), key, &v), "dpc_kernel_get_info_u64");
    return v;
}

/// 1 to 3 sizes from an int or a sequence of ints (the C API checks the count).
std::vector<size_t> sizes(py::handle obj, const char *what) {
    std::vector<size_t> out;
    auto one = [&](py::handle x) {
        PyObject *i = PyNumber_Index(x.ptr());
        if (!i) {
            PyErr_Clear();
            throw py::type_error(std::string(what) + " must be an int or a sequence of 1 to 3 ints, not " +
                                 Py_TYPE(x.ptr())->tp_name);
        }
        long long v = py::reinterpret_steal<py::int_>(i).cast<long long>();
        if (v < 0) throw py::value_error(std::string(what) + ": a size cannot be negative (" + std::to_string(v) + ")");
        out.push_back(static_cast<size_t>(v));
    };
    if (PyIndex_Check(obj.ptr())) {
        one(obj);
    } else if (PySequence_Check(obj.ptr())) {
        for (py::handle x : obj) one(x);
    } else {
        throw py::type_error(std::string(what) + " must be an int or a sequence of 1 to 3 ints, not " +
                             Py_TYPE(obj.ptr())->tp_name);
    }
    return out;
}

/// One converted launch argument.
struct arg_slot {
    dpc_kernel_arg arg{};
    std::string bytes;     // a scalar's value (arg.value points into it)
    usm_ndarray array;     // an array argument, held for the launch
    bool is_array = false;
    const char *untyped = nullptr;  // "int" / "float" when a Python number was given without a C type
};

void convert_arg(py::handle obj, arg_slot &s) {
    static PyObject *generic = nullptr;  // never destroyed: outlives the interpreter
    if (!generic) generic = py::object(numpy().attr("generic")).release().ptr();
    if (py::isinstance<PyScalar>(obj)) {
        s.bytes = obj.cast<const PyScalar &>().bytes;
        s.arg.kind = DPC_ARG_SCALAR;
    } else if (py::isinstance<PyLocalMemory>(obj)) {
        s.arg.kind = DPC_ARG_LOCAL;
        s.arg.size = obj.cast<const PyLocalMemory &>().nbytes;
        s.arg.value = nullptr;
        return;
    } else if (PyBool_Check(obj.ptr())) {
        throw py::type_error("a Python bool has no C type here: pass dpcore.uint8(b), dpcore.int32(b) or numpy.bool_(b)");
    } else if (PyLong_Check(obj.ptr())) {
        long long v = 0;
        try {
            v = obj.cast<long long>();
        } catch (py::cast_error &) {
            throw py::value_error(std::string(py::repr(obj)) +
                                  " does not fit in int64 (a Python int is passed as a 64-bit int); give its C "
                                  "type, e.g. dpcore.uint64(v)");
        }
        if (PyErr_Occurred()) throw py::error_already_set();
        int64_t x = v;
        s.bytes.assign(reinterpret_cast<const char *>(&x), sizeof x);
        s.arg.kind = DPC_ARG_SCALAR;
        s.untyped = "int (passed as int64)";
    } else if (PyFloat_Check(obj.ptr())) {
        double x = PyFloat_AsDouble(obj.ptr());
        s.bytes.assign(reinterpret_cast<const char *>(&x), sizeof x);
        s.arg.kind = DPC_ARG_SCALAR;
        s.untyped = "float (passed as float64, a C double)";
    } else if (PyObject_IsInstance(obj.ptr(), generic) == 1) {
        PyScalar sc = make_scalar(py::reinterpret_borrow<py::object>(obj), obj.attr("dtype"));
        s.bytes = std::move(sc.bytes);
        s.arg.kind = DPC_ARG_SCALAR;
    } else if (PyTuple_Check(obj.ptr()) && PyTuple_GET_SIZE(obj.ptr()) == 2) {
        py::tuple t = py::reinterpret_borrow<py::tuple>(obj);
        s.bytes = make_scalar(t[0], t[1]).bytes;
        s.arg.kind = DPC_ARG_SCALAR;
    } else if (python::to_array(obj, s.array)) {
        // A kernel gets the data pointer only: a strided view would be read
        // as if it were contiguous.
        if (!s.array.c_contiguous() && !s.array.f_contiguous() && s.array.size() > 1) {
            std::string st;
            for (int64_t x : s.array.strides()) st += (st.empty() ? "" : ", ") + std::to_string(x);
            throw py::value_error("a strided view (strides (" + st +
                                  ") elements) cannot be a kernel argument: the kernel gets only its data pointer; "
                                  "pass a contiguous array (a copy)");
        }
        s.is_array = true;
        s.arg.kind = DPC_ARG_ARRAY;
        s.arg.size = 0;
        s.arg.value = s.array.get_array().get();
        return;
    } else {
        throw py::type_error(std::string("cannot pass an argument of type '") + Py_TYPE(obj.ptr())->tp_name +
                             "' to a kernel. Accepted: arrays (" + python::array_kinds +
                             "), Python int (int64) and float (double), numpy scalars, dpcore.Scalar "
                             "(e.g. dpcore.int32(5)), (value, dtype) pairs and dpcore.LocalMemory");
    }
    s.arg.size = s.bytes.size();
    s.arg.value = s.bytes.data();
}

/// The launch: convert `args`, find the queue (the explicit one, else the
/// arrays' common queue), order after the producers' pending work and
/// `depends`, launch, keep the arrays alive until the kernel completes, and
/// tell dpnp's order manager. Returns the launch's event.
event launch(const PyKernel &k, py::handle global_obj, py::args args, py::handle local_obj, py::handle queue_obj,
             py::handle depends) {
    std::vector<size_t> global = sizes(global_obj, "global_size");
    std::vector<size_t> local;
    if (!local_obj.is_none()) {
        local = sizes(local_obj, "local_size");
        // The C API reads as many local sizes as global ones.
        if (local.size() != global.size())
            throw py::value_error("local_size has " + std::to_string(local.size()) + " sizes and global_size " +
                                  std::to_string(global.size()) + "; give one local size per dimension");
    }

    std::vector<arg_slot> slots(args.size());
    for (std::size_t i = 0; i < args.size(); ++i) {
        try {
            convert_arg(args[i], slots[i]);
        } catch (py::error_already_set &) {
            throw;  // numpy's own errors, as they are
        } catch (py::builtin_exception &e) {
            // Name the argument.
            std::string m = "argument " + std::to_string(i) + ": " + e.what();
            if (dynamic_cast<py::type_error *>(&e)) throw py::type_error(m);
            throw py::value_error(m);
        }
    }
    std::vector<dpc_kernel_arg> c_args;
    std::vector<const usm_ndarray *> arrays;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < slots.size(); ++i) {
        c_args.push_back(slots[i].arg);
        if (slots[i].is_array) {
            arrays.push_back(&slots[i].array);
            names.push_back("argument " + std::to_string(i));
        }
    }

    std::vector<event> deps;
    if (!depends.is_none()) {
        for (py::handle e : depends) {
            try {
                deps.push_back(e.cast<event>());
            } catch (py::cast_error &) {
                throw py::type_error(std::string("depends must hold dpcore.Event objects, not ") +
                                     Py_TYPE(e.ptr())->tp_name);
            }
        }
    }

    queue q;
    if (!queue_obj.is_none()) {
        q = launch_queue(queue_obj);
    } else if (!arrays.empty()) {
        std::vector<std::pair<const char *, const usm_ndarray *>> named;
        for (std::size_t i = 0; i < arrays.size(); ++i) named.push_back({names[i].c_str(), arrays[i]});
        try {
            q = python::common_queue_named(named);
        } catch (py::value_error &e) {
            throw py::value_error(std::string("launch of kernel \"") + k.name +
                                  "\": compute follows data, and the array arguments share no queue (pass queue= "
                                  "to choose one): " + e.what());
        }
    }
    // With no queue (no arrays, none given) the C API says why it has none.

    // Order after the producers' pending work: a barrier on each distinct
    // queue the arrays came from, and on the launch queue itself unless it
    // is in order (then the launch follows its work anyway).
    if (q) {
        std::vector<void *> seen{q.native()};
        if (!q.in_order()) deps.push_back(q.barrier());
        for (const usm_ndarray *a : arrays) {
            if (a->is_host()) continue;
            void *n = a->get_queue().native();
            bool dup = false;
            for (void *x : seen) dup = dup || x == n;
            if (dup) continue;
            seen.push_back(n);
            deps.push_back(a->get_queue().barrier());
        }
    }
    std::vector<dpc_event> dep_handles;
    for (const event &e : deps) dep_handles.push_back(e.get());

    dpc_event ev = nullptr;
    dpc_status st;
    {
        py::gil_scoped_release nogil;
        st = dpc_kernel_launch(q ? q.get() : nullptr, k.k.get(), static_cast<uint32_t>(global.size()),
                               global.data(), local_obj.is_none() ? nullptr : local.data(), c_args.data(),
                               c_args.size(), dep_handles.empty() ? nullptr : dep_handles.data(),
                               dep_handles.size(), &ev);
    }
    if (st != DPC_SUCCESS) {
        try {
            check(st, "dpc_kernel_launch");
        } catch (const dpcore::error &e) {
            // A Python number without a C type given for a scalar parameter
            // of another size: say how to give the type.
            std::string m = e.what();
            for (std::size_t i = 0; i < slots.size(); ++i) {
                if (!slots[i].untyped) continue;
                std::string at = "argument " + std::to_string(i) + " of kernel";
                std::size_t p = m.find(at);
                if (p != std::string::npos && m.find("-byte value", p) != std::string::npos) {
                    m += " (argument " + std::to_string(i) + " is a Python " + slots[i].untyped +
                         "; give its C type, e.g. dpcore.int32(v), numpy.float32(v) or (v, 'uint32'))";
                    break;
                }
            }
            throw dpcore::error(e.status(), m, e.backend_code());
        }
    }
    event done = event::adopt(ev);
    try {
        for (const usm_ndarray *a : arrays) a->get_array().keep_alive_until({done});
    } catch (...) {
        // The arrays cannot be handed over: hold them here until the kernel is done.
        py::gil_scoped_release nogil;
        done.wait();
        throw;
    }
    // dpnp orders its own work through dpctl's order manager: tell it, once
    // per producer queue.
    std::vector<PyObject *> told;
    for (const usm_ndarray *a : arrays) {
        PyObject *pq = a->producer_queue().ptr();
        if (a->producer_queue().is_none() || std::find(told.begin(), told.end(), pq) != told.end()) continue;
        told.push_back(pq);
        python::record_for_producers({a}, done);
    }
    return done;
}

}  // namespace

void bind_kernels(py::module_ &m) {
    if (!error_class) error_class = new py::object(m.attr("Error"));

    py::class_<PyScalar>(m, "Scalar",
                         "A kernel argument of an explicit C type: Scalar(value, dtype), with dtype anything "
                         "numpy.dtype takes ('int32', numpy.float32, ...). The bytes are numpy's: "
                         "Scalar([1, 2, 3, 4], 'int32') is an OpenCL int4. dpcore.int32(5) etc. make them too.")
        .def(py::init(&make_scalar), py::arg("value"), py::arg("dtype"))
        .def_property_readonly("dtype", [](const PyScalar &s) { return s.dtype; })
        .def_property_readonly("value", [](const PyScalar &s) { return s.value; })
        .def_property_readonly("nbytes", [](const PyScalar &s) { return s.bytes.size(); })
        .def("tobytes", [](const PyScalar &s) { return py::bytes(s.bytes); })
        .def("__repr__", [](const PyScalar &s) {
            return "dpcore.Scalar(" + std::string(py::repr(s.value)) + ", '" + std::string(py::str(s.dtype)) + "')";
        });

    py::class_<PyLocalMemory>(m, "LocalMemory",
                              "A __local (work-group local memory) kernel argument: LocalMemory(count, "
                              "dtype='uint8') is count elements of dtype, e.g. LocalMemory(64, 'float32') is 256 "
                              "bytes.")
        .def(py::init([](long long count, py::object dtype) {
                 if (count <= 0) throw py::value_error("LocalMemory: count must be positive");
                 int item = numpy().attr("dtype")(dtype).attr("itemsize").cast<int>();
                 return PyLocalMemory{static_cast<std::size_t>(count) * static_cast<std::size_t>(item)};
             }),
             py::arg("count"), py::arg("dtype") = "uint8")
        .def_property_readonly("nbytes", [](const PyLocalMemory &l) { return l.nbytes; })
        .def("__repr__",
             [](const PyLocalMemory &l) { return "dpcore.LocalMemory(" + std::to_string(l.nbytes) + ")"; });

    py::class_<PyBundle>(m, "Bundle",
                         "Built device code (a kernel bundle) for one device and context. Make one with "
                         "Bundle.from_spirv, Bundle.from_opencl or Bundle.from_sycl; take its kernels by name.")
        .def_static("from_spirv", &from_spirv, py::arg("spirv"), py::arg("device") = py::none(), py::kw_only(),
                    py::arg("options") = py::none(),
                    "Build a SPIR-V module: bytes-like (bytes, bytearray, memoryview, a uint8 numpy array) or "
                    "a path to a .spv file (str or os.PathLike). device: None (the default device), a "
                    "dpcore.Device or a filter string (that device in its default context, where dpcore, dpnp "
                    "and dpctl arrays live), or a queue (dpcore.Queue, dpctl.SyclQueue: its device and "
                    "context). options: build options for the runtime. Raises dpcore.Error with the C API's "
                    "message (a bad module, a failed build with its log in .build_log).")
        .def_static(
            "from_opencl",
            [](const std::string &src, py::object where, py::object options) {
                return from_source(dpc_bundle_create_from_opencl_c, "dpc_bundle_create_from_opencl_c", "OpenCL C",
                                   src, where, options);
            },
            py::arg("source"), py::arg("device") = py::none(), py::kw_only(), py::arg("options") = py::none(),
            "Build OpenCL C source (OpenCL devices only) with compiler options such as '-cl-std=CL2.0 -DN=4'. "
            "device as for from_spirv. A failed build raises dpcore.Error whose message ends with the "
            "compiler's log, also in its .build_log.")
        .def_static(
            "from_sycl",
            [](const std::string &src, py::object where, py::object options) {
                return from_source(dpc_bundle_create_from_sycl, "dpc_bundle_create_from_sycl", "SYCL", src, where,
                                   options);
            },
            py::arg("source"), py::arg("device") = py::none(), py::kw_only(), py::arg("options") = py::none(),
            "Build SYCL source with the runtime's kernel compiler, where the device reports it can (else "
            "dpcore.Error from the C API: DPC_ERROR_UNSUPPORTED). Kernels are free functions declared extern "
            "\"C\"; take them by name. device as for from_spirv.")
        .def_property_readonly("device", [](const PyBundle &b) { return device_object(b.b.get_device()); },
                               "The device the bundle was built for.")
        .def_property_readonly("source_kind", [](const PyBundle &b) { return b.source; },
                               "'SPIR-V', 'OpenCL C' or 'SYCL'.")
        .def_property_readonly("kernel_names", &kernel_names,
                               "The kernels' names, in the module's order (SYCL-source bundles cannot list "
                               "theirs: dpcore.Error, DPC_ERROR_UNSUPPORTED).")
        .def_property_readonly("kernel_count", &kernel_count, "The number of kernels (as kernel_names).")
        .def("has_kernel", &has_kernel, py::arg("name"))
        .def("__contains__", &has_kernel)
        .def("get_kernel", &get_kernel, py::arg("name"),
             "The kernel called name; dpcore.Error (DPC_ERROR_NOT_FOUND, listing the kernels) when there is none.")
        .def("__getitem__", &get_kernel)
        .def_property_readonly("_dpc_bundle", [](const PyBundle &b) { return reinterpret_cast<uintptr_t>(b.b.get()); })
        .def("__repr__", [](const PyBundle &b) {
            std::string d;
            try {
                d = b.b.get_device().filter_string();
            } catch (const dpcore::error &) {
                d = "sub-device \"" + b.b.get_device().name() + "\"";
            }
            return "<dpcore.Bundle (" + b.source + ") for " + d + ">";
        });

    auto kernel = py::class_<PyKernel>(m, "Kernel",
                                       "A kernel of a Bundle (Bundle.get_kernel). Launch it with "
                                       "kernel.launch(global_size, *args) or dpcore.launch(kernel, ...).");
    kernel.def_property_readonly("name", [](const PyKernel &k) { return k.name; })
        .def_property_readonly("bundle", [](const PyKernel &k) { return k.bundle; })
        .def_property_readonly("device", [](const PyKernel &k) { return device_object(k.bundle.b.get_device()); })
        .def_property_readonly(
            "info",
            [](const PyKernel &k) {
                py::dict d;
                for (const info_key &i : info_keys) {
                    uint64_t v = 0;
                    if (dpc_kernel_get_info_u64(k.k.get(), i.key, &v) == DPC_SUCCESS) d[i.name] = v;
                    else d[i.name] = py::none();
                }
                return d;
            },
            "Every numeric property below in one dict (None where the C API cannot tell).")
        .def_property_readonly("_dpc_kernel", [](const PyKernel &k) { return reinterpret_cast<uintptr_t>(k.k.get()); })
        .def("__repr__", [](const PyKernel &k) { return "<dpcore.Kernel \"" + k.name + "\">"; });
    for (const info_key &i : info_keys) {
        int32_t key = i.key;
        kernel.def_property_readonly(
            i.name, [key](const PyKernel &k) { return kernel_info(k, key); }, i.doc);
    }
    const char *launch_doc =
        "Launch over global_size work-items (an int, or 1 to 3 ints; global_size[0] is the extent of "
        "get_global_id(0), OpenCL's order), as an nd-range with work-groups of local_size when given. args, "
        "in the kernel's order: arrays (dpcore.Array, dpnp and dpctl arrays, anything with "
        "__sycl_usm_array_interface__ or __dlpack__ on a device: their data pointer is passed), scalars "
        "(dpcore.Scalar such as dpcore.int32(5), numpy scalars, (value, dtype) pairs; a Python int is an int64, "
        "a Python float a double) and dpcore.LocalMemory. The queue is the array arguments' common queue "
        "(compute follows data: ValueError naming the arguments when they share none) unless queue= gives one "
        "(a queue, a dpcore.Device or a filter string). The launch waits for the arrays' pending work and for "
        "depends (dpcore.Event objects); the arrays (and their producers) stay alive until it completes. "
        "Returns a dpcore.Event. The C API checks the argument count, kinds and scalar sizes against the "
        "kernel's SPIR-V signature and the sizes against the device: its refusals raise dpcore.Error.";
    kernel.def(
        "launch",
        [](const PyKernel &k, py::object global, py::args args, py::object local, py::object q, py::object deps) {
            return launch(k, global, args, local, q, deps);
        },
        py::arg("global_size"), py::arg("local_size") = py::none(), py::arg("queue") = py::none(),
        py::arg("depends") = py::none(), launch_doc);
    m.def(
        "launch",
        [](const PyKernel &k, py::object global, py::args args, py::object local, py::object q, py::object deps) {
            return launch(k, global, args, local, q, deps);
        },
        py::arg("kernel"), py::arg("global_size"), py::arg("local_size") = py::none(),
        py::arg("queue") = py::none(), py::arg("depends") = py::none(), launch_doc);
}
