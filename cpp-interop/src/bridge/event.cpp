// Events and event lists; see event.h.

#include "dpcore-sycl/src/bridge/event.h"
#include "dpcore-sycl/src/event.rs.h"

#include <algorithm>
#include <string>
#include <vector>

namespace dpcore_sycl {

void EventList::push(const Event &ev) {
  evs_.push_back(ev.get());
  const std::shared_ptr<AsyncErrors> &errs = ev.errors();
  if (errs && std::find(errors_.begin(), errors_.end(), errs) == errors_.end()) {
    errors_.push_back(errs);
  }
}

std::unique_ptr<EventList> event_list_new() { return std::make_unique<EventList>(); }

void event_list_push(EventList &list, const Event &ev) { list.push(ev); }

void events_wait(const EventList &evs) {
  ErrorText sync; // written by the catch below before any read (no 2 KiB zero-fill per call)
  bool failed = false;
  try {
    sycl::event::wait_and_throw(evs.get());
  } DPCORE_SYCL_CATCH_ALL {
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
  } DPCORE_SYCL_CATCH_ALL {
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

} // namespace dpcore_sycl
