// dpcore4pybind11.hpp: pybind11 type casters for dpcore queues and arrays.
//
// An extension function can take `dpcore::array_view`, `dpcore::usm_ndarray`
// (or `dpcore::array`) and `dpcore::queue` parameters and return them:
//
//   - dpcore::array_view (the cheap one, for synchronous calls): a
//     borrowed, stack-only view of any of the arrays below, plus numpy
//     arrays, buffer-protocol objects and producers of the DLPack C exchange
//     API, found by a dispatch cached per Python type; no dpcore object is
//     made. array_view::keep() gives the owning usm_ndarray when the work
//     outlives the call. See the array_view section below for the paths,
//     the ordering contract and the choice of a second type.
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
// The usm_ndarray caster finds its fields through the same per-type dispatch
// and then makes its dpcore array (array_view::keep).
//
// Lifetime: the dpcore array keeps the Python producer alive (through
// DLPack's deleter, or a reference it holds for the interface path);
// dpcore::keep_alive keeps inputs alive until work submitted to a queue has
// completed, dropping them on dpcore's own thread (which takes the GIL only
// to drop the Python reference), without host tasks.
#ifndef DPCORE_DPCORE4PYBIND11_HPP
#define DPCORE_DPCORE4PYBIND11_HPP

#include <pybind11/pybind11.h>
#include <structmember.h>  // PyMemberDef (dpnp.ndarray's slot)

#include <array>
#include <atomic>
#include <exception>
#include <cstring>
#include <thread>
#include <initializer_list>
#include <memory>
#include <stdexcept>
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

