//! The backend interface between `libdpcore.so` (the core) and a backend
//! plugin such as `libdpcore_sycl.so`.
//!
//! It is a plain C table of function pointers, versioned by
//! [`BACKEND_ABI_VERSION`]. The plugin exports two symbols:
//!
//! * [`SYM_ABI_VERSION`]: `uint32_t dpcore_backend_abi_version(void)`,
//!   called first; the core refuses a plugin whose answer differs from its
//!   own [`BACKEND_ABI_VERSION`] without touching any other symbol, so no
//!   struct of a foreign layout is ever read.
//! * [`SYM_INIT`]: `int32_t dpcore_backend_init(const HostV1*, const BackendV1**)`.
//!   The table it hands out stays valid, unchanged, for the life of the
//!   process (the core keeps a `&'static` to it and never unloads a
//!   plugin); the core's `HostV1` likewise.
//!
//! Conventions for every function in [`BackendV1`]:
//!
//! * the return value is a `dpc_status` code (`0` is success); on failure the
//!   plugin has called [`HostV1::set_error`] once, on the calling thread,
//!   before returning;
//! * no panic and no C++ exception leaves a table function;
//! * objects ([`Obj`]) are owned by the plugin; the core gives each one back
//!   through the matching `*_release` function exactly once;
//! * every function may be called from any thread.
//!
//! Both sides are built from this one crate, so the layouts agree by
//! construction; the version number guards against mixing builds.

#![no_std]
#![allow(clippy::missing_safety_doc)]

use core::ffi::{c_char, c_void};

/// Version of the table layout and semantics. Bump on any change to a
/// struct or function signature in this crate.
pub const BACKEND_ABI_VERSION: u32 = 5;

/// Symbol: `uint32_t dpcore_backend_abi_version(void)`.
pub const SYM_ABI_VERSION: &[u8] = b"dpcore_backend_abi_version\0";
/// Symbol: `int32_t dpcore_backend_init(const HostV1 *host, const BackendV1 **out)`.
pub const SYM_INIT: &[u8] = b"dpcore_backend_init\0";

/// Signature of [`SYM_ABI_VERSION`].
pub type AbiVersionFn = unsafe extern "C" fn() -> u32;
/// Signature of [`SYM_INIT`].
pub type InitFn = unsafe extern "C" fn(host: *const HostV1, out: *mut *const BackendV1) -> i32;

/// An object owned by the plugin (a device, later queues, events, ...).
pub type Obj = *mut c_void;

/// Status codes shared with the public `dpc_status` (same numbers).
pub mod status {
    pub const SUCCESS: i32 = 0;
    pub const INVALID_ARGUMENT: i32 = 1;
    pub const OUT_OF_RANGE: i32 = 5;
    pub const BACKEND: i32 = 201;
    pub const UNSUPPORTED: i32 = 202;
    pub const BUILD_FAILED: i32 = 204;
    /// The device was lost (e.g. Unified Runtime's
    /// `UR_RESULT_ERROR_DEVICE_LOST`).
    pub const DEVICE_LOST: i32 = 205;
    pub const NOT_FOUND: i32 = 8;
    pub const OUT_OF_HOST_MEMORY: i32 = 300;
    pub const OUT_OF_DEVICE_MEMORY: i32 = 301;
    pub const INTERNAL: i32 = 999;
}

/// What the core gives the plugin at initialisation.
#[repr(C)]
pub struct HostV1 {
    /// Always [`BACKEND_ABI_VERSION`].
    pub abi_version: u32,
    /// `size_of::<HostV1>()`.
    pub struct_size: u32,
    /// Record the detail of a failure on the calling thread: the status
    /// about to be returned, the backend's own error code (0 if none) and a
    /// UTF-8 message (`len` bytes, not NUL-terminated, copied by the core).
    pub set_error: unsafe extern "C" fn(status: i32, backend_code: i64, msg: *const u8, len: usize),
    /// Emit a debug log line (UTF-8, `len` bytes, copied). Level: 0 error,
    /// 1 warning, 2 info, 3 debug. The core filters and routes it.
    pub log: unsafe extern "C" fn(level: i32, msg: *const u8, len: usize),
    /// Record the build log of a failed build on the calling thread (UTF-8,
    /// copied), before `set_error` and the failing return.
    pub set_build_log: unsafe extern "C" fn(log: *const u8, len: usize),
}

