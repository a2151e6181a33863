//! Events (`dpc_event_*`) and the dependency lists every enqueue takes.

use crate::export;
use std::ffi::c_void;
use std::sync::Arc;

use dpcore_backend_abi as abi;

use crate::backend::{self, Backend};
use crate::error::{dpc_status, dpc_status::*, Error, Result};
use crate::handle::{self, HandleType, Kind};
use crate::strings::{check_ptr, write_out};

/// Opaque event type of the C API.
pub struct dpc_event_s {
    _private: (),
}

/// An event handle: the completion of one enqueued command. Reference
/// counted.
pub type dpc_event = *mut dpc_event_s;

/// Execution status of an event.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum dpc_event_status {
    DPC_EVENT_SUBMITTED = 0,
    DPC_EVENT_RUNNING = 1,
    DPC_EVENT_COMPLETE = 2,
}

pub struct Event {
    obj: abi::Obj,
    backend: &'static Backend,
}

// SAFETY: an `Event` is a plugin event object and a `&'static Backend`
// (itself Send + Sync). The backend interface lets every table function be
// called from any thread, concurrently (dpcore_backend_abi's conventions),
// and the object is released once, by `Drop`, so moving the owner to
// another thread is sound.
unsafe impl Send for Event {}
// SAFETY: `&Event` only reaches the plugin through table functions
// (`event_status`, `event_wait`, `event_native`, ...) that take the object
// by value and may be called from any thread concurrently (the backend
// interface's conventions); no Rust state is mutated through `&self`.
unsafe impl Sync for Event {}

impl HandleType for Event {
    const KIND: Kind = Kind::Event;
}

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: `self.obj` is an event object of `self.backend` (see
        // `from_obj`), owned by this `Event` alone; `drop` runs once, so it
        // is given back exactly once, as the interface requires.
        unsafe { (self.backend.table.event_release)(self.obj) }
    }
}

impl Event {
    /// Take ownership of a plugin event object: `Drop` releases it.
    ///
    /// # Safety
    /// `obj` is a live event object of `backend` that nothing else will
    /// give back (a new one from an enqueue or `event_adopt`).
    pub unsafe fn from_obj(backend: &'static Backend, obj: abi::Obj) -> Arc<Event> {
        Arc::new(Event { obj, backend })
    }

    pub fn obj(&self) -> abi::Obj {
        self.obj
    }

    pub fn status(&self) -> Result<i32> {
        let mut st = 0i32;
        backend::check(
            // SAFETY: `self.obj` is a live event object of `self.backend`
            // (owned by `self`, which is borrowed for the call); `st` is a
            // local i32 the plugin writes.
            unsafe {
                crate::faults::table_call!(self.backend.table, event_status(self.obj, &mut st))
            },
            "event_status",
        )?;
        Ok(st)
    }

    pub fn wait(&self) -> Result<()> {
        backend::check(
            // SAFETY: a list of one live event object of `self.backend`
            // (owned by `self`, borrowed for the call): `&self.obj` is valid
            // for reading 1 `Obj`.
            unsafe { crate::faults::table_call!(self.backend.table, event_wait(&self.obj, 1)) },
            "event_wait",
        )
    }

    /// The execution status, as the C API names it.
    pub(crate) fn execution_status(&self) -> Result<dpc_event_status> {
        Ok(match self.status()? {
            abi::event_status::COMPLETE => dpc_event_status::DPC_EVENT_COMPLETE,
            abi::event_status::RUNNING => dpc_event_status::DPC_EVENT_RUNNING,
            _ => dpc_event_status::DPC_EVENT_SUBMITTED,
        })
    }

    /// The command's profiling timestamps in nanoseconds of the device's
    /// clock, `[submitted, started, ended]`, once it has ended (waits for
    /// it). `DPC_ERROR_UNSUPPORTED` (from the plugin) when its queue does
    /// not profile.
    pub(crate) fn profiling(&self) -> Result<[u64; 3]> {
        self.wait()?;
        let mut t = [0u64; 3];
        backend::check(
            // SAFETY: `self.obj` is a live event object of `self.backend`
            // (owned by `self`, borrowed for the call); `t` is a local array
            // of the 3 u64 the plugin writes.
            unsafe {
                crate::faults::table_call!(
                    self.backend.table,
                    event_profiling(self.obj, t.as_mut_ptr())
                )
            },
            "event_profiling",
        )?;
        Ok(t)
    }

