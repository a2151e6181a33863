//! Contexts (`dpc_context_*`): the platform default context that dpnp,
//! dpctl and torch use, explicit contexts over a set of devices, and the
//! USM allocation statistics kept per context.

use crate::export;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use dpcore_backend_abi as abi;

use crate::backend::{self, Backend};
use crate::device::{self, dpc_backend, dpc_device, Device};
use crate::error::{dpc_status, dpc_status::*, Error, Result};
use crate::handle::{self, HandleType, Kind};
use crate::strings::{check_ptr, write_out};

/// Opaque context type of the C API.
pub struct dpc_context_s {
    _private: (),
}

/// A context handle. Platform default contexts (`dpc_context_default` of a
/// root device) are valid for the life of the process; others are
/// reference counted.
pub type dpc_context = *mut dpc_context_s;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// USM statistics of one context (dpcore's own allocations).
#[derive(Default)]
pub struct Stats {
    pub live_bytes: AtomicU64,
    pub live_count: AtomicU64,
    pub peak_bytes: AtomicU64,
}

impl Stats {
    pub fn add(&self, bytes: u64) {
        let now = self.live_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.live_count.fetch_add(1, Ordering::Relaxed);
        self.peak_bytes.fetch_max(now, Ordering::Relaxed);
    }

    pub fn remove(&self, bytes: u64) {
        self.live_bytes.fetch_sub(bytes, Ordering::Relaxed);
        self.live_count.fetch_sub(1, Ordering::Relaxed);
    }

    /// Bytes live now, allocations live now, and the most bytes live at
    /// once (the outputs of `dpc_context_get_usm_stats`, in that order).
    pub(crate) fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.live_bytes.load(Ordering::Relaxed),
            self.live_count.load(Ordering::Relaxed),
            self.peak_bytes.load(Ordering::Relaxed),
        )
    }
}

/// A plugin context object and what dpcore keeps about it.
///
/// Invariant (see [`Context::from_obj`]): `obj` is a context object of
/// `backend` owned by this `Context` alone, and every device in `devices` is
/// a device of `backend`.
pub struct Context {
    obj: abi::Obj,
    backend: &'static Backend,
    pub devices: Vec<Arc<Device>>,
    pub id: u64,
    pub stats: Stats,
    /// Set for platform default contexts: their immortal handle.
    immortal_handle: OnceLock<usize>,
}

// SAFETY: a `Context` owns one plugin context object (released once, by
// `Drop`) and otherwise holds Send + Sync data (devices, atomics, a
// `OnceLock`). Every table function may be called from any thread (the
// backend interface's conventions), so the owner may move to another
// thread.
unsafe impl Send for Context {}
// SAFETY: through `&Context` the object only reaches table functions that
// take it by value and may be called from any thread concurrently (the
// backend interface's conventions); the Rust state shared through `&self`
// is atomics and a `OnceLock`.
unsafe impl Sync for Context {}

impl HandleType for Context {
    const KIND: Kind = Kind::Context;
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: `self.obj` is a context object of `self.backend`, owned by
        // this `Context` alone (the invariant, from `from_obj`'s contract);
        // `drop` runs once, so it is given back exactly once.
        unsafe { (self.backend.table.context_release)(self.obj) }
    }
}

impl Context {
    /// Take ownership of a plugin context object: `Drop` gives it back.
    ///
    /// # Safety
    /// `obj` is a live context object of `backend` that the caller owns and
    /// hands over (nothing else gives it back), and every device in
    /// `devices` is a device of `backend`.
    pub unsafe fn from_obj(
        backend: &'static Backend,
        obj: abi::Obj,
        devices: Vec<Arc<Device>>,
    ) -> Context {
        Context {
            obj,
            backend,
            devices,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            stats: Stats::default(),
            immortal_handle: OnceLock::new(),
        }
    }

    pub fn obj(&self) -> abi::Obj {
        self.obj
    }