/// `backend` values; the same numbers as the public `dpc_backend`.
pub mod backend {
    pub const UNKNOWN: i32 = 0;
    pub const OPENCL: i32 = 1;
    pub const LEVEL_ZERO: i32 = 2;
    pub const CUDA: i32 = 3;
    pub const HIP: i32 = 4;
    pub const NATIVE_CPU: i32 = 5;
}

/// `device_type` values; the same numbers as the public `dpc_device_type`.
pub mod device_type {
    pub const UNKNOWN: i32 = 0;
    pub const CPU: i32 = 1;
    pub const GPU: i32 = 2;
    pub const ACCELERATOR: i32 = 3;
    pub const CUSTOM: i32 = 4;
}

/// Bits of [`DeviceInfoV1::aspects`]; the same bits as the public
/// `dpc_aspect` values (bit = 1 << value).
pub mod aspect {
    pub const FP16: u32 = 0;
    pub const FP64: u32 = 1;
    pub const ATOMIC64: u32 = 2;
    pub const IMAGE: u32 = 3;
    pub const USM_DEVICE_ALLOCATIONS: u32 = 4;
    pub const USM_HOST_ALLOCATIONS: u32 = 5;
    pub const USM_SHARED_ALLOCATIONS: u32 = 6;
    pub const USM_SYSTEM_ALLOCATIONS: u32 = 7;
    pub const USM_ATOMIC_HOST_ALLOCATIONS: u32 = 8;
    pub const USM_ATOMIC_SHARED_ALLOCATIONS: u32 = 9;
    pub const QUEUE_PROFILING: u32 = 10;
    pub const ONLINE_COMPILER: u32 = 11;
    pub const ONLINE_LINKER: u32 = 12;
    pub const UUID: u32 = 13;
}

/// Bits of [`DeviceInfoV1::partition_properties`].
pub mod partition {
    pub const EQUALLY: u32 = 1 << 0;
    pub const BY_COUNTS: u32 = 1 << 1;
    pub const BY_AFFINITY_DOMAIN: u32 = 1 << 2;
}

/// Affinity domains, the values of `dpc_affinity_domain` and the bits
/// (1 << value) of [`DeviceInfoV1::affinity_domains`].
pub mod affinity {
    pub const NUMA: u32 = 0;
    pub const L4_CACHE: u32 = 1;
    pub const L3_CACHE: u32 = 2;
    pub const L2_CACHE: u32 = 3;
    pub const L1_CACHE: u32 = 4;
    pub const NEXT_PARTITIONABLE: u32 = 5;
}

/// Capacity of every string field of [`DeviceInfoV1`], NUL included.
pub const INFO_STR: usize = 256;
/// Capacity of [`DeviceInfoV1::sub_group_sizes`].
pub const MAX_SUB_GROUP_SIZES: usize = 16;

/// Everything the core caches about a device, filled in one call.
/// Strings are NUL-terminated UTF-8, truncated to fit.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct DeviceInfoV1 {
    pub backend: i32,
    pub device_type: i32,
    pub name: [c_char; INFO_STR],
    pub vendor: [c_char; INFO_STR],
    pub driver_version: [c_char; INFO_STR],
    /// The device's version string (for OpenCL `OpenCL 3.0 ...`).
    pub version: [c_char; INFO_STR],
    pub platform_name: [c_char; INFO_STR],
    pub platform_version: [c_char; INFO_STR],
    pub vendor_id: u32,
    pub max_compute_units: u32,
    pub max_clock_frequency: u32,
    pub max_work_item_dimensions: u32,
    pub global_mem_size: u64,
    pub local_mem_size: u64,
    pub max_mem_alloc_size: u64,
    pub global_mem_cache_size: u64,
    pub max_work_group_size: u64,
    pub max_work_item_sizes: [u64; 3],
    pub max_num_sub_groups: u32,
    pub n_sub_group_sizes: u32,
    pub sub_group_sizes: [u64; MAX_SUB_GROUP_SIZES],
    /// Bit `1 << aspect::X` set when the device has aspect X.
    pub aspects: u64,
    pub uuid: [u8; 16],
    /// Non-zero for a sub-device (the result of a partition).
    pub is_sub_device: u32,
    pub partition_max_sub_devices: u32,
    /// [`partition`] bits.
    pub partition_properties: u32,
    /// Bits `1 << affinity::X`.
    pub affinity_domains: u32,
    /// Index of the device's platform in `platform_list` order, or
    /// `u32::MAX` when it cannot be told.
    pub platform_index: u32,
}

