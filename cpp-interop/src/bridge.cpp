// C++ half of the dpcore SYCL plugin; see bridge.h.

#include "dpcore-sycl/src/bridge.h"
#include "dpcore-sycl/src/lib.rs.h"

#include <sycl/backend/opencl.hpp>
#include <sycl/ext/oneapi/experimental/enqueue_functions.hpp>

// Types and constants only: the OpenCL entry points are looked up at run
// time (dlopen/dlsym), so the plugin never links libOpenCL.
#include <CL/cl.h>
#include <CL/cl_ext.h>

#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

// cl_intel_unified_shared_memory, in case the OpenCL headers predate it.
#ifndef CL_MEM_ALLOC_BASE_PTR_INTEL
#define CL_MEM_ALLOC_BASE_PTR_INTEL 0x419B
#endif
#ifndef CL_MEM_ALLOC_SIZE_INTEL
#define CL_MEM_ALLOC_SIZE_INTEL 0x419C
#endif

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

Error::Error(Encoded, const std::string &text) : std::runtime_error(text) {}

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


// ---------------------------------------------------------------------------
// Lists built from Rust

std::unique_ptr<DeviceList> device_list_new() {
  return std::make_unique<DeviceList>(std::vector<sycl::device>{});
}

void device_list_push(DeviceList &list, const Device &dev) { list.push(dev.get()); }

void EventList::push(const Event &ev) {
  evs_.push_back(ev.get());
  const std::shared_ptr<AsyncErrors> &errs = ev.errors();
  if (errs && std::find(errors_.begin(), errors_.end(), errs) == errors_.end()) {
    errors_.push_back(errs);
  }
}

std::unique_ptr<EventList> event_list_new() { return std::make_unique<EventList>(); }

void event_list_push(EventList &list, const Event &ev) { list.push(ev); }

// ---------------------------------------------------------------------------
// Asynchronous errors

void AsyncErrors::record(const sycl::exception_list &list) noexcept {
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::exception_ptr &e : list) {
      if (count_++ != 0) {
        continue;
      }
      try {
        std::rethrow_exception(e);
      } catch (const sycl::exception &x) {
        first_code_ = x.code().value();
        std::snprintf(first_, sizeof first_, "%s (SYCL error code %d: %s)", x.what(),
                      x.code().value(), x.category().name());
      } catch (const std::exception &x) {
        first_code_ = 0;
        std::snprintf(first_, sizeof first_, "%s", x.what());
      } catch (...) {
        first_code_ = 0;
        std::snprintf(first_, sizeof first_, "%s",
                      "unknown C++ exception (not a std::exception)");
      }
    }
    if (count_ != 0) {
      pending_.store(true, std::memory_order_release);
    }
  } catch (...) {
    // Locking failed (std::system_error): the errors are lost rather than
    // letting an exception into the runtime.
  }
}

AsyncErrors::Drained AsyncErrors::drain() {
  Drained d;
  std::lock_guard<std::mutex> lock(mutex_);
  if (count_ == 0) {
    return d;
  }
  d.first = first_; // may throw bad_alloc: then nothing is taken
  d.count = count_;
  d.code = first_code_;
  pending_.store(false, std::memory_order_release);
  count_ = 0;
  first_code_ = 0;
  first_[0] = '\0';
  return d;
}

