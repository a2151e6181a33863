// USM; see usm.h.

#include "dpcore-sycl/src/bridge/usm.h"
#include "dpcore-sycl/src/usm.rs.h"

#include <sycl/backend/opencl.hpp>

// Types and constants only: the OpenCL entry points are looked up at run
// time (dlopen/dlsym), so the plugin never links libOpenCL.
#include <CL/cl.h>
#include <CL/cl_ext.h>

#include <dlfcn.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

// cl_intel_unified_shared_memory, in case the OpenCL headers predate it.
#ifndef CL_MEM_ALLOC_BASE_PTR_INTEL
#define CL_MEM_ALLOC_BASE_PTR_INTEL 0x419B
#endif
#ifndef CL_MEM_ALLOC_SIZE_INTEL
#define CL_MEM_ALLOC_SIZE_INTEL 0x419C
#endif

namespace dpcore_sycl {

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
  } DPCORE_SYCL_CATCH_ALL {
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

} // namespace dpcore_sycl