/// A platform, as `platform_list` reports it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PlatformInfoV1 {
    /// A [`backend`] value.
    pub backend: i32,
    /// Number of root devices of the platform.
    pub n_devices: u32,
    pub name: [c_char; INFO_STR],
    pub vendor: [c_char; INFO_STR],
    pub version: [c_char; INFO_STR],
}

impl PlatformInfoV1 {
    /// An all-zero record.
    pub const fn zeroed() -> Self {
        // SAFETY: every field is an integer or an array of integers.
        unsafe { core::mem::zeroed() }
    }
}

/// Facts about the runtime the plugin is built against and has loaded.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct RuntimeInfoV1 {
    /// The backend family this plugin implements, e.g. "sycl".
    pub name: [c_char; INFO_STR],
    /// Human-readable runtime description (library and version).
    pub runtime: [c_char; INFO_STR],
    /// Path of the loaded runtime library, when it can be found.
    pub runtime_path: [c_char; 1024],
    /// Major version of the runtime's ABI the plugin was built for
    /// (the N of `libsycl.so.N`).
    pub runtime_abi_major: u32,
    /// Number of platforms the runtime reports.
    pub n_platforms: u32,
}

/// USM kinds; the same numbers as the public `dpc_usm_kind`.
pub mod usm_kind {
    pub const UNKNOWN: i32 = 0;
    pub const DEVICE: i32 = 1;
    pub const SHARED: i32 = 2;
    pub const HOST: i32 = 3;
}

/// Bits of a queue's properties; the same bits as the public
/// `DPC_QUEUE_*` flags.
pub mod queue_flags {
    pub const IN_ORDER: u32 = 1 << 0;
    pub const PROFILING: u32 = 1 << 1;
}

/// Event execution status; the same numbers as the public
/// `dpc_event_status`.
pub mod event_status {
    pub const SUBMITTED: i32 = 0;
    pub const RUNNING: i32 = 1;
    pub const COMPLETE: i32 = 2;
}

/// What [`BackendV1::native_handle`] is asked for.
pub mod native_kind {
    pub const DEVICE: i32 = 1;
    pub const CONTEXT: i32 = 2;
    pub const QUEUE: i32 = 3;
}

/// What the runtime knows of a USM pointer.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PointerInfoV1 {
    /// A [`usm_kind`] value; `UNKNOWN` for memory that is not USM of the
    /// context (stack, malloc, another context's memory).
    pub kind: i32,
    /// Non-zero when `base` and `size` are filled (the runtime told them).
    pub has_range: u32,
    /// Start and size of the allocation that contains the pointer.
    pub base: usize,
    pub size: usize,
    /// The device the memory is associated with: a new device object the
    /// core gives back with `device_release`, or NULL (host USM, unknown).
    pub device: Obj,
}

/// What a bundle is built from.
pub mod source_kind {
    /// A SPIR-V module (bytes).
    pub const SPIRV: i32 = 1;
    /// OpenCL C source text (OpenCL devices only).
    pub const OPENCL_C: i32 = 2;
    /// SYCL source text, compiled at run time where the device can.
    pub const SYCL: i32 = 3;
}

/// Kernel argument kinds (the same numbers as the public `dpc_arg_kind`).
pub mod arg_kind {
    /// A USM pointer: `KernelArgV1::value` is the pointer itself.
    pub const POINTER: i32 = 1;
    /// `size` bytes at `value`, passed by value.
    pub const SCALAR: i32 = 2;
    /// `size` bytes of work-group local memory (`value` unused).
    pub const LOCAL: i32 = 3;
}

