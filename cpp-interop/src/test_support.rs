//! Test-only C++ helpers, in a bridge of their own. `build.rs` compiles their
//! C++ into a separate static library; only the unit-test binary refers to
//! it, so none of it ends up in `libdpcore_sycl.so`.

#[cxx::bridge(namespace = "dpcore_sycl")]
pub(crate) mod ffi {
    unsafe extern "C++" {
        include!("dpcore-sycl/src/test_support.h");

        type Queue = crate::queue::ffi::Queue;
        type Event = crate::event::ffi::Event;
        type Kernel = crate::kernel::ffi::Kernel;

        /// Submit to `q` a host task that throws (a `sycl::exception` with
        /// `errc::runtime` when `sycl_error`, carrying the Unified Runtime
        /// code `ur_code` when it is not 0, else a `std::runtime_error`)
        /// with `message`: an asynchronous error for the queue's handler.
        fn test_failing_host_task(
            q: &Queue,
            message: &str,
            sycl_error: bool,
            ur_code: i32,
        ) -> Result<UniquePtr<Event>>;

        /// Throw a `sycl::exception` (`errc::runtime`) carrying the Unified
        /// Runtime code `ur_code`, as the runtime does for a failed UR call.
        fn test_throw_ur(ur_code: i32, message: &str) -> Result<()>;

        /// Average microseconds of `rounds` launches of `k` (no arguments)
        /// over one work-item in plain SYCL, each waited for: through the
        /// launch's event (`with_event`) or, submitted without an event,
        /// through the queue.
        fn test_raw_launch_micros(
            q: &Queue,
            k: &Kernel,
            rounds: usize,
            with_event: bool,
        ) -> Result<f64>;
    }
}