namespace {

std::string plural(std::size_t n, const char *one, const char *many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// End a wait: `sync` is the exception wait_and_throw threw (already described,
// or nullptr); `lists` the asynchronous error lists to drain. Throws the
// combined failure, if any.
void finish_wait(const ErrorText *sync,
                 const std::vector<std::shared_ptr<AsyncErrors>> &lists) {
  std::size_t total = 0;
  AsyncErrors::Drained first;
  for (const std::shared_ptr<AsyncErrors> &errs : lists) {
    AsyncErrors::Drained d = errs->drain();
    if (d.count != 0 && first.count == 0) {
      first = std::move(d);
      total += first.count;
    } else {
      total += d.count;
    }
  }
  if (sync != nullptr) {
    std::string text = sync->text;
    if (total != 0) {
      text += " (and " + plural(total, "asynchronous error", "asynchronous errors") + ")";
    }
    throw Error(Error::Encoded{}, text);
  }
  if (total != 0) {
    std::string message = "asynchronous error: " + first.first;
    if (total > 1) {
      message +=
          " (and " + plural(total - 1, "more asynchronous error", "more asynchronous errors") + ")";
    }
    throw Error(code(Status::Backend), first.code, message);
  }
}

bool is_errc(const sycl::exception &e, sycl::errc c) noexcept {
  return e.category() == sycl::sycl_category() && e.code() == c;
}

std::string platform_name(const sycl::platform &p) noexcept {
  try {
    return p.get_info<sycl::info::platform::name>();
  } catch (...) {
    return "<unnamed platform>";
  }
}

} // namespace

// ---------------------------------------------------------------------------
// Contexts

std::unique_ptr<Context> context_default(const Device &dev) {
  return std::make_unique<Context>(dev.get().get_platform().khr_get_default_context());
}

std::unique_ptr<Context> context_create(const DeviceList &devs) {
  const std::vector<sycl::device> &list = devs.get();
  if (list.empty()) {
    throw Error(code(Status::InvalidArgument), 0, "a context needs at least one device");
  }
  const sycl::platform first = list[0].get_platform();
  for (std::size_t i = 1; i < list.size(); ++i) {
    const sycl::platform other = list[i].get_platform();
    if (other != first) {
      throw Error(code(Status::InvalidArgument), 0,
                  "the devices of a context must all belong to one platform: device '" +
                      device_name(list[0]) + "' is on platform '" + platform_name(first) +
                      "', device '" + device_name(list[i]) + "' on platform '" +
                      platform_name(other) + "'");
    }
  }
  try {
    return std::make_unique<Context>(sycl::context(list));
  } catch (const sycl::exception &e) {
    if (is_errc(e, sycl::errc::invalid)) {
      throw Error(code(Status::InvalidArgument), e.code().value(),
                  "cannot create a context over these devices: " + describe(e));
    }
    throw;
  }
}

bool context_equal(const Context &a, const Context &b) noexcept { return a.get() == b.get(); }

std::size_t context_native(const Context &ctx) noexcept {
  return reinterpret_cast<std::size_t>(ctx.native());
}

// ---------------------------------------------------------------------------
// Queues

std::unique_ptr<Queue> queue_create(const Context &ctx, const Device &dev, bool in_order,
                                    bool profiling) {
  auto errors = std::make_shared<AsyncErrors>();
  // The handler holds its own reference to the list: the runtime may call it
  // after the Queue object is gone (e.g. from the queue's destructor).
  sycl::async_handler handler = [errors](sycl::exception_list list) noexcept {
    errors->record(list);
  };
  sycl::property_list props;
  if (in_order && profiling) {
    props = {sycl::property::queue::in_order(), sycl::property::queue::enable_profiling()};
  } else if (in_order) {
    props = {sycl::property::queue::in_order()};
  } else if (profiling) {
    props = {sycl::property::queue::enable_profiling()};
  }
  try {
    return std::make_unique<Queue>(sycl::queue(ctx.get(), dev.get(), handler, props),
                                   std::move(errors));
  } catch (const sycl::exception &e) {
    if (is_errc(e, sycl::errc::invalid)) {
      throw Error(code(Status::InvalidArgument), e.code().value(),
                  "cannot create a queue on device '" + device_name(dev.get()) +
                      "' in this context: " + describe(e));
    }
    throw;
  }
}

std::unique_ptr<Queue> queue_adopt(std::size_t native) {
  const sycl::queue &q = *reinterpret_cast<const sycl::queue *>(native);
  return std::make_unique<Queue>(q, nullptr);
}

std::unique_ptr<Device> queue_device(const Queue &q) {
  return std::make_unique<Device>(q.get().get_device());
}

std::unique_ptr<Context> queue_context(const Queue &q) {
  return std::make_unique<Context>(q.get().get_context());
}

std::uint32_t queue_flags(const Queue &q) {
  std::uint32_t flags = 0;
  if (q.get().is_in_order()) {
    flags |= 1u << 0;
  }
  if (q.get().has_property<sycl::property::queue::enable_profiling>()) {
    flags |= 1u << 1;
  }
  return flags;
}

bool queue_equal(const Queue &a, const Queue &b) noexcept { return a.get() == b.get(); }

std::size_t queue_native(const Queue &q) noexcept {
  return reinterpret_cast<std::size_t>(q.native());
}

void queue_wait(const Queue &q) {
  ErrorText sync; // written by the catch below before any read (no 2 KiB zero-fill per call)
  bool failed = false;
  try {
    q.get().wait_and_throw();
  } catch (...) {
    sync = describe_current_exception();
    failed = true;
  }
  std::vector<std::shared_ptr<AsyncErrors>> lists;
  if (q.errors()) {
    lists.push_back(q.errors());
  }
  finish_wait(failed ? &sync : nullptr, lists);
}

// ---------------------------------------------------------------------------
// Enqueue

namespace {

namespace syclex = sycl::ext::oneapi::experimental;

void *ptr(std::size_t address) noexcept { return reinterpret_cast<void *>(address); }

std::unique_ptr<Event> wrap(const Queue &q, sycl::event ev) {
  return std::make_unique<Event>(std::move(ev), q.errors());
}

// The result of an operation that has nothing to do (n == 0): no event when
// none is wanted; else, with dependencies, a barrier on them (so that the
// event still implies its dependencies), and without, an already-complete
// default-constructed event.
std::unique_ptr<Event> enqueue_nothing(const Queue &q, const EventList &deps, bool want_event) {
  if (!want_event) {
    return nullptr;
  }
  if (deps.get().empty()) {
    return std::make_unique<Event>(sycl::event(), q.errors(), true);
  }
  return wrap(q, q.get().ext_oneapi_submit_barrier(deps.get()));
}

// Submit `op(handler&)`: with an event through queue::submit, without one
// through the event-less experimental submit. (Only used when there are
// dependencies or when the runtime has no shortcut for the operation.)
template <typename Op>
std::unique_ptr<Event> submit(const Queue &q, const EventList &deps, bool want_event, Op op) {
  auto cgf = [&](sycl::handler &h) {
    if (!deps.get().empty()) {
      h.depends_on(deps.get());
    }
    op(h);
  };
  if (want_event) {
    return wrap(q, q.get().submit(cgf));
  }
  syclex::submit(q.get(), cgf);
  return nullptr;
}

struct Pattern16 {
  std::uint8_t bytes[16];
};
static_assert(sizeof(Pattern16) == 16 && std::is_trivially_copyable<Pattern16>::value,
              "16-byte fill pattern");

template <typename T>
std::unique_ptr<Event> fill_as(const Queue &q, void *p, const std::uint8_t *pattern,
                               std::size_t count, const EventList &deps, bool want_event) {
  T value;
  std::memcpy(&value, pattern, sizeof value);
  if (want_event) {
    return wrap(q, q.get().fill(p, value, count, deps.get()));
  }
  if (deps.get().empty()) {
    syclex::fill(q.get(), static_cast<T *>(p), value, count);
    return nullptr;
  }
  return submit(q, deps, false, [&](sycl::handler &h) { h.fill(p, value, count); });
}

} // namespace

std::unique_ptr<Event> enqueue_barrier(const Queue &q, const EventList &deps, bool want_event) {
  // A barrier over an empty list "has no effect": without dependencies the
  // barrier is the one that waits for everything submitted before.
  const bool all = deps.get().empty();
  if (want_event) {
    return wrap(q, all ? q.get().ext_oneapi_submit_barrier()
                       : q.get().ext_oneapi_submit_barrier(deps.get()));
  }
  if (all) {
    syclex::barrier(q.get());
  } else {
    syclex::partial_barrier(q.get(), deps.get());
  }
  return nullptr;
}

std::unique_ptr<Event> enqueue_memcpy(const Queue &q, std::size_t dst, std::size_t src,
                                      std::size_t n, const EventList &deps, bool want_event) {
  if (n == 0) {
    return enqueue_nothing(q, deps, want_event);
  }
  if (want_event) {
    return wrap(q, q.get().memcpy(ptr(dst), ptr(src), n, deps.get()));
  }
  if (deps.get().empty()) {
    syclex::memcpy(q.get(), ptr(dst), ptr(src), n);
    return nullptr;
  }
  return submit(q, deps, false, [&](sycl::handler &h) { h.memcpy(ptr(dst), ptr(src), n); });
}

std::unique_ptr<Event> enqueue_memset(const Queue &q, std::size_t p, std::uint8_t value,
                                      std::size_t n, const EventList &deps, bool want_event) {
  if (n == 0) {
    return enqueue_nothing(q, deps, want_event);
  }
  if (want_event) {
    return wrap(q, q.get().memset(ptr(p), value, n, deps.get()));
  }
  if (deps.get().empty()) {
    syclex::memset(q.get(), ptr(p), value, n);
    return nullptr;
  }
  return submit(q, deps, false, [&](sycl::handler &h) { h.memset(ptr(p), value, n); });
}

std::unique_ptr<Event> enqueue_fill(const Queue &q, std::size_t p,
                                    rust::Slice<const std::uint8_t> pattern, std::size_t count,
                                    const EventList &deps, bool want_event) {
  const std::size_t size = pattern.size();
  if (size != 1 && size != 2 && size != 4 && size != 8 && size != 16) {
    throw Error(code(Status::InvalidArgument), 0,
                "fill pattern size must be 1, 2, 4, 8 or 16 bytes, not " + std::to_string(size));
  }
  if (count == 0) {
    return enqueue_nothing(q, deps, want_event);
  }
  const std::uint8_t *bytes = pattern.data();
  switch (size) {
  case 1:
    // The same as a memset, which every backend does natively.
    return enqueue_memset(q, p, bytes[0], count, deps, want_event);
  case 2:
    return fill_as<std::uint16_t>(q, ptr(p), bytes, count, deps, want_event);
  case 4:
    return fill_as<std::uint32_t>(q, ptr(p), bytes, count, deps, want_event);
  case 8:
    return fill_as<std::uint64_t>(q, ptr(p), bytes, count, deps, want_event);
  default:
    return fill_as<Pattern16>(q, ptr(p), bytes, count, deps, want_event);
  }
}

std::unique_ptr<Event> enqueue_prefetch(const Queue &q, std::size_t p, std::size_t n,
                                        const EventList &deps, bool want_event) {
  if (n == 0) {
    return enqueue_nothing(q, deps, want_event);
  }
  if (want_event) {
    return wrap(q, q.get().prefetch(ptr(p), n, deps.get()));
  }
  if (deps.get().empty()) {
    syclex::prefetch(q.get(), ptr(p), n);
    return nullptr;
  }
  return submit(q, deps, false, [&](sycl::handler &h) { h.prefetch(ptr(p), n); });
}

std::unique_ptr<Event> enqueue_mem_advise(const Queue &q, std::size_t p, std::size_t n,
                                          std::int32_t advice, const EventList &deps,
                                          bool want_event) {
  if (n == 0) {
    return enqueue_nothing(q, deps, want_event);
  }
  if (want_event) {
    return wrap(q, q.get().mem_advise(ptr(p), n, advice, deps.get()));
  }
  if (deps.get().empty()) {
    syclex::mem_advise(q.get(), ptr(p), n, advice);
    return nullptr;
  }
  return submit(q, deps, false, [&](sycl::handler &h) { h.mem_advise(ptr(p), n, advice); });
}

// ---------------------------------------------------------------------------
// Events

void events_wait(const EventList &evs) {
  ErrorText sync; // written by the catch below before any read (no 2 KiB zero-fill per call)
  bool failed = false;
  try {
    sycl::event::wait_and_throw(evs.get());
  } catch (...) {
    sync = describe_current_exception();
    failed = true;
  }
  finish_wait(failed ? &sync : nullptr, evs.errors());
}

void event_wait_one(const Event &ev) {
  ErrorText sync; // written by the catch below before any read (no 2 KiB zero-fill per call)
  bool failed = false;
  try {
    ev.get_mut().wait_and_throw();
  } catch (...) {
    sync = describe_current_exception();
    failed = true;
  }
  const std::shared_ptr<AsyncErrors> &errs = ev.errors();
  if (!failed && (!errs || !errs->pending())) {
    return;
  }
  std::vector<std::shared_ptr<AsyncErrors>> lists;
  if (errs) {
    lists.push_back(errs);
  }
  finish_wait(failed ? &sync : nullptr, lists);
}

EventStatus event_status(const Event &ev) {
  using sycl::info::event_command_status;
  const event_command_status s =
      ev.get().get_info<sycl::info::event::command_execution_status>();
  switch (s) {
  case event_command_status::submitted:
    return EventStatus::Submitted;
  case event_command_status::running:
    return EventStatus::Running;
  case event_command_status::complete:
    return EventStatus::Complete;
  default:
    throw Error(code(Status::Backend), 0,
                "the runtime reports an unknown execution status (" +
                    std::to_string(static_cast<std::int32_t>(s)) + ") for the event");
  }
}

ProfilingTimes event_profiling(const Event &ev) {
  namespace ep = sycl::info::event_profiling;
  if (ev.empty()) {
    throw Error(code(Status::Unsupported), 0,
                "the event of an operation that had nothing to do (size 0, no dependencies) "
                "carries no profiling information");
  }
  try {
    ProfilingTimes t{};
    t.submit = ev.get().get_profiling_info<ep::command_submit>();
    t.start = ev.get().get_profiling_info<ep::command_start>();
    t.end = ev.get().get_profiling_info<ep::command_end>();
    return t;
  } catch (const sycl::exception &e) {
    if (is_errc(e, sycl::errc::invalid)) {
      throw Error(code(Status::Unsupported), e.code().value(),
                  "no profiling information for this event; create its queue with "
                  "DPC_QUEUE_PROFILING: " +
                      describe(e));
    }
    throw;
  }
}

std::size_t event_native(const Event &ev) noexcept {
  return reinterpret_cast<std::size_t>(ev.native());
}

std::unique_ptr<Event> event_adopt(std::size_t native) {
  const sycl::event &ev = *reinterpret_cast<const sycl::event *>(native);
  return std::make_unique<Event>(ev, nullptr);
}

// ---------------------------------------------------------------------------
// USM

std::size_t usm_alloc(const Queue &q, UsmKind kind, std::size_t size, std::size_t align) {
  const sycl::queue &sq = q.get();
  const char *what = nullptr;
  void *p = nullptr;
  try {
    switch (kind) {
    case UsmKind::Device:
      what = "device";
      p = align != 0 ? sycl::aligned_alloc_device(align, size, sq) : sycl::malloc_device(size, sq);
      break;
    case UsmKind::Shared:
      what = "shared";
      p = align != 0 ? sycl::aligned_alloc_shared(align, size, sq) : sycl::malloc_shared(size, sq);
      break;
    case UsmKind::Host:
      what = "host";
      p = align != 0 ? sycl::aligned_alloc_host(align, size, sq) : sycl::malloc_host(size, sq);
      break;
    default:
      throw Error(code(Status::InvalidArgument), 0,
                  "unknown USM kind " + std::to_string(static_cast<std::int32_t>(kind)));
    }
  } catch (const sycl::exception &e) {
    if (is_errc(e, sycl::errc::memory_allocation)) {
      throw Error(code(Status::OutOfDeviceMemory), e.code().value(),
                  std::string("cannot allocate ") + std::to_string(size) + " bytes of " + what +
                      " USM: " + describe(e));
    }
    throw;
  }
  if (p == nullptr) {
    std::string message = std::string("cannot allocate ") + std::to_string(size) + " bytes of " +
                          what + " USM";
    if (align != 0) {
      message += " aligned to " + std::to_string(align);
    }
    message += " on device '" + device_name(sq.get_device()) + "' (the runtime returned NULL)";
    throw Error(code(Status::OutOfDeviceMemory), 0, message);
  }
  return reinterpret_cast<std::size_t>(p);
}

void usm_free(const Context &ctx, std::size_t p) { sycl::free(ptr(p), ctx.get()); }

namespace {

// The OpenCL entry points the plugin needs, from the libOpenCL the SYCL
// runtime has loaded (RTLD_NOLOAD: never loads it, never links it).
struct OpenClApi {
  using GetExtensionFn = void *(CL_API_CALL *)(cl_platform_id, const char *);
  using ReleaseContextFn = cl_int(CL_API_CALL *)(cl_context);
  using MemAllocInfoFn = cl_int(CL_API_CALL *)(cl_context, const void *, cl_uint, std::size_t,
                                               void *, std::size_t *);

