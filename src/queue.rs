//! Queues (`dpc_queue_*`): created on a device and context with
//! properties, the canonical per-device queue, foreign queues adopted, and
//! waiting with asynchronous errors reported.

use crate::export;
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dpcore_backend_abi as abi;

use crate::backend::{self, Backend};
use crate::context::{self, dpc_context, Context};
use crate::device::{self, dpc_backend, dpc_device, Device};
use crate::error::{dpc_status, Error, Result};
use crate::event::{self, dpc_event, Deps, Event};
use crate::handle::{self, HandleType, Kind};
use crate::strings::{check_ptr, in_str, write_out};

/// Opaque queue type of the C API.
pub struct dpc_queue_s {
    _private: (),
}

/// A queue handle. The canonical queue of a root device
/// (`dpc_queue_default`) is valid for the life of the process; other queues
/// are reference counted.
pub type dpc_queue = *mut dpc_queue_s;

/// Queue property: commands run in submission order.
pub const DPC_QUEUE_IN_ORDER: u32 = 1;
/// Queue property: events record profiling timestamps.
pub const DPC_QUEUE_PROFILING: u32 = 2;
const ALL_FLAGS: u32 = DPC_QUEUE_IN_ORDER | DPC_QUEUE_PROFILING;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A plugin queue object and what dpcore keeps about it.
///
/// Invariant (kept by `create` and `adopt`, the only places that make
/// one): `obj` is a queue object of `backend` owned by this `Queue`
/// alone, and `device` and `context` are `backend`'s.
pub struct Queue {
    obj: abi::Obj,
    backend: &'static Backend,
    pub device: Arc<Device>,
    pub context: Arc<Context>,
    pub flags: u32,
    pub id: u64,
}

// SAFETY: a `Queue` owns one plugin queue object (released once, by
// `Drop`) and otherwise holds Send + Sync data (`Arc<Device>`,
// `Arc<Context>`, integers). Every table function may be called from any
// thread (the backend interface's conventions), so the owner may move to
// another thread.
unsafe impl Send for Queue {}
// SAFETY: through `&Queue` the object only reaches table functions that
// take it by value and may be called from any thread concurrently (the
// backend interface's conventions: submitting to one queue from several
// threads is allowed); nothing is mutated through `&self`.
unsafe impl Sync for Queue {}

impl HandleType for Queue {
    const KIND: Kind = Kind::Queue;
}

impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: `self.obj` is a queue object of `self.backend`, owned by
        // this `Queue` alone (the invariant); `drop` runs once, so it is
        // given back exactly once.
        unsafe { (self.backend.table.queue_release)(self.obj) }
    }
}

impl Queue {
    pub fn obj(&self) -> abi::Obj {
        self.obj
    }

