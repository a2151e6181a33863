// The SYCL runtime and its platforms; bridged in src/platform.rs.

#pragma once

#include "dpcore-sycl/src/bridge/common.h"

#include <cstdint>

namespace dpcore_sycl {

// Shared with Rust; defined in the generated src/platform.rs.h.
struct RuntimeFacts;
struct PlatformFacts;
enum class Backend : std::int32_t;

RuntimeFacts runtime_facts();

// sycl::platform::get_platforms(), in that order.
rust::Vec<PlatformFacts> platform_facts();

// The bridge's Backend of a SYCL backend (Unknown for any other).
Backend backend_of(sycl::backend b) noexcept;

} // namespace dpcore_sycl
