// Native handles; see native_handle.h.

#include "dpcore-sycl/src/bridge/native_handle.h"
#include "dpcore-sycl/src/bridge/platform.h"
#include "dpcore-sycl/src/native_handle.rs.h"

#include <sycl/backend/opencl.hpp>

#include <cstddef>
#include <type_traits>
#include <variant>

namespace dpcore_sycl {

namespace {

template <typename T> std::size_t address_of(T handle) noexcept {
  return reinterpret_cast<std::size_t>(handle);
}

template <typename SyclObject> NativeHandle native_of(const SyclObject &obj) {
  NativeHandle h{};
  const sycl::backend b = obj.get_backend();
  h.backend = backend_of(b);
  switch (b) {
  case sycl::backend::opencl:
    h.handle = address_of(sycl::get_native<sycl::backend::opencl>(obj));
    h.supported = true;
    break;
  case sycl::backend::ext_oneapi_level_zero: {
    auto native = sycl::get_native<sycl::backend::ext_oneapi_level_zero>(obj);
    if constexpr (std::is_pointer<decltype(native)>::value) {
      h.handle = address_of(native);
    } else {
      // A queue: a command queue or an (immediate) command list.
      h.handle = std::visit([](auto handle) { return address_of(handle); }, native);
    }
    h.supported = true;
    break;
  }
  default:
    break;
  }
  return h;
}

} // namespace

NativeHandle native_handle_device(const Device &dev) { return native_of(dev.get()); }
NativeHandle native_handle_context(const Context &ctx) { return native_of(ctx.get()); }
NativeHandle native_handle_queue(const Queue &q) { return native_of(q.get()); }

} // namespace dpcore_sycl
