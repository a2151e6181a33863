//! `libdpcore_sycl.so`: the SYCL backend plugin of dpcore.
//!
//! The core (`libdpcore.so`, pure Rust) `dlopen()`s this library and talks to
//! it only through the versioned C table of [`dpcore_backend_abi`]. The
//! library's C interface is two symbols:
//!
//! * `dpcore_backend_abi_version()`: the table version it implements;
//! * `dpcore_backend_init(host, out)`: stores the host's callbacks, lists the
//!   SYCL root devices once and hands out the [`BackendV1`] table.
//!
//! (rustc also exports the `cxxbridge1$*` helpers of the `cxx` runtime, as
//! from any cdylib that uses `cxx`; they are not part of the interface.)
//!
//! The SYCL work is done in C++ (`src/bridge/`), reached through the [`cxx`]
//! bridges, one private `ffi` module per module below. Every fallible C++
//! function returns a `Result`; its error message carries a `dpc_status` and
//! the SYCL error code (see `src/bridge/common.h`), which
//! `Failure::from_exception` parses back. Every table function runs under
//! [`std::panic::catch_unwind`], so neither a panic nor a C++ exception ever
//! leaves this library.
//!
//! The plugin is split by concept, as the core's modules are; each module
//! holds the table functions of its concept, their `#[cxx::bridge]` and
//! their unit tests, and its C++ half is `src/bridge/<module>.{h,cpp}`:
//!
//! * `platform`: the SYCL runtime and its platforms;
//! * `device`: devices, sub-devices, device lists;
//! * `context`, `queue`, `event`: contexts, queues (and their
//!   asynchronous errors), events and event lists;
//! * `enqueue`: barriers and the USM memory commands;
//! * `usm`: USM allocation and pointer queries;
//! * `kernel`: kernel bundles, kernels and their launches;
//! * `native_handle`: the OpenCL or Level Zero handles of objects;
//! * `error`, `host`, `object`: failures, the host's callbacks and the
//!   objects handed out as `Obj`s, which every module uses (the C++ they
//!   share is `src/bridge/common.{h,cpp}`).
//!
//! This file holds the table and the two exported symbols.

mod context;
mod device;
mod enqueue;
mod error;
mod event;
mod host;
mod kernel;
mod native_handle;
mod object;
mod platform;
mod queue;
mod usm;

#[cfg(test)]
mod test_fixtures;
#[cfg(test)]
mod test_support;

use std::ptr;

use dpcore_backend_abi::{status, BackendV1, HostV1, BACKEND_ABI_VERSION};

use crate::error::guarded;
use crate::host::{Host, HOST};

/// The SYCL ABI major this plugin was built for (`N` of `libsycl.so.N`).
pub const SYCL_ABI_MAJOR: &str = env!("DPCORE_SYCL_ABI_MAJOR");

// ---------------------------------------------------------------------------
// The table

static TABLE: BackendV1 = BackendV1 {
    abi_version: BACKEND_ABI_VERSION,
    struct_size: std::mem::size_of::<BackendV1>() as u32,
    runtime_info: platform::runtime_info,
    platform_list: platform::platform_list,
    device_list: device::device_list,
    device_info: device::device_info,
    device_equal: device::device_equal,
    device_parent: device::device_parent,
    device_partition: device::device_partition,
    device_release: device::device_release,
    device_native: device::device_native,
    context_default: context::context_default,
    context_create: context::context_create,
    context_release: context::context_release,
    context_equal: context::context_equal,
    context_native: context::context_native,
    queue_create: queue::queue_create,
    queue_adopt: queue::queue_adopt,
    queue_release: queue::queue_release,
    queue_equal: queue::queue_equal,
    queue_native: queue::queue_native,
    queue_wait: queue::queue_wait,
    enqueue_barrier: enqueue::enqueue_barrier,
    enqueue_memcpy: enqueue::enqueue_memcpy,
    enqueue_memset: enqueue::enqueue_memset,
    enqueue_fill: enqueue::enqueue_fill,
    enqueue_prefetch: enqueue::enqueue_prefetch,
    enqueue_mem_advise: enqueue::enqueue_mem_advise,
    event_wait: event::event_wait,
    event_status: event::event_status,
    event_profiling: event::event_profiling,
    event_release: event::event_release,
    event_native: event::event_native,
    usm_alloc: usm::usm_alloc,
    usm_free: usm::usm_free,
    usm_pointer_info: usm::usm_pointer_info,
    usm_pointer_kind: usm::usm_pointer_kind,
    bundle_create: kernel::bundle_create,
    bundle_release: kernel::bundle_release,
    bundle_kernel_names: kernel::bundle_kernel_names,
    bundle_has_kernel: kernel::bundle_has_kernel,
    bundle_get_kernel: kernel::bundle_get_kernel,
    bundle_native: kernel::bundle_native,
    kernel_release: kernel::kernel_release,
    kernel_info: kernel::kernel_info,
    kernel_native: kernel::kernel_native,
    enqueue_kernel: kernel::enqueue_kernel,
    native_handle: native_handle::native_handle,
    event_adopt: event::event_adopt,
};

