// C++ half of the dpcore SYCL plugin, bridged to Rust with cxx (see
// src/lib.rs, module `ffi`).
//
// Every function that can fail is declared in the bridge as returning
// `Result<...>`; the `rust::behavior::trycatch` below turns any C++ exception
// into the `Err` message. That message starts with a machine-readable header,
//
//     [dpcore:<status>:<backend code>] <human-readable message>
//
// which the Rust side parses back (see `Failure::from_exception` in lib.rs):
// <status> is a dpc_status code, <backend code> the SYCL error code
// (`sycl::exception::code().value()`, 0 when there is none). A
// sycl::exception's message also ends with "(SYCL error code N: <category>)".
//
// Functions declared without `Result` are noexcept.

#pragma once

#include <sycl/sycl.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "rust/cxx.h"

namespace dpcore_sycl {

// Shared with Rust; defined in the generated header.
struct DeviceFacts;
struct RuntimeFacts;
struct PlatformFacts;
struct PointerFacts;
struct ProfilingTimes;
struct NativeHandle;
struct KernelArg;
struct KernelFacts;
enum class PartitionKind : std::int32_t;
enum class UsmKind : std::int32_t;
enum class EventStatus : std::int32_t;
enum class SourceKind : std::int32_t;
enum class ArgKind : std::int32_t;

// A device as the plugin hands it out: one heap object per Obj, holding its
// own sycl::device (a cheap, reference-counted handle).
class Device {
public:
  explicit Device(sycl::device dev) : dev_(std::move(dev)) {}
  const sycl::device &get() const noexcept { return dev_; }
  // The address of the held sycl::device, stable for the object's lifetime.
  const sycl::device *native() const noexcept { return &dev_; }

private:
  sycl::device dev_;
};

// An ordered list of devices (the root devices, a partition's result, or the
// devices of a new context, appended with device_list_push before use).
class DeviceList {
public:
  explicit DeviceList(std::vector<sycl::device> devs) : devs_(std::move(devs)) {}
  const std::vector<sycl::device> &get() const noexcept { return devs_; }
  void push(const sycl::device &dev) { devs_.push_back(dev); }

private:
  std::vector<sycl::device> devs_;
};

// A context as the plugin hands it out (holds a sycl::context handle).
class Context {
public:
  explicit Context(sycl::context ctx) : ctx_(std::move(ctx)) {}
  const sycl::context &get() const noexcept { return ctx_; }
  const sycl::context *native() const noexcept { return &ctx_; }

private:
  sycl::context ctx_;
};

// The asynchronous errors of one queue created by the plugin, collected by
// its async_handler and drained by queue_wait / event_wait. Only the first
// error since the last drain is kept in full; the others are counted. Shared
// (std::shared_ptr) by the queue's handler, the Queue object and the events
// of the queue, so that it outlives whichever goes last.
class AsyncErrors {
public:
  // Record every exception of `list`. Never throws, never prints, never
  // allocates: it is called by the SYCL runtime, possibly on its own threads.
  void record(const sycl::exception_list &list) noexcept;

