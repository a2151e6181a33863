// Contexts: the platform default context and new ones over a set of
// devices; bridged in src/context.rs.

#pragma once

#include "dpcore-sycl/src/bridge/common.h"
#include "dpcore-sycl/src/bridge/device.h"

#include <cstddef>
#include <memory>

namespace dpcore_sycl {

// A context as the plugin hands it out (holds a sycl::context handle).
class Context {
public:
  explicit Context(sycl::context ctx) : ctx_(std::move(ctx)) {}
  const sycl::context &get() const noexcept { return ctx_; }
  const sycl::context *native() const noexcept { return &ctx_; }

private:
  sycl::context ctx_;
};

// The platform default context of the device's platform.
std::unique_ptr<Context> context_default(const Device &dev);
// A new context over the devices; Error(INVALID_ARGUMENT) when they span
// platforms (or SYCL rejects them otherwise).
std::unique_ptr<Context> context_create(const DeviceList &devs);
bool context_equal(const Context &a, const Context &b) noexcept;
std::size_t context_native(const Context &ctx) noexcept;

} // namespace dpcore_sycl