    pub fn backend(&self) -> &'static Backend {
        self.backend
    }

    pub fn in_order(&self) -> bool {
        self.flags & DPC_QUEUE_IN_ORDER != 0
    }

    pub fn describe(&self) -> String {
        format!(
            "queue #{} on {} in context #{}",
            self.id,
            self.device.describe(),
            self.context.id
        )
    }

    pub fn wait(&self) -> Result<()> {
        backend::check(
            // SAFETY: `self.obj` is a live queue object of `self.backend`
            // (owned by `self`, borrowed for the call).
            unsafe { crate::faults::table_call!(self.backend.table, queue_wait(self.obj)) },
            "queue_wait",
        )
    }

    /// Enqueue a barrier after `deps` (after everything submitted before
    /// it when `deps` is empty); its event when `want`. The barrier is
    /// enqueued either way: it orders the commands submitted after it.
    pub(crate) fn barrier(&self, deps: &Deps, want: bool) -> Result<Option<Arc<Event>>> {
        deps.check_backend(self.backend)?;
        // SAFETY: `self.obj` is a live queue object of `self.backend`
        // (owned by `self`, borrowed for the call); `deps.ptr()` is valid
        // for `deps.len()` event objects that `deps` keeps alive for the
        // call, all of them `self`'s plugin's (checked above). The closure
        // passes `ev` as the `ev_out` of a `self.backend` enqueue and
        // returns its status, as `submit` needs.
        unsafe {
            event::submit(self.backend, "enqueue_barrier", want, |ev| {
                crate::faults::table_call!(
                    self.backend.table,
                    enqueue_barrier(self.obj, deps.ptr(), deps.len(), ev)
                )
            })
        }
    }

    /// Whether `other` is equivalent: same device, same context and same
    /// properties (work may go to either with the same effect on memory).
    pub(crate) fn equivalent(&self, other: &Queue) -> bool {
        self.device.same_as(&other.device)
            && self.context.same_as(&other.context)
            && self.flags == other.flags
    }

    /// The runtime's own queue object (`sycl::queue*` for the SYCL plugin),
    /// borrowed: valid while `self` is.
    pub(crate) fn native(&self) -> *mut c_void {
        // SAFETY: `self.obj` is a live queue object of `self.backend`
        // (owned by `self`, borrowed for the call).
        unsafe { (self.backend.table.queue_native)(self.obj) }
    }

    /// The backend's own handle of the queue and which backend it is of
    /// (see `dpc_queue_get_backend_handle` for who owns it).
    pub(crate) fn backend_handle(&self) -> Result<(dpc_backend, *mut c_void)> {
        // SAFETY: `self.obj` is a live queue object of `self.backend`
        // (owned by `self`, borrowed for the call), of the kind QUEUE names.
        unsafe { context::backend_handle(self.backend, abi::native_kind::QUEUE, self.obj) }
    }
}

fn check_flags(flags: u32) -> Result<()> {
    let function = crate::error::current_export();
    if flags & !ALL_FLAGS != 0 {
        return Err(Error::invalid_arg(format!(
            "{function}: flags {flags:#x} has unknown bits; use DPC_QUEUE_IN_ORDER ({DPC_QUEUE_IN_ORDER}) \
             and/or DPC_QUEUE_PROFILING ({DPC_QUEUE_PROFILING})"
        )));
    }
    Ok(())
}

/// A new queue on `dev` in `ctx`.
pub fn create(ctx: &Arc<Context>, dev: &Arc<Device>, flags: u32) -> Result<Arc<Queue>> {
    if !ctx.contains(dev) {
        return Err(Error::invalid_arg(format!(
            "{} is not in {}; create the queue in a context that holds the device \
             (dpc_context_default gives the device's own)",
            dev.describe(),
            ctx.describe()
        )));
    }
    let b = dev.backend();
    let mut obj: abi::Obj = std::ptr::null_mut();
    backend::check(
        // SAFETY: `dev.obj()` is a live device object of `b` (`b` is its
        // plugin; the caller holds `dev`); `ctx.obj()` is a live context
        // object of `b` too: `ctx` (held by the caller) contains `dev`
        // (checked above), and a context's devices are its own plugin's
        // (the `Context` invariant). `obj` is a live local the plugin
        // writes.
        unsafe {
            crate::faults::table_call!(b.table, queue_create(ctx.obj(), dev.obj(), flags, &mut obj))
        },
        "queue_create",
    )?;
    Ok(Arc::new(Queue {
        obj,
        backend: b,
        device: dev.clone(),
        context: ctx.clone(),
        flags,
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
    }))
}

/// A new queue on `dev` in the device's default context.
pub(crate) fn create_for_device(dev: &Arc<Device>, flags: u32) -> Result<Arc<Queue>> {
    let ctx = context::default_context(dev)?;
    create(&ctx, dev, flags)
}

/// A new queue on the device the filter string `filter` selects, in that
/// device's default context.
pub(crate) fn create_from_filter(filter: &str, flags: u32) -> Result<Arc<Queue>> {
    create_for_device(&crate::selector::select_by_filter(filter)?, flags)
}

