// Events and event lists: waiting (with the asynchronous errors of the
// events' queues), status, profiling, adoption; bridged in src/event.rs.

#pragma once

#include "dpcore-sycl/src/bridge/common.h"
#include "dpcore-sycl/src/bridge/queue.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace dpcore_sycl {

// Shared with Rust; defined in the generated src/event.rs.h.
struct ProfilingTimes;
enum class EventStatus : std::int32_t;

// An event as the plugin hands it out, with the error list of the queue it
// came from (or NULL) so that waiting on it can report that queue's
// asynchronous errors. `empty` marks the already-complete event of an
// operation that submitted nothing (n == 0, no dependencies).
class Event {
public:
  Event(sycl::event ev, std::shared_ptr<AsyncErrors> errors, bool empty = false)
      : ev_(std::move(ev)), errors_(std::move(errors)), empty_(empty) {}
  const sycl::event &get() const noexcept { return ev_; }
  // sycl::event's waits are non-const although an event is a thread-safe handle.
  sycl::event &get_mut() const noexcept { return ev_; }
  const sycl::event *native() const noexcept { return &ev_; }
  const std::shared_ptr<AsyncErrors> &errors() const noexcept { return errors_; }
  bool empty() const noexcept { return empty_; }

private:
  mutable sycl::event ev_;
  std::shared_ptr<AsyncErrors> errors_;
  bool empty_;
};

// A list of events (dependencies, or the events to wait for), with the
// distinct error lists of their queues.
class EventList {
public:
  const std::vector<sycl::event> &get() const noexcept { return evs_; }
  const std::vector<std::shared_ptr<AsyncErrors>> &errors() const noexcept { return errors_; }
  void push(const Event &ev);

private:
  std::vector<sycl::event> evs_;
  std::vector<std::shared_ptr<AsyncErrors>> errors_;
};

// A list to fill with event_list_push (dependencies, events to wait for).
std::unique_ptr<EventList> event_list_new();
void event_list_push(EventList &list, const Event &ev);

// sycl::event::wait_and_throw on the list, then report the first asynchronous
// error collected by the events' queues.
void events_wait(const EventList &evs);
// Wait for one event: the common case, without building a list.
void event_wait_one(const Event &ev);
EventStatus event_status(const Event &ev);
// Error(UNSUPPORTED) when the queue was made without profiling.
ProfilingTimes event_profiling(const Event &ev);
std::size_t event_native(const Event &ev) noexcept;
// A new Event sharing the sycl::event at `native` (its owner keeps it).
std::unique_ptr<Event> event_adopt(std::size_t native);

} // namespace dpcore_sycl
