// Queues and their asynchronous errors; bridged in src/queue.rs.

#pragma once

#include "dpcore-sycl/src/bridge/common.h"
#include "dpcore-sycl/src/bridge/context.h"
#include "dpcore-sycl/src/bridge/device.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace dpcore_sycl {

// The asynchronous errors of one queue created by the plugin, collected by
// its async_handler and drained by queue_wait / event_wait. Only the first
// error since the last drain is kept in full; the others are counted. Shared
// (std::shared_ptr) by the queue's handler, the Queue object and the events
// of the queue, so that it outlives whichever goes last.
class AsyncErrors {
public:
  // Record every exception of `list`. Never throws, never prints, never
  // allocates: it is called by the SYCL runtime, possibly on its own threads.
  void record(const sycl::exception_list &list) noexcept;

  struct Drained {
    std::size_t count = 0;      // errors since the last drain (0: none)
    std::int64_t code = 0;      // backend code of the first one
    Status status = Status::Backend; // dpc_status of the first one
    std::string first;          // message of the first one
  };
  // Take what was recorded and start afresh.
  Drained drain();
  // Whether anything was recorded since the last drain (a lock-free peek,
  // so that waits with nothing to report skip the lock).
  bool pending() const noexcept { return pending_.load(std::memory_order_acquire); }

private:
  std::atomic<bool> pending_{false};
  std::mutex mutex_;
  std::size_t count_ = 0;
  std::int64_t first_code_ = 0;
  Status first_status_ = Status::Backend;
  char first_[1024] = {};
};

// A queue as the plugin hands it out: the sycl::queue handle and, for queues
// the plugin created, their asynchronous error list (NULL for adopted queues,
// whose owner's handler receives their asynchronous errors).
class Queue {
public:
  Queue(sycl::queue q, std::shared_ptr<AsyncErrors> errors)
      : q_(std::move(q)), errors_(std::move(errors)) {}
  // Non-const: most sycl::queue member functions are, although a queue is a
  // thread-safe handle (SYCL 2020, 4.3.2).
  sycl::queue &get() const noexcept { return q_; }
  const sycl::queue *native() const noexcept { return &q_; }
  const std::shared_ptr<AsyncErrors> &errors() const noexcept { return errors_; }

private:
  mutable sycl::queue q_;
  std::shared_ptr<AsyncErrors> errors_;
};

// A new queue with our async_handler; Error(INVALID_ARGUMENT) when the device
// is not in the context.
std::unique_ptr<Queue> queue_create(const Context &ctx, const Device &dev, bool in_order,
                                    bool profiling);
// A new object sharing the sycl::queue at address `native`.
std::unique_ptr<Queue> queue_adopt(std::size_t native);
std::unique_ptr<Device> queue_device(const Queue &q);
std::unique_ptr<Context> queue_context(const Queue &q);
// queue_flags bits (IN_ORDER 1, PROFILING 2).
std::uint32_t queue_flags(const Queue &q);
bool queue_equal(const Queue &a, const Queue &b) noexcept;
std::size_t queue_native(const Queue &q) noexcept;
// wait_and_throw, then report the first collected asynchronous error.
void queue_wait(const Queue &q);

// End a wait: `sync` is the exception wait_and_throw threw (already described,
// or nullptr); `lists` the asynchronous error lists to drain. Throws the
// combined failure, if any.
void finish_wait(const ErrorText *sync,
                 const std::vector<std::shared_ptr<AsyncErrors>> &lists);

} // namespace dpcore_sycl