  GetExtensionFn get_extension = nullptr;
  ReleaseContextFn release_context = nullptr;
  // clGetMemAllocInfoINTEL per platform (nullptr: the platform lacks it).
  std::vector<std::pair<cl_platform_id, MemAllocInfoFn>> mem_alloc_info;
};

std::mutex opencl_mutex;
OpenClApi opencl_api;

// Look up the OpenCL entry points (until found once). Call with
// opencl_mutex held. Returns whether they are available.
bool load_opencl() noexcept {
  if (opencl_api.get_extension != nullptr && opencl_api.release_context != nullptr) {
    return true;
  }
  void *lib = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (lib == nullptr) {
    lib = dlopen("libOpenCL.so", RTLD_NOW | RTLD_NOLOAD);
  }
  if (lib == nullptr) {
    return false;
  }
  // The handle is kept (never dlclose'd): the pointers below stay valid.
  auto get_extension = reinterpret_cast<OpenClApi::GetExtensionFn>(
      dlsym(lib, "clGetExtensionFunctionAddressForPlatform"));
  auto release_context =
      reinterpret_cast<OpenClApi::ReleaseContextFn>(dlsym(lib, "clReleaseContext"));
  if (get_extension == nullptr || release_context == nullptr) {
    dlclose(lib);
    return false;
  }
  opencl_api.get_extension = get_extension;
  opencl_api.release_context = release_context;
  return true;
}

// clGetMemAllocInfoINTEL of `platform`, or nullptr. Call with opencl_mutex
// held, after load_opencl() succeeded.
OpenClApi::MemAllocInfoFn mem_alloc_info_for(cl_platform_id platform) {
  for (const auto &entry : opencl_api.mem_alloc_info) {
    if (entry.first == platform) {
      return entry.second;
    }
  }
  auto fn = reinterpret_cast<OpenClApi::MemAllocInfoFn>(
      opencl_api.get_extension(platform, "clGetMemAllocInfoINTEL"));
  opencl_api.mem_alloc_info.emplace_back(platform, fn);
  return fn;
}

// Fill `f`'s range from clGetMemAllocInfoINTEL; leave has_range false if
// anything is unavailable.
void opencl_alloc_range(const sycl::context &ctx, std::size_t p, PointerFacts &f) noexcept {
  try {
    OpenClApi::MemAllocInfoFn mem_alloc_info = nullptr;
    OpenClApi::ReleaseContextFn release_context = nullptr;
    {
      std::lock_guard<std::mutex> lock(opencl_mutex);
      if (!load_opencl()) {
        return;
      }
      mem_alloc_info =
          mem_alloc_info_for(sycl::get_native<sycl::backend::opencl>(ctx.get_platform()));
      release_context = opencl_api.release_context;
    }
    if (mem_alloc_info == nullptr) {
      return;
    }
    // get_native retains the cl_context for us; give that reference back.
    cl_context cl = sycl::get_native<sycl::backend::opencl>(ctx);
    void *base = nullptr;
    std::size_t size = 0;
    const cl_int e1 = mem_alloc_info(cl, ptr(p), CL_MEM_ALLOC_BASE_PTR_INTEL, sizeof base,
                                     &base, nullptr);
    const cl_int e2 =
        mem_alloc_info(cl, ptr(p), CL_MEM_ALLOC_SIZE_INTEL, sizeof size, &size, nullptr);
    release_context(cl);
    const std::size_t b = reinterpret_cast<std::size_t>(base);
    if (e1 == CL_SUCCESS && e2 == CL_SUCCESS && base != nullptr && size != 0 && b <= p &&
        p - b < size) {
      f.has_range = true;
      f.base = b;
      f.size = size;
    }
  } catch (...) {
  }
}

} // namespace

UsmKind usm_pointer_kind(const Context &ctx, std::size_t p) {
  switch (sycl::get_pointer_type(ptr(p), ctx.get())) {
  case sycl::usm::alloc::device:
    return UsmKind::Device;
  case sycl::usm::alloc::shared:
    return UsmKind::Shared;
  case sycl::usm::alloc::host:
    return UsmKind::Host;
  default:
    return UsmKind::Unknown;
  }
}

PointerFacts usm_pointer_facts(const Context &ctx, std::size_t p) {
  PointerFacts f{};
  f.kind = UsmKind::Unknown;
  switch (sycl::get_pointer_type(ptr(p), ctx.get())) {
  case sycl::usm::alloc::device:
    f.kind = UsmKind::Device;
    break;
  case sycl::usm::alloc::shared:
    f.kind = UsmKind::Shared;
    break;
  case sycl::usm::alloc::host:
    f.kind = UsmKind::Host;
    break;
  default:
    return f;
  }
  if (ctx.get().get_backend() == sycl::backend::opencl) {
    opencl_alloc_range(ctx.get(), p, f);
  }
  return f;
}

std::unique_ptr<Device> usm_pointer_device(const Context &ctx, std::size_t p) {
  try {
    return std::make_unique<Device>(sycl::get_pointer_device(ptr(p), ctx.get()));
  } catch (const sycl::exception &) {
    return nullptr;
  }
}

// ---------------------------------------------------------------------------
// Native handles

namespace {

template <typename T> std::size_t address_of(T handle) noexcept {
  return reinterpret_cast<std::size_t>(handle);
}

template <typename SyclObject> NativeHandle native_of(const SyclObject &obj) {
  NativeHandle h{};
  const sycl::backend b = obj.get_backend();
  h.backend = backend_of(b);
  switch (b) {
  case sycl::backend::opencl:
    h.handle = address_of(sycl::get_native<sycl::backend::opencl>(obj));
    h.supported = true;
    break;
  case sycl::backend::ext_oneapi_level_zero: {
    auto native = sycl::get_native<sycl::backend::ext_oneapi_level_zero>(obj);
    if constexpr (std::is_pointer<decltype(native)>::value) {
      h.handle = address_of(native);
    } else {
      // A queue: a command queue or an (immediate) command list.
      h.handle = std::visit([](auto handle) { return address_of(handle); }, native);
    }
    h.supported = true;
    break;
  }
  default:
    break;
  }
  return h;
}

} // namespace

NativeHandle native_handle_device(const Device &dev) { return native_of(dev.get()); }
NativeHandle native_handle_context(const Context &ctx) { return native_of(ctx.get()); }
NativeHandle native_handle_queue(const Queue &q) { return native_of(q.get()); }

// ---------------------------------------------------------------------------
// Kernel bundles and kernels

namespace {

// The OpenCL entry points OpenCL C bundles need, from the libOpenCL the SYCL
// runtime has loaded (as for OpenClApi: never loaded, never linked by us).
struct ClProgramApi {
  decltype(&clCreateProgramWithSource) create_program_with_source = nullptr;
  decltype(&clBuildProgram) build_program = nullptr;
  decltype(&clGetProgramBuildInfo) get_program_build_info = nullptr;
  decltype(&clGetProgramInfo) get_program_info = nullptr;
  decltype(&clReleaseProgram) release_program = nullptr;
  decltype(&clCreateKernel) create_kernel = nullptr;
  decltype(&clReleaseKernel) release_kernel = nullptr;
  decltype(&clReleaseContext) release_context = nullptr;
  decltype(&clReleaseDevice) release_device = nullptr;
};

std::mutex cl_program_api_mutex;
ClProgramApi cl_program_api_value;
std::atomic<bool> cl_program_api_loaded{false};

// The entry points (looked up until found once); throws Error(BACKEND) when
// libOpenCL is not loaded or lacks one of them.
const ClProgramApi &cl_program_api() {
  if (cl_program_api_loaded.load(std::memory_order_acquire)) {
    return cl_program_api_value;
  }
  std::lock_guard<std::mutex> lock(cl_program_api_mutex);
  if (cl_program_api_loaded.load(std::memory_order_relaxed)) {
    return cl_program_api_value;
  }
  void *lib = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (lib == nullptr) {
    lib = dlopen("libOpenCL.so", RTLD_NOW | RTLD_NOLOAD);
  }
  if (lib == nullptr) {
    throw Error(code(Status::Backend), 0,
                "the OpenCL library (libOpenCL.so.1) is not loaded by the SYCL runtime");
  }
  ClProgramApi api;
  const char *missing = nullptr;
  auto load = [&](auto &fn, const char *name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
    if (fn == nullptr && missing == nullptr) {
      missing = name;
    }
  };
  load(api.create_program_with_source, "clCreateProgramWithSource");
  load(api.build_program, "clBuildProgram");
  load(api.get_program_build_info, "clGetProgramBuildInfo");
  load(api.get_program_info, "clGetProgramInfo");
  load(api.release_program, "clReleaseProgram");
  load(api.create_kernel, "clCreateKernel");
  load(api.release_kernel, "clReleaseKernel");
  load(api.release_context, "clReleaseContext");
  load(api.release_device, "clReleaseDevice");
  if (missing != nullptr) {
    dlclose(lib);
    throw Error(code(Status::Backend), 0,
                std::string("the loaded OpenCL library has no ") + missing);
  }
  // The handle is kept (never dlclose'd): the pointers stay valid.
  cl_program_api_value = api;
  cl_program_api_loaded.store(true, std::memory_order_release);
  return cl_program_api_value;
}

// One reference to an OpenCL object, given back on destruction.
template <typename Handle, typename Release> class ClRef {
public:
  ClRef(Handle h, Release release) noexcept : h_(h), release_(release) {}
  ~ClRef() {
    if (h_ != nullptr) {
      release_(h_);
    }
  }
  ClRef(const ClRef &) = delete;
  ClRef &operator=(const ClRef &) = delete;
  Handle get() const noexcept { return h_; }
  // Stop owning the reference (the caller now does).
  Handle take() noexcept {
    Handle h = h_;
    h_ = nullptr;
    return h;
  }

private:
  Handle h_;
  Release release_;
};

template <typename Handle, typename Release> ClRef<Handle, Release> cl_ref(Handle h, Release r) {
  return ClRef<Handle, Release>(h, r);
}

std::string cl_error(cl_int e) {
  const char *name = nullptr;
  switch (e) {
  case CL_COMPILER_NOT_AVAILABLE:
    name = "CL_COMPILER_NOT_AVAILABLE";
    break;
  case CL_OUT_OF_RESOURCES:
    name = "CL_OUT_OF_RESOURCES";
    break;
  case CL_OUT_OF_HOST_MEMORY:
    name = "CL_OUT_OF_HOST_MEMORY";
    break;
  case CL_BUILD_PROGRAM_FAILURE:
    name = "CL_BUILD_PROGRAM_FAILURE";
    break;
  case CL_INVALID_VALUE:
    name = "CL_INVALID_VALUE";
    break;
  case CL_INVALID_DEVICE:
    name = "CL_INVALID_DEVICE";
    break;
  case CL_INVALID_CONTEXT:
    name = "CL_INVALID_CONTEXT";
    break;
  case CL_INVALID_BUILD_OPTIONS:
    name = "CL_INVALID_BUILD_OPTIONS";
    break;
  case CL_INVALID_PROGRAM:
    name = "CL_INVALID_PROGRAM";
    break;
  case CL_INVALID_PROGRAM_EXECUTABLE:
    name = "CL_INVALID_PROGRAM_EXECUTABLE";
    break;
  case CL_INVALID_KERNEL_NAME:
    name = "CL_INVALID_KERNEL_NAME";
    break;
  case CL_INVALID_KERNEL_DEFINITION:
    name = "CL_INVALID_KERNEL_DEFINITION";
    break;
  case CL_INVALID_OPERATION:
    name = "CL_INVALID_OPERATION";
    break;
  default:
    return "OpenCL error " + std::to_string(e);
  }
  return std::string(name) + " (" + std::to_string(e) + ")";
}

const char *kind_name(SourceKind kind) noexcept {
  switch (kind) {
  case SourceKind::Spirv:
    return "SPIR-V";
  case SourceKind::OpenClC:
    return "OpenCL C";
  case SourceKind::Sycl:
    return "SYCL source";
  default:
    return "unknown input";
  }
}

const char *sycl_backend_name(sycl::backend b) noexcept {
  switch (b) {
  case sycl::backend::opencl:
    return "OpenCL";
  case sycl::backend::ext_oneapi_level_zero:
    return "Level Zero";
  case sycl::backend::ext_oneapi_cuda:
    return "CUDA";
  case sycl::backend::ext_oneapi_hip:
    return "HIP";
  case sycl::backend::ext_oneapi_native_cpu:
    return "native CPU";
  default:
    return "unknown";
  }
}

std::string trim(const std::string &s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])) != 0) {
    ++b;
  }
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])) != 0) {
    --e;
  }
  return s.substr(b, e - b);
}

