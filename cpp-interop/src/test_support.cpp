// Test-only helpers (see src/test_support.rs); not part of the plugin.

#include "dpcore-sycl/src/test_support.h"
#include "dpcore-sycl/src/test_support.rs.h"

#include <sycl/ext/oneapi/experimental/enqueue_functions.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

namespace dpcore_sycl {

namespace {

// A sycl::exception as the runtime raises it for a failed Unified Runtime
// call: errc::runtime with the UR code attached (0: none attached).
sycl::exception runtime_error(const std::string &text, std::int32_t ur_code) {
  sycl::exception e(sycl::make_error_code(sycl::errc::runtime), text);
  if (ur_code != 0) {
    return sycl::detail::set_ur_error(std::move(e), ur_code);
  }
  return e;
}

} // namespace

void test_throw_ur(std::int32_t ur_code, rust::Str message) {
  throw runtime_error(std::string(message), ur_code);
}

std::unique_ptr<Event> test_failing_host_task(const Queue &q, rust::Str message,
                                              bool sycl_error, std::int32_t ur_code) {
  const std::string text(message);
  sycl::event ev = q.get().submit([&](sycl::handler &h) {
    h.host_task([text, sycl_error, ur_code] {
      if (sycl_error) {
        throw runtime_error(text, ur_code);
      }
      throw std::runtime_error(text);
    });
  });
  return std::make_unique<Event>(std::move(ev), q.errors());
}

double test_raw_launch_micros(const Queue &q, const Kernel &k, std::size_t rounds,
                              bool with_event) {
  namespace syclex = sycl::ext::oneapi::experimental;
  sycl::queue &sq = q.get();
  const sycl::kernel &kernel = k.get();
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < rounds; ++i) {
    auto cgf = [&](sycl::handler &h) { h.parallel_for(sycl::range<1>(1), kernel); };
    if (with_event) {
      sq.submit(cgf).wait();
    } else {
      syclex::submit(sq, cgf);
      sq.wait();
    }
  }
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::micro>(end - start).count() /
         static_cast<double>(rounds);
}

} // namespace dpcore_sycl
