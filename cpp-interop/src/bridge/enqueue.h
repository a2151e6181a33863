// The commands enqueued on a queue: barriers and the USM memory commands
// (memcpy, memset, fill, prefetch, mem_advise); bridged in src/enqueue.rs.
// Also the submission helpers kernel.cpp launches kernels with.

#pragma once

#include "dpcore-sycl/src/bridge/common.h"
#include "dpcore-sycl/src/bridge/event.h"
#include "dpcore-sycl/src/bridge/queue.h"

#include <sycl/ext/oneapi/experimental/enqueue_functions.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace dpcore_sycl {

// Each returns the new event when `want_event`, else a null pointer (and then
// submits without an event where the runtime allows). Pointers are passed as
// addresses. n == 0 submits nothing (see enqueue_nothing in enqueue.cpp).

std::unique_ptr<Event> enqueue_barrier(const Queue &q, const EventList &deps, bool want_event);
std::unique_ptr<Event> enqueue_memcpy(const Queue &q, std::size_t dst, std::size_t src,
                                      std::size_t n, const EventList &deps, bool want_event);
std::unique_ptr<Event> enqueue_memset(const Queue &q, std::size_t p, std::uint8_t value,
                                      std::size_t n, const EventList &deps, bool want_event);
// `pattern` is 1, 2, 4, 8 or 16 bytes long (else Error(INVALID_ARGUMENT)).
std::unique_ptr<Event> enqueue_fill(const Queue &q, std::size_t p,
                                    rust::Slice<const std::uint8_t> pattern, std::size_t count,
                                    const EventList &deps, bool want_event);
std::unique_ptr<Event> enqueue_prefetch(const Queue &q, std::size_t p, std::size_t n,
                                        const EventList &deps, bool want_event);
std::unique_ptr<Event> enqueue_mem_advise(const Queue &q, std::size_t p, std::size_t n,
                                          std::int32_t advice, const EventList &deps,
                                          bool want_event);

// --- submission helpers ------------------------------------------------------

namespace syclex = sycl::ext::oneapi::experimental;

// The new event of `q`, with the queue's error list.
inline std::unique_ptr<Event> wrap(const Queue &q, sycl::event ev) {
  return std::make_unique<Event>(std::move(ev), q.errors());
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

} // namespace dpcore_sycl