// The line of a build log to quote in the error message: the first one that
// mentions an error, else the first non-blank one.
std::string first_error_line(const std::string &log) {
  std::string first_nonblank;
  std::size_t start = 0;
  while (start <= log.size()) {
    std::size_t end = log.find('\n', start);
    if (end == std::string::npos) {
      end = log.size();
    }
    const std::string line = trim(log.substr(start, end - start));
    if (!line.empty()) {
      std::string lower = line;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower.find("error") != std::string::npos) {
        return line;
      }
      if (first_nonblank.empty()) {
        first_nonblank = line;
      }
    }
    start = end + 1;
  }
  return first_nonblank.empty() ? "no build log" : first_nonblank;
}

// Hand the full log to the caller and throw Error(BUILD_FAILED).
[[noreturn]] void build_failed(const sycl::device &dev, SourceKind kind, std::int64_t backend_code,
                               std::string log, std::string &log_out) {
  const std::string first = first_error_line(log);
  log_out = std::move(log);
  throw Error(code(Status::BuildFailed), backend_code,
              std::string("building ") + kind_name(kind) + " for device '" + device_name(dev) +
                  "' failed: " + first + "; the build log is in dpc_last_error_build_log");
}

[[noreturn]] void unsupported_input(const sycl::device &dev, SourceKind kind, std::int64_t code_,
                                    const std::string &why) {
  throw Error(code(Status::Unsupported), code_,
              std::string("device '") + device_name(dev) + "' cannot build " + kind_name(kind) +
                  ": " + why);
}

