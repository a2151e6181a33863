// sycl.hpp: SYCL interop for dpcore's C++ wrappers (dpcore.hpp).
//
// Compiles with g++ plus the SYCL headers (host code only; add
// -DSYCL_DISABLE_FSYCL_SYCLHPP_WARNING) or with a DPC++ compiler. Turns dpcore
// queues, devices, contexts and events into the SYCL runtime's objects and
// back. The sycl:: objects dpcore hands out live inside dpcore's plugin,
// which must use the same SYCL runtime (libsycl.so.N) as this code:
// dpcore::check_sycl_runtime() checks that, and every function here calls
// it once.
#ifndef DPCORE_SYCL_HPP
#define DPCORE_SYCL_HPP

#include <cstdlib>
#include <mutex>
#include <string>

#include <sycl/sycl.hpp>

#include "dpcore.hpp"

namespace dpcore {
inline namespace v0 {

namespace detail {
/// The N of "libsycl.so.N" in dpcore's runtime description, or -1.
inline int plugin_sycl_major(std::string *description) {
    std::size_t n = 0;
    if (dpc_backend_get_runtime(nullptr, 0, &n) != DPC_SUCCESS || n == 0) return -1;
    std::string s(n, '\0');
    if (dpc_backend_get_runtime(&s[0], n, &n) != DPC_SUCCESS) return -1;
    s.resize(n > 0 ? n - 1 : 0);
    if (description) *description = s;
    const std::string key = "libsycl.so.";
    std::size_t at = s.find(key);
    if (at == std::string::npos) return -1;
    return std::atoi(s.c_str() + at + key.size());
}
}  // namespace detail

/// The problem with running code compiled against libsycl.so.`compiled_major`
/// with dpcore's plugin, or "" when there is none (the plugin is loaded and
/// runs that major version).
inline std::string sycl_runtime_mismatch(int compiled_major) {
    if (dpc_backend_load() != DPC_SUCCESS)
        return "dpcore's SYCL plugin is not loaded: " + last_error_message() + " (run dpcore-info --diagnose)";
    std::string description;
    int major = detail::plugin_sycl_major(&description);
    if (major == compiled_major) return {};
    return "this code was compiled against SYCL runtime libsycl.so." + std::to_string(compiled_major) +
           " but dpcore's plugin uses " +
           (major < 0 ? std::string("an unknown runtime") : "libsycl.so." + std::to_string(major)) + " (" +
           description + "); rebuild one of them against the other's runtime";
}

/// Throw dpcore::error (DPC_ERROR_PLUGIN_INCOMPATIBLE) unless dpcore's SYCL
/// plugin runs the SYCL runtime major version this code was compiled
/// against (__LIBSYCL_MAJOR_VERSION), which sycl:: objects passed between
/// the two need. The check runs once per process; later calls repeat its
/// answer.
inline void check_sycl_runtime() {
    static std::once_flag once;
    static std::string problem;
    std::call_once(once, [] {
#ifdef __LIBSYCL_MAJOR_VERSION
        problem = sycl_runtime_mismatch(__LIBSYCL_MAJOR_VERSION);
#else
        if (dpc_backend_load() != DPC_SUCCESS) problem = "dpcore's SYCL plugin is not loaded: " + last_error_message();
#endif
    });
    if (!problem.empty()) throw error(DPC_ERROR_PLUGIN_INCOMPATIBLE, problem);
}

/// The runtime queue behind `q` (valid while `q`, or another reference to
/// the same dpcore queue, lives).
inline sycl::queue &sycl_queue(const queue &q) {
    check_sycl_runtime();
    return *static_cast<sycl::queue *>(q.native());
}

inline sycl::device &sycl_device(const device &d) {
    check_sycl_runtime();
    void *p = nullptr;
    check(dpc_device_get_native(d.get(), &p), "dpc_device_get_native");
    return *static_cast<sycl::device *>(p);
}

inline sycl::context &sycl_context(const context &c) {
    check_sycl_runtime();
    void *p = nullptr;
    check(dpc_context_get_native(c.get(), &p), "dpc_context_get_native");
    return *static_cast<sycl::context *>(p);
}

inline sycl::event &sycl_event(const event &e) {
    check_sycl_runtime();
    void *p = nullptr;
    check(dpc_event_get_native(e.get(), &p), "dpc_event_get_native");
    return *static_cast<sycl::event *>(p);
}

/// A dpcore queue sharing `q` (dpcore keeps its own reference to the
/// runtime queue; `q` may go away).
inline queue from_sycl(const sycl::queue &q) {
    check_sycl_runtime();
    return queue::adopt_native(const_cast<sycl::queue *>(&q));
}

/// The dpcore event sharing `e`.
inline event from_sycl(const sycl::event &e) {
    check_sycl_runtime();
    dpc_event ev = nullptr;
    check(dpc_event_adopt(const_cast<sycl::event *>(&e), &ev), "dpc_event_adopt");
    return event::adopt(ev);
}

/// The dpcore root device that is `d`; DPC_ERROR_DEVICE_NOT_FOUND for a
/// sub-device or a device dpcore does not list.
inline device from_sycl(const sycl::device &d) {
    check_sycl_runtime();
    std::size_t n = 0;
    check(dpc_device_count(&n), "dpc_device_count");
    for (std::size_t i = 0; i < n; ++i) {
        dpc_device h = nullptr;
        check(dpc_device_get(i, &h), "dpc_device_get");
        device cand = device::adopt(h);
        if (sycl_device(cand) == d) return cand;
    }
    throw error(DPC_ERROR_DEVICE_NOT_FOUND,
                "dpcore::from_sycl: " + d.get_info<sycl::info::device::name>() +
                    " is not one of dpcore's root devices (sub-devices are not looked up)");
}

/// The dpcore context that is `c`: found through a queue on its first
/// device, so that dpcore shares the runtime's context rather than copying it.
inline context from_sycl(const sycl::context &c) {
    check_sycl_runtime();
    std::vector<sycl::device> devs = c.get_devices();
    if (devs.empty()) throw error(DPC_ERROR_INVALID_ARGUMENT, "dpcore::from_sycl: the context has no devices");
    sycl::queue tmp(c, devs.front());
    return from_sycl(tmp).get_context();
}

}  // namespace v0
}  // namespace dpcore

#endif  // DPCORE_SYCL_HPP
