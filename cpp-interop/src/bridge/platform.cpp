// The SYCL runtime and its platforms; see platform.h.

#include "dpcore-sycl/src/bridge/platform.h"
#include "dpcore-sycl/src/platform.rs.h"

#include <dlfcn.h>
#include <link.h>

#include <cstring>
#include <string>

#ifndef DPCORE_SYCL_ABI_MAJOR
#error "DPCORE_SYCL_ABI_MAJOR must be defined (build.rs passes -DDPCORE_SYCL_ABI_MAJOR=N)"
#endif

namespace dpcore_sycl {

namespace {

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
          } DPCORE_SYCL_CATCH_ALL {
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
