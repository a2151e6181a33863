// Kernel bundles (built from SPIR-V, OpenCL C or SYCL source) and kernels,
// their facts and their launches; bridged in src/kernel.rs.

#pragma once

#include "dpcore-sycl/src/bridge/common.h"
#include "dpcore-sycl/src/bridge/context.h"
#include "dpcore-sycl/src/bridge/device.h"
#include "dpcore-sycl/src/bridge/event.h"
#include "dpcore-sycl/src/bridge/queue.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dpcore_sycl {

// Shared with Rust; defined in the generated src/kernel.rs.h.
struct KernelArg;
struct KernelFacts;
enum class SourceKind : std::int32_t;
enum class ArgKind : std::int32_t;

// A kernel bundle as the plugin hands it out: an executable
// sycl::kernel_bundle built for one device, what it was built from, and the
// log of its (successful) build. Bundles built from OpenCL C through OpenCL
// interop also hold a reference to their cl_program (released with the
// bundle) and the program's kernel names: the runtime's
// ext_oneapi_has_kernel / ext_oneapi_get_kernel only work for bundles built
// from source with the kernel-compiler extension.
class Bundle {
public:
  Bundle(sycl::kernel_bundle<sycl::bundle_state::executable> kb, SourceKind kind,
         std::string log, void *program, std::vector<std::string> kernel_names)
      : kb_(std::move(kb)), kind_(kind), log_(std::move(log)), program_(program),
        kernel_names_(std::move(kernel_names)) {}
  ~Bundle();
  Bundle(const Bundle &) = delete;
  Bundle &operator=(const Bundle &) = delete;

  // Non-const: the ext_oneapi_* lookups are, although a bundle is a
  // thread-safe handle.
  sycl::kernel_bundle<sycl::bundle_state::executable> &get() const noexcept { return kb_; }
  const sycl::kernel_bundle<sycl::bundle_state::executable> *native() const noexcept {
    return &kb_;
  }
  SourceKind kind() const noexcept { return kind_; }
  const std::string &log() const noexcept { return log_; }
  // The cl_program of an OpenCL C bundle, else nullptr.
  void *program() const noexcept { return program_; }
  const std::vector<std::string> &kernel_names() const noexcept { return kernel_names_; }

private:
  mutable sycl::kernel_bundle<sycl::bundle_state::executable> kb_;
  SourceKind kind_;
  std::string log_;
  void *program_;
  std::vector<std::string> kernel_names_;
};

// A kernel as the plugin hands it out: the sycl::kernel handle and its
// number of arguments (-1 when the runtime does not tell), so that a launch
// with another number of arguments is refused (OpenCL kernels keep the
// arguments of earlier launches, so the runtime would not notice).
class Kernel {
public:
  Kernel(sycl::kernel k, std::int64_t num_args) : k_(std::move(k)), num_args_(num_args) {}
  const sycl::kernel &get() const noexcept { return k_; }
  const sycl::kernel *native() const noexcept { return &k_; }
  std::int64_t num_args() const noexcept { return num_args_; }

private:
  sycl::kernel k_;
  std::int64_t num_args_;
};

// Build an executable bundle for `dev` in `ctx` from `src` of `kind`, with
// the build `options` (OpenCL C: passed to clBuildProgram as they are;
// SPIR-V and SYCL: split on whitespace). A failed build writes the full
// build log to `log` and throws Error(BUILD_FAILED); a device that cannot
// take `kind` throws Error(UNSUPPORTED).
std::unique_ptr<Bundle> bundle_create(const Context &ctx, const Device &dev, SourceKind kind,
                                      rust::Slice<const std::uint8_t> src,
                                      rust::Slice<const std::uint8_t> options, std::string &log);
// The kernel names, '\n'-separated; Error(UNSUPPORTED) when the runtime
// cannot list them (SPIR-V and SYCL bundles).
rust::String bundle_kernel_names(const Bundle &b);
bool bundle_has_kernel(const Bundle &b, rust::Slice<const std::uint8_t> name);
// Error(NOT_FOUND) when there is no such kernel.
std::unique_ptr<Kernel> bundle_get_kernel(const Bundle &b, rust::Slice<const std::uint8_t> name);
std::size_t bundle_native(const Bundle &b) noexcept;
// Each query separately: one that fails leaves its field zero.
KernelFacts kernel_facts(const Kernel &k, const Device &dev);
std::size_t kernel_native(const Kernel &k) noexcept;
// Launch over `global` (1 to 3 sizes, in the C API's order: global[0] is
// get_global_id(0)), as an nd-range when `local` is not empty.
std::unique_ptr<Event> enqueue_kernel(const Queue &q, const Kernel &k,
                                      rust::Slice<const std::size_t> global,
                                      rust::Slice<const std::size_t> local,
                                      rust::Slice<const KernelArg> args, const EventList &deps,
                                      bool want_event);

} // namespace dpcore_sycl
