// Devices; see device.h.

#include "dpcore-sycl/src/bridge/device.h"
#include "dpcore-sycl/src/bridge/platform.h"
#include "dpcore-sycl/src/device.rs.h"

#include <exception>
#include <new>
#include <string>
#include <utility>

namespace dpcore_sycl {

namespace {

// Run one device query; if it throws, record why in `facts.failed_queries`
// and carry on (the field keeps its zero value).
template <typename F> void query(DeviceFacts &facts, const char *what, F &&fn) {
  try {
    fn();
  } catch (const std::bad_alloc &) {
    throw;
  } catch (const sycl::exception &e) {
    facts.failed_queries.push_back(rust::String::lossy(std::string(what) + ": " + describe(e)));
  } catch (const std::exception &e) {
    facts.failed_queries.push_back(rust::String::lossy(std::string(what) + ": " + e.what()));
  } DPCORE_SYCL_CATCH_ALL {
    facts.failed_queries.push_back(
        rust::String::lossy(std::string(what) + ": unknown C++ exception"));
  }
}

DeviceType device_type_of(sycl::info::device_type t) noexcept {
  switch (t) {
  case sycl::info::device_type::cpu:
    return DeviceType::Cpu;
  case sycl::info::device_type::gpu:
    return DeviceType::Gpu;
  case sycl::info::device_type::accelerator:
    return DeviceType::Accelerator;
  case sycl::info::device_type::custom:
    return DeviceType::Custom;
  default:
    return DeviceType::Unknown;
  }
}

struct AffinityMapping {
  AffinityDomain ours;
  sycl::info::partition_affinity_domain sycl;
  const char *name;
};

constexpr AffinityMapping kAffinity[] = {
    {AffinityDomain::Numa, sycl::info::partition_affinity_domain::numa, "numa"},
    {AffinityDomain::L4Cache, sycl::info::partition_affinity_domain::L4_cache, "L4_cache"},
    {AffinityDomain::L3Cache, sycl::info::partition_affinity_domain::L3_cache, "L3_cache"},
    {AffinityDomain::L2Cache, sycl::info::partition_affinity_domain::L2_cache, "L2_cache"},
    {AffinityDomain::L1Cache, sycl::info::partition_affinity_domain::L1_cache, "L1_cache"},
    {AffinityDomain::NextPartitionable,
     sycl::info::partition_affinity_domain::next_partitionable, "next_partitionable"},
};

const char *property_name(sycl::info::partition_property p) noexcept {
  switch (p) {
  case sycl::info::partition_property::partition_equally:
    return "partition_equally";
  case sycl::info::partition_property::partition_by_counts:
    return "partition_by_counts";
  case sycl::info::partition_property::partition_by_affinity_domain:
    return "partition_by_affinity_domain";
  case sycl::info::partition_property::ext_intel_partition_by_cslice:
    return "ext_intel_partition_by_cslice";
  case sycl::info::partition_property::no_partition:
    return "no_partition";
  }
  return "unknown partition property";
}

bool is_sub_device(const sycl::device &d) {
  return d.get_info<sycl::info::device::partition_type_property>() !=
         sycl::info::partition_property::no_partition;
}

const char *affinity_name(sycl::info::partition_affinity_domain d) noexcept {
  for (const AffinityMapping &m : kAffinity) {
    if (m.sycl == d) {
      return m.name;
    }
  }
  return "not_applicable";
}

} // namespace

std::string device_name(const sycl::device &d) noexcept {
  try {
    return d.get_info<sycl::info::device::name>();
  } DPCORE_SYCL_CATCH_ALL {
    return "<unnamed device>";
  }
}

std::unique_ptr<DeviceList> root_devices() {
  return std::make_unique<DeviceList>(sycl::device::get_devices());
}

std::size_t device_list_len(const DeviceList &list) noexcept { return list.get().size(); }

std::unique_ptr<Device> device_list_get(const DeviceList &list, std::size_t index) {
  return std::make_unique<Device>(list.get().at(index));
}

DeviceFacts device_facts(const Device &dev) {
  namespace di = sycl::info::device;
  const sycl::device &d = dev.get();
  DeviceFacts f{};

  query(f, "backend", [&] { f.backend = backend_of(d.get_backend()); });
  query(f, "device_type", [&] { f.device_type = device_type_of(d.get_info<di::device_type>()); });
  query(f, "name", [&] { f.name = lossy(d.get_info<di::name>()); });
  query(f, "vendor", [&] { f.vendor = lossy(d.get_info<di::vendor>()); });
  query(f, "driver_version", [&] { f.driver_version = lossy(d.get_info<di::driver_version>()); });
  query(f, "version", [&] { f.version = lossy(d.get_info<di::version>()); });
  query(f, "platform name", [&] {
    f.platform_name = lossy(d.get_platform().get_info<sycl::info::platform::name>());
  });
  query(f, "platform index", [&] {
    f.platform_index = UINT32_MAX;
    const auto platforms = sycl::platform::get_platforms();
    const sycl::platform mine = d.get_platform();
    for (std::size_t i = 0; i < platforms.size(); ++i) {
      if (platforms[i] == mine) {
        f.platform_index = static_cast<std::uint32_t>(i);
        break;
      }
    }
  });
  query(f, "platform version", [&] {
    f.platform_version = lossy(d.get_platform().get_info<sycl::info::platform::version>());
  });
  query(f, "vendor_id", [&] { f.vendor_id = d.get_info<di::vendor_id>(); });
  query(f, "max_compute_units", [&] { f.max_compute_units = d.get_info<di::max_compute_units>(); });
  query(f, "max_clock_frequency",
        [&] { f.max_clock_frequency = d.get_info<di::max_clock_frequency>(); });
  query(f, "max_work_item_dimensions",
        [&] { f.max_work_item_dimensions = d.get_info<di::max_work_item_dimensions>(); });
  query(f, "global_mem_size", [&] { f.global_mem_size = d.get_info<di::global_mem_size>(); });
  query(f, "local_mem_size", [&] { f.local_mem_size = d.get_info<di::local_mem_size>(); });
  query(f, "max_mem_alloc_size",
        [&] { f.max_mem_alloc_size = d.get_info<di::max_mem_alloc_size>(); });
  query(f, "global_mem_cache_size",
        [&] { f.global_mem_cache_size = d.get_info<di::global_mem_cache_size>(); });
  query(f, "max_work_group_size",
        [&] { f.max_work_group_size = d.get_info<di::max_work_group_size>(); });
  query(f, "max_work_item_sizes", [&] {
    const auto sizes = d.get_info<di::max_work_item_sizes<3>>();
    for (int i = 0; i < 3; ++i) {
      f.max_work_item_sizes[i] = sizes[i];
    }
  });
  query(f, "max_num_sub_groups",
        [&] { f.max_num_sub_groups = d.get_info<di::max_num_sub_groups>(); });
  query(f, "sub_group_sizes", [&] {
    for (std::size_t s : d.get_info<di::sub_group_sizes>()) {
      f.sub_group_sizes.push_back(s);
    }
  });

  const std::pair<Aspect, sycl::aspect> aspects[] = {
      {Aspect::Fp16, sycl::aspect::fp16},
      {Aspect::Fp64, sycl::aspect::fp64},
      {Aspect::Atomic64, sycl::aspect::atomic64},
      {Aspect::Image, sycl::aspect::image},
      {Aspect::UsmDeviceAllocations, sycl::aspect::usm_device_allocations},
      {Aspect::UsmHostAllocations, sycl::aspect::usm_host_allocations},
      {Aspect::UsmSharedAllocations, sycl::aspect::usm_shared_allocations},
      {Aspect::UsmSystemAllocations, sycl::aspect::usm_system_allocations},
      {Aspect::UsmAtomicHostAllocations, sycl::aspect::usm_atomic_host_allocations},
      {Aspect::UsmAtomicSharedAllocations, sycl::aspect::usm_atomic_shared_allocations},
      {Aspect::QueueProfiling, sycl::aspect::queue_profiling},
      {Aspect::OnlineCompiler, sycl::aspect::online_compiler},
      {Aspect::OnlineLinker, sycl::aspect::online_linker},
      {Aspect::Uuid, sycl::aspect::ext_intel_device_info_uuid},
  };
  for (const auto &a : aspects) {
    query(f, "aspect", [&] {
      if (d.has(a.second)) {
        f.aspects |= std::uint64_t{1} << static_cast<unsigned>(a.first);
      }
    });
  }
  query(f, "uuid", [&] {
    if (d.has(sycl::aspect::ext_intel_device_info_uuid)) {
      const auto uuid = d.get_info<sycl::ext::intel::info::device::uuid>();
      static_assert(std::tuple_size<decltype(f.uuid)>::value == 16, "uuid is 16 bytes");
      for (std::size_t i = 0; i < uuid.size() && i < f.uuid.size(); ++i) {
        f.uuid[i] = uuid[i];
      }
      f.has_uuid = true;
    }
  });

  query(f, "partition_type_property", [&] { f.is_sub_device = is_sub_device(d); });
  query(f, "partition_max_sub_devices",
        [&] { f.partition_max_sub_devices = d.get_info<di::partition_max_sub_devices>(); });
  query(f, "partition_properties", [&] {
    for (auto p : d.get_info<di::partition_properties>()) {
      switch (p) {
      case sycl::info::partition_property::partition_equally:
        f.partition_equally = true;
        break;
      case sycl::info::partition_property::partition_by_counts:
        f.partition_by_counts = true;
        break;
      case sycl::info::partition_property::partition_by_affinity_domain:
        f.partition_by_affinity_domain = true;
        break;
      default:
        break;
      }
    }
  });
  query(f, "partition_affinity_domains", [&] {
    for (auto dom : d.get_info<di::partition_affinity_domains>()) {
      for (const AffinityMapping &m : kAffinity) {
        if (m.sycl == dom) {
          f.affinity_domains |= std::uint32_t{1} << static_cast<unsigned>(m.ours);
        }
      }
    }
  });
  return f;
}

bool device_equal(const Device &a, const Device &b) noexcept { return a.get() == b.get(); }

std::unique_ptr<Device> device_parent(const Device &dev) {
  const sycl::device &d = dev.get();
  if (!is_sub_device(d)) {
    return nullptr;
  }
  return std::make_unique<Device>(d.get_info<sycl::info::device::parent_device>());
}

std::unique_ptr<DeviceList> device_partition(const Device &dev, PartitionKind kind,
                                             rust::Slice<const std::size_t> params) {
  using sycl::info::partition_property;
  const sycl::device &d = dev.get();

  partition_property wanted;
  switch (kind) {
  case PartitionKind::Equally:
    wanted = partition_property::partition_equally;
    break;
  case PartitionKind::ByCounts:
    wanted = partition_property::partition_by_counts;
    break;
  case PartitionKind::ByAffinityDomain:
    wanted = partition_property::partition_by_affinity_domain;
    break;
  default:
    throw Error(code(Status::InvalidArgument), 0,
                "unknown partition kind " + std::to_string(static_cast<std::int32_t>(kind)));
  }
  // Guard what some runtimes do not: create_sub_devices(0) divides by zero
  // and an empty count list dereferences past its end.
  if (params.empty()) {
    throw Error(code(Status::InvalidArgument), 0, "partition parameters are missing");
  }
  if (kind == PartitionKind::Equally && params[0] == 0) {
    throw Error(code(Status::InvalidArgument), 0,
                "partition EQUALLY needs at least one compute unit per sub-device");
  }

  const auto supported = d.get_info<sycl::info::device::partition_properties>();
  if (!contains(supported, wanted)) {
    throw Error(code(Status::Unsupported), 0,
                "device '" + device_name(d) + "' does not support " + property_name(wanted) +
                    "; it supports: " +
                    join_names(supported, property_name, "no partitioning at all"));
  }

  std::vector<sycl::device> subs;
  try {
    switch (kind) {
    case PartitionKind::Equally:
      subs = d.create_sub_devices<partition_property::partition_equally>(params[0]);
      break;
    case PartitionKind::ByCounts:
      subs = d.create_sub_devices<partition_property::partition_by_counts>(
          std::vector<std::size_t>(params.begin(), params.end()));
      break;
    case PartitionKind::ByAffinityDomain: {
      const AffinityMapping *mapping = nullptr;
      for (const AffinityMapping &m : kAffinity) {
        if (static_cast<std::size_t>(m.ours) == params[0]) {
          mapping = &m;
        }
      }
      if (mapping == nullptr) {
        throw Error(code(Status::InvalidArgument), 0,
                    "unknown affinity domain " + std::to_string(params[0]));
      }
      const auto domains = d.get_info<sycl::info::device::partition_affinity_domains>();
      if (!contains(domains, mapping->sycl)) {
        throw Error(code(Status::Unsupported), 0,
                    "device '" + device_name(d) +
                        "' cannot be partitioned by affinity domain " + mapping->name +
                        "; its affinity domains: " +
                        join_names(domains, affinity_name, "none"));
      }
      subs = d.create_sub_devices<partition_property::partition_by_affinity_domain>(
          mapping->sycl);
      break;
    }
    default:
      break;
    }
  } catch (const sycl::exception &e) {
    if (e.category() == sycl::sycl_category() && e.code() == sycl::errc::invalid) {
      throw Error(code(Status::InvalidArgument), e.code().value(),
                  "cannot partition device '" + device_name(d) + "': " + describe(e));
    }
    throw;
  }
  return std::make_unique<DeviceList>(std::move(subs));
}

std::size_t device_native(const Device &dev) noexcept {
  return reinterpret_cast<std::size_t>(dev.native());
}

std::unique_ptr<DeviceList> device_list_new() {
  return std::make_unique<DeviceList>(std::vector<sycl::device>{});
}

void device_list_push(DeviceList &list, const Device &dev) { list.push(dev.get()); }

} // namespace dpcore_sycl
