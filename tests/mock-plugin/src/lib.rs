//! `libdpcore_mock.so`: a second backend plugin, for the tests of the
//! core's multi-plugin loading (`DPCORE_PLUGINS=.../libdpcore_mock.so`).
//!
//! It implements the backend table over the host: one CPU device
//! ("dpcore mock device", reported as backend `native_cpu`), one platform,
//! contexts and in-order queues whose commands run synchronously on the
//! calling thread (every event is complete when it is made), and USM of
//! every kind in host memory from the system allocator. It builds and runs
//! no kernels (`bundle_create` says so), and adopts no foreign objects.
//! It is small on purpose: what it shows is that the core treats it as one
//! more plugin, not that it computes.
//!
//! With `DPCORE_MOCK_NO_HOST_USM=1` in the environment when it is loaded,
//! its device does not report host USM (it still allocates it), so that
//! the core's paths for such devices (the runtime's own fill) can be tested.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use std::alloc::Layout;
use std::collections::BTreeMap;
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use abi::Obj;
use dpcore_backend_abi as abi;

static HOST: OnceLock<&'static abi::HostV1> = OnceLock::new();

/// Report a failure to the core and return its status.
fn fail(status: i32, msg: &str) -> i32 {
    if let Some(h) = HOST.get() {
        // SAFETY: the core's callback copies `len` bytes of `msg` during the call.
        unsafe { (h.set_error)(status, 0, msg.as_ptr(), msg.len()) };
    }
    status
}