// The options string split on whitespace.
std::vector<std::string> split_options(const std::string &options) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < options.size()) {
    while (i < options.size() && std::isspace(static_cast<unsigned char>(options[i])) != 0) {
      ++i;
    }
    std::size_t j = i;
    while (j < options.size() && std::isspace(static_cast<unsigned char>(options[j])) == 0) {
      ++j;
    }
    if (j > i) {
      out.push_back(options.substr(i, j - i));
    }
    i = j;
  }
  return out;
}

// Why `bytes` is not a well-formed SPIR-V module, or an empty string: the
// header, an instruction stream that ends exactly at the end, and functions
// that all end (OpFunction ... OpFunctionEnd). Not a validator: some drivers
// (the OpenCL CPU runtime among them) crash on a truncated module instead of
// failing its build, and these checks catch truncation.
std::string spirv_structure_error(rust::Slice<const std::uint8_t> bytes) {
  constexpr std::uint32_t kMagic = 0x07230203;
  constexpr std::size_t kHeaderWords = 5;
  if (bytes.size() % 4 != 0) {
    return "its size, " + std::to_string(bytes.size()) + " bytes, is not a multiple of 4";
  }
  const std::size_t n = bytes.size() / 4;
  if (n < kHeaderWords) {
    return "it is shorter than a SPIR-V header (20 bytes)";
  }
  auto word_le = [&](std::size_t i) {
    const std::uint8_t *p = bytes.data() + 4 * i;
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
  };
  auto swap = [](std::uint32_t w) {
    return (w >> 24) | ((w >> 8) & 0xFF00u) | ((w << 8) & 0xFF0000u) | (w << 24);
  };
  bool big_endian = false;
  if (word_le(0) != kMagic) {
    if (swap(word_le(0)) != kMagic) {
      char magic[16];
      std::snprintf(magic, sizeof magic, "0x%08x", word_le(0));
      return std::string("it does not start with the SPIR-V magic number 0x07230203 but ") +
             magic;
    }
    big_endian = true;
  }
  constexpr std::uint32_t kOpFunction = 54;
  constexpr std::uint32_t kOpFunctionEnd = 56;
  std::size_t function_start = 0; // word of the open OpFunction, 0: none
  std::size_t i = kHeaderWords;
  while (i < n) {
    const std::uint32_t w = big_endian ? swap(word_le(i)) : word_le(i);
    const std::size_t count = w >> 16;
    const std::uint32_t opcode = w & 0xFFFFu;
    if (count == 0) {
      return "the instruction at word " + std::to_string(i) + " has a word count of 0";
    }
    if (count > n - i) {
      return "it is truncated: the instruction at word " + std::to_string(i) + " needs " +
             std::to_string(count) + " words, " + std::to_string(n - i) + " are left";
    }
    if (opcode == kOpFunction) {
      if (function_start != 0) {
        return "the OpFunction at word " + std::to_string(i) +
               " starts inside the function of word " + std::to_string(function_start);
      }
      function_start = i;
    } else if (opcode == kOpFunctionEnd) {
      if (function_start == 0) {
        return "the OpFunctionEnd at word " + std::to_string(i) + " ends no function";
      }
      function_start = 0;
    }
    i += count;
  }
  if (function_start != 0) {
    return "it is truncated: the function at word " + std::to_string(function_start) +
           " has no OpFunctionEnd";
  }
  return {};
}