    /// Whether `other` is the same context. Contexts of two plugins are
    /// never the same, and a plugin's table takes only its own objects.
    pub fn same_as(&self, other: &Context) -> bool {
        std::ptr::eq(self, other)
            || (std::ptr::eq(self.backend, other.backend)
                // SAFETY: both are live context objects (owned by `self` and
                // `other`, borrowed for the call) of one plugin (checked just
                // before), whose table this is.
                && unsafe { (self.backend.table.context_equal)(self.obj, other.obj) })
    }

    pub fn contains(&self, d: &Device) -> bool {
        self.devices.iter().any(|x| std::ptr::eq(x.as_ref(), d))
    }

    pub fn describe(&self) -> String {
        let devs: Vec<String> = self.devices.iter().map(|d| d.describe()).collect();
        format!("context #{} over {}", self.id, devs.join(", "))
    }

    /// Device `index` of the context, or `DPC_ERROR_OUT_OF_RANGE` saying
    /// how many there are.
    pub(crate) fn device(&self, index: usize) -> Result<&Arc<Device>> {
        self.devices.get(index).ok_or_else(|| {
            Error::new(
                DPC_ERROR_OUT_OF_RANGE,
                format!(
                    "{}: index {index} is out of range ({} devices)",
                    crate::error::current_export(),
                    self.devices.len()
                ),
            )
        })
    }

    /// The runtime's own context object (`sycl::context*` for the SYCL
    /// plugin), borrowed: valid while `self` is.
    pub(crate) fn native(&self) -> *mut c_void {
        // SAFETY: `self.obj` is a live context object of `self.backend`
        // (owned by `self`, borrowed for the call).
        unsafe { (self.backend.table.context_native)(self.obj) }
    }

    /// The backend's own handle of the context and which backend it is of
    /// (see `dpc_context_get_backend_handle` for who owns it).
    pub(crate) fn backend_handle(&self) -> Result<(dpc_backend, *mut c_void)> {
        // SAFETY: `self.obj` is a live context object of `self.backend`
        // (owned by `self`, borrowed for the call), of the kind CONTEXT
        // names.
        unsafe { backend_handle(self.backend, abi::native_kind::CONTEXT, self.obj) }
    }
}

static DEFAULT_INIT: Mutex<()> = Mutex::new(());

/// The default context of `dev`: for a root device the platform default
/// context (shared by every root device of the platform, made once and
/// kept); for a sub-device a context over that sub-device alone, shared by
/// everything that uses it and freed with the last user.
pub fn default_context(dev: &Arc<Device>) -> Result<Arc<Context>> {
    if let Some(c) = dev.default_context.get() {
        return Ok(c.clone());
    }
    if dev.root_index.is_none() {
        let mut sub = dev.sub_defaults.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = sub.context.upgrade() {
            return Ok(c);
        }
        let c = create(std::slice::from_ref(dev))?;
        sub.context = Arc::downgrade(&c);
        return Ok(c);
    }
    let _guard = DEFAULT_INIT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = dev.default_context.get() {
        return Ok(c.clone());
    }
    let b = dev.backend();
    let reg = device::registry();
    // The same platform of the same plugin.
    let same_platform = |d: &Arc<Device>| {
        std::ptr::eq(d.backend(), dev.backend()) && d.info.platform_index == dev.info.platform_index
    };
    // A sibling on the same platform may already hold it.
    let shared = reg
        .devices
        .iter()
        .filter(|d| same_platform(d))
        .find_map(|d| d.default_context.get().cloned());
    let ctx = match shared {
        Some(c) => c,
        None => {
            let mut obj: abi::Obj = std::ptr::null_mut();
            backend::check(
                // SAFETY: `b` is `dev`'s plugin and `dev.obj()` a live device
                // object of it (owned by `dev`, which the caller holds);
                // `obj` is a live local the plugin writes.
                unsafe {
                    crate::faults::table_call!(b.table, context_default(dev.obj(), &mut obj))
                },
                "context_default",
            )?;
            let devices = reg
                .devices
                .iter()
                .filter(|d| same_platform(d))
                .cloned()
                .collect();
            // SAFETY: `obj` is the new context object of `b` that
            // `context_default` just returned, owned here and handed over;
            // `devices` are `b`'s (the `same_platform` filter).
            let c = Arc::new(unsafe { Context::from_obj(b, obj, devices) });
            let h = handle::insert(c.clone(), true)?;
            let _ = c.immortal_handle.set(h);
            c
        }
    };
    let _ = dev.default_context.set(ctx.clone());
    Ok(ctx)
}