/// The objects the table hands out: each a Box<Object>, given back once.
enum Object {
    Device,
    Context(u64),
    Queue { ctx: u64 },
    Event,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

fn new_obj(o: Object) -> Obj {
    Box::into_raw(Box::new(o)) as Obj
}

/// # Safety
/// `o` is NULL or an object of this plugin not yet given back.
unsafe fn obj<'a>(o: Obj) -> Option<&'a Object> {
    // SAFETY: the caller's contract: a live Box<Object> or NULL.
    unsafe { (o as *const Object).as_ref() }
}

/// # Safety
/// `o` is NULL or an object of this plugin, given back exactly once here.
unsafe fn release(o: Obj) {
    if !o.is_null() {
        // SAFETY: made by Box::into_raw in new_obj; released once (the core's contract).
        drop(unsafe { Box::from_raw(o as *mut Object) });
    }
}

/// # Safety
/// `out` is NULL or valid for a write.
unsafe fn put<T>(out: *mut T, v: T) -> i32 {
    if out.is_null() {
        return fail(abi::status::INVALID_ARGUMENT, "mock plugin: NULL output");
    }
    // SAFETY: non-NULL and writable (the table's contract).
    unsafe { out.write(v) };
    abi::status::SUCCESS
}

/// An event slot: a new (complete) event when the core wants one.
///
/// # Safety
/// `ev_out` is NULL or valid for a write.
unsafe fn done(ev_out: *mut Obj) -> i32 {
    if !ev_out.is_null() {
        // SAFETY: non-NULL and writable (the table's contract).
        unsafe { ev_out.write(new_obj(Object::Event)) };
    }
    abi::status::SUCCESS
}

// ---------------------------------------------------------------- USM

/// Live allocations: base -> (layout, kind, context).
static ALLOCS: Mutex<BTreeMap<usize, (Layout, i32, u64)>> = Mutex::new(BTreeMap::new());

fn find(p: usize) -> Option<(usize, Layout, i32, u64)> {
    let m = ALLOCS.lock().unwrap_or_else(|e| e.into_inner());
    m.range(..=p)
        .next_back()
        .filter(|(b, (l, _, _))| p < **b + l.size())
        .map(|(b, (l, k, c))| (*b, *l, *k, *c))
}

fn ctx_id(o: Obj) -> Option<u64> {
    // SAFETY: the core passes live objects of this plugin.
    match unsafe { obj(o) } {
        Some(Object::Context(id)) => Some(*id),
        Some(Object::Queue { ctx }) => Some(*ctx),
        _ => None,
    }
}

// ---------------------------------------------------------------- the table

unsafe extern "C" fn runtime_info(out: *mut abi::RuntimeInfoV1) -> i32 {
    let mut r = abi::RuntimeInfoV1::zeroed();
    abi::write_str(&mut r.name, "mock");
    abi::write_str(
        &mut r.runtime,
        "dpcore mock runtime (host memory, synchronous)",
    );
    r.n_platforms = 1;
    // SAFETY: forwarded table contract.
    unsafe { put(out, r) }
}

unsafe extern "C" fn device_list(buf: *mut Obj, cap: usize, count_out: *mut usize) -> i32 {
    if !buf.is_null() && cap >= 1 {
        // SAFETY: buf holds at least one slot (cap >= 1).
        unsafe { buf.write(new_obj(Object::Device)) };
    }
    // SAFETY: forwarded table contract.
    unsafe { put(count_out, 1) }
}

unsafe extern "C" fn platform_list(
    buf: *mut abi::PlatformInfoV1,
    cap: usize,
    count_out: *mut usize,
) -> i32 {
    if !buf.is_null() && cap >= 1 {
        let mut p = abi::PlatformInfoV1::zeroed();
        p.backend = abi::backend::NATIVE_CPU;
        p.n_devices = 1;
        abi::write_str(&mut p.name, "dpcore mock platform");
        abi::write_str(&mut p.vendor, "dpcore");
        abi::write_str(&mut p.version, "1.0");
        // SAFETY: buf holds at least one record (cap >= 1).
        unsafe { buf.write(p) };
    }
    // SAFETY: forwarded table contract.
    unsafe { put(count_out, 1) }
}

unsafe extern "C" fn device_info(_dev: Obj, out: *mut abi::DeviceInfoV1) -> i32 {
    let mut i = abi::DeviceInfoV1::zeroed();
    i.backend = abi::backend::NATIVE_CPU;
    i.device_type = abi::device_type::CPU;
    abi::write_str(&mut i.name, "dpcore mock device");
    abi::write_str(&mut i.vendor, "dpcore");
    abi::write_str(&mut i.driver_version, "1.0");
    abi::write_str(&mut i.version, "mock 1.0");
    abi::write_str(&mut i.platform_name, "dpcore mock platform");
    abi::write_str(&mut i.platform_version, "1.0");
    i.max_compute_units = 1;
    i.max_work_item_dimensions = 3;
    i.global_mem_size = 1 << 30;
    i.local_mem_size = 1 << 16;
    i.max_mem_alloc_size = 1 << 30;
    i.max_work_group_size = 1;
    i.max_work_item_sizes = [1, 1, 1];
    for a in [
        abi::aspect::FP64,
        abi::aspect::USM_DEVICE_ALLOCATIONS,
        abi::aspect::USM_HOST_ALLOCATIONS,
        abi::aspect::USM_SHARED_ALLOCATIONS,
    ] {
        i.aspects |= 1 << a;
    }
    if std::env::var_os("DPCORE_MOCK_NO_HOST_USM").is_some_and(|v| v == "1") {
        i.aspects &= !(1 << abi::aspect::USM_HOST_ALLOCATIONS);
    }
    i.platform_index = 0;
    // SAFETY: forwarded table contract.
    unsafe { put(out, i) }
}

unsafe extern "C" fn device_equal(_a: Obj, _b: Obj) -> bool {
    true // one device
}

unsafe extern "C" fn device_parent(_dev: Obj, out: *mut Obj) -> i32 {
    // SAFETY: forwarded table contract.
    unsafe { put(out, std::ptr::null_mut()) }
}

unsafe extern "C" fn device_partition(
    _dev: Obj,
    _kind: i32,
    _params: *const usize,
    _n: usize,
    _buf: *mut Obj,
    _cap: usize,
    _count_out: *mut usize,
) -> i32 {
    fail(
        abi::status::UNSUPPORTED,
        "the mock device cannot be partitioned",
    )
}

unsafe extern "C" fn any_release(o: Obj) {
    // SAFETY: the core gives each object back once.
    unsafe { release(o) }
}

unsafe extern "C" fn no_native(_o: Obj) -> *mut c_void {
    std::ptr::null_mut()
}

static DEFAULT_CTX: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" fn context_default(_dev: Obj, out: *mut Obj) -> i32 {
    let id = match DEFAULT_CTX.load(Ordering::Acquire) {
        0 => {
            let id = NEXT.fetch_add(1, Ordering::Relaxed);
            match DEFAULT_CTX.compare_exchange(0, id, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => id,
                Err(first) => first,
            }
        }
        id => id,
    };
    // SAFETY: forwarded table contract.
    unsafe { put(out, new_obj(Object::Context(id))) }
}

