//! Queues (`queue_create`, `queue_adopt`, `queue_release`, `queue_equal`,
//! `queue_native`, `queue_wait`), with the asynchronous errors of the queues
//! the plugin creates collected and reported by the waits (the C++ half is
//! `src/bridge/queue.{h,cpp}`).

use std::ffi::c_void;

use dpcore_backend_abi::{queue_flags, Obj};

use crate::device::device_ref;
use crate::error::{guarded, non_null, Failure};
use crate::object::{clear_out, equal_by, into_obj, native_of, obj_ref, release};

#[cxx::bridge(namespace = "dpcore_sycl")]
pub(crate) mod ffi {
    unsafe extern "C++" {
        include!("dpcore-sycl/src/bridge/queue.h");

        type Device = crate::device::ffi::Device;
        type Context = crate::context::ffi::Context;

        /// A queue object (a `sycl::queue` and its asynchronous errors).
        type Queue;

        fn queue_create(
            ctx: &Context,
            dev: &Device,
            in_order: bool,
            profiling: bool,
        ) -> Result<UniquePtr<Queue>>;
        /// # Safety
        /// `native` is the address of a live `sycl::queue`.
        unsafe fn queue_adopt(native: usize) -> Result<UniquePtr<Queue>>;
        fn queue_device(q: &Queue) -> Result<UniquePtr<Device>>;
        fn queue_context(q: &Queue) -> Result<UniquePtr<Context>>;
        fn queue_flags(q: &Queue) -> Result<u32>;
        fn queue_equal(a: &Queue, b: &Queue) -> bool;
        fn queue_native(q: &Queue) -> usize;
        fn queue_wait(q: &Queue) -> Result<()>;
    }
}

// SAFETY: a `sycl::queue` is a thread-safe reference-counted handle (SYCL
// 2020, 4.3.2); a queue's asynchronous error list is protected by a mutex;
// the wrapper is never mutated after construction.
unsafe impl Send for ffi::Queue {}
unsafe impl Sync for ffi::Queue {}