/// The largest scalar kernel argument, in bytes.
pub const MAX_SCALAR_ARG: usize = 256;

/// One kernel argument.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct KernelArgV1 {
    pub kind: i32,
    pub size: usize,
    pub value: *const c_void,
}

/// What the runtime tells about a kernel on a device. Zero where it does
/// not tell.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct KernelInfoV1 {
    /// The kernel's name as the runtime knows it.
    pub name: [c_char; INFO_STR],
    pub num_args: u32,
    /// Non-zero when `num_args` is reported.
    pub has_num_args: u32,
    pub max_work_group_size: u64,
    pub preferred_work_group_size_multiple: u64,
    pub private_mem_size: u64,
    pub local_mem_size: u64,
    pub compile_work_group_size: [u64; 3],
    pub max_sub_group_size: u32,
    pub max_num_sub_groups: u32,
    pub compile_sub_group_size: u32,
    pub compile_num_sub_groups: u32,
}

impl KernelInfoV1 {
    /// An all-zero record.
    pub const fn zeroed() -> Self {
        // SAFETY: every field is an integer or an array of integers.
        unsafe { core::mem::zeroed() }
    }
}

/// Partition kinds for [`BackendV1::device_partition`].
pub mod partition_kind {
    pub const EQUALLY: i32 = 1;
    pub const BY_COUNTS: i32 = 2;
    pub const BY_AFFINITY_DOMAIN: i32 = 3;
}

/// The table the plugin returns.
#[repr(C)]
pub struct BackendV1 {
    /// Always [`BACKEND_ABI_VERSION`].
    pub abi_version: u32,
    /// `size_of::<BackendV1>()`.
    pub struct_size: u32,

    /// Fill `out` with runtime facts.
    pub runtime_info: unsafe extern "C" fn(out: *mut RuntimeInfoV1) -> i32,

    /// The root devices, in `sycl::device::get_devices()` order. Two-call
    /// pattern: `*count_out` receives the number of devices; when `buf` is
    /// non-NULL, `min(cap, count)` new device objects are written to it
    /// (each to be given back with `device_release`). The list is fixed at
    /// plugin initialisation.
    pub device_list: unsafe extern "C" fn(buf: *mut Obj, cap: usize, count_out: *mut usize) -> i32,

    /// The platforms, in `sycl::platform::get_platforms()` order. Two-call
    /// pattern: `*count_out` receives the number of platforms; when `buf`
    /// is non-NULL, `min(cap, count)` records are written to it. The list
    /// is fixed at plugin initialisation.
    pub platform_list:
        unsafe extern "C" fn(buf: *mut PlatformInfoV1, cap: usize, count_out: *mut usize) -> i32,

    /// Fill `out` with everything known about `dev`.
    pub device_info: unsafe extern "C" fn(dev: Obj, out: *mut DeviceInfoV1) -> i32,

    /// Whether two device objects denote the same device.
    pub device_equal: unsafe extern "C" fn(a: Obj, b: Obj) -> bool,

    /// The parent of a sub-device as a new object in `*out`, or NULL in
    /// `*out` for a root device.
    pub device_parent: unsafe extern "C" fn(dev: Obj, out: *mut Obj) -> i32,

    /// Partition `dev`. `kind` is a [`partition_kind`] value; `params`
    /// holds: the count per sub-device (EQUALLY, one value), the counts
    /// (BY_COUNTS, `n_params` values) or the [`affinity`] domain
    /// (BY_AFFINITY_DOMAIN, one value). Two-call pattern like
    /// `device_list`, except that the partition is made on each call.
    pub device_partition: unsafe extern "C" fn(
        dev: Obj,
        kind: i32,
        params: *const usize,
        n_params: usize,
        buf: *mut Obj,
        cap: usize,
        count_out: *mut usize,
    ) -> i32,

    /// Give back a device object.
    pub device_release: unsafe extern "C" fn(dev: Obj),

    /// A pointer to the runtime's own object (`sycl::device*`), valid as
    /// long as `dev` is, for C++ users in the same process.
    pub device_native: unsafe extern "C" fn(dev: Obj) -> *mut c_void,

