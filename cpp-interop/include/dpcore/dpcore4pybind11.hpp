// dpcore4pybind11.hpp: pybind11 type casters for dpcore queues and arrays.
//
// An extension function can take `dpcore::usm_ndarray` (or `dpcore::array`)
// and `dpcore::queue` parameters and return them:
//
//   - dpcore::usm_ndarray accepts dpcore.Array, any object with
//     __sycl_usm_array_interface__ (dpnp and dpctl arrays, dpctl memory),
//     and any object with __dlpack__/__dlpack_device__ (numpy, torch, ...;
//     DLPack 1.x first, the legacy protocol as a fallback), zero-copy. Its
//     queue is the producer's own when the object carries one (the
//     interface's syclobj), otherwise the device's canonical queue in its
//     default context; host (kDLCPU) arrays have none and are copied to a
//     device only on request (usm_ndarray::on_queue).
//   - dpcore::queue accepts dpcore.Queue, dpctl.SyclQueue and capsules
//     named "SyclQueueRef".
//   - Returned arrays and queues become dpcore.Array / dpcore.Queue
//     objects (the `dpcore` Python package must be importable), which
//     dpnp.from_dlpack, numpy.from_dlpack (host memory) and
//     torch.from_dlpack take, which carry __sycl_usm_array_interface__, and
//     which come back in through these casters.
//
// A caster declines (so that pybind11 tries the next overload) when the
// object is of none of the kinds above; pybind11's TypeError then lists the
// kinds in the parameter's type name. When the object is of an accepted
// kind but cannot be taken (an unsupported data type, memory that is not
// USM, ...), the caster raises dpcore.TypeMismatchError (a TypeError) with
// dpcore's reason.
//
// Errors: Python sees dpcore's failures as the classes of the `dpcore`
// package (dpcore.Error, a RuntimeError, or a subclass that is also
// MemoryError, ValueError, TypeError or NotImplementedError, chosen by the
// dpc_status; the table is in dpcore/_errors.py and the README), with
// .status, .code and .backend_code. The extension needs the package only at
// run time: the class is looked up, by import, when an error is raised
// (without the package: a plain RuntimeError, or TypeError, with the same
// message). Nothing about it is decided at build time:
//   - the errors this header raises are dpcore::python::type_mismatch_error
//     and invalid_argument_error, subclasses of py::type_error and
//     py::value_error (C++ code catches them as those) whose set_error()
//     picks dpcore's class;
//   - a dpcore::error thrown by the wrappers of dpcore.hpp is translated by
//     a module-local pybind11 exception translator, which the casters
//     register at their first use; call
//     dpcore::python::register_error_translator() in PYBIND11_MODULE to
//     have it from the start (for functions that take no dpcore argument).
//     Without it such an error is pybind11's RuntimeError for a
//     std::runtime_error (or, where the extension shares pybind11's
//     internals with dpcore's own module, dpcore's class through the
//     global translator that module registers).
//
// Lifetime: the dpcore array keeps the Python producer alive (through
// DLPack's deleter, or a reference it holds for the interface path);
// dpcore::keep_alive keeps inputs alive until work submitted to a queue has
// completed, dropping them on dpcore's own thread (which takes the GIL only
// to drop the Python reference), without host tasks.
#ifndef DPCORE_DPCORE4PYBIND11_HPP
#define DPCORE_DPCORE4PYBIND11_HPP

#include <pybind11/pybind11.h>

#include <array>
#include <atomic>
#include <exception>
#include <cstring>
#include <thread>
#include <initializer_list>
#include <string>
#include <vector>

#include "dpcore.hpp"

// Types holding pybind11 objects are hidden, as pybind11's own are.
#if defined(__GNUC__) || defined(__clang__)
#define DPCORE_PY_HIDDEN __attribute__((visibility("hidden")))
#else
#define DPCORE_PY_HIDDEN
#endif

