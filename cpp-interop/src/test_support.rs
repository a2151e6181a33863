//! Test-only C++ helpers, in a bridge of their own. `build.rs` compiles their
//! C++ into a separate static library; only the unit-test binary refers to
//! it, so none of it ends up in `libdpcore_sycl.so`.

#[cxx::bridge(namespace = "dpcore_sycl")]
pub(crate) mod ffi {
    unsafe extern "C++" {
        include!("dpcore-sycl/src/test_support.h");

        type Queue = crate::ffi::Queue;
        type Event = crate::ffi::Event;

        /// Submit to `q` a host task that throws (a `sycl::exception` with
        /// `errc::runtime` when `sycl_error`, else a `std::runtime_error`)
        /// with `message`: an asynchronous error for the queue's handler.
        fn test_failing_host_task(
            q: &Queue,
            message: &str,
            sycl_error: bool,
        ) -> Result<UniquePtr<Event>>;
    }
}