unsafe extern "C" fn context_create(_devs: *const Obj, n: usize, out: *mut Obj) -> i32 {
    if n == 0 {
        return fail(abi::status::INVALID_ARGUMENT, "a context needs a device");
    }
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    // SAFETY: forwarded table contract.
    unsafe { put(out, new_obj(Object::Context(id))) }
}

unsafe extern "C" fn context_equal(a: Obj, b: Obj) -> bool {
    ctx_id(a).is_some() && ctx_id(a) == ctx_id(b)
}

unsafe extern "C" fn queue_create(ctx: Obj, _dev: Obj, _flags: u32, out: *mut Obj) -> i32 {
    let Some(ctx) = ctx_id(ctx) else {
        return fail(abi::status::INVALID_ARGUMENT, "not a mock context");
    };
    // Commands run synchronously on the caller's thread, so every queue
    // keeps submission order whatever its flags say.
    // SAFETY: forwarded table contract.
    unsafe { put(out, new_obj(Object::Queue { ctx })) }
}

unsafe extern "C" fn queue_adopt(
    _native: *mut c_void,
    _out: *mut Obj,
    _dev: *mut Obj,
    _ctx: *mut Obj,
    _flags: *mut u32,
) -> i32 {
    fail(
        abi::status::UNSUPPORTED,
        "the mock plugin adopts no foreign queues",
    )
}

unsafe extern "C" fn queue_equal(a: Obj, b: Obj) -> bool {
    std::ptr::eq(a, b)
}

unsafe extern "C" fn ok_wait(_q: Obj) -> i32 {
    abi::status::SUCCESS
}

unsafe extern "C" fn enqueue_barrier(
    _q: Obj,
    _deps: *const Obj,
    _n: usize,
    ev_out: *mut Obj,
) -> i32 {
    // SAFETY: forwarded table contract.
    unsafe { done(ev_out) }
}

unsafe extern "C" fn enqueue_memcpy(
    _q: Obj,
    dst: *mut c_void,
    src: *const c_void,
    n: usize,
    _deps: *const Obj,
    _n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    // SAFETY: all memory is host memory; the core vouches for n bytes at
    // both ends; `copy` allows overlap.
    unsafe { std::ptr::copy(src as *const u8, dst as *mut u8, n) };
    // SAFETY: forwarded table contract.
    unsafe { done(ev_out) }
}

unsafe extern "C" fn enqueue_memset(
    _q: Obj,
    p: *mut c_void,
    value: u8,
    n: usize,
    _deps: *const Obj,
    _n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    // SAFETY: host memory; the core vouches for n bytes at p.
    unsafe { std::ptr::write_bytes(p as *mut u8, value, n) };
    // SAFETY: forwarded table contract.
    unsafe { done(ev_out) }
}

#[allow(clippy::too_many_arguments)] // the table's signature
unsafe extern "C" fn enqueue_fill(
    _q: Obj,
    p: *mut c_void,
    pattern: *const c_void,
    size: usize,
    count: usize,
    _deps: *const Obj,
    _n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    for i in 0..count {
        // SAFETY: host memory of count * size bytes at p (the core's
        // check); the pattern is `size` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(pattern as *const u8, (p as *mut u8).add(i * size), size)
        };
    }
    // SAFETY: forwarded table contract.
    unsafe { done(ev_out) }
}