namespace dpcore {
inline namespace v0 {

/// How a usm_ndarray came in from Python.
enum class origin { dpcore_array, sycl_usm_array_interface, dlpack, dlpack_legacy, copy, usm_ndarray_attributes };

/// A view of an array taken from Python: a dpcore::array plus a snapshot
/// of its layout (shape, strides, data type and flags never change for a
/// view, so reading them costs nothing).
class DPCORE_PY_HIDDEN usm_ndarray {
public:
    usm_ndarray() = default;
    explicit usm_ndarray(array a, origin o = origin::dpcore_array) : a_(std::move(a)), origin_(o) {
        snapshot();
        q_ = a_.get_queue();
    }
    /// With the queue already known (saves a lookup).
    usm_ndarray(array a, origin o, queue q) : a_(std::move(a)), q_(std::move(q)), origin_(o) { snapshot(); }

    const array &get_array() const noexcept { return a_; }
    /// The queue to run on: the producer's, or the device's canonical one;
    /// an empty queue for a host (kDLCPU) array.
    const queue &get_queue() const noexcept { return q_; }
    bool is_host() const noexcept { return !q_; }
    origin get_origin() const noexcept { return origin_; }
    /// The producer's own Python queue object (the interface's syclobj,
    /// e.g. a dpctl.SyclQueue), or None.
    const pybind11::object &producer_queue() const noexcept { return producer_queue_; }
    void set_producer_queue(pybind11::object q) { producer_queue_ = std::move(q); }
    /// True when this array is a copy made by on_queue (a host input staged
    /// to the device).
    bool copied() const noexcept { return origin_ == origin::copy; }

    int ndim() const noexcept { return static_cast<int>(shape_.size()); }
    const std::vector<int64_t> &shape() const noexcept { return shape_; }
    int64_t shape(int i) const { return shape_.at(static_cast<std::size_t>(i)); }
    /// In elements.
    const std::vector<int64_t> &strides() const noexcept { return strides_; }
    int64_t stride(int i) const { return strides_.at(static_cast<std::size_t>(i)); }
    int64_t size() const noexcept {
        int64_t n = 1;
        for (int64_t x : shape_) n *= x;
        return n;
    }
    dpc_dlpack_dtype dtype() const noexcept { return dtype_; }
    std::string dtype_name() const { return dpcore::dtype_name(dtype_); }
    template <class T>
    bool is_type() const noexcept {
        return dtype_ == dtype_of<T>();
    }
    bool writable() const noexcept { return (flags_ & DPC_ARRAY_WRITABLE) != 0; }
    bool c_contiguous() const noexcept { return (flags_ & DPC_ARRAY_C_CONTIGUOUS) != 0; }
    bool f_contiguous() const noexcept { return (flags_ & DPC_ARRAY_F_CONTIGUOUS) != 0; }
    int32_t usm_kind() const noexcept { return usm_kind_; }
    void *raw_data() const noexcept { return data_; }
    /// Element (0, ..., 0) as T*; throws dpcore::error unless the array holds T.
    template <class T>
    T *data() const {
        if (!is_type<T>())
            throw error(DPC_ERROR_INVALID_ARGUMENT, "dpcore::usm_ndarray::data<T>: the array holds " + dtype_name() +
                                                        ", not " + dpcore::dtype_name(dtype_of<T>()));
        return static_cast<T *>(data_);
    }

    /// This array on `q`'s device and context: itself when it is there
    /// already; a host array copied there when `allow_copy` (the result says
    /// copied()), else dpcore::error saying to pass a device array or to
    /// allow the copy. Arrays of another device or context are an error.
    usm_ndarray on_queue(const queue &q, bool allow_copy) const {
        if (!is_host()) {
            if (q.get_device() == q_.get_device() && q.get_context() == q_.get_context()) return *this;
            throw error(DPC_ERROR_INVALID_ARGUMENT,
                        "the array is on " + q_.get_device().name() +
                            " (another device or context) and the work runs on " + q.get_device().name() +
                            "; move it with dpcore.Array.to_device first");
        }
        if (!allow_copy)
            throw error(DPC_ERROR_INVALID_ARGUMENT,
                        "the array is host memory (kDLCPU); pass a device array, or allow the copy to the device");
        return usm_ndarray(a_.to_device(q), origin::copy);
    }

private:
    void snapshot() {
        dpc_array_layout l;
        check(dpc_array_get_layout(a_.get(), &l), "dpc_array_get_layout");
        shape_.assign(l.shape, l.shape + l.ndim);
        strides_.assign(l.strides, l.strides + l.ndim);
        dtype_ = l.dtype;
        flags_ = l.flags;
        data_ = l.data;
        usm_kind_ = l.usm_kind;
    }
    array a_;
    queue q_;
    pybind11::object producer_queue_ = pybind11::none();
    origin origin_ = origin::dpcore_array;
    std::vector<int64_t> shape_, strides_;
    dpc_dlpack_dtype dtype_{};
    uint32_t flags_ = 0;
    void *data_ = nullptr;
    int32_t usm_kind_ = 0;
};

/// Events to make an extension's work wait for everything already submitted
/// to `q` (the producer's pending work): a barrier event.
inline std::vector<event> depends_on_pending(const queue &q) { return {q.barrier()}; }

/// The same for `q` and for the queue of each of `inputs` (arrays from
/// different runtime queues of one context, which dpcore::common_queue
/// accepts): one barrier per distinct runtime queue.
inline std::vector<event> depends_on_pending(const queue &q, const std::vector<const usm_ndarray *> &inputs) {
    std::vector<event> out{q.barrier()};
    std::vector<void *> seen{q.native()};
    for (const usm_ndarray *a : inputs) {
        if (!a || a->is_host()) continue;
        void *n = a->get_queue().native();
        bool dup = false;
        for (void *s : seen) dup = dup || s == n;
        if (dup) continue;
        seen.push_back(n);
        out.push_back(a->get_queue().barrier());
    }
    return out;
}

/// Keep `inputs` (and the Python objects behind them) alive until
/// everything submitted to `q` so far has completed; returns at once.
inline void keep_alive(const queue &q, std::initializer_list<const usm_ndarray *> inputs) {
    std::vector<event> done{q.barrier()};
    for (const usm_ndarray *a : inputs)
        if (a && a->get_array()) a->get_array().keep_alive_until(done);
}
/// Keep `inputs` alive until `events` complete; returns at once.
inline void keep_alive(const std::vector<event> &events, std::initializer_list<const usm_ndarray *> inputs) {
    for (const usm_ndarray *a : inputs)
        if (a && a->get_array()) a->get_array().keep_alive_until(events);
}

namespace python {
namespace py = pybind11;

// ---------------------------------------------------------------- errors

/// Set the Python error for `e`: dpcore._errors' class for its status
/// (dpcore.TypeMismatchError, a TypeError, when `wrong_type`), carrying the
/// status, its name and the backend code; a RuntimeError (TypeError) with
/// the same message when the dpcore package cannot be imported. Call with
/// the GIL.
inline void set_python_error(const error &e, bool wrong_type = false) noexcept {
    PyObject *exc = nullptr;
    if (PyObject *mod = PyImport_ImportModule("dpcore._errors")) {
        exc = PyObject_CallMethod(mod, "_make", "izsLO", static_cast<int>(e.status()), dpc_status_name(e.status()),
                                  e.what(), static_cast<long long>(e.backend_code()),
                                  wrong_type ? Py_True : Py_False);
        Py_DECREF(mod);
    }
    if (exc) {
        PyErr_SetObject(reinterpret_cast<PyObject *>(Py_TYPE(exc)), exc);
        Py_DECREF(exc);
        return;
    }
    PyErr_Clear();
    PyErr_SetString(wrong_type ? PyExc_TypeError : PyExc_RuntimeError, e.what());
}

/// A py::type_error (C++ code catches it as one) that Python sees as
/// dpcore.TypeMismatchError, with the status of the dpcore call that
/// refused the object (DPC_ERROR_INVALID_ARGUMENT when none did).
class DPCORE_PY_HIDDEN type_mismatch_error : public py::type_error {
public:
    explicit type_mismatch_error(const std::string &what, dpc_status st = DPC_ERROR_INVALID_ARGUMENT)
        : py::type_error(what), status_(st) {}
    dpc_status status() const noexcept { return status_; }
    void set_error() const override { set_python_error(error(status_, what()), true); }

private:
    dpc_status status_;
};

/// A py::value_error (C++ code catches it as one) that Python sees as the
/// dpcore class of its status (dpcore.InvalidArgumentError for
/// DPC_ERROR_INVALID_ARGUMENT).
class DPCORE_PY_HIDDEN invalid_argument_error : public py::value_error {
public:
    explicit invalid_argument_error(const std::string &what, dpc_status st = DPC_ERROR_INVALID_ARGUMENT)
        : py::value_error(what), status_(st) {}
    dpc_status status() const noexcept { return status_; }
    void set_error() const override { set_python_error(error(status_, what())); }

private:
    dpc_status status_;
};

/// A pybind11 exception translator: dpcore::error becomes its dpcore class.
inline void translate_error(std::exception_ptr p) {
    try {
        if (p) std::rethrow_exception(p);
    } catch (const error &e) {
        set_python_error(e);
    }
}

/// Make this extension module translate dpcore::error into the dpcore
/// package's classes (a module-local translator, so other modules are not
/// affected). The casters call it at their first use; call it in
/// PYBIND11_MODULE to cover every function from the start. Idempotent
/// (registers once per module); call with the GIL.
inline void register_error_translator() {
    static std::atomic<bool> done{false};
    if (done.load(std::memory_order_relaxed) || done.exchange(true)) return;
    py::register_local_exception_translator(&translate_error);
}

/// What the parameter type names, for pybind11's signatures and errors.
constexpr const char *array_kinds =
    "dpcore.usm_ndarray (dpcore.Array, an object with __sycl_usm_array_interface__ such as a dpnp or dpctl array, "
    "or an object with __dlpack__ such as a numpy array or torch tensor)";
constexpr const char *queue_kinds = "dpcore.Queue | dpctl.SyclQueue | PyCapsule('SyclQueueRef')";

/// A capsule named `name` holding `native` (the runtime object behind `w`,
/// e.g. a sycl::queue* for "SyclQueueRef"), borrowed: the capsule keeps a
/// reference to `w` until it is destroyed. dpctl copies the runtime object
/// out of such capsules.
template <class W>
py::capsule borrowed_capsule(const W &w, void *native, const char *name) {
    PyObject *cap = PyCapsule_New(native, name, [](PyObject *c) { delete static_cast<W *>(PyCapsule_GetContext(c)); });
    if (!cap) throw py::error_already_set();
    PyCapsule_SetContext(cap, new W(w));
    return py::reinterpret_steal<py::capsule>(cap);
}

// ---------------------------------------------------------------- interpreter exit
//
// dpcore gives back what it holds for Python (references lent through
// dpc_array_from_usm, producers' DLPack deleters, keep-alives) on whichever
// thread drops the last view, often dpcore's deferred-release thread. That
// thread must never take the GIL once the interpreter finalizes: CPython
// ends such a thread with a forced unwind, which cannot cross dpcore's C
// ABI, and the process aborts. So every entry into Python from a release
// goes through `with_python`, and a Python `atexit` hook (armed at the
// first hand-off, runs before finalization starts) drains dpcore's pending
// releases while Python still works, then closes the gate and waits for
// releases already inside. After that a release leaves its Python object
// alone (the interpreter is going away with it).
namespace detail {
struct python_gate {
    std::atomic<int> inflight{0};
    std::atomic<bool> closing{false};
    std::atomic<bool> armed{false};
};
/// One per extension module; never destroyed (releases may run after
/// static destructors).
inline python_gate &gate() {
    static python_gate *g = new python_gate();
    return *g;
}
/// The queues of the Python queue objects seen last (cached_queue).
struct DPCORE_PY_HIDDEN queue_entry {
    py::object obj;
    queue q;
};
inline std::vector<queue_entry> &queue_cache() {
    static std::vector<queue_entry> *c = new std::vector<queue_entry>();  // emptied at exit, never destroyed
    return *c;
}
/// The dpctl.SyclQueue passed as DLPack stream, per kDLOneAPI device id.
struct DPCORE_PY_HIDDEN stream_entry {
    long id;
    py::object stream;
};
inline std::vector<stream_entry> &stream_cache() {
    static std::vector<stream_entry> *c = new std::vector<stream_entry>();  // emptied at exit, never destroyed
    return *c;
}
}  // namespace detail

/// Run `f` holding the GIL, from any thread, unless the interpreter is
/// exiting; false when `f` was not run.
template <class F>
bool with_python(F &&f) {
    detail::python_gate &g = detail::gate();
    g.inflight.fetch_add(1);
    if (g.closing.load() || !Py_IsInitialized()) {
        g.inflight.fetch_sub(1);
        return false;
    }
    PyGILState_STATE st = PyGILState_Ensure();
    f();
    PyGILState_Release(st);
    g.inflight.fetch_sub(1);
    return true;
}

/// The atexit hook (called with the GIL): give back the dpcore handles the
/// caches hold, let dpcore finish its deferred releases while Python is
/// alive, then close the gate.
inline void drain_at_exit() {
    detail::python_gate &g = detail::gate();
    detail::queue_cache().clear();
    detail::stream_cache().clear();
    PyThreadState *ts = PyEval_SaveThread();  // the releases take the GIL
    (void)dpc_usm_wait_deferred_frees();
    g.closing.store(true);
    while (g.inflight.load() != 0) std::this_thread::yield();
    PyEval_RestoreThread(ts);
}

/// Arm the exit hook once (call with the GIL, before handing dpcore
/// anything whose release enters Python).
inline void arm_exit_hook() {
    detail::python_gate &g = detail::gate();
    if (g.armed.load()) return;
    py::module_::import("atexit").attr("register")(py::cpp_function(&drain_at_exit));
    g.armed.store(true);
}

/// Release function for memory lent by a Python object: drops the
/// reference, taking the GIL (this may run on dpcore's deferred-release
/// thread); once the interpreter is exiting the reference is left alone.
inline void release_pyobject(void *obj) {
    with_python([&] { Py_DECREF(static_cast<PyObject *>(obj)); });
}

/// A producer's DLPack deleter, routed through the exit gate: dpcore calls
/// `gated_dlpack_deleter`, which restores the producer's own context and
/// runs its deleter (these take the GIL themselves) unless the interpreter
/// is exiting.
template <class T>
struct gated_dlpack {
    void *manager_ctx;
    void (*deleter)(T *);
};
template <class T>
void gated_dlpack_deleter(T *t) {
    auto *g = static_cast<gated_dlpack<T> *>(t->manager_ctx);
    t->manager_ctx = g->manager_ctx;
    void (*d)(T *) = g->deleter;
    delete g;
    if (d) with_python([&] { d(t); });
}
template <class T>
void gate_dlpack(T *t) {
    if (!t || !t->deleter) return;
    t->manager_ctx = new gated_dlpack<T>{t->manager_ctx, t->deleter};
    t->deleter = &gated_dlpack_deleter<T>;
}

/// dpcore.TypeMismatchError (type_mismatch_error) for an object of an
/// accepted kind that cannot be taken; `st` is the status of the dpcore
/// call that refused it, if any.
[[noreturn]] inline void conversion_failed(py::handle obj, std::string why,
                                           dpc_status st = DPC_ERROR_INVALID_ARGUMENT) {
    while (!why.empty() && (why.back() == '.' || why.back() == ' ' || why.back() == '\n')) why.pop_back();
    throw type_mismatch_error("cannot take a " + std::string(Py_TYPE(obj.ptr())->tp_name) + " as a dpcore array: " +
                                  why + ". Accepted: " + array_kinds,
                              st);
}

/// An interned Python string, made once (never freed: interned strings
/// live as long as the interpreter).
inline PyObject *interned(const char *s) { return PyUnicode_InternFromString(s); }

/// An int handle attribute of a dpcore Python object, or 0 when absent.
inline uintptr_t handle_attr(py::handle obj, PyObject *name) {
    PyObject *v = PyObject_GetAttr(obj.ptr(), name);
    if (!v) {
        PyErr_Clear();
        return 0;
    }
    uintptr_t h = PyLong_Check(v) ? static_cast<uintptr_t>(PyLong_AsUnsignedLongLong(v)) : 0;
    if (PyErr_Occurred()) PyErr_Clear();
    Py_DECREF(v);
    return h;
}

/// The protocols a Python type speaks, remembered per type.
enum class kind : int { none = 0, dpcore = 1, suai = 2, dlpack = 3, tensor = 4, dpnp = 5 };

/// Whether `t` is the usm_ndarray of the tensor library dpnp and dpctl
/// share (dpnp.tensor, formerly dpctl.tensor), or dpnp's ndarray around one.
inline kind tensor_kind(PyTypeObject *t) {
    std::string name = t->tp_name;
    if (name == "dpnp.tensor._usmarray.usm_ndarray" || name == "dpctl.tensor._usmarray.usm_ndarray")
        return kind::tensor;
    if (name == "dpnp_array") {
        PyObject *mod = PyObject_GetAttrString(reinterpret_cast<PyObject *>(t), "__module__");
        bool dpnp = mod && PyUnicode_Check(mod) && std::string(PyUnicode_AsUTF8(mod)) == "dpnp.dpnp_array";
        Py_XDECREF(mod);
        PyErr_Clear();
        if (dpnp) return kind::dpnp;
    }
    return kind::none;
}

inline kind kind_of(py::handle obj) {
    PyTypeObject *t = Py_TYPE(obj.ptr());
    // A few types seen last (most programs pass one or two kinds).
    struct entry {
        PyTypeObject *type;
        kind k;
    };
    static std::array<entry, 8> seen{};
    static std::size_t next = 0;
    for (const entry &e : seen)
        if (e.type == t) return e.k;
    kind k = tensor_kind(t);
    PyObject *tp = reinterpret_cast<PyObject *>(t);
    if (k != kind::none) {
    } else if (PyObject_HasAttrString(tp, "_dpc_array"))
        k = kind::dpcore;
    else if (PyObject_HasAttrString(tp, "__sycl_usm_array_interface__"))
        k = kind::suai;
    else if (PyObject_HasAttrString(tp, "__dlpack__"))
        k = kind::dlpack;
    // Types whose instances only have these as instance attributes are
    // not remembered (checked on the object each time).
    if (k == kind::none) {
        if (PyObject_HasAttrString(obj.ptr(), "__sycl_usm_array_interface__")) return kind::suai;
        if (PyObject_HasAttrString(obj.ptr(), "__dlpack__")) return kind::dlpack;
        return kind::none;
    }
    // The cache keeps the type alive, so its address cannot be reused by
    // another type while it is remembered.
    Py_INCREF(reinterpret_cast<PyObject *>(t));
    if (seen[next].type) Py_DECREF(reinterpret_cast<PyObject *>(seen[next].type));
    seen[next] = {t, k};
    next = (next + 1) % seen.size();
    return k;
}

/// dtype from an array-interface typestr ("|f4", "<c16", "|b1", ...).
inline bool dtype_from_typestr(const std::string &s, dpc_dlpack_dtype &out) {
    if (s.size() < 3 || s[0] == '>') return false;
    int bytes = std::atoi(s.c_str() + 2);
    switch (s[1]) {
    case 'b': out = make_dtype(DPC_DL_BOOL, 8); return bytes == 1;
    case 'i': out = make_dtype(DPC_DL_INT, static_cast<uint8_t>(bytes * 8)); break;
    case 'u': out = make_dtype(DPC_DL_UINT, static_cast<uint8_t>(bytes * 8)); break;
    case 'f': out = make_dtype(DPC_DL_FLOAT, static_cast<uint8_t>(bytes * 8)); break;
    case 'c': out = make_dtype(DPC_DL_COMPLEX, static_cast<uint8_t>(bytes * 8)); break;
    default: return false;
    }
    return bytes > 0 && bytes <= 16;
}

inline bool to_queue(py::handle obj, queue &out);

/// The queue of a Python queue object, cached per object for the few queue
/// objects seen last (their adoption costs a runtime queue copy). The cache
/// holds a reference to each object, so an entry cannot outlive it.
inline queue cached_queue(py::handle obj) {
    using entry = detail::queue_entry;
    std::vector<entry> *cache = &detail::queue_cache();
    for (const entry &e : *cache)
        if (e.obj.ptr() == obj.ptr()) return e.q;
    arm_exit_hook();  // empties the cache before the interpreter goes
    queue q;
    if (!to_queue(obj, q)) return queue();
    if (cache->size() >= 8) cache->erase(cache->begin());
    cache->push_back({py::reinterpret_borrow<py::object>(obj), q});
    return q;
}

/// Convert a Python queue object. False when `obj` is none of the kinds;
/// raises dpcore.TypeMismatchError (a TypeError) when it is one but cannot
/// be taken.
inline bool to_queue(py::handle obj, queue &out) {
    static PyObject *key = interned("_dpc_queue");
    register_error_translator();
    if (uintptr_t h = handle_attr(obj, key)) {
        dpc_queue q = reinterpret_cast<dpc_queue>(h);
        if (dpc_status st = dpc_queue_retain(q); st != DPC_SUCCESS)
            throw type_mismatch_error("the dpcore.Queue's handle is not valid: " + last_error_message(), st);
        out = queue::adopt(q);
        return true;
    }
    py::object cap;
    if (PyCapsule_CheckExact(obj.ptr())) {
        cap = py::reinterpret_borrow<py::object>(obj);
    } else if (PyObject_HasAttrString(obj.ptr(), "_get_capsule")) {
        cap = obj.attr("_get_capsule")();
    } else {
        return false;
    }
    if (!PyCapsule_IsValid(cap.ptr(), "SyclQueueRef")) return false;
    void *native = PyCapsule_GetPointer(cap.ptr(), "SyclQueueRef");
    dpc_queue q = nullptr;
    if (dpc_status st = dpc_queue_adopt(native, &q); st != DPC_SUCCESS)
        throw type_mismatch_error("cannot adopt the SYCL queue: " + last_error_message(), st);
    out = queue::adopt(q);
    return true;
}

/// The canonical queue of the root device whose default context knows `ptr`.
inline queue queue_for_pointer(void *ptr) {
    std::size_t n = 0;
    check(dpc_device_count(&n), "dpc_device_count");
    for (std::size_t i = 0; i < n; ++i) {
        dpc_device d = nullptr;
        check(dpc_device_get(i, &d), "dpc_device_get");
        device dev = device::adopt(d);
        context ctx = context::default_for(dev);
        dpc_usm_kind k = DPC_USM_UNKNOWN;
        if (dpc_usm_get_pointer_kind(ctx.get(), ptr, &k) == DPC_SUCCESS && k != DPC_USM_UNKNOWN) {
            dpc_device owner = nullptr;
            if (k != DPC_USM_HOST && dpc_usm_get_pointer_device(ctx.get(), ptr, &owner) == DPC_SUCCESS && owner)
                return queue::default_for(device::adopt(owner));
            return queue::default_for(dev);
        }
    }
    return queue();
}

/// The ints of a tuple.
inline std::vector<int64_t> int64_tuple(PyObject *tup) {
    std::vector<int64_t> v(static_cast<std::size_t>(PyTuple_GET_SIZE(tup)));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = PyLong_AsLongLong(PyTuple_GET_ITEM(tup, i));
    if (PyErr_Occurred()) throw py::error_already_set();
    return v;
}

/// A dpcore array over memory `owner` lends (dpc_array_from_usm; the
/// reference taken here is given back by release_pyobject, exactly once).
inline usm_ndarray lend(py::handle owner, const queue &q, dpc_dlpack_dtype dt, const std::vector<int64_t> &sh,
                        const std::vector<int64_t> &st, void *ptr, uint32_t flags, origin o, py::handle producer_queue) {
    arm_exit_hook();
    Py_INCREF(owner.ptr());
    dpc_array a = nullptr;
    dpc_status s = dpc_array_from_usm(q.get(), dt, static_cast<int32_t>(sh.size()), sh.data(),
                                      st.empty() ? nullptr : st.data(), ptr, flags, release_pyobject, owner.ptr(), &a);
    if (s != DPC_SUCCESS) conversion_failed(owner, last_error_message(), s);
    usm_ndarray out(array::adopt(a), o, q);
    if (producer_queue && producer_queue.ptr() != Py_None)
        out.set_producer_queue(py::reinterpret_borrow<py::object>(producer_queue));
    return out;
}

inline usm_ndarray from_suai(py::handle obj) {
    static PyObject *k_iface = interned("__sycl_usm_array_interface__"), *k_data = interned("data"),
                    *k_shape = interned("shape"), *k_strides = interned("strides"), *k_typestr = interned("typestr"),
                    *k_offset = interned("offset"), *k_syclobj = interned("syclobj");
    PyObject *raw = PyObject_GetAttr(obj.ptr(), k_iface);
    if (!raw) throw py::error_already_set();
    py::object iface = py::reinterpret_steal<py::object>(raw);
    PyObject *d = iface.ptr();
    if (!PyDict_Check(d)) conversion_failed(obj, "__sycl_usm_array_interface__ is not a dict");
    PyObject *data = PyDict_GetItem(d, k_data), *shape = PyDict_GetItem(d, k_shape),
             *strides = PyDict_GetItem(d, k_strides), *typestr = PyDict_GetItem(d, k_typestr);
    if (!data || !PyTuple_Check(data) || PyTuple_GET_SIZE(data) != 2 || !shape || !PyTuple_Check(shape) ||
        !typestr || !PyUnicode_Check(typestr))
        conversion_failed(obj, "its __sycl_usm_array_interface__ lacks data, shape or typestr");
    dpc_dlpack_dtype dt{};
    std::string ts = PyUnicode_AsUTF8(typestr);
    if (!dtype_from_typestr(ts, dt)) conversion_failed(obj, "unsupported typestr '" + ts + "'");
    uintptr_t base = static_cast<uintptr_t>(PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(data, 0)));
    if (PyErr_Occurred()) throw py::error_already_set();
    bool read_only = PyObject_IsTrue(PyTuple_GET_ITEM(data, 1)) == 1;
    std::vector<int64_t> sh = int64_tuple(shape), st;
    if (strides && strides != Py_None) {
        if (!PyTuple_Check(strides) || static_cast<std::size_t>(PyTuple_GET_SIZE(strides)) != sh.size())
            conversion_failed(obj, "its strides do not match its shape");
        st = int64_tuple(strides);
    }
    int64_t offset = 0;
    if (PyObject *o = PyDict_GetItem(d, k_offset)) offset = PyLong_AsLongLong(o);
    if (PyErr_Occurred()) throw py::error_already_set();
    void *ptr = reinterpret_cast<void *>(base + static_cast<uintptr_t>(offset * (dt.bits / 8)));
    queue q;
    PyObject *syclobj = PyDict_GetItem(d, k_syclobj);
    if (syclobj && syclobj != Py_None) q = cached_queue(syclobj);
    if (!q) q = queue_for_pointer(ptr);
    if (!q) conversion_failed(obj, "its memory is not USM of any device dpcore knows");
    return lend(obj, q, dt, sh, st, ptr, read_only ? 0u : DPC_ARRAY_WRITABLE, origin::sycl_usm_array_interface,
                syclobj);
}

/// The tensor library's usm_ndarray read through its attributes rather than
/// __sycl_usm_array_interface__ (whose dict costs about 2 us because it
/// waits for the array's queue; dpcore orders work with barriers instead).
/// Falls back to the interface when an attribute is missing. `owner` is the
/// object to keep alive (the dpnp.ndarray, or the usm_ndarray itself).
inline usm_ndarray from_tensor(py::handle owner, py::handle t) {
    static PyObject *k_pointer = interned("_pointer"), *k_shape = interned("shape"), *k_strides = interned("strides"),
                    *k_queue = interned("sycl_queue"), *k_dtype = interned("dtype"), *k_str = interned("str"),
                    *k_flags = interned("flags"), *k_writable = interned("writable"),
                    *k_usm_type = interned("usm_type");
    auto get = [&](PyObject *o, PyObject *k) -> py::object {
        PyObject *v = PyObject_GetAttr(o, k);
        if (!v) PyErr_Clear();
        return py::reinterpret_steal<py::object>(v);
    };
    py::object ptr = get(t.ptr(), k_pointer), shape = get(t.ptr(), k_shape), strides = get(t.ptr(), k_strides),
               pq = get(t.ptr(), k_queue), dtype = get(t.ptr(), k_dtype), pyflags = get(t.ptr(), k_flags);
    py::object wr = pyflags ? get(pyflags.ptr(), k_writable) : py::object();
    if (!ptr || !shape || !PyTuple_Check(shape.ptr()) || !strides || !PyTuple_Check(strides.ptr()) || !pq ||
        !dtype || !wr)
        return from_suai(owner);
    // numpy's dtypes of the builtin types are singletons: remember what each
    // one means (the cache holds a reference, so an entry cannot go stale).
    struct dt_entry {
        py::object dtype;
        dpc_dlpack_dtype dt;
    };
    static std::vector<dt_entry> *dts = new std::vector<dt_entry>();  // never destroyed
    dpc_dlpack_dtype dt{};
    bool known = false;
    for (const dt_entry &e : *dts)
        if (e.dtype.ptr() == dtype.ptr()) {
            dt = e.dt;
            known = true;
            break;
        }
    if (!known) {
        py::object ts = get(dtype.ptr(), k_str);
        if (!ts || !PyUnicode_Check(ts.ptr())) return from_suai(owner);
        std::string tstr = PyUnicode_AsUTF8(ts.ptr());
        if (!dtype_from_typestr(tstr, dt)) conversion_failed(owner, "unsupported data type '" + tstr + "'");
        if (dts->size() < 32) dts->push_back({dtype, dt});
    }
    std::vector<int64_t> sh = int64_tuple(shape.ptr()), st = int64_tuple(strides.ptr());
    if (st.size() != sh.size()) return from_suai(owner);
    void *p = reinterpret_cast<void *>(static_cast<uintptr_t>(PyLong_AsUnsignedLongLong(ptr.ptr())));
    if (PyErr_Occurred()) throw py::error_already_set();
    queue q = cached_queue(pq);
    if (!q) return from_suai(owner);
    // The tensor library only makes arrays over USM of their queue's
    // context, of the kind usm_type names: vouch for it, which spares the
    // runtime's pointer query (about 2 us for memory dpcore did not allocate).
    uint32_t flags = PyObject_IsTrue(wr.ptr()) == 1 ? DPC_ARRAY_WRITABLE : 0u;
    py::object ut = get(t.ptr(), k_usm_type);
    if (ut && PyUnicode_Check(ut.ptr())) {
        if (PyUnicode_CompareWithASCIIString(ut.ptr(), "device") == 0) flags |= DPC_ARRAY_TRUST_DEVICE;
        else if (PyUnicode_CompareWithASCIIString(ut.ptr(), "shared") == 0) flags |= DPC_ARRAY_TRUST_SHARED;
        else if (PyUnicode_CompareWithASCIIString(ut.ptr(), "host") == 0) flags |= DPC_ARRAY_TRUST_HOST;
    }
    return lend(owner, q, dt, sh, st, p, flags, origin::usm_ndarray_attributes, pq);
}

inline py::object from_queue(const queue &q);

/// The `stream` argument for `obj.__dlpack__`, by the DLPack / array API
/// contract: the consumer names the queue it will use and the producer
/// orders its pending work before it. For a kDLOneAPI array that is a
/// dpctl.SyclQueue over the canonical queue of the array's device, the
/// queue the imported array joins (made once per device; a dpcore.Queue for
/// a dpcore.Array). None for host (kDLCPU) memory, which is ready when
/// __dlpack__ returns, and for devices dpcore does not import from.
/// `oneapi` tells whether the producer said kDLOneAPI.
inline py::object dlpack_stream(py::handle obj, bool &oneapi) {
    oneapi = false;
    PyObject *dev = PyObject_CallMethod(obj.ptr(), "__dlpack_device__", nullptr);
    if (!dev) {
        PyErr_Clear();
        return py::none();
    }
    py::object d = py::reinterpret_steal<py::object>(dev);
    if (!PyTuple_Check(dev) || PyTuple_GET_SIZE(dev) != 2) return py::none();
    long type = PyLong_AsLong(PyTuple_GET_ITEM(dev, 0)), id = PyLong_AsLong(PyTuple_GET_ITEM(dev, 1));
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return py::none();
    }
    if (type != 14 /* kDLOneAPI */) return py::none();
    oneapi = true;
    // A dpcore.Array takes a dpcore.Queue, which needs no dpctl (whose
    // import costs hundreds of milliseconds, numpy's included).
    if (kind_of(obj) == kind::dpcore)
        return from_queue(queue::default_for(device::from_dlpack_id(static_cast<int32_t>(id))));
    using entry = detail::stream_entry;
    std::vector<entry> *streams = &detail::stream_cache();
    for (const entry &e : *streams)
        if (e.id == id) return e.stream;
    py::object dpctl;
    try {
        dpctl = py::module_::import("dpctl");
    } catch (py::error_already_set &) {
        return py::none();  // no dpctl: no dpctl-based producer either
    }
    queue q = queue::default_for(device::from_dlpack_id(static_cast<int32_t>(id)));
    py::object stream = dpctl.attr("SyclQueue")(borrowed_capsule(q, q.native(), "SyclQueueRef"));
    streams->push_back({id, stream});
    return stream;
}

/// Call `obj.__dlpack__` as a consumer must: DLPack 1.x first, the legacy
/// protocol as a fallback, with the stream the producer orders its work
/// on. A producer that takes no stream is waited for through its
/// `sycl_queue`; a kDLOneAPI producer that allows neither is refused
/// (reading its memory could see stale data).
inline py::object call_dlpack(py::handle obj) {
    bool oneapi = false;
    py::object stream = dlpack_stream(obj, oneapi);
    auto attempt = [&](bool with_stream, bool versioned, py::object &out) -> bool {
        try {
            py::dict kw;
            if (with_stream && !stream.is_none()) kw["stream"] = stream;
            if (versioned) kw["max_version"] = py::make_tuple(1, 0);
            out = obj.attr("__dlpack__")(**kw);
            return true;
        } catch (py::error_already_set &e) {
            if (!e.matches(PyExc_TypeError)) conversion_failed(obj, std::string("__dlpack__ failed: ") + e.what());
            return false;
        }
    };
    py::object cap;
    if (attempt(true, true, cap) || attempt(true, false, cap)) return cap;
    // A producer that takes no stream: order by waiting for its queue.
    bool ordered = !oneapi;
    if (oneapi && PyObject_HasAttrString(obj.ptr(), "sycl_queue")) {
        try {
            obj.attr("sycl_queue").attr("wait")();
            ordered = true;
        } catch (py::error_already_set &) {
        }
    }
    if (!ordered)
        conversion_failed(obj, "its __dlpack__ takes no stream and it has no sycl_queue to wait for, so its pending "
                               "work cannot be ordered before dpcore reads the memory");
    if (attempt(false, true, cap) || attempt(false, false, cap)) return cap;
    conversion_failed(obj, "__dlpack__ refused every call (with and without max_version)");
}

inline usm_ndarray from_dlpack(py::handle obj) {
    arm_exit_hook();
    py::object cap = call_dlpack(obj);
    dpc_array a = nullptr;
    dpc_status s;
    origin o;
    if (PyCapsule_IsValid(cap.ptr(), "dltensor_versioned")) {
        auto *t = static_cast<dpc_dlpack_managed_tensor_versioned *>(
            PyCapsule_GetPointer(cap.ptr(), "dltensor_versioned"));
        PyCapsule_SetName(cap.ptr(), "used_dltensor_versioned");  // dpcore owns it now, even on failure
        gate_dlpack(t);
        s = dpc_array_from_dlpack_versioned(t, &a);
        o = origin::dlpack;
    } else if (PyCapsule_IsValid(cap.ptr(), "dltensor")) {
        auto *t = static_cast<dpc_dlpack_managed_tensor *>(PyCapsule_GetPointer(cap.ptr(), "dltensor"));
        PyCapsule_SetName(cap.ptr(), "used_dltensor");
        gate_dlpack(t);
        s = dpc_array_from_dlpack(t, &a);
        o = origin::dlpack_legacy;
    } else {
        conversion_failed(obj, "__dlpack__ did not return a DLPack capsule");
    }
    if (s != DPC_SUCCESS) conversion_failed(obj, last_error_message(), s);
    return usm_ndarray(array::adopt(a), o);
}

/// Convert a Python array object. False when `obj` is none of the kinds;
/// raises dpcore.TypeMismatchError (a TypeError) when it is one but cannot
/// be taken.
inline bool to_array(py::handle obj, usm_ndarray &out) {
    register_error_translator();
    switch (kind_of(obj)) {
    case kind::dpcore: {
        static PyObject *key = interned("_dpc_array");
        uintptr_t h = handle_attr(obj, key);
        if (!h) return false;
        dpc_array a = reinterpret_cast<dpc_array>(h);
        if (dpc_status st = dpc_array_retain(a); st != DPC_SUCCESS) conversion_failed(obj, last_error_message(), st);
        out = usm_ndarray(array::adopt(a), origin::dpcore_array);
        return true;
    }
    case kind::suai: out = from_suai(obj); return true;
    case kind::tensor: out = from_tensor(obj, obj); return true;
    case kind::dpnp: {
        static PyObject *k_inner = interned("_array_obj");
        PyObject *inner = PyObject_GetAttr(obj.ptr(), k_inner);
        if (!inner) {
            PyErr_Clear();
            out = from_suai(obj);
            return true;
        }
        py::object t = py::reinterpret_steal<py::object>(inner);
        out = from_tensor(obj, t);
        return true;
    }
    case kind::dlpack: out = from_dlpack(obj); return true;
    default: return false;
    }
}

inline py::object dpcore_module() {
    static py::object *m = nullptr;  // never destroyed: outlives the interpreter
    if (!m) m = new py::object(py::module_::import("dpcore"));
    return *m;
}

/// `w` (a dpcore wrapper: array, queue, event) as an object of the dpcore
/// Python class `cls`, which takes over a new reference through its
/// `_from_handle`; None for an empty wrapper.
template <class W>
py::object to_python(const W &w, const char *cls) {
    register_error_translator();
    if (!w) return py::none();
    W ref = w;  // a new reference, handed to Python below
    auto h = ref.get();
    py::object out = dpcore_module().attr(cls).attr("_from_handle")(reinterpret_cast<uintptr_t>(h));
    (void)ref.release();  // Python's now
    return out;
}

/// A dpcore.Array for `a` (a new reference to the same view).
inline py::object from_array(const array &a) { return to_python(a, "Array"); }
/// A dpcore.Event for `e`.
inline py::object from_event(const event &e) { return to_python(e, "Event"); }
/// A dpcore.Queue for `q`.
inline py::object from_queue(const queue &q) { return to_python(q, "Queue"); }

/// A dpctl.SyclEvent sharing `e`.
inline py::object to_dpctl_event(const event &e) {
    void *native = nullptr;
    check(dpc_event_get_native(e.get(), &native), "dpc_event_get_native");
    return py::module_::import("dpctl").attr("SyclEvent")(borrowed_capsule(e, native, "SyclEventRef"));
}

/// Tell the producers of `inputs` about work submitted on their arrays, so
/// that their own later work waits for it: for arrays that came with a
/// dpctl.SyclQueue (dpnp, dpctl), `e` is added to dpctl's
/// SequentialOrderManager of that queue, which dpnp consults before each
/// operation. A no-op for other arrays, or when dpctl is not importable.
inline void record_for_producers(std::initializer_list<const usm_ndarray *> inputs, const event &e) {
    py::object utils;
    try {
        utils = py::module_::import("dpctl.utils");
    } catch (py::error_already_set &) {
        return;
    }
    if (!py::hasattr(utils, "SequentialOrderManager")) return;
    py::object ev;
    std::vector<PyObject *> done;
    for (const usm_ndarray *a : inputs) {
        if (!a || a->producer_queue().is_none()) continue;
        PyObject *pq = a->producer_queue().ptr();
        bool seen = false;
        for (PyObject *d : done) seen = seen || d == pq;
        if (seen) continue;
        done.push_back(pq);
        if (!ev) ev = to_dpctl_event(e);
        py::object mgr = utils.attr("SequentialOrderManager")[a->producer_queue()];
        mgr.attr("add_event_pair")(ev, ev);
    }
}

namespace detail {
/// dpc_array_common_queue over `arrays`; on failure its status and message.
inline dpc_status common_queue(const std::vector<const usm_ndarray *> &arrays, queue &out, std::string &message) {
    std::vector<dpc_array> hs;
    for (const usm_ndarray *a : arrays) hs.push_back(a->get_array().get());
    dpc_queue q = nullptr;
    dpc_status st = dpc_array_common_queue(hs.data(), hs.size(), &q);
    if (st != DPC_SUCCESS) {
        message = last_error_message();
        return st;
    }
    out = queue::adopt(q);
    return DPC_SUCCESS;
}
}  // namespace detail

/// Compute follows data: the queue all `arrays` share, or
/// invalid_argument_error (a py::value_error; in Python
/// dpcore.InvalidArgumentError) listing every array's device, queue and
/// context.
inline queue common_queue(const std::vector<const usm_ndarray *> &arrays) {
    queue q;
    std::string m;
    if (dpc_status st = detail::common_queue(arrays, q, m); st != DPC_SUCCESS) throw invalid_argument_error(m, st);
    return q;
}

/// The same, naming the arguments: in the error, "array i" is followed by
/// the argument's name.
inline queue common_queue_named(const std::vector<std::pair<const char *, const usm_ndarray *>> &named) {
    std::vector<const usm_ndarray *> arrays;
    for (const auto &p : named) arrays.push_back(p.second);
    queue q;
    std::string m;
    dpc_status st = detail::common_queue(arrays, q, m);
    if (st == DPC_SUCCESS) return q;
    for (std::size_t i = named.size(); i-- > 0;) {
        std::string key = "array " + std::to_string(i);
        std::size_t at = m.find(key + ":");
        if (at != std::string::npos) m.replace(at, key.size(), key + " (" + named[i].first + ")");
    }
    throw invalid_argument_error(m, st);
}

}  // namespace python
}  // namespace v0
}  // namespace dpcore

