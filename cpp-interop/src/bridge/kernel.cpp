// Kernel bundles and kernels; see kernel.h.

#include "dpcore-sycl/src/bridge/kernel.h"
#include "dpcore-sycl/src/bridge/enqueue.h"
#include "dpcore-sycl/src/kernel.rs.h"

#include <sycl/backend/opencl.hpp>

// Types and constants only: the OpenCL entry points are looked up at run
// time (dlopen/dlsym), so the plugin never links libOpenCL.
#include <CL/cl.h>
#include <CL/cl_ext.h>

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace dpcore_sycl {

namespace {

// The OpenCL entry points OpenCL C bundles need, from the libOpenCL the SYCL
// runtime has loaded (as for OpenClApi in usm.cpp: never loaded, never
// linked by us).
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
  } DPCORE_SYCL_CATCH_ALL {
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
