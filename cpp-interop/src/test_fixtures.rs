//! What the unit tests of every module share: a host that records errors and
//! build logs per thread, the initialised table, objects owned by the tests
//! (released on drop) and helpers over the table.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::sync::Once;

use dpcore_backend_abi::{
    device_type, event_status, status, BackendV1, DeviceInfoV1, HostV1, Obj, PointerInfoV1,
    BACKEND_ABI_VERSION,
};

use crate::{dpcore_backend_init, TABLE};

thread_local! {
    /// The last `set_error` on this thread: (status, backend code, message).
    static LAST_ERROR: RefCell<Option<(i32, i64, String)>> = const { RefCell::new(None) };
}

pub(crate) unsafe extern "C" fn test_set_error(
    status: i32,
    backend_code: i64,
    msg: *const u8,
    len: usize,
) {
    // SAFETY: the plugin passes `len` readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(msg, len) };
    let msg = String::from_utf8_lossy(bytes).into_owned();
    LAST_ERROR.with(|e| *e.borrow_mut() = Some((status, backend_code, msg)));
}

pub(crate) unsafe extern "C" fn test_log(_level: i32, _msg: *const u8, _len: usize) {}

thread_local! {
    /// The last `set_build_log` on this thread.
    static LAST_BUILD_LOG: RefCell<Option<String>> = const { RefCell::new(None) };
}

pub(crate) unsafe extern "C" fn test_set_build_log(log: *const u8, len: usize) {
    // SAFETY: the plugin passes `len` readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(log, len) };
    let log = String::from_utf8_lossy(bytes).into_owned();
    LAST_BUILD_LOG.with(|l| *l.borrow_mut() = Some(log));
}

pub(crate) fn take_build_log() -> Option<String> {
    LAST_BUILD_LOG.with(|l| l.borrow_mut().take())
}

pub(crate) static TEST_HOST: HostV1 = HostV1 {
    abi_version: BACKEND_ABI_VERSION,
    struct_size: std::mem::size_of::<HostV1>() as u32,
    set_error: test_set_error,
    log: test_log,
    set_build_log: test_set_build_log,
};

pub(crate) fn take_error() -> Option<(i32, i64, String)> {
    LAST_ERROR.with(|e| e.borrow_mut().take())
}

/// Initialise the plugin (once per process) and return its table.
pub(crate) fn table() -> &'static BackendV1 {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let mut out: *const BackendV1 = ptr::null();
        // SAFETY: valid host and out pointer.
        let rc = unsafe { dpcore_backend_init(&TEST_HOST, &mut out) };
        assert_eq!(rc, status::SUCCESS, "init failed: {:?}", take_error());
        assert!(ptr::eq(out, &TABLE));
    });
    &TABLE
}

/// An owned device object, released on drop.
pub(crate) struct Dev(pub(crate) Obj);

impl Drop for Dev {
    fn drop(&mut self) {
        // SAFETY: an object of this plugin, released once.
        unsafe { (table().device_release)(self.0) }
    }
}

pub(crate) fn list_devices() -> Vec<Dev> {
    let t = table();
    let mut n = 0usize;
    // SAFETY: count-only call.
    let rc = unsafe { (t.device_list)(ptr::null_mut(), 0, &mut n) };
    assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
    let mut buf = vec![ptr::null_mut(); n];
    let mut n2 = 0usize;
    // SAFETY: `buf` has room for `n` objects.
    let rc = unsafe { (t.device_list)(buf.as_mut_ptr(), n, &mut n2) };
    assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
    assert_eq!(n, n2);
    buf.into_iter().map(Dev).collect()
}

pub(crate) fn info(dev: &Dev) -> DeviceInfoV1 {
    let mut info = DeviceInfoV1::zeroed();
    // SAFETY: live object, writable record.
    let rc = unsafe { (table().device_info)(dev.0, &mut info) };
    assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
    info
}

pub(crate) fn name(info: &DeviceInfoV1) -> String {
    String::from_utf8_lossy(dpcore_backend_abi::read_str(&info.name)).into_owned()
}

/// The first CPU device; fails (never skips) when there is none.
pub(crate) fn cpu_device() -> Dev {
    let devices = list_devices();
    assert!(
        !devices.is_empty(),
        "SYCL reports no device. To use the OpenCL CPU device of the SYCL runtime in {root}, \
         set OCL_ICD_FILENAMES={root}/lib/libintelocl.so (and LD_LIBRARY_PATH={root}/lib)",
        root = env!("DPCORE_SYCL_ROOT")
    );
    devices
        .into_iter()
        .find(|d| info(d).device_type == device_type::CPU)
        .expect("no CPU device among the SYCL devices (set OCL_ICD_FILENAMES?)")
}

pub(crate) fn partition(
    dev: &Dev,
    kind: i32,
    params: &[usize],
) -> Result<Vec<Dev>, (i32, i64, String)> {
    let t = table();
    let mut n = 0usize;
    // SAFETY: count-only call with valid params.
    let rc = unsafe {
        (t.device_partition)(
            dev.0,
            kind,
            params.as_ptr(),
            params.len(),
            ptr::null_mut(),
            0,
            &mut n,
        )
    };
    if rc != status::SUCCESS {
        let (st, code, msg) = take_error().expect("a failed call sets the error");
        assert_eq!(st, rc);
        return Err((st, code, msg));
    }
    let mut buf = vec![ptr::null_mut(); n];
    let mut n2 = 0usize;
    // SAFETY: `buf` has room for `n` objects.
    let rc = unsafe {
        (t.device_partition)(
            dev.0,
            kind,
            params.as_ptr(),
            params.len(),
            buf.as_mut_ptr(),
            n,
            &mut n2,
        )
    };
    assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
    assert_eq!(n, n2);
    Ok(buf.into_iter().map(Dev).collect())
}