    // ---- contexts --------------------------------------------------------
    /// The platform default context of `dev`'s platform (the one dpnp,
    /// dpctl and torch use), as a new context object in `*out`.
    pub context_default: unsafe extern "C" fn(dev: Obj, out: *mut Obj) -> i32,
    /// A new context over `n` devices (all of one platform).
    pub context_create: unsafe extern "C" fn(devs: *const Obj, n: usize, out: *mut Obj) -> i32,
    /// Give back a context object.
    pub context_release: unsafe extern "C" fn(ctx: Obj),
    /// Whether two context objects denote the same context.
    pub context_equal: unsafe extern "C" fn(a: Obj, b: Obj) -> bool,
    /// `sycl::context*`, valid as long as `ctx` is.
    pub context_native: unsafe extern "C" fn(ctx: Obj) -> *mut c_void,

    // ---- queues ----------------------------------------------------------
    /// A new queue on `dev` in `ctx` with [`queue_flags`]. Asynchronous
    /// errors raised for it are collected and reported by `queue_wait`.
    pub queue_create: unsafe extern "C" fn(ctx: Obj, dev: Obj, flags: u32, out: *mut Obj) -> i32,
    /// A new queue object sharing the runtime queue at `native` (a
    /// `sycl::queue*` owned by someone else, who keeps owning it). Its
    /// device, context and flags come back through `dev_out`, `ctx_out`
    /// (new objects) and `flags_out`.
    pub queue_adopt: unsafe extern "C" fn(
        native: *mut c_void,
        out: *mut Obj,
        dev_out: *mut Obj,
        ctx_out: *mut Obj,
        flags_out: *mut u32,
    ) -> i32,
    /// Give back a queue object.
    pub queue_release: unsafe extern "C" fn(q: Obj),
    /// Whether two queue objects share one runtime queue.
    pub queue_equal: unsafe extern "C" fn(a: Obj, b: Obj) -> bool,
    /// `sycl::queue*`, valid as long as `q` is.
    pub queue_native: unsafe extern "C" fn(q: Obj) -> *mut c_void,
    /// Wait for everything submitted to `q`; then report the first
    /// asynchronous error collected since the last wait (status BACKEND
    /// with its message, and how many more there were).
    pub queue_wait: unsafe extern "C" fn(q: Obj) -> i32,

    // ---- enqueue: every function takes `deps` (n_deps event objects) and
    // writes a new event object to `*ev_out` when `ev_out` is non-NULL;
    // with `ev_out` NULL it may submit without creating an event.
    /// A barrier: later work waits for `deps` (or, with none, for
    /// everything submitted before).
    pub enqueue_barrier:
        unsafe extern "C" fn(q: Obj, deps: *const Obj, n_deps: usize, ev_out: *mut Obj) -> i32,
    pub enqueue_memcpy: unsafe extern "C" fn(
        q: Obj,
        dst: *mut c_void,
        src: *const c_void,
        n: usize,
        deps: *const Obj,
        n_deps: usize,
        ev_out: *mut Obj,
    ) -> i32,
    pub enqueue_memset: unsafe extern "C" fn(
        q: Obj,
        p: *mut c_void,
        value: u8,
        n: usize,
        deps: *const Obj,
        n_deps: usize,
        ev_out: *mut Obj,
    ) -> i32,
    /// Fill `count` elements of `pattern_size` bytes (1, 2, 4, 8 or 16)
    /// with the runtime's own fill.
    pub enqueue_fill: unsafe extern "C" fn(
        q: Obj,
        p: *mut c_void,
        pattern: *const c_void,
        pattern_size: usize,
        count: usize,
        deps: *const Obj,
        n_deps: usize,
        ev_out: *mut Obj,
    ) -> i32,
    pub enqueue_prefetch: unsafe extern "C" fn(
        q: Obj,
        p: *const c_void,
        n: usize,
        deps: *const Obj,
        n_deps: usize,
        ev_out: *mut Obj,
    ) -> i32,
    /// `advice` is passed to the runtime unchanged (device specific).
    pub enqueue_mem_advise: unsafe extern "C" fn(
        q: Obj,
        p: *const c_void,
        n: usize,
        advice: i32,
        deps: *const Obj,
        n_deps: usize,
        ev_out: *mut Obj,
    ) -> i32,

