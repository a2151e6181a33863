// Native handles: the OpenCL or Level Zero handle of a device, context or
// queue; bridged in src/native_handle.rs.

#pragma once

#include "dpcore-sycl/src/bridge/common.h"
#include "dpcore-sycl/src/bridge/context.h"
#include "dpcore-sycl/src/bridge/device.h"
#include "dpcore-sycl/src/bridge/queue.h"

namespace dpcore_sycl {

// Shared with Rust; defined in the generated src/native_handle.rs.h.
struct NativeHandle;

// The backend handle (OpenCL: retained for the caller; Level Zero: owned by
// the runtime). For other backends `supported` is false and `handle` 0.

NativeHandle native_handle_device(const Device &dev);
NativeHandle native_handle_context(const Context &ctx);
NativeHandle native_handle_queue(const Queue &q);

} // namespace dpcore_sycl