    /// The runtime's own event object (`sycl::event*` for the SYCL
    /// plugin), borrowed: valid while `self` is.
    pub(crate) fn native(&self) -> *mut c_void {
        // SAFETY: `self.obj` is a live event object of `self.backend`
        // (owned by `self`, borrowed for the call).
        unsafe { (self.backend.table.event_native)(self.obj) }
    }
}

/// Wait for every event of `events`: one wait per plugin, each given only
/// its own events (a plugin can wait only for those), in the order the
/// plugins first appear.
pub(crate) fn wait_all(events: &[Arc<Event>]) -> Result<()> {
    let mut left: Vec<&Arc<Event>> = events.iter().collect();
    while let Some(first) = left.first() {
        let b = first.backend;
        let (mine, rest): (Vec<&Arc<Event>>, Vec<&Arc<Event>>) =
            left.into_iter().partition(|e| std::ptr::eq(e.backend, b));
        let objs: Vec<abi::Obj> = mine.iter().map(|e| e.obj).collect();
        backend::check(
            // SAFETY: `objs` holds `objs.len()` live event objects, all of
            // plugin `b` (partitioned above; `events`, borrowed for the
            // call, keeps them alive).
            unsafe { crate::faults::table_call!(b.table, event_wait(objs.as_ptr(), objs.len())) },
            "event_wait",
        )?;
        left = rest;
    }
    Ok(())
}

/// A new event sharing the runtime event `sycl_event` (a `sycl::event*`):
/// the plugin takes its own reference, so the owner keeps owning its
/// `sycl::event` and may destroy it at any time.
///
/// # Safety
/// `sycl_event` points to a live `sycl::event` of the SYCL runtime the
/// SYCL plugin uses (nothing can check that).
pub(crate) unsafe fn adopt(sycl_event: *mut c_void) -> Result<Arc<Event>> {
    let b = backend::sycl()?;
    let mut obj: abi::Obj = std::ptr::null_mut();
    backend::check(
        // SAFETY: `sycl_event` points to a live `sycl::event` of the runtime
        // the plugin uses (this function's contract); `obj` is a local the
        // plugin writes.
        unsafe { crate::faults::table_call!(b.table, event_adopt(sycl_event, &mut obj)) },
        "event_adopt",
    )?;
    // SAFETY: the plugin just made `obj`, a new event object of `b`, and
    // gave it to us alone.
    Ok(unsafe { Event::from_obj(b, obj) })
}

/// A validated dependency list, keeping its events alive for the call.
pub struct Deps {
    pub events: Vec<Arc<Event>>,
    pub objs: Vec<abi::Obj>,
}

impl Deps {
    pub fn none() -> Deps {
        Deps {
            events: Vec::new(),
            objs: Vec::new(),
        }
    }

    pub fn ptr(&self) -> *const abi::Obj {
        if self.objs.is_empty() {
            std::ptr::null()
        } else {
            self.objs.as_ptr()
        }
    }

    pub fn len(&self) -> usize {
        self.objs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objs.is_empty()
    }

    /// Ok when every event is plugin `b`'s (the only events `b` can wait
    /// for, so the only ones [`Deps::ptr`] may be given to), else
    /// `DPC_ERROR_INVALID_ARGUMENT` naming the event and both plugins.
    pub fn check_backend(&self, b: &'static Backend) -> Result<()> {
        match self.events.iter().position(|e| !std::ptr::eq(e.backend, b)) {
            None => Ok(()),
            Some(i) => Err(Error::invalid_arg(format!(
                "{}: events[{i}] is an event of plugin `{}` but the queue is of plugin `{}`; \
                 a plugin can only wait for its own events: wait for it with dpc_event_wait first",
                crate::error::current_export(),
                self.events[i].backend.name,
                b.name
            ))),
        }
    }
}

