// Barriers and the USM memory commands; see enqueue.h.

#include "dpcore-sycl/src/bridge/enqueue.h"
#include "dpcore-sycl/src/enqueue.rs.h"

#include <cstring>
#include <string>
#include <type_traits>

namespace dpcore_sycl {

namespace {

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

} // namespace dpcore_sycl
