// What the parts of the C++ half share: errors and their messages; see
// common.h.

#include "dpcore-sycl/src/bridge/common.h"

#include <cstdio>
#include <cstring>
#include <new>

namespace dpcore_sycl {

namespace {

std::string encode(Status status, std::int64_t backend_code, const std::string &message) {
  return "[dpcore:" + std::to_string(code(status)) + ":" + std::to_string(backend_code) + "] " +
         message;
}

} // namespace

// Unified Runtime result codes (ur_api.h's ur_result_t, a stable ABI) that
// have a dpc_status of their own.
constexpr std::int32_t UR_DEVICE_LOST = 20;         // UR_RESULT_ERROR_DEVICE_LOST
constexpr std::int32_t UR_OUT_OF_HOST_MEMORY = 38;   // UR_RESULT_ERROR_OUT_OF_HOST_MEMORY
constexpr std::int32_t UR_OUT_OF_DEVICE_MEMORY = 39; // UR_RESULT_ERROR_OUT_OF_DEVICE_MEMORY

Status status_of(const sycl::exception &e) noexcept {
  // The runtime attaches the Unified Runtime code to the exceptions it
  // raises for a failed UR call (sycl::detail::get_ur_error, inline in
  // <sycl/exception.hpp>), and names it in the message ("... returns: 20
  // (UR_RESULT_ERROR_DEVICE_LOST)"); a Level Zero device reset after a hang
  // is reported the same way. The message is the fallback for exceptions
  // re-raised without the code.
  const std::int32_t ur = sycl::detail::get_ur_error(e);
  const char *what = e.what();
  if (ur == UR_DEVICE_LOST ||
      (what != nullptr && std::strstr(what, "UR_RESULT_ERROR_DEVICE_LOST") != nullptr)) {
    return Status::DeviceLost;
  }
  if (ur == UR_OUT_OF_DEVICE_MEMORY) {
    return Status::OutOfDeviceMemory;
  }
  if (ur == UR_OUT_OF_HOST_MEMORY) {
    return Status::OutOfHostMemory;
  }
  if (e.category() == sycl::sycl_category()) {
    switch (static_cast<sycl::errc>(e.code().value())) {
    case sycl::errc::feature_not_supported:
    case sycl::errc::kernel_not_supported:
      return Status::Unsupported;
    default:
      break;
    }
  }
  return Status::Backend;
}

namespace {

void format_into(ErrorText &out, Status status, std::int64_t backend_code, const char *message,
                 const char *suffix = "") noexcept {
  std::snprintf(out.text, sizeof out.text, "[dpcore:%d:%lld] %s%s", static_cast<int>(code(status)),
                static_cast<long long>(backend_code), message, suffix);
}

} // namespace

std::string describe(const sycl::exception &e) {
  return std::string(e.what()) + " (SYCL error code " + std::to_string(e.code().value()) + ": " +
         e.category().name() + ")";
}

bool is_errc(const sycl::exception &e, sycl::errc c) noexcept {
  return e.category() == sycl::sycl_category() && e.code() == c;
}

rust::String lossy(const std::string &s) { return rust::String::lossy(s); }

Error::Error(std::int32_t status, std::int64_t backend_code, const std::string &message)
    : std::runtime_error(encode(static_cast<Status>(status), backend_code, message)) {}

Error::Error(Encoded, const std::string &text) : std::runtime_error(text) {}

ErrorText describe_current_exception() noexcept {
  ErrorText out{};
  try {
    throw;
  } catch (const Error &e) {
    std::snprintf(out.text, sizeof out.text, "%s", e.what());
  } catch (const sycl::exception &e) {
    char suffix[256];
    std::snprintf(suffix, sizeof suffix, " (SYCL error code %d: %s)", e.code().value(),
                  e.category().name());
    format_into(out, status_of(e), e.code().value(), e.what(), suffix);
  } catch (const std::bad_alloc &) {
    format_into(out, Status::OutOfHostMemory, 0, "out of host memory");
  } catch (const std::exception &e) {
    format_into(out, Status::Backend, 0, e.what());
  } DPCORE_SYCL_CATCH_ALL {
    format_into(out, Status::Internal, 0, "unknown C++ exception (not a std::exception)");
  }
  return out;
}

} // namespace dpcore_sycl
