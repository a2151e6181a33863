//! Events (`event_wait`, `event_status`, `event_profiling`, `event_release`,
//! `event_native`, `event_adopt`), and the event lists and event
//! out-parameters of the enqueue functions (the C++ half is
//! `src/bridge/event.{h,cpp}`).

use std::ffi::c_void;
use std::ptr;

use cxx::UniquePtr;
use dpcore_backend_abi::{event_status, status, Obj};

use crate::error::{guarded, non_null, Failure};
use crate::object::{clear_out, into_obj, native_of, obj_ref, obj_slice, release};

#[cxx::bridge(namespace = "dpcore_sycl")]
pub(crate) mod ffi {
    /// `dpcore_backend_abi::event_status` values.
    #[repr(i32)]
    enum EventStatus {
        Submitted = 0,
        Running = 1,
        Complete = 2,
    }

    /// Profiling timestamps of an event, in ns.
    struct ProfilingTimes {
        submit: u64,
        start: u64,
        end: u64,
    }

    unsafe extern "C++" {
        include!("dpcore-sycl/src/bridge/event.h");

        /// An event object (holds a `sycl::event`).
        type Event;
        /// A list of events (dependencies, or events to wait for).
        type EventList;

        fn event_list_new() -> Result<UniquePtr<EventList>>;
        fn event_list_push(list: Pin<&mut EventList>, ev: &Event) -> Result<()>;

        fn events_wait(evs: &EventList) -> Result<()>;
        fn event_wait_one(ev: &Event) -> Result<()>;
        fn event_status(ev: &Event) -> Result<EventStatus>;
        fn event_profiling(ev: &Event) -> Result<ProfilingTimes>;
        fn event_native(ev: &Event) -> usize;
        /// # Safety
        /// `native` is the address of a live `sycl::event`.
        unsafe fn event_adopt(native: usize) -> Result<UniquePtr<Event>>;
    }
}

// The bridge's enums restate numbers of the ABI crate; keep them in step.
const _: () = {
    assert!(ffi::EventStatus::Submitted.repr == event_status::SUBMITTED);
    assert!(ffi::EventStatus::Running.repr == event_status::RUNNING);
    assert!(ffi::EventStatus::Complete.repr == event_status::COMPLETE);
};

// SAFETY: a `sycl::event` is a thread-safe reference-counted handle (SYCL
// 2020, 4.3.2); the asynchronous error list of its queue, which it shares,
// is protected by a mutex; the wrapper is never mutated after construction.
unsafe impl Send for ffi::Event {}
unsafe impl Sync for ffi::Event {}

/// The event out-parameter of an enqueue function: NULL when the caller
/// wants no event.
pub(crate) struct EventOut(*mut Obj);

impl EventOut {
    /// # Safety
    /// `ev_out` must be NULL or valid for a write.
    pub(crate) unsafe fn new(ev_out: *mut Obj) -> Self {
        if !ev_out.is_null() {
            // SAFETY: the caller's promise; a failed call leaves NULL.
            unsafe { ev_out.write(ptr::null_mut()) };
        }
        EventOut(ev_out)
    }

    pub(crate) fn wanted(&self) -> bool {
        !self.0.is_null()
    }

    /// Hand out the event the C++ side made (exactly when it was wanted).
    pub(crate) fn set(self, ev: UniquePtr<ffi::Event>) -> Result<(), Failure> {
        if !self.wanted() {
            return Ok(());
        }
        if ev.is_null() {
            return Err(Failure::new(
                status::INTERNAL,
                "the runtime returned no event although one was asked for",
            ));
        }
        // SAFETY: non-NULL, valid for a write by the promise given to `new`.
        unsafe { self.0.write(into_obj(ev)) };
        Ok(())
    }
}

/// The events of an `Obj` array as an `EventList`.
///
/// # Safety
/// `evs` must be NULL or hold `n` events of this plugin, NULL or live.
pub(crate) unsafe fn event_list(
    evs: *const Obj,
    n: usize,
    what: &str,
) -> Result<UniquePtr<ffi::EventList>, Failure> {
    // SAFETY: the caller's promise.
    let objs = unsafe { obj_slice(evs, n, what) }?;
    let mut list = ffi::event_list_new()?;
    for &obj in objs {
        // SAFETY: non-NULL (checked) event objects, by the caller's promise.
        let ev = unsafe { obj_ref::<ffi::Event>(obj, what) }?;
        ffi::event_list_push(list.pin_mut(), ev)?;
    }
    Ok(list)
}