  struct Drained {
    std::size_t count = 0;      // errors since the last drain (0: none)
    std::int64_t code = 0;      // backend code of the first one
    std::string first;          // message of the first one
  };
  // Take what was recorded and start afresh.
  Drained drain();
  // Whether anything was recorded since the last drain (a lock-free peek,
  // so that waits with nothing to report skip the lock).
  bool pending() const noexcept { return pending_.load(std::memory_order_acquire); }

private:
  std::atomic<bool> pending_{false};
  std::mutex mutex_;
  std::size_t count_ = 0;
  std::int64_t first_code_ = 0;
  char first_[1024] = {};
};

// A queue as the plugin hands it out: the sycl::queue handle and, for queues
// the plugin created, their asynchronous error list (NULL for adopted queues,
// whose owner's handler receives their asynchronous errors).
class Queue {
public:
  Queue(sycl::queue q, std::shared_ptr<AsyncErrors> errors)
      : q_(std::move(q)), errors_(std::move(errors)) {}
  // Non-const: most sycl::queue member functions are, although a queue is a
  // thread-safe handle (SYCL 2020, 4.3.2).
  sycl::queue &get() const noexcept { return q_; }
  const sycl::queue *native() const noexcept { return &q_; }
  const std::shared_ptr<AsyncErrors> &errors() const noexcept { return errors_; }

private:
  mutable sycl::queue q_;
  std::shared_ptr<AsyncErrors> errors_;
};

// An event as the plugin hands it out, with the error list of the queue it
// came from (or NULL) so that waiting on it can report that queue's
// asynchronous errors. `empty` marks the already-complete event of an
// operation that submitted nothing (n == 0, no dependencies).
class Event {
public:
  Event(sycl::event ev, std::shared_ptr<AsyncErrors> errors, bool empty = false)
      : ev_(std::move(ev)), errors_(std::move(errors)), empty_(empty) {}
  const sycl::event &get() const noexcept { return ev_; }
  // sycl::event's waits are non-const although an event is a thread-safe handle.
  sycl::event &get_mut() const noexcept { return ev_; }
  const sycl::event *native() const noexcept { return &ev_; }
  const std::shared_ptr<AsyncErrors> &errors() const noexcept { return errors_; }
  bool empty() const noexcept { return empty_; }

private:
  mutable sycl::event ev_;
  std::shared_ptr<AsyncErrors> errors_;
  bool empty_;
};

// A list of events (dependencies, or the events to wait for), with the
// distinct error lists of their queues.
class EventList {
public:
  const std::vector<sycl::event> &get() const noexcept { return evs_; }
  const std::vector<std::shared_ptr<AsyncErrors>> &errors() const noexcept { return errors_; }
  void push(const Event &ev);

private:
  std::vector<sycl::event> evs_;
  std::vector<std::shared_ptr<AsyncErrors>> errors_;
};

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

// An exception that carries its dpc_status and backend code; its what() is
// already in the "[dpcore:<status>:<code>] message" form.
class Error : public std::runtime_error {
public:
  Error(std::int32_t status, std::int64_t backend_code, const std::string &message);
  // From a text already in that form.
  struct Encoded {};
  Error(Encoded, const std::string &text);
};

// A NUL-terminated error text in a fixed buffer, so that describing an
// exception never allocates (and so never throws).
struct ErrorText {
  char text[2048];
};

// Describe the exception being handled (call only inside a catch block) in
// the "[dpcore:<status>:<code>] message" form. Never throws.
ErrorText describe_current_exception() noexcept;

// --- functions bridged to Rust ----------------------------------------------

// sycl::device::get_devices(), in that order.
std::unique_ptr<DeviceList> root_devices();
std::size_t device_list_len(const DeviceList &list) noexcept;
// A new object for element `index` (throws std::out_of_range past the end).
std::unique_ptr<Device> device_list_get(const DeviceList &list, std::size_t index);

// Everything DeviceInfoV1 holds. A query that fails leaves its field zero or
// empty and adds a line to `failed_queries`; only running out of memory
// fails the whole call.
DeviceFacts device_facts(const Device &dev);

bool device_equal(const Device &a, const Device &b) noexcept;

// The parent of a sub-device, or a null pointer for a root device.
std::unique_ptr<Device> device_parent(const Device &dev);

// create_sub_devices() with the given kind. `params` holds the count per
// sub-device (EQUALLY), the counts (BY_COUNTS) or one AffinityDomain value
// (BY_AFFINITY_DOMAIN); the caller has checked its length. Throws
// Error(UNSUPPORTED) when the device does not offer that kind (or domain) and
// Error(INVALID_ARGUMENT) when SYCL rejects the values (errc::invalid).
std::unique_ptr<DeviceList> device_partition(const Device &dev, PartitionKind kind,
                                             rust::Slice<const std::size_t> params);

// The address of the sycl::device held by `dev`.
std::size_t device_native(const Device &dev) noexcept;

RuntimeFacts runtime_facts();

// sycl::platform::get_platforms(), in that order.
rust::Vec<PlatformFacts> platform_facts();

// --- lists built from Rust ---------------------------------------------------

std::unique_ptr<DeviceList> device_list_new();
void device_list_push(DeviceList &list, const Device &dev);
std::unique_ptr<EventList> event_list_new();
void event_list_push(EventList &list, const Event &ev);

// --- contexts ------------------------------------------------------------------

// The platform default context of the device's platform.
std::unique_ptr<Context> context_default(const Device &dev);
// A new context over the devices; Error(INVALID_ARGUMENT) when they span
// platforms (or SYCL rejects them otherwise).
std::unique_ptr<Context> context_create(const DeviceList &devs);
bool context_equal(const Context &a, const Context &b) noexcept;
std::size_t context_native(const Context &ctx) noexcept;

// --- queues --------------------------------------------------------------------

// A new queue with our async_handler; Error(INVALID_ARGUMENT) when the device
// is not in the context.
std::unique_ptr<Queue> queue_create(const Context &ctx, const Device &dev, bool in_order,
                                    bool profiling);
// A new object sharing the sycl::queue at address `native`.
std::unique_ptr<Queue> queue_adopt(std::size_t native);
std::unique_ptr<Device> queue_device(const Queue &q);
std::unique_ptr<Context> queue_context(const Queue &q);
// queue_flags bits (IN_ORDER 1, PROFILING 2).
std::uint32_t queue_flags(const Queue &q);
bool queue_equal(const Queue &a, const Queue &b) noexcept;
std::size_t queue_native(const Queue &q) noexcept;
// wait_and_throw, then report the first collected asynchronous error.
void queue_wait(const Queue &q);

// --- enqueue -----------------------------------------------------------------
// Each returns the new event when `want_event`, else a null pointer (and then
// submits without an event where the runtime allows). Pointers are passed as
// addresses. n == 0 submits nothing (see enqueue_nothing in bridge.cpp).

std::unique_ptr<Event> enqueue_barrier(const Queue &q, const EventList &deps, bool want_event);
std::unique_ptr<Event> enqueue_memcpy(const Queue &q, std::size_t dst, std::size_t src,
                                      std::size_t n, const EventList &deps, bool want_event);
std::unique_ptr<Event> enqueue_memset(const Queue &q, std::size_t p, std::uint8_t value,
                                      std::size_t n, const EventList &deps, bool want_event);
// `pattern` is 1, 2, 4, 8 or 16 bytes long (else Error(INVALID_ARGUMENT)).
std::unique_ptr<Event> enqueue_fill(const Queue &q, std::size_t p,
                                    rust::Slice<const std::uint8_t> pattern, std::size_t count,
                                    const EventList &deps, bool want_event);
std::unique_ptr<Event> enqueue_prefetch(const Queue &q, std::size_t p, std::size_t n,
                                        const EventList &deps, bool want_event);
std::unique_ptr<Event> enqueue_mem_advise(const Queue &q, std::size_t p, std::size_t n,
                                          std::int32_t advice, const EventList &deps,
                                          bool want_event);

// --- events --------------------------------------------------------------------

// sycl::event::wait_and_throw on the list, then report the first asynchronous
// error collected by the events' queues.
void events_wait(const EventList &evs);
// Wait for one event: the common case, without building a list.
void event_wait_one(const Event &ev);
EventStatus event_status(const Event &ev);
// Error(UNSUPPORTED) when the queue was made without profiling.
ProfilingTimes event_profiling(const Event &ev);
std::size_t event_native(const Event &ev) noexcept;
// A new Event sharing the sycl::event at `native` (its owner keeps it).
std::unique_ptr<Event> event_adopt(std::size_t native);

// --- USM -----------------------------------------------------------------------

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

// --- native handles --------------------------------------------------------------
// The backend handle (OpenCL: retained for the caller; Level Zero: owned by
// the runtime). For other backends `supported` is false and `handle` 0.

NativeHandle native_handle_device(const Device &dev);
NativeHandle native_handle_context(const Context &ctx);
NativeHandle native_handle_queue(const Queue &q);

// --- kernel bundles and kernels ---------------------------------------------------

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

// cxx calls this around every bridged function declared as returning Result
// (it replaces cxx's default, which only catches std::exception and keeps
// only what()). It catches everything, so no exception escapes to Rust.
namespace rust {
namespace behavior {
template <typename Try, typename Fail>
static void trycatch(Try &&func, Fail &&fail) noexcept try {
  func();
} catch (...) {
  const ::dpcore_sycl::ErrorText e = ::dpcore_sycl::describe_current_exception();
  fail(e.text);
}
} // namespace behavior
} // namespace rust