    // ---- events ----------------------------------------------------------
    /// Wait for `n` events; reports asynchronous errors like `queue_wait`.
    pub event_wait: unsafe extern "C" fn(evs: *const Obj, n: usize) -> i32,
    /// The [`event_status`] of `ev`.
    pub event_status: unsafe extern "C" fn(ev: Obj, out: *mut i32) -> i32,
    /// Profiling timestamps in ns: `out[0]` submit, `out[1]` start,
    /// `out[2]` end. UNSUPPORTED when the queue was made without profiling.
    pub event_profiling: unsafe extern "C" fn(ev: Obj, out: *mut u64) -> i32,
    /// Give back an event object.
    pub event_release: unsafe extern "C" fn(ev: Obj),
    /// `sycl::event*`, valid as long as `ev` is.
    pub event_native: unsafe extern "C" fn(ev: Obj) -> *mut c_void,

    // ---- USM -------------------------------------------------------------
    /// Allocate `size` bytes of [`usm_kind`] memory on `q`'s device and
    /// context, aligned to `align` (0: the runtime's default; else a power
    /// of two). Out of memory is status OUT_OF_DEVICE_MEMORY (301).
    pub usm_alloc: unsafe extern "C" fn(
        q: Obj,
        kind: i32,
        size: usize,
        align: usize,
        out: *mut *mut c_void,
    ) -> i32,
    /// Free USM memory of `ctx` (blocking until the runtime lets it go).
    pub usm_free: unsafe extern "C" fn(ctx: Obj, p: *mut c_void) -> i32,
    /// What the runtime knows of `p` in `ctx`. Never fails for a non-USM
    /// pointer: it answers kind UNKNOWN.
    pub usm_pointer_info:
        unsafe extern "C" fn(ctx: Obj, p: *const c_void, out: *mut PointerInfoV1) -> i32,

    /// Only the [`usm_kind`] of `p` in `ctx` (UNKNOWN for non-USM memory),
    /// without the device and range `usm_pointer_info` finds: the cheap
    /// check of a DLPack import.
    pub usm_pointer_kind:
        unsafe extern "C" fn(ctx: Obj, p: *const c_void, kind_out: *mut i32) -> i32,

    // ---- kernel bundles and kernels --------------------------------------
    /// Build an executable bundle for `dev` in `ctx` from `len` bytes at
    /// `src` of [`source_kind`] `kind`, with the NUL-terminated build
    /// `options` (NULL: none). A failed build returns BUILD_FAILED (204)
    /// after `set_build_log` with the full log; a device that cannot take
    /// this kind of input returns UNSUPPORTED (202) with a message naming
    /// the input kind and the device.
    pub bundle_create: unsafe extern "C" fn(
        ctx: Obj,
        dev: Obj,
        kind: i32,
        src: *const u8,
        len: usize,
        options: *const c_char,
        out: *mut Obj,
    ) -> i32,
    /// Give back a bundle object.
    pub bundle_release: unsafe extern "C" fn(b: Obj),
    /// The names of the bundle's kernels, separated by `\n`, in the
    /// two-call pattern (`*size_out` gets the size needed, NUL included;
    /// `buf` filled when non-NULL and large enough, else OUT_OF_RANGE).
    /// UNSUPPORTED when the runtime cannot list them.
    pub bundle_kernel_names:
        unsafe extern "C" fn(b: Obj, buf: *mut c_char, cap: usize, size_out: *mut usize) -> i32,
    /// Whether the bundle has a kernel called `name`.
    pub bundle_has_kernel: unsafe extern "C" fn(b: Obj, name: *const c_char, out: *mut bool) -> i32,
    /// The kernel called `name` as a new kernel object; NOT_FOUND (8) when
    /// there is none.
    pub bundle_get_kernel: unsafe extern "C" fn(b: Obj, name: *const c_char, out: *mut Obj) -> i32,
    /// `sycl::kernel_bundle<sycl::bundle_state::executable>*`, valid as long as `b` is.
    pub bundle_native: unsafe extern "C" fn(b: Obj) -> *mut c_void,
    /// Give back a kernel object.
    pub kernel_release: unsafe extern "C" fn(k: Obj),
    /// What the runtime tells about `k` on `dev`.
    pub kernel_info: unsafe extern "C" fn(k: Obj, dev: Obj, out: *mut KernelInfoV1) -> i32,
    /// `sycl::kernel*`, valid as long as `k` is.
    pub kernel_native: unsafe extern "C" fn(k: Obj) -> *mut c_void,
    /// Launch `k` on `q` over `dims` (1–3) dimensions of `global` sizes;
    /// with `local` non-NULL as an nd-range of that work-group size. The
    /// core has validated the sizes and the arguments; `args` holds
    /// `n_args` arguments in order. Dependencies and event as the other
    /// enqueue functions.
    pub enqueue_kernel: unsafe extern "C" fn(
        q: Obj,
        k: Obj,
        dims: u32,
        global: *const usize,
        local: *const usize,
        args: *const KernelArgV1,
        n_args: usize,
        deps: *const Obj,
        n_deps: usize,
        ev_out: *mut Obj,
    ) -> i32,