pub(crate) unsafe extern "C" fn event_wait(evs: *const Obj, n: usize) -> i32 {
    guarded("event_wait", || {
        if n == 0 {
            return Ok(());
        }
        if n == 1 {
            non_null(evs, "evs")?;
            // SAFETY: the caller promises one event object at `evs`.
            let ev = unsafe { obj_ref::<ffi::Event>(*evs, "evs[0]") }?;
            ffi::event_wait_one(ev)?;
            return Ok(());
        }
        // SAFETY: the caller promises `n` event objects at `evs`.
        let list = unsafe { event_list(evs, n, "evs") }?;
        ffi::events_wait(&list)?;
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn event_status(ev: Obj, out: *mut i32) -> i32 {
    guarded("event_status", || {
        // SAFETY: the caller passes a live object or NULL.
        let ev = unsafe { obj_ref::<ffi::Event>(ev, "ev") }?;
        non_null(out, "out")?;
        let st = ffi::event_status(ev)?;
        // SAFETY: checked non-NULL.
        unsafe { out.write(st.repr) };
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn event_profiling(ev: Obj, out: *mut u64) -> i32 {
    guarded("event_profiling", || {
        // SAFETY: the caller passes a live object or NULL.
        let ev = unsafe { obj_ref::<ffi::Event>(ev, "ev") }?;
        non_null(out, "out")?;
        let t = ffi::event_profiling(ev)?;
        // SAFETY: checked non-NULL; the caller promises room for 3 values.
        unsafe { ptr::copy_nonoverlapping([t.submit, t.start, t.end].as_ptr(), out, 3) };
        Ok(())
    })
}

pub(crate) unsafe extern "C" fn event_release(ev: Obj) {
    // SAFETY: an event object given back once, or NULL.
    unsafe { release::<ffi::Event>(ev) }
}

pub(crate) unsafe extern "C" fn event_native(ev: Obj) -> *mut c_void {
    // SAFETY: a live event object or NULL.
    unsafe { native_of(ev, ffi::event_native) }
}

pub(crate) unsafe extern "C" fn event_adopt(native: *mut c_void, out: *mut Obj) -> i32 {
    guarded("event_adopt", || {
        // SAFETY: the caller passes a writable out-parameter or NULL.
        unsafe { clear_out(out, "out")? };
        non_null(native, "native")?;
        // SAFETY: the caller promises a live `sycl::event` at `native`.
        let ev = unsafe { ffi::event_adopt(native as usize) }?;
        // SAFETY: checked non-NULL by `clear_out`.
        unsafe { out.write(into_obj(ev)) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{
        alloc, cpu_device, default_context, fails, new_queue, ok, table, wait_all, Ev,
    };
    use dpcore_backend_abi::{queue_flags, usm_kind};

    #[test]
    fn profiling_timestamps_and_their_absence() {
        let dev = cpu_device();
        let ctx = default_context(&dev);
        let mut host = vec![1u8; 1 << 16];
        for (flags, profiled) in [
            (queue_flags::PROFILING, true),
            (queue_flags::PROFILING | queue_flags::IN_ORDER, true),
            (0, false),
            (queue_flags::IN_ORDER, false),
        ] {
            let q = new_queue(&ctx, &dev, flags);
            let mem = alloc(&ctx, &q, usm_kind::DEVICE, host.len(), 0);
            let mut ev: Obj = ptr::null_mut();
            // SAFETY: live queue, `mem` holds host.len() bytes.
            ok(unsafe {
                (table().enqueue_memcpy)(
                    q.0,
                    mem.p,
                    host.as_mut_ptr().cast(),
                    host.len(),
                    ptr::null(),
                    0,
                    &mut ev,
                )
            });
            let ev = Ev(ev);
            wait_all(&[&ev]);
            let mut t = [0u64; 3];
            // SAFETY: live event, room for 3 values.
            let rc = unsafe { (table().event_profiling)(ev.0, t.as_mut_ptr()) };
            if profiled {
                ok(rc);
                let [submit, start, end] = t;
                assert!(submit > 0, "{t:?}");
                assert!(start >= submit, "{t:?}");
                assert!(end >= start, "{t:?}");
            } else {
                let (_, code, msg) = fails(rc, status::UNSUPPORTED);
                assert!(msg.contains("DPC_QUEUE_PROFILING"), "{msg}");
                assert_ne!(code, 0, "{msg}");
            }
        }
    }
}