/// A new context over `devices` (all of one plugin).
pub fn create(devices: &[Arc<Device>]) -> Result<Arc<Context>> {
    let first = devices
        .first()
        .ok_or_else(|| Error::invalid_arg("a context needs at least one device"))?;
    let b = first.backend();
    // The plugin's table takes only its own device objects; devices of two
    // plugins are on different platforms.
    if let Some(other) = devices.iter().find(|d| !std::ptr::eq(d.backend(), b)) {
        return Err(Error::invalid_arg(format!(
            "the devices of a context must all belong to one platform: {} comes from the {} \
             plugin, {} from the {} plugin",
            first.describe(),
            first.plugin(),
            other.describe(),
            other.plugin()
        )));
    }
    // The OpenCL runtime crashes on a context that lists a device twice
    // (found by the fuzzer): refuse it.
    for (i, d) in devices.iter().enumerate() {
        if let Some(j) = devices[..i].iter().position(|e| e.same_as(d)) {
            return Err(Error::invalid_arg(format!(
                "devices[{j}] and devices[{i}] are the same device ({}); list each device of a context once",
                d.describe()
            )));
        }
    }
    let objs: Vec<abi::Obj> = devices.iter().map(|d| d.obj()).collect();
    let mut obj: abi::Obj = std::ptr::null_mut();
    backend::check(
        // SAFETY: `objs` is readable for `objs.len()` device objects, each
        // live (owned by a device of `devices`, which the caller holds) and
        // of `b` (checked above); `obj` is a live local the plugin writes.
        unsafe {
            crate::faults::table_call!(b.table, context_create(objs.as_ptr(), objs.len(), &mut obj))
        },
        "context_create",
    )?;
    // SAFETY: `obj` is the new context object of `b` that `context_create`
    // just returned, owned here and handed over; `devices` are all `b`'s
    // (checked above).
    Ok(Arc::new(unsafe {
        Context::from_obj(b, obj, devices.to_vec())
    }))
}

/// The handle to give out for `c`: its immortal one, or a new reference.
pub fn handle_for(c: &Arc<Context>) -> Result<dpc_context> {
    match c.immortal_handle.get() {
        Some(h) => Ok(*h as dpc_context),
        None => Ok(handle::insert(c.clone(), false)? as dpc_context),
    }
}

pub fn get(arg: &str, h: dpc_context) -> Result<Arc<Context>> {
    handle::get::<Context>(arg, h as usize)
}

/// The backend's own handle of a device, context or queue object, and
/// which backend it is of.
///
/// # Safety
/// `obj` is a live object of `b` of the kind `kind` names.
pub(crate) unsafe fn backend_handle(
    b: &'static Backend,
    kind: i32,
    obj: abi::Obj,
) -> Result<(dpc_backend, *mut c_void)> {
    let mut be = 0i32;
    let mut h: *mut c_void = std::ptr::null_mut();
    backend::check(
        // SAFETY: `obj` is a live object of `b` of the kind `kind` names
        // (this function's contract); `be` and `h` are live locals the
        // plugin writes.
        unsafe { crate::faults::table_call!(b.table, native_handle(kind, obj, &mut be, &mut h)) },
        "native_handle",
    )?;
    Ok((device::backend_from_abi(be), h))
}