unsafe extern "C" fn enqueue_hint(
    _q: Obj,
    _p: *const c_void,
    _n: usize,
    _deps: *const Obj,
    _n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    // SAFETY: forwarded table contract.
    unsafe { done(ev_out) }
}

unsafe extern "C" fn enqueue_advise(
    _q: Obj,
    _p: *const c_void,
    _n: usize,
    _advice: i32,
    _deps: *const Obj,
    _n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    // SAFETY: forwarded table contract.
    unsafe { done(ev_out) }
}

unsafe extern "C" fn event_wait(_evs: *const Obj, _n: usize) -> i32 {
    abi::status::SUCCESS
}

unsafe extern "C" fn event_status(_ev: Obj, out: *mut i32) -> i32 {
    // SAFETY: forwarded table contract.
    unsafe { put(out, abi::event_status::COMPLETE) }
}

unsafe extern "C" fn event_profiling(_ev: Obj, _out: *mut u64) -> i32 {
    fail(
        abi::status::UNSUPPORTED,
        "the mock plugin records no profiling times",
    )
}

unsafe extern "C" fn usm_alloc(
    q: Obj,
    kind: i32,
    size: usize,
    align: usize,
    out: *mut *mut c_void,
) -> i32 {
    let Some(ctx) = ctx_id(q) else {
        return fail(abi::status::INVALID_ARGUMENT, "not a mock queue");
    };
    let Ok(layout) = Layout::from_size_align(size.max(1), align.max(64)) else {
        return fail(abi::status::INVALID_ARGUMENT, "bad size or alignment");
    };
    // SAFETY: a layout of non-zero size.
    let p = unsafe { std::alloc::alloc(layout) };
    if p.is_null() {
        return fail(
            abi::status::OUT_OF_DEVICE_MEMORY,
            "the mock device is out of memory",
        );
    }
    ALLOCS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(p as usize, (layout, kind, ctx));
    // SAFETY: forwarded table contract.
    unsafe { put(out, p as *mut c_void) }
}

unsafe extern "C" fn usm_free(_ctx: Obj, p: *mut c_void) -> i32 {
    let entry = ALLOCS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&(p as usize));
    match entry {
        Some((layout, _, _)) => {
            // SAFETY: allocated by usm_alloc with this layout, removed from the map once.
            unsafe { std::alloc::dealloc(p as *mut u8, layout) };
            abi::status::SUCCESS
        }
        None => fail(abi::status::INVALID_ARGUMENT, "not mock USM"),
    }
}

unsafe extern "C" fn usm_pointer_info(
    ctx: Obj,
    p: *const c_void,
    out: *mut abi::PointerInfoV1,
) -> i32 {
    let mut info = abi::PointerInfoV1::empty();
    if let Some((base, layout, kind, c)) = find(p as usize) {
        if Some(c) == ctx_id(ctx) {
            info.kind = kind;
            info.has_range = 1;
            info.base = base;
            info.size = layout.size();
            if kind != abi::usm_kind::HOST {
                info.device = new_obj(Object::Device);
            }
        }
    }
    // SAFETY: forwarded table contract.
    unsafe { put(out, info) }
}

unsafe extern "C" fn usm_pointer_kind(ctx: Obj, p: *const c_void, out: *mut i32) -> i32 {
    let k = match find(p as usize) {
        Some((_, _, kind, c)) if Some(c) == ctx_id(ctx) => kind,
        _ => abi::usm_kind::UNKNOWN,
    };
    // SAFETY: forwarded table contract.
    unsafe { put(out, k) }
}

unsafe extern "C" fn bundle_create(
    _ctx: Obj,
    _dev: Obj,
    _kind: i32,
    _src: *const u8,
    _len: usize,
    _options: *const c_char,
    _out: *mut Obj,
) -> i32 {
    fail(abi::status::UNSUPPORTED, "the mock device runs no kernels")
}

