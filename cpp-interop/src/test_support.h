// Test-only helpers (see src/test_support.rs); not part of the plugin.

#pragma once

#include "dpcore-sycl/src/bridge.h"

#include <memory>

#include "rust/cxx.h"

namespace dpcore_sycl {

std::unique_ptr<Event> test_failing_host_task(const Queue &q, rust::Str message,
                                              bool sycl_error);

} // namespace dpcore_sycl