/// Validate the `(events, n_events)` pair of an export.
///
/// Which plugin the events belong to is not checked here: whatever gives
/// [`Deps::ptr`] to a plugin checks the list first with
/// [`Deps::check_backend`] (the queue's barrier, the USM commands, kernel
/// launches), once, where the list meets the plugin.
///
/// # Safety
/// `events` is NULL or valid for reads of `n` handles (`dpc_event`
/// values), not modified during the call.
pub unsafe fn deps(events: *const dpc_event, n: usize) -> Result<Deps> {
    let function = crate::error::current_export();
    if n == 0 {
        return Ok(Deps::none());
    }
    if events.is_null() {
        return Err(Error::new(
            DPC_ERROR_NULL_POINTER,
            format!("{function}: `events` is NULL but `n_events` is {n}"),
        ));
    }
    // SAFETY: `events` is non-NULL (checked above) and, by this function's
    // contract, valid for reads of `n` handles; `dpc_event` is a plain
    // pointer type, so any bit pattern is a valid value (each one is then
    // validated as a handle). The slice is dropped before we return.
    let hs = unsafe { std::slice::from_raw_parts(events, n) };
    let mut out = Deps {
        events: Vec::with_capacity(n),
        objs: Vec::with_capacity(n),
    };
    for (i, h) in hs.iter().enumerate() {
        let e = handle::get::<Event>(&format!("events[{i}]"), *h as usize)?;
        out.objs.push(e.obj);
        out.events.push(e);
    }
    Ok(out)
}

/// Run an enqueue through the plugin: `f` gets the event slot to fill
/// (NULL when no event is wanted). Returns the new event when `want`.
///
/// # Safety
/// `f` must call a plugin enqueue of backend `b` with the slot it is given
/// (as its `ev_out`) and return that call's status: on success, with a
/// non-NULL slot, the slot then holds a new event object of `b` that this
/// function takes ownership of.
pub unsafe fn submit(
    b: &'static Backend,
    what: &str,
    want: bool,
    f: impl FnOnce(*mut abi::Obj) -> i32,
) -> Result<Option<Arc<Event>>> {
    let mut ev: abi::Obj = std::ptr::null_mut();
    let slot = if want {
        &mut ev as *mut abi::Obj
    } else {
        std::ptr::null_mut()
    };
    backend::check(f(slot), what)?;
    // SAFETY: with `want`, the enqueue succeeded and wrote a new event
    // object of `b` to `ev` (the `f` contract), ours alone.
    Ok(want.then(|| unsafe { Event::from_obj(b, ev) }))
}

/// Give `ev` to the C caller as a new handle in `*event_out` (nothing when
/// `event_out` is NULL or there is no event).
///
/// # Safety
/// `event_out` is NULL or valid for a write of a `dpc_event`.
pub unsafe fn write_event(event_out: *mut dpc_event, ev: Option<Arc<Event>>) -> Result<()> {
    if let (false, Some(e)) = (event_out.is_null(), ev) {
        let h = handle::insert(e, false)?;
        // SAFETY: `event_out` is non-NULL (the `false` matched above) and,
        // by this function's contract, valid for a write of a `dpc_event`.
        unsafe { event_out.write(h as dpc_event) };
    }
    Ok(())
}

/// [`submit`] for an export: the event, when `event_out` is non-NULL, goes
/// there as a new handle.
///
/// # Safety
/// `event_out` is NULL or valid for a write; `f` as for [`submit`].
pub unsafe fn enqueue(
    b: &'static Backend,
    what: &str,
    event_out: *mut dpc_event,
    f: impl FnOnce(*mut abi::Obj) -> i32,
) -> Result<Option<Arc<Event>>> {
    // SAFETY: `f` meets `submit`'s contract: this function's contract
    // requires the same of it.
    let ev = unsafe { submit(b, what, !event_out.is_null(), f) }?;
    // SAFETY: `event_out` is NULL or valid for a write (this function's
    // contract), which is `write_event`'s contract.
    unsafe { write_event(event_out, ev.clone()) }?;
    Ok(ev)
}

// ---------------------------------------------------------------- exports

/// Wait for `event` to complete. An asynchronous error raised by its
/// command is reported here as a status with its message.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_BACKEND`. Thread safety:
/// any thread; several threads may wait on one event.
#[no_mangle]
pub extern "C" fn dpc_event_wait(event: dpc_event) -> dpc_status {
    export!(|| {
        let e = handle::get::<Event>("event", event as usize)?;
        e.wait()
    })
}