/// Adopt the runtime queue `sycl_queue` (a `sycl::queue*`): a new queue
/// sharing it, on its device, in that device's default context when the
/// runtime queue's context is that one, else in a new context for the
/// runtime's. Its owner keeps owning `sycl_queue`.
///
/// # Safety
/// `sycl_queue` points to a live `sycl::queue` of the SYCL runtime the SYCL
/// plugin uses (nothing can check that).
pub(crate) unsafe fn adopt(sycl_queue: *mut c_void) -> Result<Arc<Queue>> {
    let b = backend::sycl()?;
    let mut obj: abi::Obj = std::ptr::null_mut();
    let mut dev_obj: abi::Obj = std::ptr::null_mut();
    let mut ctx_obj: abi::Obj = std::ptr::null_mut();
    let mut flags = 0u32;
    backend::check(
        // SAFETY: `sycl_queue` is a live `sycl::queue*` of the SYCL runtime
        // the plugin `b` uses (this function's contract, which makes
        // anything else the caller's undefined behaviour). The four
        // outputs are live locals the plugin writes.
        unsafe {
            crate::faults::table_call!(
                b.table,
                queue_adopt(sycl_queue, &mut obj, &mut dev_obj, &mut ctx_obj, &mut flags)
            )
        },
        "queue_adopt",
    )?;
    // `queue_adopt` succeeded: `obj`, `dev_obj` and `ctx_obj` are new
    // objects of `b`, owned here, each handed over or given back once
    // below.
    // SAFETY: `dev_obj` is a new device object of `b` (see above),
    // handed over to `from_obj`, which takes ownership (it gives the
    // object back itself when it fails).
    let dev = match unsafe { device::from_obj(b, dev_obj) } {
        Ok(d) => d,
        Err(e) => {
            // SAFETY: `obj` and `ctx_obj` are `b`'s new queue and context
            // objects (see above), not handed to anything yet; each is
            // given back once, here, and we return.
            unsafe {
                (b.table.queue_release)(obj);
                (b.table.context_release)(ctx_obj);
            }
            return Err(e);
        }
    };
    // The device's default context when it is that one, else a new
    // dpcore context for the runtime's.
    let ctx = match context::default_context(&dev) {
        // SAFETY: `c` is the default context of `dev`, a device of `b`
        // (`from_obj` returns one of `b`'s devices), so `c.obj()` is a
        // live context object of `b` (held by `c`); `ctx_obj` is `b`'s
        // too (see above).
        Ok(c) if unsafe { (b.table.context_equal)(c.obj(), ctx_obj) } => {
            // SAFETY: `ctx_obj` is owned here and not handed to
            // anything (this arm uses `c` instead): it is given back
            // once, here.
            unsafe { (b.table.context_release)(ctx_obj) };
            c
        }
        // SAFETY: `ctx_obj` is a new context object of `b`, owned here
        // and handed over (this arm only); `dev` is `b`'s.
        _ => Arc::new(unsafe { Context::from_obj(b, ctx_obj, vec![dev.clone()]) }),
    };
    // `obj` is `b`'s new queue object, handed to the `Queue`; `dev` and
    // `ctx` are `b`'s (see above): the `Queue` invariant holds.
    Ok(Arc::new(Queue {
        obj,
        backend: b,
        device: dev,
        context: ctx,
        flags: flags & ALL_FLAGS,
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
    }))
}

static DEFAULT_INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The canonical queue of `dev` (in-order, in its default context), made at
/// first use. A root device keeps it, with an immortal handle, for the life
/// of the process; a sub-device shares it while something uses it.
pub fn default_queue(dev: &Arc<Device>) -> Result<Arc<Queue>> {
    if let Some((q, _)) = dev.default_queue.get() {
        return Ok(q.clone());
    }
    if dev.root_index.is_none() {
        let sub = dev.sub_defaults.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = sub.queue.upgrade() {
            return Ok(q);
        }
        drop(sub);
        let q = create_for_device(dev, DPC_QUEUE_IN_ORDER)?;
        let mut sub = dev.sub_defaults.lock().unwrap_or_else(|p| p.into_inner());
        // Another thread may have made one meanwhile: use the first.
        if let Some(first) = sub.queue.upgrade() {
            return Ok(first);
        }
        sub.queue = Arc::downgrade(&q);
        return Ok(q);
    }
    // One maker at a time, so that no thread makes a queue that loses.
    let _guard = DEFAULT_INIT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((q, _)) = dev.default_queue.get() {
        return Ok(q.clone());
    }
    let q = create_for_device(dev, DPC_QUEUE_IN_ORDER)?;
    let h = handle::insert(q.clone(), true)?;
    let _ = dev.default_queue.set((q.clone(), h));
    Ok(q)
}

