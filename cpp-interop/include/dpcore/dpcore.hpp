// dpcore.hpp: C++17 wrappers over dpcore's C API (dpcore.h).
//
// Header-only; needs neither SYCL nor pybind11 (see sycl.hpp for the SYCL
// interop and dpcore4pybind11.hpp for Python). Every wrapper owns one
// reference to its dpcore handle: copying retains, destruction releases.
// A failing dpcore call throws dpcore::error, carrying the dpc_status and
// dpcore's message for it. Like the C API, every function may be called
// from any thread.
//
// Everything lives in the versioned inline namespace dpcore::v0, so two
// extensions built against different versions of this header can share a
// process.
#ifndef DPCORE_DPCORE_HPP
#define DPCORE_DPCORE_HPP

#include <complex>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dpcore.h"

#define DPCORE_CPP_HEADER_VERSION 1

namespace dpcore {
inline namespace v0 {

/// A failed dpcore call: what() is "<call>: <dpcore's message>".
class error : public std::runtime_error {
public:
    error(dpc_status status, const std::string &what, std::int64_t backend_code = 0)
        : std::runtime_error(what), status_(status), backend_code_(backend_code) {}
    dpc_status status() const noexcept { return status_; }
    /// The runtime's own error code (SYCL / OpenCL / Level Zero), or 0.
    std::int64_t backend_code() const noexcept { return backend_code_; }

private:
    dpc_status status_;
    std::int64_t backend_code_;
};

/// The message of the last dpcore failure on this thread.
inline std::string last_error_message() {
    std::size_t n = 0;
    if (dpc_last_error_message(nullptr, 0, &n) != DPC_SUCCESS || n == 0) return {};
    std::string s(n, '\0');
    if (dpc_last_error_message(&s[0], n, &n) != DPC_SUCCESS) return {};
    s.resize(n > 0 ? n - 1 : 0);
    return s;
}

/// Throw dpcore::error when `st` is not DPC_SUCCESS.
inline void check(dpc_status st, const char *call) {
    if (st != DPC_SUCCESS) {
        std::string m = last_error_message();
        if (m.empty()) m = dpc_status_name(st);
        // dpcore's messages usually start with the function's name already.
        std::string prefix = std::string(call) + ": ";
        if (m.compare(0, prefix.size(), prefix) != 0) m = prefix + m;
        throw error(st, m, dpc_last_error_backend_code());
    }
}

namespace detail {

/// One owned reference to a handle of type H.
template <class H, dpc_status (*Retain)(H), dpc_status (*Release)(H)>
class ref {
public:
    ref() noexcept = default;
    ref(const ref &o) : h_(o.h_) {
        if (h_) check(Retain(h_), "retain");
    }
    ref(ref &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    ref &operator=(ref o) noexcept {
        std::swap(h_, o.h_);
        return *this;
    }
    ~ref() {
        if (h_) (void)Release(h_);
    }
    /// The C handle, borrowed.
    H get() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != nullptr; }
    /// Give up ownership: the caller releases the returned handle.
    H release() noexcept { return std::exchange(h_, nullptr); }

protected:
    struct adopt_tag {};
    ref(H h, adopt_tag) noexcept : h_(h) {}
    H h_ = nullptr;
};

}  // namespace detail

class device;
class context;
class queue;
class event;
class array;

/// A device (root devices live for the whole process).
class device : public detail::ref<dpc_device, dpc_device_retain, dpc_device_release> {
public:
    device() noexcept = default;
    /// Take ownership of a handle the caller holds a reference to.
    static device adopt(dpc_device h) noexcept { return device(h, adopt_tag{}); }
    /// Share a handle the caller keeps (adds a reference).
    static device borrow(dpc_device h) {
        check(dpc_device_retain(h), "dpc_device_retain");
        return adopt(h);
    }
    static device default_device() {
        dpc_device d = nullptr;
        check(dpc_device_default(&d), "dpc_device_default");
        return adopt(d);
    }
    /// By filter string (`backend:type:N`, as ONEAPI_DEVICE_SELECTOR).
    static device select(const std::string &filter) {
        dpc_device d = nullptr;
        check(dpc_device_select(filter.c_str(), &d), "dpc_device_select");
        return adopt(d);
    }
    /// The root device of kDLOneAPI DLPack id `id` (the same id as dpnp's).
    static device from_dlpack_id(int32_t id) {
        dpc_device d = nullptr;
        check(dpc_device_from_dlpack_id(id, &d), "dpc_device_from_dlpack_id");
        return adopt(d);
    }
    std::string info_string(int32_t key) const {
        std::size_t n = 0;
        check(dpc_device_get_info_string(h_, key, nullptr, 0, &n), "dpc_device_get_info_string");
        std::string s(n, '\0');
        check(dpc_device_get_info_string(h_, key, &s[0], n, &n), "dpc_device_get_info_string");
        s.resize(n > 0 ? n - 1 : 0);
        return s;
    }
    std::string name() const { return info_string(DPC_DEVICE_INFO_NAME); }
    std::string filter_string() const { return info_string(DPC_DEVICE_INFO_FILTER_STRING); }
    int32_t dlpack_id() const {
        int32_t id = -1;
        check(dpc_device_get_dlpack_id(h_, &id), "dpc_device_get_dlpack_id");
        return id;
    }
    bool operator==(const device &o) const {
        bool eq = false;
        check(dpc_device_equal(h_, o.h_, &eq), "dpc_device_equal");
        return eq;
    }
    bool operator!=(const device &o) const { return !(*this == o); }

private:
    using ref::ref;
};

class context : public detail::ref<dpc_context, dpc_context_retain, dpc_context_release> {
public:
    context() noexcept = default;
    static context adopt(dpc_context h) noexcept { return context(h, adopt_tag{}); }
    static context borrow(dpc_context h) {
        check(dpc_context_retain(h), "dpc_context_retain");
        return adopt(h);
    }
    /// The platform default context of `d` (the one dpnp, dpctl and torch use).
    static context default_for(const device &d) {
        dpc_context c = nullptr;
        check(dpc_context_default(d.get(), &c), "dpc_context_default");
        return adopt(c);
    }
    bool operator==(const context &o) const {
        bool eq = false;
        check(dpc_context_equal(h_, o.h_, &eq), "dpc_context_equal");
        return eq;
    }
    bool operator!=(const context &o) const { return !(*this == o); }

private:
    using ref::ref;
};

class event : public detail::ref<dpc_event, dpc_event_retain, dpc_event_release> {
public:
    event() noexcept = default;
    static event adopt(dpc_event h) noexcept { return event(h, adopt_tag{}); }
    static event borrow(dpc_event h) {
        check(dpc_event_retain(h), "dpc_event_retain");
        return adopt(h);
    }
    void wait() const { check(dpc_event_wait(h_), "dpc_event_wait"); }
    /// Whether the event's command has completed.
    bool complete() const {
        dpc_event_status st = DPC_EVENT_SUBMITTED;
        check(dpc_event_get_status(h_, &st), "dpc_event_get_status");
        return st == DPC_EVENT_COMPLETE;
    }

private:
    using ref::ref;
};

class queue : public detail::ref<dpc_queue, dpc_queue_retain, dpc_queue_release> {
public:
    queue() noexcept = default;
    static queue adopt(dpc_queue h) noexcept { return queue(h, adopt_tag{}); }
    static queue borrow(dpc_queue h) {
        check(dpc_queue_retain(h), "dpc_queue_retain");
        return adopt(h);
    }
    /// The canonical in-order queue of `d` in its default context.
    static queue default_for(const device &d) {
        dpc_queue q = nullptr;
        check(dpc_queue_default(d.get(), &q), "dpc_queue_default");
        return adopt(q);
    }
    /// Share a foreign `sycl::queue*` (its owner keeps it).
    static queue adopt_native(void *sycl_queue) {
        dpc_queue q = nullptr;
        check(dpc_queue_adopt(sycl_queue, &q), "dpc_queue_adopt");
        return adopt(q);
    }
    device get_device() const {
        dpc_device d = nullptr;
        check(dpc_queue_get_device(h_, &d), "dpc_queue_get_device");
        return device::adopt(d);
    }
    context get_context() const {
        dpc_context c = nullptr;
        check(dpc_queue_get_context(h_, &c), "dpc_queue_get_context");
        return context::adopt(c);
    }
    uint32_t flags() const {
        uint32_t f = 0;
        check(dpc_queue_get_flags(h_, &f), "dpc_queue_get_flags");
        return f;
    }
    bool in_order() const { return (flags() & DPC_QUEUE_IN_ORDER) != 0; }
    void wait() const { check(dpc_queue_wait(h_), "dpc_queue_wait"); }
    /// An event that completes when everything submitted to this queue so
    /// far (and `deps`) has: what an extension's own work should wait for
    /// so that it runs after the producer's pending work.
    event barrier(const std::vector<event> &deps = {}) const {
        std::vector<dpc_event> hs;
        hs.reserve(deps.size());
        for (const event &e : deps) hs.push_back(e.get());
        dpc_event ev = nullptr;
        check(dpc_queue_barrier(h_, hs.empty() ? nullptr : hs.data(), hs.size(), &ev), "dpc_queue_barrier");
        return event::adopt(ev);
    }
    /// Whether the two are equivalent: the same device, context and
    /// properties (dpc_queue_equivalent). Two distinct runtime queues with
    /// those in common compare equal: to order work across queues use
    /// barriers on each (dpcore::depends_on_pending takes the arrays).
    bool operator==(const queue &o) const {
        bool eq = false;
        check(dpc_queue_equivalent(h_, o.h_, &eq), "dpc_queue_equivalent");
        return eq;
    }
    bool operator!=(const queue &o) const { return !(*this == o); }
    /// The address of the runtime's `sycl::queue` (see sycl.hpp for a typed one).
    void *native() const {
        void *p = nullptr;
        check(dpc_queue_get_native(h_, &p), "dpc_queue_get_native");
        return p;
    }

private:
    using ref::ref;
};

// ---------------------------------------------------------------- data types

inline constexpr dpc_dlpack_dtype make_dtype(uint8_t code, uint8_t bits) { return dpc_dlpack_dtype{code, bits, 1}; }

/// The DLPack data type of C++ type T (bool, fixed-width integers, float,
/// double, std::complex<float/double>).
template <class T>
constexpr dpc_dlpack_dtype dtype_of() {
    if constexpr (std::is_same<T, bool>::value) {
        return make_dtype(DPC_DL_BOOL, 8);
    } else if constexpr (std::is_integral<T>::value) {
        return make_dtype(std::is_signed<T>::value ? DPC_DL_INT : DPC_DL_UINT, sizeof(T) * 8);
    } else {
        static_assert(std::is_floating_point<T>::value, "dpcore::dtype_of: no DLPack type for T");
        return make_dtype(DPC_DL_FLOAT, sizeof(T) * 8);
    }
}
template <>
constexpr dpc_dlpack_dtype dtype_of<std::complex<float>>() {
    return make_dtype(DPC_DL_COMPLEX, 64);
}
template <>
constexpr dpc_dlpack_dtype dtype_of<std::complex<double>>() {
    return make_dtype(DPC_DL_COMPLEX, 128);
}

/// Whether two data types are the same (also as == inside namespace dpcore;
/// dpc_dlpack_dtype is a C struct, so the operator is not found outside).
inline constexpr bool same_dtype(const dpc_dlpack_dtype &a, const dpc_dlpack_dtype &b) {
    return a.code == b.code && a.bits == b.bits && a.lanes == b.lanes;
}
inline constexpr bool operator==(const dpc_dlpack_dtype &a, const dpc_dlpack_dtype &b) { return same_dtype(a, b); }
inline constexpr bool operator!=(const dpc_dlpack_dtype &a, const dpc_dlpack_dtype &b) { return !(a == b); }

/// numpy's name of a data type ("float32", "complex128", ...).
inline std::string dtype_name(dpc_dlpack_dtype t) {
    std::string bits = std::to_string(t.bits);
    std::string base;
    switch (t.code) {
    case DPC_DL_BOOL: return "bool";
    case DPC_DL_INT: base = "int"; break;
    case DPC_DL_UINT: base = "uint"; break;
    case DPC_DL_FLOAT: base = "float"; break;
    case DPC_DL_COMPLEX: base = "complex"; break;
    default: return "dtype(code " + std::to_string(t.code) + ", " + bits + " bits)";
    }
    return base + bits + (t.lanes != 1 ? "x" + std::to_string(t.lanes) : "");
}

// ---------------------------------------------------------------- arrays

/// An n-d USM array (a view; copies share the memory).
class array : public detail::ref<dpc_array, dpc_array_retain, dpc_array_release> {
public:
    array() noexcept = default;
    static array adopt(dpc_array h) noexcept { return array(h, adopt_tag{}); }
    static array borrow(dpc_array h) {
        check(dpc_array_retain(h), "dpc_array_retain");
        return adopt(h);
    }
    /// A new C-contiguous array on `q` (a null queue: the default device's
    /// canonical queue), uninitialised.
    static array empty(const queue &q, dpc_dlpack_dtype dt, const std::vector<int64_t> &shape,
                       int32_t usm_kind = DPC_USM_DEVICE) {
        dpc_array a = nullptr;
        check(dpc_array_empty(q.get(), dt, static_cast<int32_t>(shape.size()), shape.data(), usm_kind, &a),
              "dpc_array_empty");
        return adopt(a);
    }
    static array zeros(const queue &q, dpc_dlpack_dtype dt, const std::vector<int64_t> &shape,
                       int32_t usm_kind = DPC_USM_DEVICE) {
        dpc_array a = nullptr;
        check(dpc_array_zeros(q.get(), dt, static_cast<int32_t>(shape.size()), shape.data(), usm_kind, &a),
              "dpc_array_zeros");
        return adopt(a);
    }
    /// A copy of C-contiguous host data.
    template <class T>
    static array from_host(const queue &q, const T *data, const std::vector<int64_t> &shape,
                           int32_t usm_kind = DPC_USM_DEVICE) {
        dpc_array a = nullptr;
        check(dpc_array_from_host(q.get(), dtype_of<T>(), static_cast<int32_t>(shape.size()), shape.data(), data,
                                  nullptr, usm_kind, &a),
              "dpc_array_from_host");
        return adopt(a);
    }

    int ndim() const {
        int32_t n = 0;
        check(dpc_array_get_ndim(h_, &n), "dpc_array_get_ndim");
        return n;
    }
    std::vector<int64_t> shape() const {
        std::vector<int64_t> s(static_cast<std::size_t>(ndim()));
        check(dpc_array_get_shape(h_, s.data()), "dpc_array_get_shape");
        return s;
    }
    /// In elements.
    std::vector<int64_t> strides() const {
        std::vector<int64_t> s(static_cast<std::size_t>(ndim()));
        check(dpc_array_get_strides(h_, s.data()), "dpc_array_get_strides");
        return s;
    }
    int64_t size() const {
        int64_t n = 1;
        for (int64_t x : shape()) n *= x;
        return n;
    }
    dpc_dlpack_dtype dtype() const {
        dpc_dlpack_dtype t{};
        check(dpc_array_get_dtype(h_, &t), "dpc_array_get_dtype");
        return t;
    }
    template <class T>
    bool is_type() const {
        return dtype() == dtype_of<T>();
    }
    uint32_t flags() const {
        uint32_t f = 0;
        check(dpc_array_get_flags(h_, &f), "dpc_array_get_flags");
        return f;
    }
    bool writable() const { return (flags() & DPC_ARRAY_WRITABLE) != 0; }
    bool c_contiguous() const { return (flags() & DPC_ARRAY_C_CONTIGUOUS) != 0; }
    bool f_contiguous() const { return (flags() & DPC_ARRAY_F_CONTIGUOUS) != 0; }
    int32_t usm_kind() const {
        int32_t k = 0;
        check(dpc_array_get_usm_kind(h_, &k), "dpc_array_get_usm_kind");
        return k;
    }
    /// The address of element (0, ..., 0), untyped.
    void *raw_data() const {
        void *p = nullptr;
        check(dpc_array_get_data(h_, &p), "dpc_array_get_data");
        return p;
    }
    /// The address of element (0, ..., 0) as T*; throws unless the array
    /// holds T.
    template <class T>
    T *data() const {
        if (!is_type<T>())
            throw error(DPC_ERROR_INVALID_ARGUMENT,
                        "dpcore::array::data<T>: the array holds " + dtype_name(dtype()) + ", not " +
                            dtype_name(dtype_of<T>()));
        return static_cast<T *>(raw_data());
    }
    /// The queue the array belongs to; an empty queue for host arrays.
    queue get_queue() const {
        dpc_queue q = nullptr;
        check(dpc_array_get_queue(h_, &q), "dpc_array_get_queue");
        return q ? queue::adopt(q) : queue();
    }
    /// Copy out to C-contiguous host memory.
    void to_host(void *host) const { check(dpc_array_to_host(h_, host, nullptr), "dpc_array_to_host"); }
    /// A C-contiguous copy on `q` (staged when it is another context).
    array to_device(const queue &q, int32_t usm_kind = DPC_USM_DEVICE) const {
        dpc_array a = nullptr;
        check(dpc_array_to_device(h_, q.get(), usm_kind, &a), "dpc_array_to_device");
        return adopt(a);
    }
    array astype(dpc_dlpack_dtype t) const {
        dpc_array a = nullptr;
        check(dpc_array_astype(h_, t, &a), "dpc_array_astype");
        return adopt(a);
    }
    /// Copy `src` into this array (with conversion and broadcasting).
    void assign(const array &src) const { check(dpc_array_copy(src.get(), h_), "dpc_array_copy"); }
    /// Keep this array's memory (and its producer's object) alive until the
    /// events complete; this wrapper's own reference is unaffected.
    void keep_alive_until(const std::vector<event> &events) const {
        check(dpc_array_retain(h_), "dpc_array_retain");
        std::vector<dpc_event> hs;
        for (const event &e : events) hs.push_back(e.get());
        dpc_status st = dpc_array_release_after(h_, hs.empty() ? nullptr : hs.data(), hs.size());
        if (st != DPC_SUCCESS) {
            (void)dpc_array_release(h_);
            check(st, "dpc_array_release_after");
        }
    }

private:
    using ref::ref;
};

/// Compute follows data: the queue all `arrays` share, or dpcore::error
/// listing every array's device, queue and context.
inline queue common_queue(const std::vector<array> &arrays) {
    std::vector<dpc_array> hs;
    hs.reserve(arrays.size());
    for (const array &a : arrays) hs.push_back(a.get());
    dpc_queue q = nullptr;
    check(dpc_array_common_queue(hs.data(), hs.size(), &q), "dpc_array_common_queue");
    return queue::adopt(q);
}

}  // namespace v0
}  // namespace dpcore

#endif  // DPCORE_DPCORE_HPP
