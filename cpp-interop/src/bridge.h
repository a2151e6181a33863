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

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "rust/cxx.h"

namespace dpcore_sycl {

// Shared with Rust; defined in the generated header.
struct DeviceFacts;
struct RuntimeFacts;
struct PlatformFacts;
enum class PartitionKind : std::int32_t;

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

// An ordered list of devices (the root devices, or a partition's result).
class DeviceList {
public:
  explicit DeviceList(std::vector<sycl::device> devs) : devs_(std::move(devs)) {}
  const std::vector<sycl::device> &get() const noexcept { return devs_; }

private:
  std::vector<sycl::device> devs_;
};

// An exception that carries its dpc_status and backend code; its what() is
// already in the "[dpcore:<status>:<code>] message" form.
class Error : public std::runtime_error {
public:
  Error(std::int32_t status, std::int64_t backend_code, const std::string &message);
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