/// The handle to give the C caller for `q`: the immortal one when `q` is a
/// root device's canonical queue, else a new reference the caller releases.
pub fn handle_for(q: &Arc<Queue>) -> Result<dpc_queue> {
    match q.device.default_queue.get() {
        Some((dq, h)) if Arc::ptr_eq(dq, q) => Ok(*h as dpc_queue),
        _ => Ok(handle::insert(q.clone(), false)? as dpc_queue),
    }
}

/// The handle to give the C caller for `dev`'s canonical queue: once a root
/// device's is made, its immortal handle at the cost of a lookup; else as
/// [`default_queue`] and [`handle_for`] make it.
pub(crate) fn default_handle(dev: &Arc<Device>) -> Result<dpc_queue> {
    match dev.default_queue.get() {
        Some((_, h)) => Ok(*h as dpc_queue),
        None => handle_for(&default_queue(dev)?),
    }
}

pub fn get(arg: &str, h: dpc_queue) -> Result<Arc<Queue>> {
    handle::get::<Queue>(arg, h as usize)
}

// ---------------------------------------------------------------- exports

/// A new queue on `device` in `context` with `flags` (`DPC_QUEUE_IN_ORDER`,
/// `DPC_QUEUE_PROFILING`, or both OR-ed, or 0 for out-of-order).
/// Asynchronous errors of its commands are reported by the next
/// `dpc_queue_wait` or event wait.
///
/// Ownership: a new reference the caller releases. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_ARGUMENT` (unknown flag bits, device not in the
/// context), `DPC_ERROR_BACKEND`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_queue_create(
    context: dpc_context,
    device: dpc_device,
    flags: u32,
    queue_out: *mut dpc_queue,
) -> dpc_status {
    export!(|| {
        check_ptr("queue_out", queue_out)?;
        check_flags(flags)?;
        let c = context::get("context", context)?;
        let d = device::get("device", device)?;
        let q = create(&c, &d, flags)?;
        let h = handle::insert(q, false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_queue` (the export's contract).
        unsafe { write_out("queue_out", queue_out, h as dpc_queue) }
    })
}

/// A new queue on `device` in the device's default context.
///
/// Ownership, errors and threads as `dpc_queue_create`.
#[no_mangle]
pub unsafe extern "C" fn dpc_queue_create_for_device(
    device: dpc_device,
    flags: u32,
    queue_out: *mut dpc_queue,
) -> dpc_status {
    export!(|| {
        check_ptr("queue_out", queue_out)?;
        check_flags(flags)?;
        let d = device::get("device", device)?;
        let q = create_for_device(&d, flags)?;
        let h = handle::insert(q, false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_queue` (the export's contract).
        unsafe { write_out("queue_out", queue_out, h as dpc_queue) }
    })
}

/// A new queue on the device a filter string selects (see
/// `dpc_device_select`), in that device's default context.
///
/// Ownership: a new reference the caller releases. Errors: those of
/// `dpc_device_select` and `dpc_queue_create`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_queue_create_from_filter(
    filter: *const c_char,
    flags: u32,
    queue_out: *mut dpc_queue,
) -> dpc_status {
    export!(|| {
        check_ptr("queue_out", queue_out)?;
        check_flags(flags)?;
        // SAFETY: the export's contract is `filter` NULL or a
        // NUL-terminated string, borrowed and unchanged for the call, which
        // `text` does not outlive.
        let text = unsafe { in_str("filter", filter) }?;
        let q = create_from_filter(text, flags)?;
        let h = handle::insert(q, false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_queue` (the export's contract).
        unsafe { write_out("queue_out", queue_out, h as dpc_queue) }
    })
}

/// The canonical queue of `device`: in-order, in the device's default
/// context, one per device, made at first use and then cached (a call
/// costs a handle lookup).
///
/// Ownership: for a root device the handle is valid for the life of the
/// process, and release is allowed and does nothing. For a sub-device it
/// is a new reference the caller releases: the queue is shared while
/// anything uses it and freed, with the sub-device's default context, after
/// the last user (so always releasing is right for both). Errors: `DPC_ERROR_INVALID_HANDLE`,
/// `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_BACKEND`. Thread safety: any
/// thread; every thread gets the same queue.
#[no_mangle]
pub unsafe extern "C" fn dpc_queue_default(
    device: dpc_device,
    queue_out: *mut dpc_queue,
) -> dpc_status {
    export!(|| {
        check_ptr("queue_out", queue_out)?;
        let h = default_handle(&device::get("device", device)?)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_queue` (the export's contract).
        unsafe { write_out("queue_out", queue_out, h) }
    })
}

/// Adopt a queue made elsewhere in this process: `sycl_queue` is a
/// `sycl::queue*` (for example the one inside a `dpctl.SyclQueue`). The new
/// dpcore queue shares the runtime queue; its owner keeps owning it, and
/// dpcore holds its own reference, so the owner may destroy its
/// `sycl::queue` object at any time. Asynchronous errors of an adopted
/// queue go to its owner's handler.
///
/// Ownership: a new reference the caller releases. Errors:
/// `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_BACKEND`, `DPC_ERROR_BACKEND_UNAVAILABLE`.
/// The pointer cannot be validated: passing anything but a live
/// `sycl::queue*` of the same SYCL runtime is undefined behaviour.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_queue_adopt(
    sycl_queue: *mut c_void,
    queue_out: *mut dpc_queue,
) -> dpc_status {
    export!(|| {
        check_ptr("sycl_queue", sycl_queue)?;
        check_ptr("queue_out", queue_out)?;
        // SAFETY: `sycl_queue` is non-NULL (checked above) and, by the
        // export's contract, a live `sycl::queue*` of the SYCL runtime the
        // plugin uses, which is `adopt`'s contract.
        let q = unsafe { adopt(sycl_queue) }?;
        let h = handle::insert(q, false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_queue` (the export's contract).
        unsafe { write_out("queue_out", queue_out, h as dpc_queue) }
    })
}

/// Add a reference to `queue`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_queue_retain(queue: dpc_queue) -> dpc_status {
    export!(|| { handle::retain(Kind::Queue, "queue", queue as usize) })
}

/// Drop a reference to `queue`; NULL is a no-op. Work already submitted
/// still runs; memory and events made through the queue stay valid.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_queue_release(queue: dpc_queue) -> dpc_status {
    export!(|| { handle::release(Kind::Queue, "queue", queue as usize) })
}

/// The device of `queue`.
///
/// Ownership: a root device's handle is valid for the life of the process;
/// a sub-device's is a new reference the caller releases.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_queue_get_device(
    queue: dpc_queue,
    device_out: *mut dpc_device,
) -> dpc_status {
    export!(|| {
        check_ptr("device_out", device_out)?;
        let q = get("queue", queue)?;
        let h = device::handle_for(&q.device)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_device` (the export's contract).
        unsafe { write_out("device_out", device_out, h) }
    })
}

/// The context of `queue`.
///
/// Ownership: a platform default context's handle is valid for the life
/// of the process; otherwise a new reference the caller releases.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_queue_get_context(
    queue: dpc_queue,
    context_out: *mut dpc_context,
) -> dpc_status {
    export!(|| {
        check_ptr("context_out", context_out)?;
        let q = get("queue", queue)?;
        let h = context::handle_for(&q.context)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_context` (the export's contract).
        unsafe { write_out("context_out", context_out, h) }
    })
}

/// The properties `queue` was made with (`DPC_QUEUE_*` bits).
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_queue_get_flags(queue: dpc_queue, flags_out: *mut u32) -> dpc_status {
    export!(|| {
        check_ptr("flags_out", flags_out)?;
        let f = handle::with::<Queue, _>("queue", queue as usize, |q| q.flags)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `uint32_t` (the export's contract).
        unsafe { write_out("flags_out", flags_out, f) }
    })
}

/// A 64-bit id of `queue`, unique in the process and stable for the
/// queue's life (handles to one queue share it).
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_queue_get_id(queue: dpc_queue, id_out: *mut u64) -> dpc_status {
    export!(|| {
        check_ptr("id_out", id_out)?;
        let id = handle::with::<Queue, _>("queue", queue as usize, |q| q.id)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `uint64_t` (the export's contract).
        unsafe { write_out("id_out", id_out, id) }
    })
}

/// Whether `a` and `b` are equivalent: same device, same context and same
/// properties (work may go to either with the same effect on memory).
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_queue_equivalent(
    a: dpc_queue,
    b: dpc_queue,
    equivalent_out: *mut bool,
) -> dpc_status {
    export!(|| {
        check_ptr("equivalent_out", equivalent_out)?;
        let qa = get("a", a)?;
        let qb = get("b", b)?;
        let eq = qa.equivalent(&qb);
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `bool` (the export's contract).
        unsafe { write_out("equivalent_out", equivalent_out, eq) }
    })
}

/// Wait for everything submitted to `queue`. The first asynchronous error
/// raised by its commands since the last wait is reported here as
/// `DPC_ERROR_BACKEND` with its message (and how many more there were);
/// nothing is printed and nothing is dropped silently.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_BACKEND`. Thread safety:
/// any thread.
#[no_mangle]
pub extern "C" fn dpc_queue_wait(queue: dpc_queue) -> dpc_status {
    export!(|| get("queue", queue)?.wait())
}

/// Enqueue a barrier: commands submitted to `queue` after it start only
/// when the `n_events` events have completed, or, with none, when
/// everything submitted before it has.
///
/// Ownership: `*event_out`, when `event_out` is non-NULL, is a new event
/// the caller releases; with `event_out` NULL no event is made.
/// Errors: `DPC_ERROR_INVALID_HANDLE` (queue or any event),
/// `DPC_ERROR_NULL_POINTER` (`events` NULL with `n_events` > 0),
/// `DPC_ERROR_BACKEND`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_queue_barrier(
    queue: dpc_queue,
    events: *const dpc_event,
    n_events: usize,
    event_out: *mut dpc_event,
) -> dpc_status {
    export!(|| {
        let q = get("queue", queue)?;
        // SAFETY: the export's contract is `events` NULL or readable for
        // `n_events` handles, unchanged for the call: `deps`'s contract.
        let d = unsafe { event::deps(events, n_events) }?;
        let ev = q.barrier(&d, !event_out.is_null())?;
        // SAFETY: `event_out` is NULL or writable (the export's contract).
        unsafe { event::write_event(event_out, ev) }
    })
}

/// The runtime's own queue object (`sycl::queue*`), for C++ code in the
/// same process (the C++ interop header wraps this).
///
/// Ownership: borrowed; valid while `queue` is. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`. Thread safety: any
/// thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_queue_get_native(
    queue: dpc_queue,
    native_out: *mut *mut c_void,
) -> dpc_status {
    export!(|| {
        check_ptr("native_out", native_out)?;
        let p = handle::with::<Queue, _>("queue", queue as usize, |q| q.native())?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `void*` (the export's contract).
        unsafe { write_out("native_out", native_out, p) }
    })
}

/// The backend's own handle of `queue`: for OpenCL a `cl_command_queue`
/// with one reference retained for the caller (release it with
/// `clReleaseCommandQueue`); for Level Zero the runtime's queue or
/// immediate command list, owned by the runtime.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_UNSUPPORTED` (other backends). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_queue_get_backend_handle(
    queue: dpc_queue,
    backend_out: *mut dpc_backend,
    handle_out: *mut *mut c_void,
) -> dpc_status {
    export!(|| {
        check_ptr("backend_out", backend_out)?;
        check_ptr("handle_out", handle_out)?;
        let (be, h) = get("queue", queue)?.backend_handle()?;
        // SAFETY: both checked non-NULL above; the caller provides a
        // writable `dpc_backend` and `void*` (the export's contract).
        unsafe {
            write_out("backend_out", backend_out, be)?;
            write_out("handle_out", handle_out, h)
        }
    })
}
