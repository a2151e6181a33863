// Contexts; see context.h.

#include "dpcore-sycl/src/bridge/context.h"
#include "dpcore-sycl/src/context.rs.h"

#include <string>
#include <vector>

namespace dpcore_sycl {

namespace {

std::string platform_name(const sycl::platform &p) noexcept {
  try {
    return p.get_info<sycl::info::platform::name>();
  } DPCORE_SYCL_CATCH_ALL {
    return "<unnamed platform>";
  }
}

} // namespace

std::unique_ptr<Context> context_default(const Device &dev) {
  return std::make_unique<Context>(dev.get().get_platform().khr_get_default_context());
}

std::unique_ptr<Context> context_create(const DeviceList &devs) {
  const std::vector<sycl::device> &list = devs.get();
  if (list.empty()) {
    throw Error(code(Status::InvalidArgument), 0, "a context needs at least one device");
  }
  const sycl::platform first = list[0].get_platform();
  for (std::size_t i = 1; i < list.size(); ++i) {
    const sycl::platform other = list[i].get_platform();
    if (other != first) {
      throw Error(code(Status::InvalidArgument), 0,
                  "the devices of a context must all belong to one platform: device '" +
                      device_name(list[0]) + "' is on platform '" + platform_name(first) +
                      "', device '" + device_name(list[i]) + "' on platform '" +
                      platform_name(other) + "'");
    }
  }
  try {
    return std::make_unique<Context>(sycl::context(list));
  } catch (const sycl::exception &e) {
    if (is_errc(e, sycl::errc::invalid)) {
      throw Error(code(Status::InvalidArgument), e.code().value(),
                  "cannot create a context over these devices: " + describe(e));
    }
    throw;
  }
}

bool context_equal(const Context &a, const Context &b) noexcept { return a.get() == b.get(); }

std::size_t context_native(const Context &ctx) noexcept {
  return reinterpret_cast<std::size_t>(ctx.native());
}

} // namespace dpcore_sycl