unsafe extern "C" fn bundle_kernel_names(
    _b: Obj,
    _buf: *mut c_char,
    _cap: usize,
    _size: *mut usize,
) -> i32 {
    fail(abi::status::UNSUPPORTED, "the mock plugin has no bundles")
}

unsafe extern "C" fn bundle_has_kernel(_b: Obj, _name: *const c_char, _out: *mut bool) -> i32 {
    fail(abi::status::UNSUPPORTED, "the mock plugin has no bundles")
}

unsafe extern "C" fn bundle_get_kernel(_b: Obj, _name: *const c_char, _out: *mut Obj) -> i32 {
    fail(abi::status::UNSUPPORTED, "the mock plugin has no bundles")
}

unsafe extern "C" fn kernel_info(_k: Obj, _dev: Obj, _out: *mut abi::KernelInfoV1) -> i32 {
    fail(abi::status::UNSUPPORTED, "the mock plugin has no kernels")
}

#[allow(clippy::too_many_arguments)] // the table's signature
unsafe extern "C" fn enqueue_kernel(
    _q: Obj,
    _k: Obj,
    _dims: u32,
    _global: *const usize,
    _local: *const usize,
    _args: *const abi::KernelArgV1,
    _n_args: usize,
    _deps: *const Obj,
    _n_deps: usize,
    _ev_out: *mut Obj,
) -> i32 {
    fail(abi::status::UNSUPPORTED, "the mock device runs no kernels")
}

unsafe extern "C" fn native_handle(
    _kind: i32,
    _obj: Obj,
    _backend: *mut i32,
    _out: *mut *mut c_void,
) -> i32 {
    fail(
        abi::status::UNSUPPORTED,
        "the mock plugin has no native handles",
    )
}

unsafe extern "C" fn event_adopt(_native: *mut c_void, _out: *mut Obj) -> i32 {
    fail(
        abi::status::UNSUPPORTED,
        "the mock plugin adopts no foreign events",
    )
}

static TABLE: abi::BackendV1 = abi::BackendV1 {
    abi_version: abi::BACKEND_ABI_VERSION,
    struct_size: std::mem::size_of::<abi::BackendV1>() as u32,
    runtime_info,
    device_list,
    platform_list,
    device_info,
    device_equal,
    device_parent,
    device_partition,
    device_release: any_release,
    device_native: no_native,
    context_default,
    context_create,
    context_release: any_release,
    context_equal,
    context_native: no_native,
    queue_create,
    queue_adopt,
    queue_release: any_release,
    queue_equal,
    queue_native: no_native,
    queue_wait: ok_wait,
    enqueue_barrier,
    enqueue_memcpy,
    enqueue_memset,
    enqueue_fill,
    enqueue_prefetch: enqueue_hint,
    enqueue_mem_advise: enqueue_advise,
    event_wait,
    event_status,
    event_profiling,
    event_release: any_release,
    event_native: no_native,
    usm_alloc,
    usm_free,
    usm_pointer_info,
    usm_pointer_kind,
    bundle_create,
    bundle_release: any_release,
    bundle_kernel_names,
    bundle_has_kernel,
    bundle_get_kernel,
    bundle_native: no_native,
    kernel_release: any_release,
    kernel_info,
    kernel_native: no_native,
    enqueue_kernel,
    native_handle,
    event_adopt,
};

/// The interface version this plugin implements.
#[no_mangle]
pub extern "C" fn dpcore_backend_abi_version() -> u32 {
    abi::BACKEND_ABI_VERSION
}

/// Initialise: keep the host's callbacks and hand out the table.
///
/// # Safety
/// `host` is the core's table, alive for the life of the process; `out`
/// is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn dpcore_backend_init(
    host: *const abi::HostV1,
    out: *mut *const abi::BackendV1,
) -> i32 {
    // SAFETY: the core's host table lives as long as the process.
    if let Some(h) = unsafe { host.as_ref() } {
        let _ = HOST.set(h);
    }
    // SAFETY: forwarded contract.
    unsafe { put(out, &TABLE as *const abi::BackendV1) }
}
