// Queues and their asynchronous errors; see queue.h.

#include "dpcore-sycl/src/bridge/queue.h"
#include "dpcore-sycl/src/queue.rs.h"

#include <cstdio>
#include <exception>
#include <string>
#include <utility>

namespace dpcore_sycl {

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
        first_status_ = status_of(x);
        std::snprintf(first_, sizeof first_, "%s (SYCL error code %d: %s)", x.what(),
                      x.code().value(), x.category().name());
      } catch (const std::exception &x) {
        first_code_ = 0;
        first_status_ = Status::Backend;
        std::snprintf(first_, sizeof first_, "%s", x.what());
      } DPCORE_SYCL_CATCH_ALL {
        first_code_ = 0;
        first_status_ = Status::Backend;
        std::snprintf(first_, sizeof first_, "%s",
                      "unknown C++ exception (not a std::exception)");
      }
    }
    if (count_ != 0) {
      pending_.store(true, std::memory_order_release);
    }
  } DPCORE_SYCL_CATCH_ALL {
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
  d.status = first_status_;
  pending_.store(false, std::memory_order_release);
  count_ = 0;
  first_code_ = 0;
  first_status_ = Status::Backend;
  first_[0] = '\0';
  return d;
}

namespace {

std::string plural(std::size_t n, const char *one, const char *many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

} // namespace

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
    throw Error(code(first.status), first.code, message);
  }
}

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
  } DPCORE_SYCL_CATCH_ALL {
    sync = describe_current_exception();
    failed = true;
  }
  std::vector<std::shared_ptr<AsyncErrors>> lists;
  if (q.errors()) {
    lists.push_back(q.errors());
  }
  finish_wait(failed ? &sync : nullptr, lists);
}

} // namespace dpcore_sycl