namespace pybind11 {
namespace detail {

template <>
struct type_caster<dpcore::usm_ndarray> {
    PYBIND11_TYPE_CASTER(dpcore::usm_ndarray,
                         const_name("dpcore.usm_ndarray (dpcore.Array | __sycl_usm_array_interface__ | __dlpack__)"));
    bool load(handle src, bool) { return dpcore::python::to_array(src, value); }
    static handle cast(const dpcore::usm_ndarray &a, return_value_policy, handle) {
        return dpcore::python::from_array(a.get_array()).release();
    }
};

template <>
struct type_caster<dpcore::array> {
    PYBIND11_TYPE_CASTER(dpcore::array,
                         const_name("dpcore.Array (dpcore.Array | __sycl_usm_array_interface__ | __dlpack__)"));
    bool load(handle src, bool) {
        dpcore::usm_ndarray u;
        if (!dpcore::python::to_array(src, u)) return false;
        value = u.get_array();
        return true;
    }
    static handle cast(const dpcore::array &a, return_value_policy, handle) {
        return dpcore::python::from_array(a).release();
    }
};

template <>
struct type_caster<dpcore::event> {
    PYBIND11_TYPE_CASTER(dpcore::event, const_name("dpcore.Event"));
    bool load(handle src, bool) {
        static PyObject *key = dpcore::python::interned("_dpc_event");
        uintptr_t h = dpcore::python::handle_attr(src, key);
        if (!h) return false;
        dpc_event e = reinterpret_cast<dpc_event>(h);
        if (dpc_event_retain(e) != DPC_SUCCESS) return false;
        value = dpcore::event::adopt(e);
        return true;
    }
    static handle cast(const dpcore::event &e, return_value_policy, handle) {
        return dpcore::python::from_event(e).release();
    }
};

template <>
struct type_caster<dpcore::queue> {
    PYBIND11_TYPE_CASTER(dpcore::queue, const_name("dpcore.Queue (dpcore.Queue | dpctl.SyclQueue | SyclQueueRef)"));
    bool load(handle src, bool) { return dpcore::python::to_queue(src, value); }
    static handle cast(const dpcore::queue &q, return_value_policy, handle) {
        return dpcore::python::from_queue(q).release();
    }
};

}  // namespace detail
}  // namespace pybind11

#endif  // DPCORE_DPCORE4PYBIND11_HPP