/// The backend's own handle of device `d`, and which backend it is of (see
/// `dpc_device_get_backend_handle` for who owns it).
pub(crate) fn device_backend_handle(d: &Device) -> Result<(dpc_backend, *mut c_void)> {
    // SAFETY: `d.obj()` is a live device object of `d.backend()` (owned by
    // `d`, borrowed for the call), of the kind DEVICE names.
    unsafe { backend_handle(d.backend(), abi::native_kind::DEVICE, d.obj()) }
}

// ---------------------------------------------------------------- exports

/// The default context of `device`: for a root device, its platform's
/// default context (the one dpnp, dpctl and torch allocate in, so USM
/// pointers pass between them without copies); for a sub-device, a context
/// over that sub-device alone, shared while anything uses it (a queue, an
/// allocation, a handle) and freed after the last user.
///
/// Ownership: for a root device the handle is valid for the life of the
/// process (release is allowed and does nothing); for a sub-device it is a
/// new reference the caller releases. Errors: `DPC_ERROR_INVALID_HANDLE`,
/// `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_BACKEND`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_context_default(
    device: dpc_device,
    context_out: *mut dpc_context,
) -> dpc_status {
    export!(|| {
        check_ptr("context_out", context_out)?;
        let d = device::get("device", device)?;
        let c = default_context(&d)?;
        let h = handle_for(&c)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_context` (the export's contract).
        unsafe { write_out("context_out", context_out, h) }
    })
}

/// A new context over `n_devices` devices of one platform.
///
/// Ownership: a new reference the caller releases; `devices` is borrowed.
/// Errors: `DPC_ERROR_NULL_POINTER` (`devices`, `context_out`),
/// `DPC_ERROR_INVALID_ARGUMENT` (`n_devices` 0, devices of different
/// platforms), `DPC_ERROR_INVALID_HANDLE` (any device), `DPC_ERROR_BACKEND`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_context_create(
    devices: *const dpc_device,
    n_devices: usize,
    context_out: *mut dpc_context,
) -> dpc_status {
    export!(|| {
        check_ptr("devices", devices)?;
        check_ptr("context_out", context_out)?;
        if n_devices == 0 {
            return Err(Error::invalid_arg(
                "dpc_context_create: n_devices must be at least 1",
            ));
        }
        // SAFETY: `devices` is non-NULL (checked above) and, by the export's
        // contract, readable for `n_devices` handles, borrowed and
        // unchanged for the call; `dpc_device` is a plain pointer type, so
        // any value is valid (each is then validated as a handle). The
        // slice does not outlive the closure.
        let hs = unsafe { std::slice::from_raw_parts(devices, n_devices) };
        let mut devs = Vec::with_capacity(n_devices);
        for (i, h) in hs.iter().enumerate() {
            devs.push(device::get(&format!("devices[{i}]"), *h)?);
        }
        let c = create(&devs)?;
        let h = handle::insert(c, false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_context` (the export's contract).
        unsafe { write_out("context_out", context_out, h as dpc_context) }
    })
}

/// Add a reference to `context`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_context_retain(context: dpc_context) -> dpc_status {
    export!(|| { handle::retain(Kind::Context, "context", context as usize) })
}

/// Drop a reference to `context`; NULL is a no-op. The context lives on
/// while queues or allocations made in it need it.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_context_release(context: dpc_context) -> dpc_status {
    export!(|| { handle::release(Kind::Context, "context", context as usize) })
}

/// The number of devices in `context`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_context_get_device_count(
    context: dpc_context,
    count_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("count_out", count_out)?;
        let n = handle::with::<Context, _>("context", context as usize, |c| c.devices.len())?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `size_t` (the export's contract).
        unsafe { write_out("count_out", count_out, n) }
    })
}

