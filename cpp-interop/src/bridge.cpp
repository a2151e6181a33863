// C++ half of the dpcore SYCL plugin; see bridge.h.

#include "dpcore-sycl/src/bridge.h"
#include "dpcore-sycl/src/lib.rs.h"

#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <utility>

#ifndef DPCORE_SYCL_ABI_MAJOR
#error "DPCORE_SYCL_ABI_MAJOR must be defined (build.rs passes -DDPCORE_SYCL_ABI_MAJOR=N)"
#endif

namespace dpcore_sycl {

namespace {

std::int32_t code(Status s) noexcept { return static_cast<std::int32_t>(s); }

std::string encode(Status status, std::int64_t backend_code, const std::string &message) {
  return "[dpcore:" + std::to_string(code(status)) + ":" + std::to_string(backend_code) + "] " +
         message;
}

// "<what> (SYCL error code N: <category>)"
std::string describe(const sycl::exception &e) {
  return std::string(e.what()) + " (SYCL error code " + std::to_string(e.code().value()) + ": " +
         e.category().name() + ")";
}

// The dpc_status for a sycl::exception that is not handled more precisely.
Status status_of(const sycl::exception &e) noexcept {
  if (e.category() == sycl::sycl_category()) {
    switch (static_cast<sycl::errc>(e.code().value())) {
    case sycl::errc::feature_not_supported:
    case sycl::errc::kernel_not_supported:
      return Status::Unsupported;
    default:
      break;
    }
  }
  return Status::Backend;
}

void format_into(ErrorText &out, Status status, std::int64_t backend_code, const char *message,
                 const char *suffix = "") noexcept {
  std::snprintf(out.text, sizeof out.text, "[dpcore:%d:%lld] %s%s", static_cast<int>(code(status)),
                static_cast<long long>(backend_code), message, suffix);
}

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
  } catch (...) {
    facts.failed_queries.push_back(
        rust::String::lossy(std::string(what) + ": unknown C++ exception"));
  }
}

rust::String lossy(const std::string &s) { return rust::String::lossy(s); }

Backend backend_of(sycl::backend b) noexcept {
  switch (b) {
  case sycl::backend::opencl:
    return Backend::OpenCl;
  case sycl::backend::ext_oneapi_level_zero:
    return Backend::LevelZero;
  case sycl::backend::ext_oneapi_cuda:
    return Backend::Cuda;
  case sycl::backend::ext_oneapi_hip:
    return Backend::Hip;
  case sycl::backend::ext_oneapi_native_cpu:
    return Backend::NativeCpu;
  default:
    return Backend::Unknown;
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

std::string device_name(const sycl::device &d) noexcept {
  try {
    return d.get_info<sycl::info::device::name>();
  } catch (...) {
    return "<unnamed device>";
  }
}

template <typename T> bool contains(const std::vector<T> &v, const T &x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// ", "-separated names, or `none` when empty.
template <typename T, typename Name>
std::string join_names(const std::vector<T> &items, Name name, const char *none) {
  if (items.empty()) {
    return none;
  }
  std::string out;
  for (const T &item : items) {
    if (!out.empty()) {
      out += ", ";
    }
    out += name(item);
  }
  return out;
}

const char *affinity_name(sycl::info::partition_affinity_domain d) noexcept {
  for (const AffinityMapping &m : kAffinity) {
    if (m.sycl == d) {
      return m.name;
    }
  }
  return "not_applicable";
}

// The path of the loaded libsycl: first from dladdr() on one of its
// functions, else by walking the loaded objects.
std::string loaded_libsycl_path() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void *>(&sycl::sycl_category), &info) != 0 &&
      info.dli_fname != nullptr && std::strstr(info.dli_fname, "libsycl") != nullptr) {
    return info.dli_fname;
  }
  std::string found;
  dl_iterate_phdr(
      [](dl_phdr_info *phdr, std::size_t, void *data) -> int {
        if (phdr->dlpi_name == nullptr) {
          return 0;
        }
        const char *base = std::strrchr(phdr->dlpi_name, '/');
        base = base == nullptr ? phdr->dlpi_name : base + 1;
        if (std::strncmp(base, "libsycl.so", 10) == 0) {
          try {
            *static_cast<std::string *>(data) = phdr->dlpi_name;
          } catch (...) {
            return 0;
          }
          return 1;
        }
        return 0;
      },
      &found);
  return found;
}

} // namespace

Error::Error(std::int32_t status, std::int64_t backend_code, const std::string &message)
    : std::runtime_error(encode(static_cast<Status>(status), backend_code, message)) {}

ErrorText describe_current_exception() noexcept {
  ErrorText out{};
  try {
    throw;
  } catch (const Error &e) {
    std::snprintf(out.text, sizeof out.text, "%s", e.what());
  } catch (const sycl::exception &e) {
    char suffix[256];
    std::snprintf(suffix, sizeof suffix, " (SYCL error code %d: %s)", e.code().value(),
                  e.category().name());
    format_into(out, status_of(e), e.code().value(), e.what(), suffix);
  } catch (const std::bad_alloc &) {
    format_into(out, Status::OutOfHostMemory, 0, "out of host memory");
  } catch (const std::exception &e) {
    format_into(out, Status::Backend, 0, e.what());
  } catch (...) {
    format_into(out, Status::Internal, 0, "unknown C++ exception (not a std::exception)");
  }
  return out;
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

RuntimeFacts runtime_facts() {
  RuntimeFacts r{};
  const auto platforms = sycl::platform::get_platforms();
  r.n_platforms = static_cast<std::uint32_t>(platforms.size());
  r.abi_major = DPCORE_SYCL_ABI_MAJOR;

  std::string runtime = "Intel SYCL runtime libsycl.so." + std::to_string(DPCORE_SYCL_ABI_MAJOR);
#if defined(__LIBSYCL_MAJOR_VERSION) && defined(__LIBSYCL_MINOR_VERSION) &&                        \
    defined(__LIBSYCL_PATCH_VERSION)
  runtime += " (headers " + std::to_string(__LIBSYCL_MAJOR_VERSION) + "." +
             std::to_string(__LIBSYCL_MINOR_VERSION) + "." +
             std::to_string(__LIBSYCL_PATCH_VERSION) + ")";
#endif
  runtime += "; platforms: ";
  if (platforms.empty()) {
    runtime += "none";
  }
  bool first = true;
  for (const sycl::platform &p : platforms) {
    if (!first) {
      runtime += ", ";
    }
    first = false;
    try {
      runtime += p.get_info<sycl::info::platform::name>() + " [" +
                 p.get_info<sycl::info::platform::version>() + "]";
    } catch (const sycl::exception &) {
      runtime += "<platform without a name>";
    }
  }
  r.runtime = lossy(runtime);
  r.runtime_path = lossy(loaded_libsycl_path());
  return r;
}

rust::Vec<PlatformFacts> platform_facts() {
  rust::Vec<PlatformFacts> out;
  for (const sycl::platform &p : sycl::platform::get_platforms()) {
    PlatformFacts f{};
    f.backend = backend_of(p.get_backend());
    // A platform whose details cannot be read is still listed, with what
    // could be read, so that platform indices stay aligned.
    try {
      f.name = lossy(p.get_info<sycl::info::platform::name>());
      f.vendor = lossy(p.get_info<sycl::info::platform::vendor>());
      f.version = lossy(p.get_info<sycl::info::platform::version>());
      f.n_devices = static_cast<std::uint32_t>(p.get_devices().size());
    } catch (const sycl::exception &) {
    }
    out.push_back(std::move(f));
  }
  return out;
}

} // namespace dpcore_sycl
