// Test-only helpers (see src/test_support.rs); not part of the plugin.

#include "dpcore-sycl/src/test_support.h"
#include "dpcore-sycl/src/test_support.rs.h"

#include <stdexcept>
#include <string>

namespace dpcore_sycl {

std::unique_ptr<Event> test_failing_host_task(const Queue &q, rust::Str message,
                                              bool sycl_error) {
  const std::string text(message);
  sycl::event ev = q.get().submit([&](sycl::handler &h) {
    h.host_task([text, sycl_error] {
      if (sycl_error) {
        throw sycl::exception(sycl::make_error_code(sycl::errc::runtime), text);
      }
      throw std::runtime_error(text);
    });
  });
  return std::make_unique<Event>(std::move(ev), q.errors());
}

} // namespace dpcore_sycl