// SPIR-V and SYCL source through the kernel-compiler extension
// (sycl_ext_oneapi_kernel_compiler).
std::unique_ptr<Bundle> build_with_kernel_compiler(const sycl::context &ctx,
                                                   const sycl::device &dev, SourceKind kind,
                                                   rust::Slice<const std::uint8_t> src,
                                                   const std::string &options,
                                                   std::string &log_out) {
  namespace syclex = sycl::ext::oneapi::experimental;
  // ext_oneapi_can_compile is non-const (a device is a thread-safe handle).
  sycl::device probe = dev;
  if (kind == SourceKind::Sycl && !probe.ext_oneapi_can_compile(syclex::source_language::sycl)) {
    unsupported_input(dev, kind, 0,
                      "the runtime has no SYCL compiler for it (ext_oneapi_can_compile(sycl) is "
                      "false; DPC++ needs libsycl-jit.so)");
  }
  // (ext_oneapi_can_compile(spirv) is not asked: the OpenCL CPU device
  // reports false and builds SPIR-V all the same.)
  if (kind == SourceKind::Spirv) {
    const std::string why = spirv_structure_error(src);
    if (!why.empty()) {
      build_failed(dev, kind, 0, "the input is not a valid SPIR-V module: " + why, log_out);
    }
  }
  sycl::kernel_bundle<sycl::bundle_state::ext_oneapi_source> source = [&] {
    try {
      if (kind == SourceKind::Spirv) {
        std::vector<std::byte> bytes(src.size());
        std::memcpy(bytes.data(), src.data(), src.size());
        return syclex::create_kernel_bundle_from_source(ctx, syclex::source_language::spirv,
                                                        bytes);
      }
      return syclex::create_kernel_bundle_from_source(
          ctx, syclex::source_language::sycl,
          std::string(reinterpret_cast<const char *>(src.data()), src.size()));
    } catch (const sycl::exception &e) {
      if (is_errc(e, sycl::errc::feature_not_supported)) {
        unsupported_input(dev, kind, e.code().value(), describe(e));
      }
      throw;
    }
  }();
  std::string log;
  try {
    sycl::kernel_bundle<sycl::bundle_state::executable> exe = syclex::build(
        source, std::vector<sycl::device>{dev},
        syclex::properties{syclex::build_options{split_options(options)}, syclex::save_log{&log}});
    return std::make_unique<Bundle>(std::move(exe), kind, std::move(log), nullptr,
                                    std::vector<std::string>{});
  } catch (const sycl::exception &e) {
    if (is_errc(e, sycl::errc::feature_not_supported)) {
      unsupported_input(dev, kind, e.code().value(), describe(e));
    }
    if (is_errc(e, sycl::errc::memory_allocation)) {
      throw;
    }
    // The runtime fills the saved log only on success; on failure the log
    // (compiler diagnostics) is the exception's message.
    std::string full = log;
    if (!full.empty() && full.back() != '\n') {
      full += '\n';
    }
    full += describe(e);
    build_failed(dev, kind, e.code().value(), std::move(full), log_out);
  }
}

// CL_PROGRAM_BUILD_LOG of `prog` for `dev` (empty when it cannot be read).
std::string program_build_log(const ClProgramApi &cl, cl_program prog, cl_device_id dev) {
  std::size_t size = 0;
  if (cl.get_program_build_info(prog, dev, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size) !=
          CL_SUCCESS ||
      size == 0) {
    return {};
  }
  std::string log(size, '\0');
  if (cl.get_program_build_info(prog, dev, CL_PROGRAM_BUILD_LOG, size, &log[0], nullptr) !=
      CL_SUCCESS) {
    return {};
  }
  while (!log.empty() && log.back() == '\0') {
    log.pop_back();
  }
  return log;
}

// CL_PROGRAM_KERNEL_NAMES of `prog` (';'-separated in OpenCL), split.
std::vector<std::string> program_kernel_names(const ClProgramApi &cl, cl_program prog) {
  std::size_t size = 0;
  cl_int err = cl.get_program_info(prog, CL_PROGRAM_KERNEL_NAMES, 0, nullptr, &size);
  std::string text(size, '\0');
  if (err == CL_SUCCESS && size != 0) {
    err = cl.get_program_info(prog, CL_PROGRAM_KERNEL_NAMES, size, &text[0], nullptr);
  }
  if (err != CL_SUCCESS) {
    throw Error(code(Status::Backend), err,
                "clGetProgramInfo(CL_PROGRAM_KERNEL_NAMES) failed: " + cl_error(err));
  }
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(';', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    std::string name = trim(text.substr(start, end - start));
    while (!name.empty() && name.back() == '\0') {
      name.pop_back();
    }
    if (!name.empty()) {
      names.push_back(std::move(name));
    }
    start = end + 1;
  }
  return names;
}