/// Device `index` of `context`.
///
/// Ownership: a root device's handle is valid for the life of the process;
/// a sub-device's is a new reference the caller releases.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_OUT_OF_RANGE`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_context_get_device(
    context: dpc_context,
    index: usize,
    device_out: *mut dpc_device,
) -> dpc_status {
    export!(|| {
        check_ptr("device_out", device_out)?;
        let c = get("context", context)?;
        let h = device::handle_for(c.device(index)?)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_device` (the export's contract).
        unsafe { write_out("device_out", device_out, h) }
    })
}

/// Whether `a` and `b` are the same context.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_context_equal(
    a: dpc_context,
    b: dpc_context,
    equal_out: *mut bool,
) -> dpc_status {
    export!(|| {
        check_ptr("equal_out", equal_out)?;
        let ca = get("a", a)?;
        let cb = get("b", b)?;
        let eq = ca.same_as(&cb);
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `bool` (the export's contract).
        unsafe { write_out("equal_out", equal_out, eq) }
    })
}

/// USM statistics of `context`, counting the memory dpcore allocated in it:
/// bytes and allocations live now, and the most bytes live at once.
/// Deferred frees (`dpc_usm_free_after`) count until they are done.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER` (each
/// output is required). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_context_get_usm_stats(
    context: dpc_context,
    live_bytes_out: *mut u64,
    live_count_out: *mut u64,
    peak_bytes_out: *mut u64,
) -> dpc_status {
    export!(|| {
        check_ptr("live_bytes_out", live_bytes_out)?;
        check_ptr("live_count_out", live_count_out)?;
        check_ptr("peak_bytes_out", peak_bytes_out)?;
        let (b, n, p) =
            handle::with::<Context, _>("context", context as usize, |c| c.stats.snapshot())?;
        // SAFETY: the three were checked non-NULL above; the caller provides
        // each as a writable `uint64_t` (the export's contract).
        unsafe {
            live_bytes_out.write(b);
            live_count_out.write(n);
            peak_bytes_out.write(p);
        }
        Ok(())
    })
}

/// The runtime's own context object (`sycl::context*`), for C++ code in
/// the same process.
///
/// Ownership: borrowed; valid while `context` is. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`. Thread safety: any
/// thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_context_get_native(
    context: dpc_context,
    native_out: *mut *mut c_void,
) -> dpc_status {
    export!(|| {
        check_ptr("native_out", native_out)?;
        let p = handle::with::<Context, _>("context", context as usize, |c| c.native())?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `void*` (the export's contract).
        unsafe { write_out("native_out", native_out, p) }
    })
}

/// The backend's own handle of `context`: for OpenCL a `cl_context` with
/// one reference retained for the caller (release it with
/// `clReleaseContext`); for Level Zero a `ze_context_handle_t` owned by the
/// runtime. `*backend_out` says which.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_UNSUPPORTED` (other backends). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_context_get_backend_handle(
    context: dpc_context,
    backend_out: *mut dpc_backend,
    handle_out: *mut *mut c_void,
) -> dpc_status {
    export!(|| {
        check_ptr("backend_out", backend_out)?;
        check_ptr("handle_out", handle_out)?;
        let (be, h) = get("context", context)?.backend_handle()?;
        // SAFETY: both checked non-NULL above; the caller provides a
        // writable `dpc_backend` and `void*` (the export's contract).
        unsafe {
            write_out("backend_out", backend_out, be)?;
            write_out("handle_out", handle_out, h)
        }
    })
}

/// The backend's own handle of `device`: for OpenCL a `cl_device_id`
/// (retained for the caller; release with `clReleaseDevice`); for Level
/// Zero a `ze_device_handle_t` owned by the runtime.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_UNSUPPORTED` (other backends). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_get_backend_handle(
    device: dpc_device,
    backend_out: *mut dpc_backend,
    handle_out: *mut *mut c_void,
) -> dpc_status {
    export!(|| {
        check_ptr("backend_out", backend_out)?;
        check_ptr("handle_out", handle_out)?;
        let d = device::get("device", device)?;
        let (be, h) = device_backend_handle(&d)?;
        // SAFETY: both checked non-NULL above; the caller provides a
        // writable `dpc_backend` and `void*` (the export's contract).
        unsafe {
            write_out("backend_out", backend_out, be)?;
            write_out("handle_out", handle_out, h)
        }
    })
}
