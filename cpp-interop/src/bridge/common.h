// C++ half of the dpcore SYCL plugin, bridged to Rust with cxx: what every
// part shares. The C++ is split by concept, one header and one source file
// each (src/bridge/device.{h,cpp}, queue.{h,cpp}, ...), bridged through
// the `ffi` module of the Rust file of the same name (src/device.rs,
// src/queue.rs, ...).
//
// Every function that can fail is declared in the bridge as returning
// `Result<...>`; the `rust::behavior::trycatch` below turns any C++ exception
// into the `Err` message. That message starts with a machine-readable header,
//
//     [dpcore:<status>:<backend code>] <human-readable message>
//
// which the Rust side parses back (see `Failure::from_exception` in
// src/error.rs): <status> is a dpc_status code, <backend code> the SYCL error
// code (`sycl::exception::code().value()`, 0 when there is none). A
// sycl::exception's message also ends with "(SYCL error code N: <category>)".
//
// Functions declared without `Result` are noexcept.

#pragma once

#include <sycl/sycl.hpp>

#include <cxxabi.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "rust/cxx.h"

// Status: the dpc_status codes the C++ side raises (src/error.rs).
#include "dpcore-sycl/src/error.rs.h"

// The catch-all of the plugin: `try { ... } DPCORE_SYCL_CATCH_ALL { ... }`
// in place of `catch (...)`. It first lets a forced unwind pass
// (abi::__forced_unwind: a thread ended by pthread_exit or cancelled, as
// glibc and CPython do): a catch-all that swallows one makes the process
// abort with "FATAL: exception not rethrown". Use it for every catch-all, so
// that none is written without the rethrow.
//
// In a noexcept function (the trycatch below, and the shims cxx generates
// around every bridged function, are noexcept) the rethrown forced unwind
// ends in std::terminate instead: it cannot cross the bridge into Rust
// either way. The compiler warns of that for every such catch-all
// (-Wterminate); the warning is silenced for the rethrow alone.
#if defined(__clang__)
#define DPCORE_SYCL_RETHROW_FORCED_UNWIND                                                          \
  _Pragma("clang diagnostic push") _Pragma("clang diagnostic ignored \"-Wexceptions\"") throw;    \
  _Pragma("clang diagnostic pop")
#else
#define DPCORE_SYCL_RETHROW_FORCED_UNWIND                                                          \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wterminate\"") throw;         \
  _Pragma("GCC diagnostic pop")
#endif
#define DPCORE_SYCL_CATCH_ALL                                                                      \
  catch (abi::__forced_unwind &) {                                                                 \
    DPCORE_SYCL_RETHROW_FORCED_UNWIND;                                                             \
  }                                                                                                \
  catch (...)

namespace dpcore_sycl {

// An exception that carries its dpc_status and backend code; its what() is
// already in the "[dpcore:<status>:<code>] message" form.
class Error : public std::runtime_error {
public:
  Error(std::int32_t status, std::int64_t backend_code, const std::string &message);
  // From a text already in that form.
  struct Encoded {};
  Error(Encoded, const std::string &text);
};

// A NUL-terminated error text in a fixed buffer, so that describing an
// exception never allocates (and so never throws).
struct ErrorText {
  char text[2048];
};

// Describe the exception being handled (call only inside a catch block) in
// the "[dpcore:<status>:<code>] message" form. Never throws.
ErrorText describe_current_exception() noexcept;

// --- helpers for the parts ---------------------------------------------------

inline std::int32_t code(Status s) noexcept { return static_cast<std::int32_t>(s); }

// "<what> (SYCL error code N: <category>)"
std::string describe(const sycl::exception &e);

bool is_errc(const sycl::exception &e, sycl::errc c) noexcept;

// The dpc_status for a sycl::exception that is not handled more precisely:
// DeviceLost for Unified Runtime's UR_RESULT_ERROR_DEVICE_LOST, the memory
// statuses for UR's out-of-memory codes, Unsupported for the SYCL errcs
// that say so, else Backend.
Status status_of(const sycl::exception &e) noexcept;

rust::String lossy(const std::string &s);

// A pointer passed across the bridge as an address.
inline void *ptr(std::size_t address) noexcept { return reinterpret_cast<void *>(address); }

template <typename T> bool contains(const std::vector<T> &v, const T &x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// ", "-separated names, or `none` when empty.
template <typename T, typename Name>
std::string join_names(const std::vector<T> &items, Name name, const char *none) {
  if (items.empty()) {
    return none;
  }
  std::string out;
  for (const T &item : items) {
    if (!out.empty()) {
      out += ", ";
    }
    out += name(item);
  }
  return out;
}

} // namespace dpcore_sycl

// cxx calls this around every bridged function declared as returning Result
// (it replaces cxx's default, which only catches std::exception and keeps
// only what()). It catches everything, so no exception escapes to Rust.
namespace rust {
namespace behavior {
template <typename Try, typename Fail>
static void trycatch(Try &&func, Fail &&fail) noexcept try {
  func();
} DPCORE_SYCL_CATCH_ALL {
  const ::dpcore_sycl::ErrorText e = ::dpcore_sycl::describe_current_exception();
  fail(e.text);
}
} // namespace behavior
} // namespace rust