// OpenCL C through OpenCL interop: clCreateProgramWithSource + clBuildProgram
// on the context's cl_context, then make_kernel_bundle.
std::unique_ptr<Bundle> build_opencl_c(const sycl::context &ctx, const sycl::device &dev,
                                       rust::Slice<const std::uint8_t> src,
                                       const std::string &options, std::string &log_out) {
  const SourceKind kind = SourceKind::OpenClC;
  if (dev.get_backend() != sycl::backend::opencl) {
    unsupported_input(dev, kind, 0,
                      std::string("OpenCL C is only built for OpenCL devices; this device is on "
                                  "the ") +
                          sycl_backend_name(dev.get_backend()) +
                          " backend (build SPIR-V for it instead)");
  }
  const ClProgramApi &cl = cl_program_api();
  // get_native retains both handles for us.
  auto cl_ctx = cl_ref(sycl::get_native<sycl::backend::opencl>(ctx), cl.release_context);
  auto cl_dev = cl_ref(sycl::get_native<sycl::backend::opencl>(dev), cl.release_device);
  const char *text = reinterpret_cast<const char *>(src.data());
  const std::size_t length = src.size();
  cl_int err = CL_SUCCESS;
  auto prog = cl_ref(cl.create_program_with_source(cl_ctx.get(), 1, &text, &length, &err),
                     cl.release_program);
  if (prog.get() == nullptr || err != CL_SUCCESS) {
    throw Error(code(err == CL_OUT_OF_HOST_MEMORY ? Status::OutOfHostMemory : Status::Backend),
                err, "clCreateProgramWithSource failed: " + cl_error(err));
  }
  cl_device_id device = cl_dev.get();
  err = cl.build_program(prog.get(), 1, &device, options.c_str(), nullptr, nullptr);
  std::string log = program_build_log(cl, prog.get(), device);
  if (err != CL_SUCCESS) {
    if (err == CL_BUILD_PROGRAM_FAILURE || err == CL_INVALID_BUILD_OPTIONS) {
      std::string full = log;
      if (trim(full).empty()) {
        full = "clBuildProgram failed with " + cl_error(err) + " (options: \"" + options + "\")";
      }
      build_failed(dev, kind, err, std::move(full), log_out);
    }
    if (err == CL_COMPILER_NOT_AVAILABLE) {
      unsupported_input(dev, kind, err, "the OpenCL driver has no compiler for it");
    }
    throw Error(code(Status::Backend), err, "clBuildProgram failed: " + cl_error(err));
  }
  std::vector<std::string> names = program_kernel_names(cl, prog.get());
  // make_kernel_bundle retains the program; the bundle object keeps our
  // reference too, to create kernels from it.
  auto exe = sycl::make_kernel_bundle<sycl::backend::opencl, sycl::bundle_state::executable>(
      prog.get(), ctx);
  auto bundle = std::make_unique<Bundle>(std::move(exe), kind, std::move(log),
                                         static_cast<void *>(prog.get()), std::move(names));
  prog.take();
  return bundle;
}

std::string as_string(rust::Slice<const std::uint8_t> bytes) {
  return std::string(reinterpret_cast<const char *>(bytes.data()), bytes.size());
}

// "a, b, c" or "none".
std::string list_names(const std::vector<std::string> &names) {
  return join_names(names, [](const std::string &n) { return n; }, "none");
}

// A kernel object, with its number of arguments when the runtime tells it.
std::unique_ptr<Kernel> new_kernel(sycl::kernel k) {
  std::int64_t num_args = -1;
  try {
    num_args = k.get_info<sycl::info::kernel::num_args>();
  } catch (const sycl::exception &) {
  }
  return std::make_unique<Kernel>(std::move(k), num_args);
}

} // namespace

Bundle::~Bundle() {
  if (program_ != nullptr && cl_program_api_loaded.load(std::memory_order_acquire)) {
    cl_program_api_value.release_program(static_cast<cl_program>(program_));
  }
}

std::unique_ptr<Bundle> bundle_create(const Context &ctx, const Device &dev, SourceKind kind,
                                      rust::Slice<const std::uint8_t> src,
                                      rust::Slice<const std::uint8_t> options, std::string &log) {
  const sycl::device &d = dev.get();
  const sycl::context &c = ctx.get();
  if (!contains(c.get_devices(), d)) {
    throw Error(code(Status::InvalidArgument), 0,
                "device '" + device_name(d) + "' is not a device of the context");
  }
  const std::string opts = as_string(options);
  switch (kind) {
  case SourceKind::OpenClC:
    return build_opencl_c(c, d, src, opts, log);
  case SourceKind::Spirv:
  case SourceKind::Sycl:
    return build_with_kernel_compiler(c, d, kind, src, opts, log);
  default:
    throw Error(code(Status::InvalidArgument), 0,
                "unknown source kind " + std::to_string(static_cast<std::int32_t>(kind)));
  }
}

rust::String bundle_kernel_names(const Bundle &b) {
  if (b.kind() != SourceKind::OpenClC) {
    throw Error(code(Status::Unsupported), 0,
                std::string("the runtime does not list kernels of ") + kind_name(b.kind()) +
                    " bundles");
  }
  std::string out;
  for (const std::string &name : b.kernel_names()) {
    if (!out.empty()) {
      out += '\n';
    }
    out += name;
  }
  return lossy(out);
}

bool bundle_has_kernel(const Bundle &b, rust::Slice<const std::uint8_t> name) {
  const std::string n = as_string(name);
  if (b.kind() == SourceKind::OpenClC) {
    return contains(b.kernel_names(), n);
  }
  return b.get().ext_oneapi_has_kernel(n);
}

std::unique_ptr<Kernel> bundle_get_kernel(const Bundle &b, rust::Slice<const std::uint8_t> name) {
  const std::string n = as_string(name);
  if (b.kind() == SourceKind::OpenClC) {
    if (!contains(b.kernel_names(), n)) {
      throw Error(code(Status::NotFound), 0,
                  "no kernel '" + n + "' in this OpenCL C bundle; its kernels: " +
                      list_names(b.kernel_names()));
    }
    const ClProgramApi &cl = cl_program_api();
    cl_int err = CL_SUCCESS;
    auto kernel = cl_ref(cl.create_kernel(static_cast<cl_program>(b.program()), n.c_str(), &err),
                         cl.release_kernel);
    if (kernel.get() == nullptr || err != CL_SUCCESS) {
      if (err == CL_INVALID_KERNEL_NAME) {
        throw Error(code(Status::NotFound), err,
                    "no kernel '" + n + "' in this OpenCL C bundle: " + cl_error(err));
      }
      throw Error(code(Status::Backend), err,
                  "clCreateKernel('" + n + "') failed: " + cl_error(err));
    }
    // make_kernel retains the cl_kernel; ours is given back by `kernel`.
    return new_kernel(
        sycl::make_kernel<sycl::backend::opencl>(kernel.get(), b.get().get_context()));
  }
  if (!b.get().ext_oneapi_has_kernel(n)) {
    throw Error(code(Status::NotFound), 0,
                "no kernel '" + n + "' in this " + kind_name(b.kind()) + " bundle");
  }
  return new_kernel(b.get().ext_oneapi_get_kernel(n));
}

std::size_t bundle_native(const Bundle &b) noexcept {
  return reinterpret_cast<std::size_t>(b.native());
}

namespace {

// Run one kernel query; if it throws (other than out of memory), the field
// keeps its zero value.
template <typename F> void kernel_query(F &&fn) {
  try {
    fn();
  } catch (const std::bad_alloc &) {
    throw;
  } catch (...) {
  }
}

} // namespace