// ================================================================ array_view
//
// The cheap argument type. A dpcore::array_view is what an extension takes
// for a synchronous call: a borrowed, stack-only description of the Python
// array (data pointer, shape and strides in elements, dtype, flags, where the
// memory lives and which queue it belongs to). Building one makes no dpcore
// object, takes no reference and allocates nothing for up to
// array_view::inline_ndim dimensions: the Python object it describes is kept
// alive by the caller's frame for the duration of the call, and so is
// everything the view points into. A call that outlives its arguments (work
// still running when the function returns) asks for a kept-alive dpcore
// array with keep(), which is the usm_ndarray the casters made before.
//
// Choice: usm_ndarray stays what it was (an owning, reference-counted dpcore
// array made eagerly, for existing extensions and for asynchronous calls),
// and array_view is a second type rather than a lazy usm_ndarray: a lazy
// usm_ndarray would still hold std::vector shape/strides (its accessors
// return them by reference) and a py::object, which costs allocations and
// reference counting on every call; the view avoids both and converts to a
// usm_ndarray on request.
//
// How the caster finds its way, decided once per Python type and cached
// (the entry is re-checked against the type's version tag, so a type that
// gains an attribute later is looked at again):
//   1. dpcore.Array: a type check and a read through the C API dpcore.Array
//      publishes on its type (`_dpc_capi`, python::array_capi): the handle
//      and a layout cached in the object. No attribute lookup, no C call
//      after the first cast of an object.
//   2. dpnp/dpctl tensor `usm_ndarray` (and dpnp.ndarray, through its
//      `_array_obj` slot, read at the slot's offset): the C struct of the
//      usm_ndarray and of its dpctl memory object, with the constants (flags,
//      type numbers) from the module's `__pyx_capi__`. dpcore is not compiled
//      against dpnp's headers: on first sight of the type the struct layout
//      is checked against the object's Python attributes (data pointer,
//      ndim, shape, strides, type number, flags, usm_data, sycl_queue), and a
//      type whose layout does not match takes the attribute path instead.
//   3. Any type offering the DLPack C exchange API (dlpack.h 1.3,
//      `type(x).__dlpack_c_exchange_api__`, a capsule named
//      "dlpack_exchange_api"; the older `__c_dlpack_exchange_api__`, a
//      capsule or an int, as a fallback): dltensor_from_py_object_no_sync
//      (a non-owning DLTensor filled on the stack) where the producer has it,
//      else managed_tensor_from_py_object_no_sync (the view owns the tensor
//      and calls its deleter); current_work_stream gives the producer's
//      stream.
//   4. numpy.ndarray (and subclasses): numpy's C struct (PyArrayObject_fields
//      and PyArray_Descr's type number, numpy's stable C ABI), checked on
//      first sight against the object's attributes like the usm_ndarray's.
//      Then the buffer protocol, for other types that speak it and carry no
//      __sycl_usm_array_interface__ (array.array, memoryview, ...). Both are
//      host memory.
//   5. Everything else (__sycl_usm_array_interface__, __dlpack__): the
//      usm_ndarray path, whose dpcore array the view then holds.
//
// Ordering (data handed between libraries is ordered): the view never
// waits. For device memory, get_queue() is the producer's own queue: the
// dpcore array's queue, the usm_ndarray's sycl_queue (the same queue the
// usm_ndarray path used), the exchange producer's current work stream (taken
// as a `sycl::queue*` for kDLOneAPI), or for the fallback path the queue the
// DLPack import ordered the producer's work on. Work the extension submits
// must wait for what is pending there: dpcore::depends_on_pending(q,
// {&view, ...}) gives a barrier on each such queue, exactly as it does for
// usm_ndarray today. Host memory (numpy, the buffer protocol, kDLCPU) is
// ready when the producer hands it out; the protocols have no stream.
//
// Threads: load, get_queue() for a dpnp/dpctl array, keep() and the
// destructor need the GIL (pybind11 holds it where it makes and destroys
// arguments); the accessors of the layout do not.
//
// Borrowing: the view holds no reference and, for numpy, no buffer export
// (other buffer-protocol objects: the export is held until the view goes).
// An extension that releases the GIL while another Python thread could
// resize the very numpy array it was given (ndarray.resize with
// refcheck=False) must keep() it first, as it must for any work that
// outlives the call.
namespace dpcore {
inline namespace v0 {

namespace python {
/// The C API dpcore.Array publishes on its type as `_dpc_capi`, a capsule
/// named array_capi_name. `layout` gives the array's handle and layout,
/// borrowed from `obj` (an instance of dpcore.Array; call with the GIL);
/// non-zero when the object holds no array.
struct array_capi {
    uint32_t version;
    uint32_t size;
    int (*layout)(PyObject *obj, dpc_array *handle_out, const dpc_array_layout **layout_out);
};
constexpr uint32_t array_capi_version = 1;
constexpr const char *array_capi_name = "dpcore.Array._dpc_capi";

/// The DLPack C exchange API of dlpack.h 1.3 (DLPackExchangeAPIHeader and
/// DLPackExchangeAPI), over dpcore.h's DLPack structs (same layouts).
struct dlpack_exchange_api_header {
    dpc_dlpack_version version;
    dlpack_exchange_api_header *prev_api;
};
struct dlpack_exchange_api {
    dlpack_exchange_api_header header;
    int (*managed_tensor_allocator)(dpc_dlpack_tensor *prototype, dpc_dlpack_managed_tensor_versioned **out,
                                    void *error_ctx, void (*set_error)(void *, const char *, const char *));
    int (*managed_tensor_from_py_object_no_sync)(void *py_object, dpc_dlpack_managed_tensor_versioned **out);
    int (*managed_tensor_to_py_object_no_sync)(dpc_dlpack_managed_tensor_versioned *tensor, void **out_py_object);
    int (*dltensor_from_py_object_no_sync)(void *py_object, dpc_dlpack_tensor *out);  // may be NULL
    int (*current_work_stream)(int32_t device_type, int32_t device_id, void **out_current_stream);
};
constexpr const char *dlpack_exchange_api_capsule = "dlpack_exchange_api";

struct view_loader;
}  // namespace python

class DPCORE_PY_HIDDEN array_view {
public:
    /// Where the view's fields were read from.
    enum class source : uint8_t { none, dpcore_array, usm_ndarray, exchange_api, numpy, buffer, imported };
    /// Dimensions held without an allocation.
    static constexpr int inline_ndim = 8;

    array_view() noexcept = default;
    array_view(array_view &&o) noexcept { take(o); }
    array_view &operator=(array_view &&o) noexcept {
        if (this != &o) {
            reset();
            take(o);
        }
        return *this;
    }
    array_view(const array_view &) = delete;
    array_view &operator=(const array_view &) = delete;
    ~array_view() { reset(); }

    int ndim() const noexcept { return ndim_; }
    /// ndim() extents, then (strides_data) ndim() strides in elements.
    const int64_t *shape_data() const noexcept { return big_ ? big_.get() : dims_; }
    const int64_t *strides_data() const noexcept { return shape_data() + ndim_; }
    int64_t shape(int i) const { return shape_data()[index(i)]; }
    int64_t stride(int i) const { return strides_data()[index(i)]; }
    int64_t size() const noexcept {
        int64_t n = 1;
        for (int i = 0; i < ndim_; ++i) n *= shape_data()[i];
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
    /// `dpc_usm_kind` of device memory when the producer says it (dpcore and
    /// dpnp/dpctl arrays); DPC_USM_UNKNOWN otherwise.
    int32_t usm_kind() const noexcept { return usm_kind_; }
    /// The DLPack device type: DPC_DL_CPU for host memory, DPC_DL_ONEAPI
    /// for USM.
    int32_t device_type() const noexcept { return device_type_; }
    bool is_host() const noexcept { return device_type_ == DPC_DL_CPU; }
    void *raw_data() const noexcept { return data_; }
    /// Element (0, ..., 0) as T*; throws dpcore::error unless the array holds T.
    template <class T>
    T *data() const {
        if (!is_type<T>())
            throw error(DPC_ERROR_INVALID_ARGUMENT, "dpcore::array_view::data<T>: the array holds " + dtype_name() +
                                                        ", not " + dpcore::dtype_name(dtype_of<T>()));
        return static_cast<T *>(data_);
    }
    source get_source() const noexcept { return src_; }
    /// The Python object the view describes (borrowed).
    pybind11::handle object() const noexcept { return obj_; }
    /// The producer's Python queue (a dpctl.SyclQueue for dpnp/dpctl
    /// arrays), borrowed; a null handle when there is none.
    pybind11::handle producer_queue() const noexcept { return pyqueue_; }
    /// An exchange-API producer's current work stream for the array's
    /// device (NULL for host memory or another source).
    void *work_stream() const noexcept { return stream_; }
    /// The dpcore array behind a dpcore.Array (borrowed from the object), or
    /// the imported one; NULL for other sources.
    dpc_array handle() const noexcept;

    /// The queue the producer's pending work is on, to run on and to order
    /// after (see depends_on_pending); an empty queue for host memory.
    queue get_queue() const;
    /// A kept-alive, reference-counted dpcore array for the same memory
    /// (keeps the Python object alive): what an asynchronous call keeps. For
    /// dpcore.Array a retain; otherwise the usm_ndarray path (ordered as
    /// usm_ndarray always is).
    usm_ndarray keep() const;

private:
    friend struct python::view_loader;
    std::size_t index(int i) const {
        if (i < 0 || i >= ndim_) throw std::out_of_range("dpcore::array_view: axis " + std::to_string(i) +
                                                         " of a " + std::to_string(ndim_) + "-D array");
        return static_cast<std::size_t>(i);
    }
    /// Room for nd extents and nd strides.
    int64_t *dims(int nd) {
        ndim_ = nd;
        if (nd <= inline_ndim) {
            big_.reset();
            return dims_;
        }
        big_.reset(new int64_t[2 * static_cast<std::size_t>(nd)]);
        return big_.get();
    }
    void reset() noexcept;
    void take(array_view &o) noexcept {
        obj_ = o.obj_;
        pyqueue_ = o.pyqueue_;
        stream_ = o.stream_;
        handle_ = o.handle_;
        data_ = o.data_;
        ndim_ = o.ndim_;
        dtype_ = o.dtype_;
        flags_ = o.flags_;
        usm_kind_ = o.usm_kind_;
        device_type_ = o.device_type_;
        device_id_ = o.device_id_;
        src_ = o.src_;
        std::memcpy(dims_, o.dims_, sizeof dims_);
        big_ = std::move(o.big_);
        has_buf_ = o.has_buf_;
        if (has_buf_) buf_ = o.buf_;
        managed_ = o.managed_;
        imported_ = std::move(o.imported_);
        o.has_buf_ = false;
        o.managed_ = nullptr;
        o.src_ = source::none;
        o.ndim_ = 0;
    }

    PyObject *obj_ = nullptr;
    PyObject *pyqueue_ = nullptr;
    void *stream_ = nullptr;
    dpc_array handle_ = nullptr;
    void *data_ = nullptr;
    int32_t ndim_ = 0;
    dpc_dlpack_dtype dtype_{};
    uint32_t flags_ = 0;
    int32_t usm_kind_ = 0;
    int32_t device_type_ = DPC_DL_CPU;
    int32_t device_id_ = 0;
    source src_ = source::none;
    bool has_buf_ = false;
    int64_t dims_[2 * inline_ndim];
    std::unique_ptr<int64_t[]> big_;
    Py_buffer buf_;
    dpc_dlpack_managed_tensor_versioned *managed_ = nullptr;
    std::unique_ptr<usm_ndarray> imported_;
};

namespace python {
namespace detail_view {

/// DPC_ARRAY_C_CONTIGUOUS / F_CONTIGUOUS of a layout (strides in elements;
/// extents of 1 do not matter; an empty array is both).
inline uint32_t contiguity(int nd, const int64_t *sh, const int64_t *st) {
    bool empty = false;
    for (int i = 0; i < nd; ++i) empty = empty || sh[i] == 0;
    if (empty) return DPC_ARRAY_C_CONTIGUOUS | DPC_ARRAY_F_CONTIGUOUS;
    uint32_t f = 0;
    int64_t want = 1;
    bool c = true;
    for (int i = nd; i-- > 0;) {
        if (sh[i] != 1 && st[i] != want) c = false;
        want *= sh[i];
    }
    want = 1;
    bool fo = true;
    for (int i = 0; i < nd; ++i) {
        if (sh[i] != 1 && st[i] != want) fo = false;
        want *= sh[i];
    }
    if (c) f |= DPC_ARRAY_C_CONTIGUOUS;
    if (fo) f |= DPC_ARRAY_F_CONTIGUOUS;
    return f;
}

/// C-order strides (elements) for `sh`, as the tensor library computes
/// them when it stores none (an extent of 0 makes the outer strides 0).
inline void c_strides(int nd, const int64_t *sh, int64_t *st) {
    int64_t s = 1;
    for (int i = nd; i-- > 0;) {
        st[i] = s;
        s *= sh[i];
    }
}
/// The same in Fortran order.
inline void f_strides(int nd, const int64_t *sh, int64_t *st) {
    int64_t s = 1;
    for (int i = 0; i < nd; ++i) {
        st[i] = s;
        s *= sh[i];
    }
}
/// A usm_ndarray's strides when it stores none: it is then C- or
/// F-contiguous, as its flags say (C first, as the library reads them).
/// False when neither flag is set.
inline bool implied_strides(int nd, const int64_t *sh, int64_t *st, int flags, int c_flag, int f_flag) {
    if (flags & c_flag) c_strides(nd, sh, st);
    else if (flags & f_flag) f_strides(nd, sh, st);
    else return false;
    return true;
}

// The C structs of the tensor library's usm_ndarray and of dpctl's memory
// objects, as Cython lays them out (dpnp/tensor/_usmarray.h,
// dpctl/memory/_memory.h). Only used after check_tensor_layout has compared
// them with the object's attributes.
struct usm_ndarray_mirror {
    PyObject_HEAD
    void *vtab;
    char *data_;
    int nd_;
    Py_ssize_t *shape_;
    Py_ssize_t *strides_;
    int typenum_;
    int flags_;
    PyObject *base_;
    PyObject *array_namespace_;
    PyObject *weakref_;
};
struct memory_mirror {
    PyObject_HEAD
    void *vtab;
    void *memory_ptr;
    void *opaque_ptr;
    Py_ssize_t nbytes;
    PyObject *queue;
    PyObject *refobj;
};

/// What the tensor library's module says (its __pyx_capi__ constants) and
/// which of its memory types have been checked.
struct tensor_lib {
    // What every load reads first, in the first cache line.
    PyTypeObject *type = nullptr;  // usm_ndarray (a reference held)
    int c_contig = 0, f_contig = 0, writable = 0;
    int n_mems = 0;
    struct mem {
        PyTypeObject *type;  // a reference held
        int32_t usm_kind;
    };
    mem mems[6]{};
    dpc_dlpack_dtype dtypes[64]{};  // 0 bits: a type number dpcore does not take
};
inline std::vector<tensor_lib *> &tensor_libs() {
    static std::vector<tensor_lib *> *v = new std::vector<tensor_lib *>();  // never destroyed
    return *v;
}

/// An int constant from a Cython module's __pyx_capi__ (a capsule whose
/// name is its C type), or false.
inline bool pyx_int(PyObject *capi, const char *name, int &out) {
    PyObject *cap = PyDict_GetItemString(capi, name);
    if (!cap || !PyCapsule_IsValid(cap, "int")) return false;
    out = *static_cast<int *>(PyCapsule_GetPointer(cap, "int"));
    return true;
}

/// A Python attribute, or a null object (error cleared).
inline py::object attr_or_null(PyObject *o, const char *name) {
    PyObject *v = PyObject_GetAttrString(o, name);
    if (!v) PyErr_Clear();
    return py::reinterpret_steal<py::object>(v);
}

inline bool same_int(PyObject *v, long long x) {
    if (!v || !PyLong_Check(v)) return false;
    long long y = PyLong_AsLongLong(v);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return false;
    }
    return x == y;
}

/// Check `mem` (the usm_data of `arr`) against memory_mirror: its queue and
/// pointer as Python sees them. Adds its type to `lib` when they match.
inline bool check_memory_layout(tensor_lib &lib, PyObject *arr, PyObject *mem) {
    PyTypeObject *mt = Py_TYPE(mem);
    for (int i = 0; i < lib.n_mems; ++i)
        if (lib.mems[i].type == mt) return true;
    if (lib.n_mems == 6 || mt->tp_basicsize != static_cast<Py_ssize_t>(sizeof(memory_mirror))) return false;
    auto *m = reinterpret_cast<memory_mirror *>(mem);
    py::object q = attr_or_null(arr, "sycl_queue"), ptr = attr_or_null(mem, "_pointer"),
               ut = attr_or_null(mem, "get_usm_type");
    if (!q || m->queue != q.ptr() || !ptr || !same_int(ptr.ptr(), static_cast<long long>(
                                                                    reinterpret_cast<uintptr_t>(m->memory_ptr))))
        return false;
    int32_t kind = DPC_USM_UNKNOWN;
    if (ut) {
        PyObject *s = PyObject_CallNoArgs(ut.ptr());
        if (!s) PyErr_Clear();
        py::object so = py::reinterpret_steal<py::object>(s);
        if (so && PyUnicode_Check(so.ptr())) {
            if (PyUnicode_CompareWithASCIIString(so.ptr(), "device") == 0) kind = DPC_USM_DEVICE;
            else if (PyUnicode_CompareWithASCIIString(so.ptr(), "shared") == 0) kind = DPC_USM_SHARED;
            else if (PyUnicode_CompareWithASCIIString(so.ptr(), "host") == 0) kind = DPC_USM_HOST;
        }
    }
    Py_INCREF(reinterpret_cast<PyObject *>(mt));
    lib.mems[lib.n_mems++] = {mt, kind};
    return true;
}

/// On first sight of a usm_ndarray type: the constants from its module and
/// a check of usm_ndarray_mirror against `obj`'s attributes. NULL when the
/// layout cannot be trusted (the type then takes the attribute path).
inline tensor_lib *check_tensor_layout(PyObject *obj) {
    PyTypeObject *t = Py_TYPE(obj);
    for (tensor_lib *l : tensor_libs())
        if (l->type == t) return l;
    if (t->tp_basicsize != static_cast<Py_ssize_t>(sizeof(usm_ndarray_mirror))) return nullptr;
    py::object modname = attr_or_null(reinterpret_cast<PyObject *>(t), "__module__");
    if (!modname || !PyUnicode_Check(modname.ptr())) return nullptr;
    PyObject *mod = PyImport_Import(modname.ptr());
    if (!mod) {
        PyErr_Clear();
        return nullptr;
    }
    py::object m = py::reinterpret_steal<py::object>(mod);
    py::object capi = attr_or_null(mod, "__pyx_capi__");
    if (!capi || !PyDict_Check(capi.ptr())) return nullptr;
    auto lib = std::unique_ptr<tensor_lib>(new tensor_lib());
    PyObject *d = capi.ptr();
    if (!pyx_int(d, "USM_ARRAY_C_CONTIGUOUS", lib->c_contig) || !pyx_int(d, "USM_ARRAY_F_CONTIGUOUS", lib->f_contig) ||
        !pyx_int(d, "USM_ARRAY_WRITABLE", lib->writable))
        return nullptr;
    struct named {
        const char *name;
        uint8_t code;
        uint8_t bits;
    };
    const named types[] = {
        {"UAR_BOOL", DPC_DL_BOOL, 8},
        {"UAR_BYTE", DPC_DL_INT, 8},
        {"UAR_UBYTE", DPC_DL_UINT, 8},
        {"UAR_SHORT", DPC_DL_INT, 16},
        {"UAR_USHORT", DPC_DL_UINT, 16},
        {"UAR_INT", DPC_DL_INT, 8 * sizeof(int)},
        {"UAR_UINT", DPC_DL_UINT, 8 * sizeof(unsigned)},
        {"UAR_LONG", DPC_DL_INT, 8 * sizeof(long)},
        {"UAR_ULONG", DPC_DL_UINT, 8 * sizeof(unsigned long)},
        {"UAR_LONGLONG", DPC_DL_INT, 8 * sizeof(long long)},
        {"UAR_ULONGLONG", DPC_DL_UINT, 8 * sizeof(unsigned long long)},
        {"UAR_HALF", DPC_DL_FLOAT, 16},
        {"UAR_FLOAT", DPC_DL_FLOAT, 32},
        {"UAR_DOUBLE", DPC_DL_FLOAT, 64},
        {"UAR_CFLOAT", DPC_DL_COMPLEX, 64},
        {"UAR_CDOUBLE", DPC_DL_COMPLEX, 128},
    };
    for (const named &n : types) {
        int num = -1;
        if (pyx_int(d, n.name, num) && num >= 0 && num < 64) {
            lib->dtypes[num] = make_dtype(n.code, n.bits);
        }
    }
    // The struct against what Python says about this object.
    auto *u = reinterpret_cast<usm_ndarray_mirror *>(obj);
    py::object nd = attr_or_null(obj, "ndim"), ptr = attr_or_null(obj, "_pointer"), shape = attr_or_null(obj, "shape"),
               strides = attr_or_null(obj, "strides"), dtype = attr_or_null(obj, "dtype"),
               flags = attr_or_null(obj, "flags"), usm = attr_or_null(obj, "usm_data");
    py::object num = dtype ? attr_or_null(dtype.ptr(), "num") : py::object();
    py::object wr = flags ? attr_or_null(flags.ptr(), "writable") : py::object();
    if (!nd || !same_int(nd.ptr(), u->nd_) || u->nd_ < 0 || !ptr ||
        !same_int(ptr.ptr(), static_cast<long long>(reinterpret_cast<uintptr_t>(u->data_))) || !shape ||
        !PyTuple_Check(shape.ptr()) || PyTuple_GET_SIZE(shape.ptr()) != u->nd_ || !strides ||
        !PyTuple_Check(strides.ptr()) || PyTuple_GET_SIZE(strides.ptr()) != u->nd_ || !num ||
        !same_int(num.ptr(), u->typenum_) || !wr || !usm || usm.ptr() != u->base_)
        return nullptr;
    if (u->nd_ > 0 && !u->shape_) return nullptr;
    std::vector<int64_t> cst(static_cast<std::size_t>(u->nd_));
    std::vector<int64_t> sh(static_cast<std::size_t>(u->nd_));
    for (int i = 0; i < u->nd_; ++i) sh[i] = u->shape_[i];
    if (!u->strides_ && !implied_strides(u->nd_, sh.data(), cst.data(), u->flags_, lib->c_contig, lib->f_contig))
        return nullptr;
    for (int i = 0; i < u->nd_; ++i) {
        int64_t s = u->strides_ ? u->strides_[i] : cst[i];
        if (!same_int(PyTuple_GET_ITEM(shape.ptr(), i), sh[i]) || !same_int(PyTuple_GET_ITEM(strides.ptr(), i), s))
            return nullptr;
    }
    if ((PyObject_IsTrue(wr.ptr()) == 1) != ((u->flags_ & lib->writable) != 0)) return nullptr;
    if (!check_memory_layout(*lib, obj, u->base_)) return nullptr;
    Py_INCREF(reinterpret_cast<PyObject *>(t));
    lib->type = t;
    tensor_libs().push_back(lib.get());
    return lib.release();
}

// numpy's ndarray and dtype structs as far as dpcore reads them (numpy's
// public C ABI, PyArrayObject_fields and PyArray_Descr: the same prefix in
// numpy 1.x and 2.x), checked on first sight against the object's attributes.
struct numpy_array_mirror {
    PyObject_HEAD
    char *data;
    int nd;
    Py_ssize_t *dimensions;
    Py_ssize_t *strides;
    PyObject *base;
    PyObject *descr;
    int flags;
};
struct numpy_descr_mirror {
    PyObject_HEAD
    PyTypeObject *typeobj;
    char kind;
    char type;
    char byteorder;
    char flags_;
    int type_num;
};
/// numpy's C constants (its stable ABI): array flags and the type numbers.
constexpr int npy_c_contiguous = 0x1, npy_f_contiguous = 0x2, npy_writeable = 0x400;
struct numpy_lib {
    PyTypeObject *type = nullptr;  // numpy.ndarray (a reference held)
    dpc_dlpack_dtype dtypes[24]{};
    int itemsize[24]{};
};
inline numpy_lib *&numpy_checked() {
    static numpy_lib *n = nullptr;  // never destroyed
    return n;
}

/// On first sight of numpy.ndarray: the struct against `obj`'s attributes.
/// NULL when it does not match (numpy arrays then take the buffer protocol).
inline numpy_lib *check_numpy_layout(PyObject *obj) {
    PyTypeObject *t = Py_TYPE(obj);
    if (numpy_checked()) return numpy_checked()->type == t ? numpy_checked() : nullptr;
    if (std::strcmp(t->tp_name, "numpy.ndarray") != 0 ||
        t->tp_basicsize < static_cast<Py_ssize_t>(sizeof(numpy_array_mirror)))
        return nullptr;
    auto *a = reinterpret_cast<numpy_array_mirror *>(obj);
    py::object nd = attr_or_null(obj, "ndim"), shape = attr_or_null(obj, "shape"),
               strides = attr_or_null(obj, "strides"), dtype = attr_or_null(obj, "dtype"),
               flags = attr_or_null(obj, "flags"), iface = attr_or_null(obj, "__array_interface__");
    py::object num = dtype ? attr_or_null(dtype.ptr(), "num") : py::object();
    py::object wr = flags ? attr_or_null(flags.ptr(), "writeable") : py::object();
    PyObject *data = iface && PyDict_Check(iface.ptr()) ? PyDict_GetItemString(iface.ptr(), "data") : nullptr;
    if (!nd || !same_int(nd.ptr(), a->nd) || a->nd < 0 || !shape || !PyTuple_Check(shape.ptr()) ||
        PyTuple_GET_SIZE(shape.ptr()) != a->nd || !strides || !PyTuple_Check(strides.ptr()) ||
        PyTuple_GET_SIZE(strides.ptr()) != a->nd || !num || !a->descr || Py_TYPE(a->descr) != Py_TYPE(dtype.ptr()) ||
        a->descr != dtype.ptr() || !same_int(num.ptr(), reinterpret_cast<numpy_descr_mirror *>(a->descr)->type_num) ||
        !wr || !data || !PyTuple_Check(data) || PyTuple_GET_SIZE(data) != 2 ||
        !same_int(PyTuple_GET_ITEM(data, 0), static_cast<long long>(reinterpret_cast<uintptr_t>(a->data))))
        return nullptr;
    for (int i = 0; i < a->nd; ++i)
        if (!same_int(PyTuple_GET_ITEM(shape.ptr(), i), a->dimensions[i]) ||
            !same_int(PyTuple_GET_ITEM(strides.ptr(), i), a->strides[i]))
            return nullptr;
    if ((PyObject_IsTrue(wr.ptr()) == 1) != ((a->flags & npy_writeable) != 0)) return nullptr;
    auto lib = std::unique_ptr<numpy_lib>(new numpy_lib());
    auto set = [&](int n, uint8_t code, int bytes) {
        lib->dtypes[n] = make_dtype(code, static_cast<uint8_t>(8 * bytes));
        lib->itemsize[n] = bytes;
    };
    set(0, DPC_DL_BOOL, 1);
    set(1, DPC_DL_INT, 1);
    set(2, DPC_DL_UINT, 1);
    set(3, DPC_DL_INT, 2);
    set(4, DPC_DL_UINT, 2);
    set(5, DPC_DL_INT, sizeof(int));
    set(6, DPC_DL_UINT, sizeof(unsigned));
    set(7, DPC_DL_INT, sizeof(long));
    set(8, DPC_DL_UINT, sizeof(unsigned long));
    set(9, DPC_DL_INT, sizeof(long long));
    set(10, DPC_DL_UINT, sizeof(unsigned long long));
    set(11, DPC_DL_FLOAT, 4);
    set(12, DPC_DL_FLOAT, 8);
    set(14, DPC_DL_COMPLEX, 8);
    set(15, DPC_DL_COMPLEX, 16);
    set(23, DPC_DL_FLOAT, 2);
    Py_INCREF(reinterpret_cast<PyObject *>(t));
    lib->type = t;
    numpy_checked() = lib.release();
    return numpy_checked();
}

/// The offset of a dpnp.ndarray's `_array_obj` slot, or -1.
inline Py_ssize_t slot_offset(PyTypeObject *t, const char *name) {
    py::object d = attr_or_null(reinterpret_cast<PyObject *>(t), name);
    if (!d || Py_TYPE(d.ptr()) != &PyMemberDescr_Type) return -1;
    PyMemberDef *m = reinterpret_cast<PyMemberDescrObject *>(d.ptr())->d_member;
    if (!m || m->type != 16 /* T_OBJECT_EX */ || m->offset <= 0) return -1;
    return m->offset;
}

/// The DLPack exchange API a type offers, or NULL.
inline const dlpack_exchange_api *exchange_api_of(PyTypeObject *t) {
    for (const char *name : {"__dlpack_c_exchange_api__", "__c_dlpack_exchange_api__"}) {
        py::object a = attr_or_null(reinterpret_cast<PyObject *>(t), name);
        if (!a) continue;
        void *p = nullptr;
        if (PyCapsule_IsValid(a.ptr(), dlpack_exchange_api_capsule)) {
            p = PyCapsule_GetPointer(a.ptr(), dlpack_exchange_api_capsule);
        } else if (PyLong_Check(a.ptr())) {
            p = PyLong_AsVoidPtr(a.ptr());
            if (PyErr_Occurred()) PyErr_Clear();
        }
        // The first API in the chain of a major version dpcore reads (1).
        auto *h = static_cast<dlpack_exchange_api_header *>(p);
        while (h && h->version.major > 1) h = h->prev_api;
        if (h && h->version.major == 1) {
            auto *api = reinterpret_cast<const dlpack_exchange_api *>(h);
            if ((api->dltensor_from_py_object_no_sync || api->managed_tensor_from_py_object_no_sync) &&
                api->current_work_stream)
                return api;
        }
    }
    return nullptr;
}

/// How the view loader takes objects of one Python type.
enum class vkind : uint8_t { none, dpcore, tensor, dpnp, exchange, numpy, buffer, slow };
struct type_entry {
    PyTypeObject *type = nullptr;  // a reference held while cached
    const void *aux = nullptr;     // array_capi, tensor_lib, dlpack_exchange_api or numpy_lib
    int32_t offset = 0;            // dpnp.ndarray's _array_obj slot
    unsigned int tag = 0;          // tp_version_tag when cached
    vkind k = vkind::none;
};
/// 32 entries of 32 bytes, found by a hash of the type's address and up to
/// 4 probes: a hit usually touches one cache line.
struct type_cache {
    static constexpr std::size_t size = 32, probes = 4;
    alignas(64) std::array<type_entry, size> e{};
    std::size_t evict = 0;
    static std::size_t home(const PyTypeObject *t) noexcept {
        auto x = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(t));
        return static_cast<std::size_t>((x * 0x9E3779B97F4A7C15ull) >> 59);  // 5 bits
    }
};
inline type_cache &types() {
    static type_cache *c = new type_cache();  // never destroyed: holds type references for the process
    return *c;
}

}  // namespace detail_view

/// Fills array_views (the caster's work).
struct view_loader {
    using vkind = detail_view::vkind;
    using entry = detail_view::type_entry;

    /// Decide, once per type, how to take its objects.
    static entry classify(PyObject *obj) {
        PyTypeObject *t = Py_TYPE(obj);
        PyObject *tp = reinterpret_cast<PyObject *>(t);
        entry e;
        e.type = t;
        // dpcore.Array (or a subclass): its C API capsule.
        {
            py::object cap = detail_view::attr_or_null(tp, "_dpc_capi");
            if (cap && PyCapsule_IsValid(cap.ptr(), array_capi_name)) {
                auto *api = static_cast<const array_capi *>(PyCapsule_GetPointer(cap.ptr(), array_capi_name));
                // The capsule's context is dpcore.Array itself: only its
                // instances (and subclasses') are read through the API.
                auto *owner = static_cast<PyTypeObject *>(PyCapsule_GetContext(cap.ptr()));
                if (api && api->version >= 1 && api->size >= sizeof(array_capi) && owner &&
                    PyType_IsSubtype(t, owner)) {
                    e.k = vkind::dpcore;
                    e.aux = api;
                    return e;
                }
            }
        }
        kind k = tensor_kind(t);
        if (k == kind::tensor) {
            detail_view::tensor_lib *lib = detail_view::check_tensor_layout(obj);
            e.k = lib ? vkind::tensor : vkind::slow;
            e.aux = lib;
            return e;
        }
        if (k == kind::dpnp) {
            Py_ssize_t off = detail_view::slot_offset(t, "_array_obj");
            PyObject *inner = off > 0 ? *reinterpret_cast<PyObject **>(reinterpret_cast<char *>(obj) + off) : nullptr;
            detail_view::tensor_lib *lib =
                inner && tensor_kind(Py_TYPE(inner)) == kind::tensor ? detail_view::check_tensor_layout(inner) : nullptr;
            e.k = lib ? vkind::dpnp : vkind::slow;
            e.aux = lib;
            e.offset = static_cast<int32_t>(off);
            return e;
        }
        if (const dlpack_exchange_api *api = detail_view::exchange_api_of(t)) {
            e.k = vkind::exchange;
            e.aux = api;
            return e;
        }
        // numpy.ndarray and its subclasses: numpy's struct (checked once).
        {
            PyTypeObject *np_type = detail_view::numpy_checked() ? detail_view::numpy_checked()->type : nullptr;
            if (!np_type && std::strcmp(t->tp_name, "numpy.ndarray") == 0 && detail_view::check_numpy_layout(obj))
                np_type = t;
            if (np_type && PyType_IsSubtype(t, np_type)) {
                e.k = vkind::numpy;
                e.aux = detail_view::numpy_checked();
                return e;
            }
        }
        if (t->tp_as_buffer && t->tp_as_buffer->bf_getbuffer &&
            !PyObject_HasAttrString(tp, "__sycl_usm_array_interface__")) {
            e.k = vkind::buffer;
            return e;
        }
        e.k = vkind::slow;
        return e;
    }

    static entry lookup(PyObject *obj) {
        using cache = detail_view::type_cache;
        PyTypeObject *t = Py_TYPE(obj);
        cache &c = detail_view::types();
        const std::size_t h = cache::home(t);
        const bool tagged = (t->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) != 0;
        for (std::size_t i = 0; i < cache::probes; ++i) {
            const entry &e = c.e[(h + i) % cache::size];
            if (e.type == t) {
                if (tagged && e.tag == t->tp_version_tag) return e;
                break;  // the type changed (or has no tag): look again
            }
        }
        entry e = classify(obj);
        e.tag = (t->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) ? t->tp_version_tag : 0;
        if (!(t->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG)) return e;  // not cached
        entry *slot = nullptr;
        for (std::size_t i = 0; i < cache::probes && !slot; ++i) {
            entry &s = c.e[(h + i) % cache::size];
            if (s.type == t) {  // replace a stale entry in place (it holds the reference)
                s = e;
                return e;
            }
            if (!s.type) slot = &s;
        }
        if (!slot) slot = &c.e[(h + c.evict++ % cache::probes) % cache::size];
        Py_INCREF(reinterpret_cast<PyObject *>(t));
        PyTypeObject *old = slot->type;
        *slot = e;
        if (old) Py_DECREF(reinterpret_cast<PyObject *>(old));  // may run code: the slot is consistent first
        return e;
    }

    static void from_dpcore(const array_capi *api, PyObject *obj, array_view &v) {
        dpc_array h = nullptr;
        const dpc_array_layout *l = nullptr;
        if (api->layout(obj, &h, &l) != 0) {
            PyErr_Clear();
            conversion_failed(obj, "the dpcore.Array holds no array (" + last_error_message() + ")");
        }
        int64_t *d = v.dims(l->ndim);
        std::memcpy(d, l->shape, sizeof(int64_t) * static_cast<std::size_t>(l->ndim));
        std::memcpy(d + l->ndim, l->strides, sizeof(int64_t) * static_cast<std::size_t>(l->ndim));
        v.obj_ = obj;
        v.handle_ = h;
        v.data_ = l->data;
        v.dtype_ = l->dtype;
        v.flags_ = l->flags & (DPC_ARRAY_WRITABLE | DPC_ARRAY_C_CONTIGUOUS | DPC_ARRAY_F_CONTIGUOUS);
        v.usm_kind_ = l->usm_kind;
        v.device_type_ = l->usm_kind == DPC_USM_UNKNOWN ? DPC_DL_CPU : DPC_DL_ONEAPI;
        v.src_ = array_view::source::dpcore_array;
    }

    /// A usm_ndarray's struct; false when something does not fit the checked
    /// layout (the caller takes the slow path).
    static bool from_tensor(const detail_view::tensor_lib &lib, PyObject *owner, PyObject *t, array_view &v) {
        auto *u = reinterpret_cast<detail_view::usm_ndarray_mirror *>(t);
        PyObject *base = u->base_;
        if (!base) return false;
        const detail_view::tensor_lib::mem *mem = nullptr;
        for (int i = 0; i < lib.n_mems; ++i)
            if (lib.mems[i].type == Py_TYPE(base)) mem = &lib.mems[i];
        if (!mem) {
            if (!detail_view::check_memory_layout(const_cast<detail_view::tensor_lib &>(lib), t, base)) return false;
            return from_tensor(lib, owner, t, v);
        }
        const int tn = u->typenum_;
        if (tn < 0 || tn >= 64 || lib.dtypes[tn].bits == 0) return false;  // the slow path names the type
        const int nd = u->nd_;
        if (nd < 0 || nd > DPC_ARRAY_MAX_NDIM || (nd > 0 && !u->shape_)) return false;
        int64_t *d = v.dims(nd);
        for (int i = 0; i < nd; ++i) d[i] = u->shape_[i];
        if (u->strides_) {
            for (int i = 0; i < nd; ++i) d[nd + i] = u->strides_[i];
        } else if (!detail_view::implied_strides(nd, d, d + nd, u->flags_, lib.c_contig, lib.f_contig)) {
            return false;
        }
        uint32_t f = 0;
        if (u->flags_ & lib.writable) f |= DPC_ARRAY_WRITABLE;
        if (u->flags_ & lib.c_contig) f |= DPC_ARRAY_C_CONTIGUOUS;
        if (u->flags_ & lib.f_contig) f |= DPC_ARRAY_F_CONTIGUOUS;
        v.obj_ = owner;
        v.pyqueue_ = reinterpret_cast<detail_view::memory_mirror *>(base)->queue;
        v.data_ = u->data_;
        v.dtype_ = lib.dtypes[tn];
        v.flags_ = f;
        v.usm_kind_ = mem->usm_kind;
        v.device_type_ = DPC_DL_ONEAPI;
        v.src_ = array_view::source::usm_ndarray;
        return true;
    }

    /// Fill from a DLTensor an exchange producer handed out; false for a
    /// device dpcore does not describe without an import (the caller takes
    /// the slow path).
    static bool from_dltensor(const dpc_dlpack_tensor &t, bool writable, PyObject *obj, array_view &v) {
        if (t.device.device_type != DPC_DL_CPU && t.device.device_type != DPC_DL_ONEAPI) return false;
        if (t.dtype.lanes != 1) conversion_failed(obj, "vector data types (lanes != 1) are not supported");
        if (t.ndim < 0 || t.ndim > DPC_ARRAY_MAX_NDIM || (t.ndim > 0 && !t.shape))
            conversion_failed(obj, "its DLTensor has no valid shape");
        int64_t *d = v.dims(t.ndim);
        std::memcpy(d, t.shape, sizeof(int64_t) * static_cast<std::size_t>(t.ndim));
        if (t.strides)
            std::memcpy(d + t.ndim, t.strides, sizeof(int64_t) * static_cast<std::size_t>(t.ndim));
        else
            detail_view::c_strides(t.ndim, d, d + t.ndim);
        v.obj_ = obj;
        v.data_ = static_cast<char *>(t.data) + t.byte_offset;
        v.dtype_ = t.dtype;
        v.flags_ = detail_view::contiguity(t.ndim, d, d + t.ndim) | (writable ? DPC_ARRAY_WRITABLE : 0u);
        v.device_type_ = t.device.device_type;
        v.device_id_ = t.device.device_id;
        v.src_ = array_view::source::exchange_api;
        return true;
    }

    static bool from_exchange(const dlpack_exchange_api *api, PyObject *obj, array_view &v) {
        auto failed = [&](const char *what) {
            std::string why = std::string("its DLPack exchange API (") + what + ") failed";
            if (PyErr_Occurred()) {
                py::error_already_set e;
                why += std::string(": ") + e.what();
            }
            conversion_failed(obj, why);
        };
        bool ok;
        if (api->dltensor_from_py_object_no_sync) {
            dpc_dlpack_tensor t{};
            if (api->dltensor_from_py_object_no_sync(obj, &t) != 0) failed("dltensor_from_py_object_no_sync");
            ok = from_dltensor(t, true, obj, v);
        } else {
            dpc_dlpack_managed_tensor_versioned *m = nullptr;
            if (api->managed_tensor_from_py_object_no_sync(obj, &m) != 0 || !m)
                failed("managed_tensor_from_py_object_no_sync");
            v.managed_ = m;  // the view calls its deleter
            ok = from_dltensor(m->dl_tensor, (m->flags & DPC_DLPACK_FLAG_READ_ONLY) == 0, obj, v);
        }
        if (!ok) return false;
        if (v.device_type_ != DPC_DL_CPU) {
            void *s = nullptr;
            if (api->current_work_stream(v.device_type_, v.device_id_, &s) != 0) failed("current_work_stream");
            v.stream_ = s;
        }
        return true;
    }

    static bool from_buffer(PyObject *obj, array_view &v) {
        if (PyObject_GetBuffer(obj, &v.buf_, PyBUF_RECORDS_RO) != 0) {
            PyErr_Clear();
            return false;  // the slow path says why, or declines
        }
        v.has_buf_ = true;
        const Py_buffer &b = v.buf_;
        const char *fmt = b.format ? b.format : "B";
        if (*fmt == '@' || *fmt == '=' || *fmt == '<') ++fmt;
        else if (*fmt == '>' || *fmt == '!') conversion_failed(obj, "big-endian byte order is not supported");
        uint8_t code;
        bool complex = false;
        if (*fmt == 'Z') {
            complex = true;
            ++fmt;
        }
        switch (*fmt) {
        case '?': code = DPC_DL_BOOL; break;
        case 'b': case 'h': case 'i': case 'l': case 'q': case 'n': code = DPC_DL_INT; break;
        case 'B': case 'H': case 'I': case 'L': case 'Q': case 'N': code = DPC_DL_UINT; break;
        case 'e': case 'f': case 'd': code = complex ? DPC_DL_COMPLEX : DPC_DL_FLOAT; break;
        default: conversion_failed(obj, std::string("unsupported buffer format '") + (b.format ? b.format : "") + "'");
        }
        if (fmt[1] != '\0' || (complex && code != DPC_DL_COMPLEX) || b.itemsize <= 0 || b.itemsize > 16)
            conversion_failed(obj, std::string("unsupported buffer format '") + (b.format ? b.format : "") + "'");
        const int nd = b.ndim;
        if (nd < 0 || nd > DPC_ARRAY_MAX_NDIM) conversion_failed(obj, "too many dimensions");
        int64_t *d = v.dims(nd);
        for (int i = 0; i < nd; ++i) d[i] = b.shape ? b.shape[i] : (nd == 1 ? b.len / b.itemsize : 0);
        if (b.strides) {
            for (int i = 0; i < nd; ++i) {
                if (b.strides[i] % b.itemsize != 0)
                    conversion_failed(obj, "its strides are not a multiple of its item size");
                d[nd + i] = b.strides[i] / b.itemsize;
            }
        } else {
            detail_view::c_strides(nd, d, d + nd);
        }
        v.obj_ = obj;
        v.data_ = b.buf;
        v.dtype_ = make_dtype(code, static_cast<uint8_t>(b.itemsize * 8));
        v.flags_ = detail_view::contiguity(nd, d, d + nd) | (b.readonly ? 0u : DPC_ARRAY_WRITABLE);
        v.device_type_ = DPC_DL_CPU;
        v.src_ = array_view::source::buffer;
        return true;
    }

    /// numpy's struct; false for what the struct path does not describe (a
    /// type numpy cannot hand to dpcore, big-endian data, strides that are
    /// not whole elements): the buffer protocol then says why.
    static bool from_numpy(const detail_view::numpy_lib &lib, PyObject *obj, array_view &v) {
        auto *a = reinterpret_cast<detail_view::numpy_array_mirror *>(obj);
        auto *d = reinterpret_cast<detail_view::numpy_descr_mirror *>(a->descr);
        if (!d || d->type_num < 0 || d->type_num >= 24 || lib.itemsize[d->type_num] == 0 || d->byteorder == '>')
            return false;
        const int nd = a->nd, item = lib.itemsize[d->type_num];
        if (nd < 0 || nd > DPC_ARRAY_MAX_NDIM) return false;
        int64_t *dims = v.dims(nd);
        for (int i = 0; i < nd; ++i) {
            dims[i] = a->dimensions[i];
            const Py_ssize_t s = a->strides[i];
            if (s % item != 0) return false;
            dims[nd + i] = s / item;
        }
        uint32_t f = 0;
        if (a->flags & detail_view::npy_writeable) f |= DPC_ARRAY_WRITABLE;
        if (a->flags & detail_view::npy_c_contiguous) f |= DPC_ARRAY_C_CONTIGUOUS;
        if (a->flags & detail_view::npy_f_contiguous) f |= DPC_ARRAY_F_CONTIGUOUS;
        v.obj_ = obj;
        v.data_ = a->data;
        v.dtype_ = lib.dtypes[d->type_num];
        v.flags_ = f;
        v.device_type_ = DPC_DL_CPU;
        v.src_ = array_view::source::numpy;
        return true;
    }

    /// The usm_ndarray path; the view holds its dpcore array.
    static bool slow(PyObject *obj, array_view &v) {
        std::unique_ptr<usm_ndarray> u(new usm_ndarray());
        if (!to_array(obj, *u)) return false;
        int64_t *d = v.dims(u->ndim());
        for (int i = 0; i < u->ndim(); ++i) {
            d[i] = u->shape()[i];
            d[u->ndim() + i] = u->strides()[i];
        }
        v.obj_ = obj;
        v.handle_ = u->get_array().get();
        v.pyqueue_ = u->producer_queue().is_none() ? nullptr : u->producer_queue().ptr();
        v.data_ = u->raw_data();
        v.dtype_ = u->dtype();
        v.flags_ = (u->writable() ? DPC_ARRAY_WRITABLE : 0u) | (u->c_contiguous() ? DPC_ARRAY_C_CONTIGUOUS : 0u) |
                   (u->f_contiguous() ? DPC_ARRAY_F_CONTIGUOUS : 0u);
        v.usm_kind_ = u->usm_kind();
        v.device_type_ = u->is_host() ? DPC_DL_CPU : DPC_DL_ONEAPI;
        v.src_ = array_view::source::imported;
        v.imported_ = std::move(u);
        return true;
    }

    /// Load `obj` into `v`: false when it is no kind of array (the caster
    /// declines); py::type_error when it is one that cannot be taken.
    static bool load(py::handle h, array_view &v) {
        if (v.src_ != array_view::source::none || v.has_buf_ || v.managed_) v.reset();
        PyObject *obj = h.ptr();
        entry e = lookup(obj);
        switch (e.k) {
        case vkind::dpcore: from_dpcore(static_cast<const array_capi *>(e.aux), obj, v); return true;
        case vkind::tensor:
            if (from_tensor(*static_cast<const detail_view::tensor_lib *>(e.aux), obj, obj, v)) return true;
            break;
        case vkind::dpnp: {
            PyObject *inner = *reinterpret_cast<PyObject **>(reinterpret_cast<char *>(obj) + e.offset);
            auto *lib = static_cast<const detail_view::tensor_lib *>(e.aux);
            if (inner && Py_TYPE(inner) == lib->type && from_tensor(*lib, obj, inner, v)) return true;
            break;
        }
        case vkind::exchange:
            if (from_exchange(static_cast<const dlpack_exchange_api *>(e.aux), obj, v)) return true;
            v.reset();
            break;
        case vkind::numpy:
            if (from_numpy(*static_cast<const detail_view::numpy_lib *>(e.aux), obj, v)) return true;
            v.reset();
            if (from_buffer(obj, v)) return true;
            v.reset();
            break;
        case vkind::buffer:
            if (from_buffer(obj, v)) return true;
            v.reset();
            break;
        default: break;
        }
        return slow(obj, v);
    }
};

}  // namespace python

inline void array_view::reset() noexcept {
    if (has_buf_) {
        PyBuffer_Release(&buf_);
        has_buf_ = false;
    }
    if (managed_) {
        if (managed_->deleter) managed_->deleter(managed_);
        managed_ = nullptr;
    }
    imported_.reset();
    big_.reset();
    obj_ = pyqueue_ = nullptr;
    stream_ = nullptr;
    handle_ = nullptr;
    data_ = nullptr;
    ndim_ = 0;
    dtype_ = dpc_dlpack_dtype{};
    flags_ = 0;
    usm_kind_ = 0;
    device_type_ = DPC_DL_CPU;
    device_id_ = 0;
    src_ = source::none;
}

inline dpc_array array_view::handle() const noexcept { return handle_; }

inline queue array_view::get_queue() const {
    switch (src_) {
    case source::dpcore_array: {
        dpc_queue q = nullptr;
        check(dpc_array_get_queue(handle_, &q), "dpc_array_get_queue");
        return queue::adopt(q);
    }
    case source::usm_ndarray: {
        queue q = python::cached_queue(pyqueue_);
        if (!q) throw error(DPC_ERROR_INVALID_ARGUMENT, "dpcore::array_view: the array's sycl_queue is not a queue");
        return q;
    }
    case source::exchange_api:
        if (is_host()) return queue();
        if (stream_) return queue::adopt_native(stream_);
        return queue::default_for(device::from_dlpack_id(device_id_));
    case source::imported: return imported_->get_queue();
    default: return queue();
    }
}

inline usm_ndarray array_view::keep() const {
    switch (src_) {
    case source::dpcore_array:
        check(dpc_array_retain(handle_), "dpc_array_retain");
        return usm_ndarray(array::adopt(handle_), origin::dpcore_array);
    case source::imported: return *imported_;
    case source::usm_ndarray: {
        // The fields are known: lend the memory as the attribute path does.
        std::vector<int64_t> sh(shape_data(), shape_data() + ndim_), st(strides_data(), strides_data() + ndim_);
        uint32_t f = writable() ? DPC_ARRAY_WRITABLE : 0u;
        if (usm_kind_ == DPC_USM_DEVICE) f |= DPC_ARRAY_TRUST_DEVICE;
        else if (usm_kind_ == DPC_USM_SHARED) f |= DPC_ARRAY_TRUST_SHARED;
        else if (usm_kind_ == DPC_USM_HOST) f |= DPC_ARRAY_TRUST_HOST;
        return python::lend(obj_, get_queue(), dtype_, sh, st, data_, f, origin::usm_ndarray_attributes, pyqueue_);
    }
    case source::none: throw error(DPC_ERROR_INVALID_ARGUMENT, "dpcore::array_view::keep: an empty view");
    case source::exchange_api:
        if (!PyObject_HasAttrString(reinterpret_cast<PyObject *>(Py_TYPE(obj_)), "__dlpack__")) {
            // No __dlpack__ (whose stream argument orders the producer's
            // work): an owning tensor through the exchange API, and a wait
            // for the producer's work stream, the only ordering left.
            const python::dlpack_exchange_api *api =
                python::detail_view::exchange_api_of(Py_TYPE(obj_));
            dpc_dlpack_managed_tensor_versioned *m = nullptr;
            if (!api || api->managed_tensor_from_py_object_no_sync(obj_, &m) != 0 || !m) {
                std::string why = "its DLPack exchange API gave no tensor to keep";
                if (PyErr_Occurred()) why += ": " + std::string(pybind11::error_already_set().what());
                python::conversion_failed(obj_, why);
            }
            python::arm_exit_hook();
            python::gate_dlpack(m);
            dpc_array a = nullptr;
            if (dpc_array_from_dlpack_versioned(m, &a) != DPC_SUCCESS)
                python::conversion_failed(obj_, last_error_message());
            usm_ndarray u(array::adopt(a), origin::dlpack);
            if (stream_) {
                pybind11::gil_scoped_release nogil;
                queue::adopt_native(stream_).wait();
            }
            return u;
        }
        [[fallthrough]];  // __dlpack__, with a stream
    default: {
        usm_ndarray u;
        if (!python::to_array(obj_, u))
            python::conversion_failed(obj_, "it offers no protocol dpcore can keep an array through (__dlpack__, "
                                            "__sycl_usm_array_interface__)");
        return u;
    }
    }
}

/// Barriers on `q` and on each distinct queue of the views in [first,
/// last) (the producers' pending work), as for usm_ndarray.
inline std::vector<event> depends_on_pending(const queue &q, const array_view *const *first,
                                             const array_view *const *last) {
    std::vector<event> out{q.barrier()};
    std::vector<void *> seen{q.native()};
    for (; first != last; ++first) {
        const array_view *a = *first;
        if (!a || a->is_host()) continue;
        queue aq = a->get_queue();
        if (!aq) continue;
        void *n = aq.native();
        bool dup = false;
        for (void *s : seen) dup = dup || s == n;
        if (dup) continue;
        seen.push_back(n);
        out.push_back(aq.barrier());
    }
    return out;
}
/// The same for a braced list: depends_on_pending(q, {&a, &b}).
inline std::vector<event> depends_on_pending(const queue &q, std::initializer_list<const array_view *> inputs) {
    return depends_on_pending(q, inputs.begin(), inputs.end());
}

/// Keep the memory behind `inputs` (and their Python objects) alive until
/// `events` complete: each view is kept (array_view::keep) for that long.
inline void keep_alive(const std::vector<event> &events, std::initializer_list<const array_view *> inputs) {
    for (const array_view *a : inputs)
        if (a && a->get_source() != array_view::source::none) a->keep().get_array().keep_alive_until(events);
}

}  // namespace v0
}  // namespace dpcore