    // ---- native handles --------------------------------------------------
    /// The backend's own handle of a device, context or queue object
    /// (`kind` is a [`native_kind`]): for OpenCL a `cl_device_id`,
    /// `cl_context` or `cl_command_queue` with one reference retained for
    /// the caller; for Level Zero a `ze_device_handle_t`,
    /// `ze_context_handle_t` or `ze_command_queue_handle_t`/command list,
    /// owned by the runtime. `*backend_out` gets the [`backend`] value.
    /// UNSUPPORTED for other backends.
    pub native_handle: unsafe extern "C" fn(
        kind: i32,
        obj: Obj,
        backend_out: *mut i32,
        out: *mut *mut c_void,
    ) -> i32,

    // ---- version 5 ---------------------------------------------------------
    /// A new event object sharing the runtime event at `native` (a
    /// `sycl::event*` owned by someone else, who keeps owning it).
    pub event_adopt: unsafe extern "C" fn(native: *mut c_void, out: *mut Obj) -> i32,
}

/// Copy a UTF-8 string into a fixed, NUL-terminated field, truncating at
/// a character boundary.
pub fn write_str(dst: &mut [c_char], s: &str) {
    if dst.is_empty() {
        return;
    }
    let mut n = s.len().min(dst.len() - 1);
    while n > 0 && !s.is_char_boundary(n) {
        n -= 1;
    }
    for (d, b) in dst.iter_mut().zip(s.as_bytes()[..n].iter()) {
        *d = *b as c_char;
    }
    dst[n] = 0;
}

/// Read a fixed NUL-terminated field as bytes (without the NUL).
pub fn read_str(src: &[c_char]) -> &[u8] {
    let n = src.iter().position(|&c| c == 0).unwrap_or(src.len());
    // SAFETY: c_char and u8 have the same size and alignment.
    unsafe { core::slice::from_raw_parts(src.as_ptr() as *const u8, n) }
}

impl DeviceInfoV1 {
    /// An all-zero record.
    pub const fn zeroed() -> Self {
        // SAFETY: every field is an integer or an array of integers.
        unsafe { core::mem::zeroed() }
    }
}

impl PointerInfoV1 {
    /// An empty record (kind UNKNOWN, no range, no device).
    pub const fn empty() -> Self {
        PointerInfoV1 {
            kind: usm_kind::UNKNOWN,
            has_range: 0,
            base: 0,
            size: 0,
            device: core::ptr::null_mut(),
        }
    }
}

impl RuntimeInfoV1 {
    /// An all-zero record.
    pub const fn zeroed() -> Self {
        // SAFETY: every field is an integer or an array of integers.
        unsafe { core::mem::zeroed() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_and_read_str_truncate_on_char_boundary() {
        let mut buf = [0 as c_char; 4];
        write_str(&mut buf, "aé€");
        assert_eq!(read_str(&buf), "aé".as_bytes());
        write_str(&mut buf, "ab");
        assert_eq!(read_str(&buf), b"ab");
    }
}
