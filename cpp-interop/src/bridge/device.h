// Devices: the root devices, their facts, sub-devices, and the device lists
// the other parts take; bridged in src/device.rs.

#pragma once

#include "dpcore-sycl/src/bridge/common.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dpcore_sycl {

// Shared with Rust; defined in the generated src/device.rs.h.
struct DeviceFacts;
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

// A list to fill with device_list_push (the devices of a new context).
std::unique_ptr<DeviceList> device_list_new();
void device_list_push(DeviceList &list, const Device &dev);

// The name of `d` for messages ("<unnamed device>" when it cannot be read).
std::string device_name(const sycl::device &d) noexcept;

} // namespace dpcore_sycl