namespace pybind11 {
namespace detail {

template <>
struct type_caster<dpcore::usm_ndarray> {
    PYBIND11_TYPE_CASTER(dpcore::usm_ndarray,
                         const_name("dpcore.usm_ndarray (dpcore.Array | __sycl_usm_array_interface__ | __dlpack__)"));
    // The view's per-type dispatch finds the fields; keep() makes the owning
    // array from them (for dpcore and dpnp/dpctl arrays without Python
    // attribute lookups; other producers as python::to_array does).
    bool load(handle src, bool) { return load_into(src, value); }
    static bool load_into(handle src, dpcore::usm_ndarray &value) {
        dpcore::array_view v;
        if (!dpcore::python::view_loader::load(src, v)) return false;
        // Buffer-protocol-only objects (bytes, array.array) were never
        // usm_ndarrays: the old path declines them, so that other overloads
        // are tried.
        if (v.get_source() == dpcore::array_view::source::buffer) return dpcore::python::to_array(src, value);
        value = v.keep();
        return true;
    }
    static handle cast(const dpcore::usm_ndarray &a, return_value_policy, handle) {
        return dpcore::python::from_array(a.get_array()).release();
    }
};

/// dpcore::array_view: the cheap, borrowed argument (see array_view).
/// Returning one returns the Python object it describes.
template <>
struct type_caster<dpcore::array_view> {
    PYBIND11_TYPE_CASTER(dpcore::array_view,
                         const_name("dpcore.array_view (dpcore.Array | dpnp/dpctl usm_ndarray | "
                                    "__dlpack_c_exchange_api__ | buffer protocol | __sycl_usm_array_interface__ | "
                                    "__dlpack__)"));
    bool load(handle src, bool) { return dpcore::python::view_loader::load(src, value); }
    static handle cast(const dpcore::array_view &v, return_value_policy, handle) {
        return handle(v.object()).inc_ref();
    }
};

template <>
struct type_caster<dpcore::array> {
    PYBIND11_TYPE_CASTER(dpcore::array,
                         const_name("dpcore.Array (dpcore.Array | __sycl_usm_array_interface__ | __dlpack__)"));
    bool load(handle src, bool) {
        dpcore::usm_ndarray u;
        if (!make_caster<dpcore::usm_ndarray>::load_into(src, u)) return false;
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
