// Test-only helpers (see src/test_support.rs); not part of the plugin.

#pragma once

#include "dpcore-sycl/src/bridge/event.h"
#include "dpcore-sycl/src/bridge/kernel.h"
#include "dpcore-sycl/src/bridge/queue.h"

#include <memory>

#include "rust/cxx.h"

namespace dpcore_sycl {

std::unique_ptr<Event> test_failing_host_task(const Queue &q, rust::Str message,
                                              bool sycl_error, std::int32_t ur_code);

void test_throw_ur(std::int32_t ur_code, rust::Str message);

double test_raw_launch_micros(const Queue &q, const Kernel &k, std::size_t rounds,
                              bool with_event);

} // namespace dpcore_sycl