pub(crate) unsafe extern "C" fn queue_create(ctx: Obj, dev: Obj, flags: u32, out: *mut Obj) -> i32 {
    guarded("queue_create", || {
        // SAFETY: the caller passes a writable `out` or NULL.
        unsafe { clear_out(out, "out") }?;
        // SAFETY: the caller passes live objects or NULL.
        let ctx = unsafe { obj_ref::<ffi::Context>(ctx, "ctx") }?;
        // SAFETY: as above.
        let dev = unsafe { device_ref(dev, "dev") }?;
        let known = queue_flags::IN_ORDER | queue_flags::PROFILING;
        if flags & !known != 0 {
            return Err(Failure::invalid(format!(
                "unknown queue flags {:#x}",
                flags & !known
            )));
        }
        let q = ffi::queue_create(
            ctx,
            dev,
            flags & queue_flags::IN_ORDER != 0,
            flags & queue_flags::PROFILING != 0,
        )?;
        // SAFETY: checked non-NULL by `clear_out`.
        unsafe { out.write(into_obj(q)) };
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn queue_adopt(
    native: *mut c_void,
    out: *mut Obj,
    dev_out: *mut Obj,
    ctx_out: *mut Obj,
    flags_out: *mut u32,
) -> i32 {
    guarded("queue_adopt", || {
        // SAFETY: the caller passes writable out-parameters or NULL.
        unsafe {
            clear_out(out, "out")?;
            clear_out(dev_out, "dev_out")?;
            clear_out(ctx_out, "ctx_out")?;
        }
        non_null(flags_out, "flags_out")?;
        non_null(native, "native")?;
        // SAFETY: the caller promises a live `sycl::queue` at `native`.
        let q = unsafe { ffi::queue_adopt(native as usize) }?;
        let dev = ffi::queue_device(&q)?;
        let ctx = ffi::queue_context(&q)?;
        let flags = ffi::queue_flags(&q)?;
        // SAFETY: all checked non-NULL above.
        unsafe {
            flags_out.write(flags);
            dev_out.write(into_obj(dev));
            ctx_out.write(into_obj(ctx));
            out.write(into_obj(q));
        }
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn queue_release(q: Obj) {
    // SAFETY: a queue object given back once, or NULL.
    unsafe { release::<ffi::Queue>(q) }
}

pub(crate) unsafe extern "C" fn queue_equal(a: Obj, b: Obj) -> bool {
    // SAFETY: live queue objects or NULL.
    unsafe { equal_by(a, b, ffi::queue_equal) }
}

pub(crate) unsafe extern "C" fn queue_native(q: Obj) -> *mut c_void {
    // SAFETY: a live queue object or NULL.
    unsafe { native_of(q, ffi::queue_native) }
}

pub(crate) unsafe extern "C" fn queue_wait(q: Obj) -> i32 {
    guarded("queue_wait", || {
        // SAFETY: the caller passes a live object or NULL.
        let q = unsafe { obj_ref::<ffi::Queue>(q, "q") }?;
        ffi::queue_wait(q)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{
        alloc, cpu_device, default_context, fails, new_queue, ok, partition, queue_wait, read_back,
        setup, table, wait_all, Ctx, Dev, Ev, Queue,
    };
    use crate::test_support;
    use dpcore_backend_abi::{partition_kind, status, usm_kind};
    use std::ptr;

    #[test]
    fn queue_flags_combinations_equality_and_native() {
        let dev = cpu_device();
        let ctx = default_context(&dev);
        let flag_sets = [
            0,
            queue_flags::IN_ORDER,
            queue_flags::PROFILING,
            queue_flags::IN_ORDER | queue_flags::PROFILING,
        ];
        let queues: Vec<Queue> = flag_sets
            .iter()
            .map(|&flags| new_queue(&ctx, &dev, flags))
            .collect();
        for (q, &flags) in queues.iter().zip(&flag_sets) {
            // SAFETY: live object.
            let native = unsafe { (table().queue_native)(q.0) };
            assert!(!native.is_null());
            queue_wait(q);
            // The flags, as seen through adoption.
            let (mut a, mut d, mut c, mut f) =
                (ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), 0);
            // SAFETY: a live sycl::queue, writable outs.
            ok(unsafe { (table().queue_adopt)(native, &mut a, &mut d, &mut c, &mut f) });
            let (a, _d, _c) = (Queue(a), Dev(d), Ctx(c));
            assert_eq!(f, flags);
            // SAFETY: live objects.
            assert!(unsafe { (table().queue_equal)(a.0, q.0) });
        }
        // SAFETY: live objects.
        unsafe {
            assert!((table().queue_equal)(queues[0].0, queues[0].0));
            assert!(!(table().queue_equal)(queues[0].0, queues[1].0));
            assert!(!(table().queue_equal)(queues[0].0, ptr::null_mut()));
        }
    }

    #[test]
    fn queue_create_rejects_bad_flags_and_foreign_devices() {
        let dev = cpu_device();
        let ctx = default_context(&dev);
        let mut out: Obj = 1 as Obj;
        // SAFETY: live objects, writable out.
        let rc = unsafe { (table().queue_create)(ctx.0, dev.0, 1 << 7, &mut out) };
        let (_, _, msg) = fails(rc, status::INVALID_ARGUMENT);
        assert!(msg.contains("0x80"), "{msg}");
        assert!(out.is_null());

        // A sub-device is not a member of the root device's default context.
        let subs = partition(&dev, partition_kind::EQUALLY, &[1]).expect("partition");
        // SAFETY: live objects, writable out.
        let rc = unsafe { (table().queue_create)(ctx.0, subs[0].0, 0, &mut out) };
        let (_, code, msg) = fails(rc, status::INVALID_ARGUMENT);
        assert_ne!(code, 0, "{msg}");
        assert!(msg.contains("not a member of the context"), "{msg}");
        assert!(out.is_null());
    }

    #[test]
    fn adopted_queue_shares_the_runtime_queue() {
        let (dev, ctx, q) = setup(queue_flags::IN_ORDER);
        // SAFETY: live object.
        let native = unsafe { (table().queue_native)(q.0) };
        let (mut a, mut d, mut c, mut f) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), 0);
        // SAFETY: a live sycl::queue, writable outs.
        ok(unsafe { (table().queue_adopt)(native, &mut a, &mut d, &mut c, &mut f) });
        let (adopted, adopted_dev, adopted_ctx) = (Queue(a), Dev(d), Ctx(c));
        assert_eq!(f, queue_flags::IN_ORDER);
        // SAFETY: live objects.
        unsafe {
            assert!((table().queue_equal)(adopted.0, q.0));
            assert!((table().device_equal)(adopted_dev.0, dev.0));
            assert!((table().context_equal)(adopted_ctx.0, ctx.0));
            // Its own sycl::queue copy, at another address.
            assert_ne!((table().queue_native)(adopted.0), native);
        }
        // The adopted queue outlives the original object and still works.
        drop(q);
        let mem = alloc(&ctx, &adopted, usm_kind::DEVICE, 256, 0);
        let src = [7u8; 256];
        // SAFETY: live queue; `mem` holds 256 bytes.
        ok(unsafe {
            (table().enqueue_memcpy)(
                adopted.0,
                mem.p,
                src.as_ptr().cast(),
                256,
                ptr::null(),
                0,
                ptr::null_mut(),
            )
        });
        queue_wait(&adopted);
        let mut back = [0u8; 256];
        read_back(&adopted, mem.p, &mut back, &[]);
        assert_eq!(back, src);
    }

    #[test]
    fn asynchronous_errors_are_collected_and_reported_once() {
        let (_dev, _ctx, q) = setup(queue_flags::IN_ORDER);
        // SAFETY: a live queue object of this plugin.
        let qref = unsafe { &*q.0.cast::<ffi::Queue>() };
        let first = test_support::ffi::test_failing_host_task(qref, "first failure", true, 0)
            .expect("submit a host task");
        let second = test_support::ffi::test_failing_host_task(qref, "second failure", false, 0)
            .expect("submit a host task");
        let (_first, _second) = (Ev(into_obj(first)), Ev(into_obj(second)));
        // SAFETY: live queue.
        let rc = unsafe { (table().queue_wait)(q.0) };
        let (_, code, msg) = fails(rc, status::BACKEND);
        assert!(msg.contains("asynchronous error: first failure"), "{msg}");
        assert!(msg.contains("(and 1 more asynchronous error)"), "{msg}");
        assert_eq!(code, 1, "errc::runtime: {msg}");
        // Reported once: the list was drained.
        queue_wait(&q);

        // Through event_wait, from the event's queue.
        let third = test_support::ffi::test_failing_host_task(qref, "third failure", false, 0)
            .expect("submit a host task");
        let third = Ev(into_obj(third));
        let evs = [third.0];
        // SAFETY: one live event.
        let rc = unsafe { (table().event_wait)(evs.as_ptr(), 1) };
        let (_, code, msg) = fails(rc, status::BACKEND);
        assert!(msg.contains("asynchronous error: third failure"), "{msg}");
        assert!(!msg.contains("more asynchronous"), "{msg}");
        assert_eq!(code, 0, "a std::runtime_error has no SYCL code: {msg}");
        queue_wait(&q);
        // SAFETY: as above.
        ok(unsafe { (table().event_wait)(evs.as_ptr(), 1) });
    }

    #[test]
    fn a_lost_device_is_device_lost_synchronously_and_asynchronously() {
        // UR_RESULT_ERROR_DEVICE_LOST = 20 (ur_api.h).
        let e = test_support::ffi::test_throw_ur(20, "device gone").expect_err("it throws");
        let f = crate::error::Failure::from(e);
        assert_eq!(f.status, status::DEVICE_LOST, "{f:?}");
        assert!(f.message.contains("device gone"), "{f:?}");
        // UR_RESULT_ERROR_OUT_OF_DEVICE_MEMORY = 39; another UR code stays BACKEND.
        let e = test_support::ffi::test_throw_ur(39, "full").expect_err("it throws");
        assert_eq!(
            crate::error::Failure::from(e).status,
            status::OUT_OF_DEVICE_MEMORY
        );
        let e = test_support::ffi::test_throw_ur(19, "invalid device").expect_err("it throws");
        assert_eq!(crate::error::Failure::from(e).status, status::BACKEND);

        let (_dev, _ctx, q) = setup(queue_flags::IN_ORDER);
        // SAFETY: a live queue object of this plugin.
        let qref = unsafe { &*q.0.cast::<ffi::Queue>() };
        let lost = test_support::ffi::test_failing_host_task(qref, "lost in a task", true, 20)
            .expect("submit a host task");
        let _lost = Ev(into_obj(lost));
        // SAFETY: live queue.
        let rc = unsafe { (table().queue_wait)(q.0) };
        let (_, _, msg) = fails(rc, status::DEVICE_LOST);
        assert!(msg.contains("lost in a task"), "{msg}");
        queue_wait(&q);
    }

    #[test]
    fn queues_are_usable_from_many_threads() {
        let (_dev, ctx, q) = setup(0);
        let n = 1 << 12;
        std::thread::scope(|s| {
            // Raw object pointers are not Send: pass the addresses, and use
            // non-owning wrappers in the threads.
            let (ctx_addr, q_addr) = (ctx.0 as usize, q.0 as usize);
            for k in 0..4u8 {
                s.spawn(move || {
                    let ctx = std::mem::ManuallyDrop::new(Ctx(ctx_addr as Obj));
                    let q = std::mem::ManuallyDrop::new(Queue(q_addr as Obj));
                    let (ctx, q): (&Ctx, &Queue) = (&ctx, &q);
                    let mem = alloc(ctx, q, usm_kind::DEVICE, n, 0);
                    for round in 0..20u8 {
                        let value = k.wrapping_mul(31).wrapping_add(round);
                        // Out-of-order queue: the read-back depends on the
                        // memset's event.
                        let (mut set, mut copy) = (ptr::null_mut(), ptr::null_mut());
                        let mut back = vec![0u8; n];
                        // SAFETY: live queue, `mem` holds n bytes.
                        ok(unsafe {
                            (table().enqueue_memset)(q.0, mem.p, value, n, ptr::null(), 0, &mut set)
                        });
                        let set = Ev(set);
                        let deps = [set.0];
                        // SAFETY: as above; one live dependency.
                        ok(unsafe {
                            (table().enqueue_memcpy)(
                                q.0,
                                back.as_mut_ptr().cast(),
                                mem.p,
                                n,
                                deps.as_ptr(),
                                1,
                                &mut copy,
                            )
                        });
                        let copy = Ev(copy);
                        wait_all(&[&copy]);
                        assert!(back.iter().all(|&b| b == value));
                    }
                });
            }
        });
        queue_wait(&q);
    }
}