// ---------------------------------------------------------------------------
// Exported symbols

/// The version of the backend table this plugin implements
/// ([`BACKEND_ABI_VERSION`]).
///
/// # Safety
/// None: it only returns a constant (it is `unsafe` to match
/// [`dpcore_backend_abi::AbiVersionFn`]).
#[no_mangle]
pub unsafe extern "C" fn dpcore_backend_abi_version() -> u32 {
    BACKEND_ABI_VERSION
}

/// Initialise the plugin: remember the host's callbacks, list the SYCL root
/// devices and store the address of the (static) table in `*out`.
///
/// Returns 0 on success. With a NULL argument it returns INVALID_ARGUMENT,
/// and with a `host` of another ABI version or size UNSUPPORTED, in both
/// cases without calling the host (whose table cannot be trusted).
///
/// # Safety
/// `host` must be NULL or point to a valid [`HostV1`]; `out` must be NULL or
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn dpcore_backend_init(
    host: *const HostV1,
    out: *mut *const BackendV1,
) -> i32 {
    if host.is_null() || out.is_null() {
        return status::INVALID_ARGUMENT;
    }
    // SAFETY: non-NULL; only the two leading u32 fields, common to every
    // version of HostV1, are read before the version is checked.
    let (abi_version, struct_size) = unsafe {
        (
            ptr::addr_of!((*host).abi_version).read(),
            ptr::addr_of!((*host).struct_size).read(),
        )
    };
    if abi_version != BACKEND_ABI_VERSION || struct_size as usize != std::mem::size_of::<HostV1>() {
        return status::UNSUPPORTED;
    }
    // SAFETY: a HostV1 of our version, by the check above.
    let h = unsafe { &*host };
    let callbacks = Host {
        set_error: h.set_error,
        log: h.log,
        set_build_log: h.set_build_log,
    };
    match HOST.write() {
        Ok(mut guard) => *guard = Some(callbacks),
        Err(poisoned) => *poisoned.into_inner() = Some(callbacks),
    }
    guarded("dpcore_backend_init", || {
        device::roots()?;
        // SAFETY: checked non-NULL.
        unsafe { out.write(&TABLE) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{
        alloc, fails, ok, setup, table, test_log, test_set_build_log, test_set_error, Ev, TEST_HOST,
    };
    use dpcore_backend_abi::{native_kind, usm_kind, Obj, PointerInfoV1};
    use std::ffi::c_void;

    #[test]
    fn abi_version_and_table_header() {
        // SAFETY: no arguments.
        assert_eq!(unsafe { dpcore_backend_abi_version() }, BACKEND_ABI_VERSION);
        let t = table();
        assert_eq!(t.abi_version, BACKEND_ABI_VERSION);
        assert_eq!(t.struct_size as usize, std::mem::size_of::<BackendV1>());
    }

    #[test]
    fn init_rejects_bad_arguments() {
        let mut out: *const BackendV1 = ptr::null();
        // SAFETY: NULL is allowed and rejected.
        assert_eq!(
            unsafe { dpcore_backend_init(ptr::null(), &mut out) },
            status::INVALID_ARGUMENT
        );
        // SAFETY: as above.
        assert_eq!(
            unsafe { dpcore_backend_init(&TEST_HOST, ptr::null_mut()) },
            status::INVALID_ARGUMENT
        );
        let other = HostV1 {
            abi_version: BACKEND_ABI_VERSION + 1,
            struct_size: TEST_HOST.struct_size,
            set_error: test_set_error,
            log: test_log,
            set_build_log: test_set_build_log,
        };
        // SAFETY: a valid record of a different version.
        assert_eq!(
            unsafe { dpcore_backend_init(&other, &mut out) },
            status::UNSUPPORTED
        );
        assert!(out.is_null());
    }

    #[test]
    fn null_and_invalid_arguments_of_the_v2_functions() {
        let (dev, ctx, q) = setup(0);
        let mem = alloc(&ctx, &q, usm_kind::DEVICE, 64, 0);
        let t = table();
        let n = ptr::null_mut::<c_void>();
        let mut out: Obj = ptr::null_mut();
        let mut u = 0u32;
        let mut i = 0i32;
        let mut p: *mut c_void = ptr::null_mut();
        let mut info = PointerInfoV1::empty();
        let mut times = [0u64; 3];
        let expect = |rc: i32, what: &str| {
            let (_, _, msg) = fails(rc, status::INVALID_ARGUMENT);
            assert!(msg.contains(what), "expected {what:?} in {msg:?}");
        };
        let null_dep = [ptr::null_mut::<c_void>()];
        // SAFETY (all): every pointer is NULL or valid.
        unsafe {
            expect((t.context_default)(n, &mut out), "dev is NULL");
            expect((t.context_default)(dev.0, ptr::null_mut()), "out is NULL");
            expect((t.context_create)(ptr::null(), 1, &mut out), "devs is NULL");
            expect(
                (t.context_create)([dev.0].as_ptr(), 0, &mut out),
                "at least one device",
            );
            expect(
                (t.context_create)(null_dep.as_ptr(), 1, &mut out),
                "devs[0] is NULL",
            );
            expect(
                (t.context_create)([dev.0].as_ptr(), 1, ptr::null_mut()),
                "out is NULL",
            );
            assert!(!(t.context_equal)(n, ctx.0));
            assert!((t.context_native)(n).is_null());
            (t.context_release)(n);

            expect((t.queue_create)(n, dev.0, 0, &mut out), "ctx is NULL");
            expect((t.queue_create)(ctx.0, n, 0, &mut out), "dev is NULL");
            expect(
                (t.queue_create)(ctx.0, dev.0, 0, ptr::null_mut()),
                "out is NULL",
            );
            let native = (t.queue_native)(q.0);
            expect(
                (t.queue_adopt)(n, &mut out, &mut out, &mut out, &mut u),
                "native is NULL",
            );
            let (mut a, mut b, mut c) = (n, n, n);
            expect(
                (t.queue_adopt)(native, ptr::null_mut(), &mut b, &mut c, &mut u),
                "out is NULL",
            );
            expect(
                (t.queue_adopt)(native, &mut a, ptr::null_mut(), &mut c, &mut u),
                "dev_out is NULL",
            );
            expect(
                (t.queue_adopt)(native, &mut a, &mut b, ptr::null_mut(), &mut u),
                "ctx_out is NULL",
            );
            expect(
                (t.queue_adopt)(native, &mut a, &mut b, &mut c, ptr::null_mut()),
                "flags_out is NULL",
            );
            assert!(a.is_null() && b.is_null() && c.is_null());
            expect((t.queue_wait)(n), "q is NULL");
            assert!((t.queue_native)(n).is_null());
            assert!(!(t.queue_equal)(q.0, n));
            (t.queue_release)(n);

            let mut ev: Obj = 1 as Obj;
            expect((t.enqueue_barrier)(n, ptr::null(), 0, &mut ev), "q is NULL");
            assert!(ev.is_null(), "a failed call leaves NULL in ev_out");
            expect(
                (t.enqueue_barrier)(q.0, ptr::null(), 1, &mut ev),
                "deps is NULL",
            );
            expect(
                (t.enqueue_barrier)(q.0, null_dep.as_ptr(), 1, &mut ev),
                "deps[0] is NULL",
            );
            expect(
                (t.enqueue_memcpy)(q.0, n, mem.p, 8, ptr::null(), 0, &mut ev),
                "dst is NULL",
            );
            expect(
                (t.enqueue_memcpy)(q.0, mem.p, ptr::null(), 8, ptr::null(), 0, &mut ev),
                "src is NULL",
            );
            expect(
                (t.enqueue_memcpy)(n, mem.p, mem.p, 8, ptr::null(), 0, &mut ev),
                "q is NULL",
            );
            expect(
                (t.enqueue_memset)(q.0, n, 0, 8, ptr::null(), 0, &mut ev),
                "p is NULL",
            );
            expect(
                (t.enqueue_memset)(q.0, mem.p, 0, 8, null_dep.as_ptr(), 1, &mut ev),
                "deps[0] is NULL",
            );
            let pattern = [0u8; 4];
            expect(
                (t.enqueue_fill)(
                    q.0,
                    n,
                    pattern.as_ptr().cast(),
                    4,
                    2,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "p is NULL",
            );
            expect(
                (t.enqueue_fill)(q.0, mem.p, ptr::null(), 4, 2, ptr::null(), 0, &mut ev),
                "pattern is NULL",
            );
            expect(
                (t.enqueue_fill)(
                    q.0,
                    mem.p,
                    pattern.as_ptr().cast(),
                    4,
                    usize::MAX,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "overflows",
            );
            expect(
                (t.enqueue_prefetch)(q.0, ptr::null(), 8, ptr::null(), 0, &mut ev),
                "p is NULL",
            );
            expect(
                (t.enqueue_mem_advise)(q.0, ptr::null(), 8, 0, ptr::null(), 0, &mut ev),
                "p is NULL",
            );
            assert!(ev.is_null());

            expect((t.event_wait)(ptr::null(), 2), "evs is NULL");
            expect((t.event_wait)(null_dep.as_ptr(), 1), "evs[0] is NULL");
            expect((t.event_status)(n, &mut i), "ev is NULL");
            expect((t.event_profiling)(n, times.as_mut_ptr()), "ev is NULL");
            let mut e: Obj = ptr::null_mut();
            ok((t.enqueue_barrier)(q.0, ptr::null(), 0, &mut e));
            let e = Ev(e);
            expect((t.event_status)(e.0, ptr::null_mut()), "out is NULL");
            expect((t.event_profiling)(e.0, ptr::null_mut()), "out is NULL");
            assert!((t.event_native)(n).is_null());
            (t.event_release)(n);

            expect(
                (t.usm_alloc)(n, usm_kind::DEVICE, 64, 0, &mut p),
                "q is NULL",
            );
            expect(
                (t.usm_alloc)(q.0, usm_kind::DEVICE, 64, 0, ptr::null_mut()),
                "out is NULL",
            );
            expect((t.usm_free)(n, mem.p), "ctx is NULL");
            ok((t.usm_free)(ctx.0, ptr::null_mut())); // like free(NULL)
            expect((t.usm_pointer_info)(n, mem.p, &mut info), "ctx is NULL");
            expect(
                (t.usm_pointer_info)(ctx.0, mem.p, ptr::null_mut()),
                "out is NULL",
            );

            let mut backend_out = -1;
            expect(
                (t.native_handle)(native_kind::DEVICE, n, &mut backend_out, &mut p),
                "obj is NULL",
            );
            expect(
                (t.native_handle)(native_kind::QUEUE, q.0, ptr::null_mut(), &mut p),
                "backend_out is NULL",
            );
            expect(
                (t.native_handle)(native_kind::QUEUE, q.0, &mut backend_out, ptr::null_mut()),
                "out is NULL",
            );
            expect(
                (t.native_handle)(99, q.0, &mut backend_out, &mut p),
                "unknown native kind 99",
            );
        }
    }
}