KernelFacts kernel_facts(const Kernel &k, const Device &dev) {
  namespace kds = sycl::info::kernel_device_specific;
  const sycl::kernel &kernel = k.get();
  const sycl::device &d = dev.get();
  KernelFacts f{};
  kernel_query([&] { f.name = lossy(kernel.get_info<sycl::info::kernel::function_name>()); });
  kernel_query([&] {
    f.num_args = kernel.get_info<sycl::info::kernel::num_args>();
    f.has_num_args = true;
  });
  kernel_query([&] { f.max_work_group_size = kernel.get_info<kds::work_group_size>(d); });
  kernel_query([&] {
    f.preferred_work_group_size_multiple =
        kernel.get_info<kds::preferred_work_group_size_multiple>(d);
  });
  kernel_query([&] { f.private_mem_size = kernel.get_info<kds::private_mem_size>(d); });
  // (This SYCL has no kernel_device_specific local memory query:
  // local_mem_size stays 0.)
  kernel_query([&] {
    // Reported in OpenCL's order (x = dimension 0), the C API's order.
    const sycl::range<3> r = kernel.get_info<kds::compile_work_group_size>(d);
    for (int i = 0; i < 3; ++i) {
      f.compile_work_group_size[i] = r[i];
    }
  });
  kernel_query([&] { f.max_sub_group_size = kernel.get_info<kds::max_sub_group_size>(d); });
  kernel_query([&] { f.max_num_sub_groups = kernel.get_info<kds::max_num_sub_groups>(d); });
  kernel_query(
      [&] { f.compile_sub_group_size = kernel.get_info<kds::compile_sub_group_size>(d); });
  kernel_query(
      [&] { f.compile_num_sub_groups = kernel.get_info<kds::compile_num_sub_groups>(d); });
  return f;
}

std::size_t kernel_native(const Kernel &k) noexcept {
  return reinterpret_cast<std::size_t>(k.native());
}

namespace {

// The largest scalar argument (dpcore_backend_abi::MAX_SCALAR_ARG).
constexpr std::size_t kMaxScalarArg = 256;

using ScalarSetter = void (*)(sycl::handler &, int, const void *);

// set_arg with a trivially copyable value of exactly N bytes.
template <std::size_t N> void set_scalar(sycl::handler &h, int index, const void *value) {
  std::array<unsigned char, N> bytes;
  std::memcpy(bytes.data(), value, N);
  h.set_arg(index, bytes);
}

template <std::size_t... I>
constexpr std::array<ScalarSetter, sizeof...(I)> scalar_setters(std::index_sequence<I...>) {
  return {{&set_scalar<I + 1>...}};
}

// kScalarSetters[n - 1] sets a scalar of n bytes, for n in 1..=kMaxScalarArg.
constexpr std::array<ScalarSetter, kMaxScalarArg> kScalarSetters =
    scalar_setters(std::make_index_sequence<kMaxScalarArg>{});

// Check the arguments before anything is submitted.
void check_args(rust::Slice<const KernelArg> args) {
  if (args.size() > static_cast<std::size_t>(INT32_MAX)) {
    throw Error(code(Status::InvalidArgument), 0, "too many kernel arguments");
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const KernelArg &a = args[i];
    const std::string where = "kernel argument " + std::to_string(i);
    switch (a.kind) {
    case ArgKind::Pointer:
      break;
    case ArgKind::Scalar:
      if (a.size == 0 || a.size > kMaxScalarArg) {
        throw Error(code(Status::InvalidArgument), 0,
                    where + ": a scalar of " + std::to_string(a.size) +
                        " bytes (1 to 256 are allowed)");
      }
      if (a.value == 0) {
        throw Error(code(Status::InvalidArgument), 0, where + ": the scalar's value is NULL");
      }
      break;
    case ArgKind::Local:
      if (a.size == 0) {
        throw Error(code(Status::InvalidArgument), 0, where + ": 0 bytes of local memory");
      }
      break;
    default:
      throw Error(code(Status::InvalidArgument), 0,
                  where + ": unknown kind " + std::to_string(static_cast<std::int32_t>(a.kind)));
    }
  }
}

void set_args(sycl::handler &h, rust::Slice<const KernelArg> args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const KernelArg &a = args[i];
    const int index = static_cast<int>(i);
    switch (a.kind) {
    case ArgKind::Pointer:
      h.set_arg(index, ptr(a.value));
      break;
    case ArgKind::Scalar:
      kScalarSetters[a.size - 1](h, index, ptr(a.value));
      break;
    default: // ArgKind::Local (checked by check_args)
      h.set_arg(index, sycl::local_accessor<unsigned char, 1>(sycl::range<1>(a.size), h));
      break;
    }
  }
}

// The C API's sizes as a SYCL range. The C API's dimension 0 is OpenCL's
// get_global_id(0), which SYCL makes its last (fastest-varying) dimension:
// the order is reversed.
template <int D> sycl::range<D> to_range(rust::Slice<const std::size_t> s) {
  if constexpr (D == 1) {
    return sycl::range<1>(s[0]);
  } else if constexpr (D == 2) {
    return sycl::range<2>(s[1], s[0]);
  } else {
    return sycl::range<3>(s[2], s[1], s[0]);
  }
}

template <int D>
void launch(sycl::handler &h, const sycl::kernel &k, rust::Slice<const std::size_t> global,
            rust::Slice<const std::size_t> local) {
  if (local.empty()) {
    h.parallel_for(to_range<D>(global), k);
  } else {
    h.parallel_for(sycl::nd_range<D>(to_range<D>(global), to_range<D>(local)), k);
  }
}

} // namespace

std::unique_ptr<Event> enqueue_kernel(const Queue &q, const Kernel &k,
                                      rust::Slice<const std::size_t> global,
                                      rust::Slice<const std::size_t> local,
                                      rust::Slice<const KernelArg> args, const EventList &deps,
                                      bool want_event) {
  const std::size_t dims = global.size();
  if (dims < 1 || dims > 3) {
    throw Error(code(Status::InvalidArgument), 0,
                "a kernel is launched over 1 to 3 dimensions, not " + std::to_string(dims));
  }
  if (!local.empty() && local.size() != dims) {
    throw Error(code(Status::InvalidArgument), 0,
                "the work-group size has " + std::to_string(local.size()) +
                    " dimensions, the global size " + std::to_string(dims));
  }
  check_args(args);
  if (k.num_args() >= 0 && static_cast<std::uint64_t>(k.num_args()) != args.size()) {
    throw Error(code(Status::InvalidArgument), 0,
                "the kernel takes " + std::to_string(k.num_args()) + " arguments, " +
                    std::to_string(args.size()) + " given");
  }
  const sycl::kernel &kernel = k.get();
  try {
    return submit(q, deps, want_event, [&](sycl::handler &h) {
      set_args(h, args);
      switch (dims) {
      case 1:
        launch<1>(h, kernel, global, local);
        break;
      case 2:
        launch<2>(h, kernel, global, local);
        break;
      default:
        launch<3>(h, kernel, global, local);
        break;
      }
    });
  } catch (const sycl::exception &e) {
    if (is_errc(e, sycl::errc::nd_range) || is_errc(e, sycl::errc::kernel_argument) ||
        is_errc(e, sycl::errc::invalid)) {
      throw Error(code(Status::InvalidArgument), e.code().value(),
                  "cannot launch the kernel: " + describe(e));
    }
    throw;
  }
}

} // namespace dpcore_sycl
