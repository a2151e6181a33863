// USM: allocation on a queue, free, and what a pointer is (kind, range,
// device); bridged in src/usm.rs.

#pragma once

#include "dpcore-sycl/src/bridge/common.h"
#include "dpcore-sycl/src/bridge/context.h"
#include "dpcore-sycl/src/bridge/device.h"
#include "dpcore-sycl/src/bridge/queue.h"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace dpcore_sycl {

// Shared with Rust; defined in the generated src/usm.rs.h.
struct PointerFacts;
enum class UsmKind : std::int32_t;

// The address of the new allocation; Error(OUT_OF_DEVICE_MEMORY) when the
// runtime returns nullptr. `align` is 0 or a power of two (checked by Rust).
std::size_t usm_alloc(const Queue &q, UsmKind kind, std::size_t size, std::size_t align);
void usm_free(const Context &ctx, std::size_t p);
// Kind and, where the backend tells it, the containing allocation's range.
PointerFacts usm_pointer_facts(const Context &ctx, std::size_t p);
// Only the kind of `p` in `ctx` (no device, no range): the cheap check.
UsmKind usm_pointer_kind(const Context &ctx, std::size_t p);
// The device of a USM pointer, or a null pointer when SYCL cannot tell.
std::unique_ptr<Device> usm_pointer_device(const Context &ctx, std::size_t p);

} // namespace dpcore_sycl