/// Assert a table call succeeded.
#[track_caller]
pub(crate) fn ok(rc: i32) {
    assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
}

/// Assert a table call failed with `want`; return the recorded error.
#[track_caller]
pub(crate) fn fails(rc: i32, want: i32) -> (i32, i64, String) {
    let e = take_error();
    assert_eq!(rc, want, "{e:?}");
    let e = e.expect("a failed call sets the error");
    assert_eq!(e.0, rc);
    e
}

/// `$name`: an owned object of this plugin, released through the table's
/// `$release` on drop (where it expands, `table` and `Obj` must be in scope).
macro_rules! owned {
    ($(#[$doc:meta])* $name:ident, $release:ident) => {
        $(#[$doc])*
        pub(crate) struct $name(pub(crate) Obj);

        impl Drop for $name {
            fn drop(&mut self) {
                // SAFETY: an object of this plugin, released once.
                unsafe { (table().$release)(self.0) }
            }
        }
    };
}
pub(crate) use owned;

owned!(
    /// An owned context object.
    Ctx,
    context_release
);
owned!(
    /// An owned queue object.
    Queue,
    queue_release
);
owned!(
    /// An owned event object.
    Ev,
    event_release
);

/// A USM allocation, freed on drop (declare it after its context).
pub(crate) struct Usm {
    ctx: Obj,
    pub(crate) p: *mut c_void,
}

impl Drop for Usm {
    fn drop(&mut self) {
        // SAFETY: memory of `ctx`, freed once.
        let rc = unsafe { (table().usm_free)(self.ctx, self.p) };
        assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
    }
}

pub(crate) fn default_context(dev: &Dev) -> Ctx {
    let mut out: Obj = ptr::null_mut();
    // SAFETY: live device, writable out.
    ok(unsafe { (table().context_default)(dev.0, &mut out) });
    assert!(!out.is_null());
    Ctx(out)
}

pub(crate) fn new_queue(ctx: &Ctx, dev: &Dev, flags: u32) -> Queue {
    let mut out: Obj = ptr::null_mut();
    // SAFETY: live objects, writable out.
    ok(unsafe { (table().queue_create)(ctx.0, dev.0, flags, &mut out) });
    assert!(!out.is_null());
    Queue(out)
}

/// A CPU device, its default context and a queue with `flags`.
pub(crate) fn setup(flags: u32) -> (Dev, Ctx, Queue) {
    let dev = cpu_device();
    let ctx = default_context(&dev);
    let q = new_queue(&ctx, &dev, flags);
    (dev, ctx, q)
}

pub(crate) fn alloc(ctx: &Ctx, q: &Queue, kind: i32, size: usize, align: usize) -> Usm {
    let mut p: *mut c_void = ptr::null_mut();
    // SAFETY: live queue, writable out.
    ok(unsafe { (table().usm_alloc)(q.0, kind, size, align, &mut p) });
    assert!(!p.is_null());
    Usm { ctx: ctx.0, p }
}

pub(crate) fn pointer_info(ctx: &Ctx, p: *const c_void) -> PointerInfoV1 {
    let mut info = PointerInfoV1::empty();
    // SAFETY: live context, writable record.
    ok(unsafe { (table().usm_pointer_info)(ctx.0, p, &mut info) });
    info
}

pub(crate) fn wait_all(evs: &[&Ev]) {
    let objs: Vec<Obj> = evs.iter().map(|e| e.0).collect();
    // SAFETY: live events.
    ok(unsafe { (table().event_wait)(objs.as_ptr(), objs.len()) });
}

pub(crate) fn status_of(ev: &Ev) -> i32 {
    let mut st = -1;
    // SAFETY: live event, writable out.
    ok(unsafe { (table().event_status)(ev.0, &mut st) });
    st
}

pub(crate) fn queue_wait(q: &Queue) {
    // SAFETY: live queue.
    ok(unsafe { (table().queue_wait)(q.0) });
}

/// `host[..]` <- `src[..host.len()]` after `deps`, waited for. (On an
/// out-of-order queue, whatever wrote `src` must be waited for or be in
/// `deps`.)
pub(crate) fn read_back(q: &Queue, src: *const c_void, host: &mut [u8], deps: &[&Ev]) {
    let deps: Vec<Obj> = deps.iter().map(|e| e.0).collect();
    let mut ev: Obj = ptr::null_mut();
    // SAFETY: live queue and events; `src` is USM of at least
    // `host.len()` bytes.
    ok(unsafe {
        (table().enqueue_memcpy)(
            q.0,
            host.as_mut_ptr().cast(),
            src,
            host.len(),
            deps.as_ptr(),
            deps.len(),
            &mut ev,
        )
    });
    let ev = Ev(ev);
    wait_all(&[&ev]);
    assert_eq!(status_of(&ev), event_status::COMPLETE);
}