/// Wait for `n_events` events (NULL with 0 events is allowed and returns
/// at once).
///
/// Errors: `DPC_ERROR_NULL_POINTER` (`events` NULL with `n_events` > 0),
/// `DPC_ERROR_INVALID_HANDLE` (any element; nothing is waited for then),
/// `DPC_ERROR_BACKEND`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_event_wait_all(
    events: *const dpc_event,
    n_events: usize,
) -> dpc_status {
    export!(|| {
        // SAFETY: the caller provides `events` NULL or readable for
        // `n_events` handles (the export's contract), `deps`'s contract.
        let d = unsafe { deps(events, n_events) }?;
        wait_all(&d.events)
    })
}

/// The execution status of `event`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_BACKEND`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_event_get_status(
    event: dpc_event,
    status_out: *mut dpc_event_status,
) -> dpc_status {
    export!(|| {
        check_ptr("status_out", status_out)?;
        let v = handle::with::<Event, _>("event", event as usize, |e| e.execution_status())??;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_event_status (the export's contract).
        unsafe { write_out("status_out", status_out, v) }
    })
}

/// Profiling timestamps of `event`'s command, in nanoseconds of the
/// device's clock: when it was submitted, started and ended. Waits for the
/// command to end.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER` (each
/// output is required), `DPC_ERROR_UNSUPPORTED` (the queue was made without
/// `DPC_QUEUE_PROFILING`), `DPC_ERROR_BACKEND`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_event_get_profiling(
    event: dpc_event,
    submit_ns_out: *mut u64,
    start_ns_out: *mut u64,
    end_ns_out: *mut u64,
) -> dpc_status {
    export!(|| {
        check_ptr("submit_ns_out", submit_ns_out)?;
        check_ptr("start_ns_out", start_ns_out)?;
        check_ptr("end_ns_out", end_ns_out)?;
        let t = handle::get::<Event>("event", event as usize)?.profiling()?;
        // SAFETY: the three were checked non-NULL above; the caller
        // provides each as a writable u64 (the export's contract).
        unsafe {
            submit_ns_out.write(t[0]);
            start_ns_out.write(t[1]);
            end_ns_out.write(t[2]);
        }
        Ok(())
    })
}

/// Add a reference to `event`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_event_retain(event: dpc_event) -> dpc_status {
    export!(|| { handle::retain(Kind::Event, "event", event as usize) })
}

/// Drop a reference to `event`; NULL is a no-op. Releasing an event does
/// not wait for or cancel its command.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_event_release(event: dpc_event) -> dpc_status {
    export!(|| { handle::release(Kind::Event, "event", event as usize) })
}

/// The runtime's own event object (`sycl::event*`), for C++ code in the
/// same process.
///
/// Ownership: borrowed; valid while `event` is. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`. Thread safety: any
/// thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_event_get_native(
    event: dpc_event,
    native_out: *mut *mut c_void,
) -> dpc_status {
    export!(|| {
        check_ptr("native_out", native_out)?;
        let p = handle::with::<Event, _>("event", event as usize, |e| e.native())?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `void*` (the export's contract).
        unsafe { write_out("native_out", native_out, p) }
    })
}

/// A dpcore event sharing a runtime event: `sycl_event` is a `sycl::event*`
/// (e.g. what a oneMKL call returned) that its owner keeps owning; dpcore
/// keeps its own reference to the runtime event, so the owner may destroy
/// its `sycl::event` at any time. Use it to wait on foreign work, or to
/// pass foreign work as a dependency to any dpcore call (for example
/// `dpc_array_release_after`).
///
/// Ownership: a new reference the caller releases. Errors:
/// `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_BACKEND_UNAVAILABLE` (no plugin),
/// `DPC_ERROR_BACKEND`. `sycl_event` must point to a live `sycl::event` of
/// the SYCL runtime the plugin uses: dpcore cannot check that.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_event_adopt(
    sycl_event: *mut c_void,
    event_out: *mut dpc_event,
) -> dpc_status {
    export!(|| {
        check_ptr("sycl_event", sycl_event)?;
        check_ptr("event_out", event_out)?;
        // SAFETY: `sycl_event` is non-NULL (checked above) and, by the
        // export's documented contract, points to a live `sycl::event` of
        // the runtime the plugin uses (dpcore cannot check that), which is
        // `adopt`'s contract.
        let e = unsafe { adopt(sycl_event) }?;
        let h = handle::insert(e, false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_event (the export's contract).
        unsafe { write_out("event_out", event_out, h as dpc_event) }
    })
}
