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
//! The SYCL work is done in C++ (`src/bridge.cpp`), reached through the
//! [`cxx`] bridge in the private `ffi` module. Every fallible C++ function
//! returns a `Result`; its error message carries a `dpc_status` and the SYCL
//! error code (see `src/bridge.h`), which `Failure::from_exception` parses
//! back. Every table function runs under [`std::panic::catch_unwind`], so
//! neither a panic nor a C++ exception ever leaves this library.

use std::ffi::{c_char, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::{OnceLock, RwLock};

use cxx::memory::UniquePtrTarget;
use cxx::{let_cxx_string, UniquePtr};
use dpcore_backend_abi::{
    affinity, arg_kind, aspect, backend, device_type, event_status, native_kind, partition,
    partition_kind, queue_flags, source_kind, status, usm_kind, write_str, BackendV1, DeviceInfoV1,
    HostV1, KernelArgV1, KernelInfoV1, Obj, PlatformInfoV1, PointerInfoV1, RuntimeInfoV1,
    BACKEND_ABI_VERSION, MAX_SCALAR_ARG, MAX_SUB_GROUP_SIZES,
};

#[cfg(test)]
mod test_support;

#[cxx::bridge(namespace = "dpcore_sycl")]
mod ffi {
    /// `dpc_status` codes the C++ side raises (checked against
    /// `dpcore_backend_abi::status` below).
    #[repr(i32)]
    enum Status {
        InvalidArgument = 1,
        NotFound = 8,
        Backend = 201,
        Unsupported = 202,
        BuildFailed = 204,
        OutOfHostMemory = 300,
        OutOfDeviceMemory = 301,
        Internal = 999,
    }

    /// `dpcore_backend_abi::backend` values.
    #[repr(i32)]
    enum Backend {
        Unknown = 0,
        OpenCl = 1,
        LevelZero = 2,
        Cuda = 3,
        Hip = 4,
        NativeCpu = 5,
    }

    /// `dpcore_backend_abi::device_type` values.
    #[repr(i32)]
    enum DeviceType {
        Unknown = 0,
        Cpu = 1,
        Gpu = 2,
        Accelerator = 3,
        Custom = 4,
    }

    /// `dpcore_backend_abi::aspect` values (bit numbers).
    #[repr(u32)]
    enum Aspect {
        Fp16 = 0,
        Fp64 = 1,
        Atomic64 = 2,
        Image = 3,
        UsmDeviceAllocations = 4,
        UsmHostAllocations = 5,
        UsmSharedAllocations = 6,
        UsmSystemAllocations = 7,
        UsmAtomicHostAllocations = 8,
        UsmAtomicSharedAllocations = 9,
        QueueProfiling = 10,
        OnlineCompiler = 11,
        OnlineLinker = 12,
        Uuid = 13,
    }

    /// `dpcore_backend_abi::affinity` values (bit numbers).
    #[repr(u32)]
    enum AffinityDomain {
        Numa = 0,
        L4Cache = 1,
        L3Cache = 2,
        L2Cache = 3,
        L1Cache = 4,
        NextPartitionable = 5,
    }

    /// `dpcore_backend_abi::partition_kind` values.
    #[repr(i32)]
    enum PartitionKind {
        Equally = 1,
        ByCounts = 2,
        ByAffinityDomain = 3,
    }

    /// What `device_facts` learns about a device; turned into a
    /// `DeviceInfoV1` by the Rust side.
    struct DeviceFacts {
        backend: Backend,
        device_type: DeviceType,
        name: String,
        vendor: String,
        driver_version: String,
        version: String,
        platform_name: String,
        platform_version: String,
        vendor_id: u32,
        max_compute_units: u32,
        max_clock_frequency: u32,
        max_work_item_dimensions: u32,
        global_mem_size: u64,
        local_mem_size: u64,
        max_mem_alloc_size: u64,
        global_mem_cache_size: u64,
        max_work_group_size: u64,
        max_work_item_sizes: [u64; 3],
        max_num_sub_groups: u32,
        sub_group_sizes: Vec<u64>,
        /// Bits `1 << Aspect`.
        aspects: u64,
        has_uuid: bool,
        uuid: [u8; 16],
        is_sub_device: bool,
        partition_max_sub_devices: u32,
        partition_equally: bool,
        partition_by_counts: bool,
        partition_by_affinity_domain: bool,
        /// Bits `1 << AffinityDomain`.
        affinity_domains: u32,
        /// One line per query that threw (its field is left zero).
        failed_queries: Vec<String>,
        /// Index of the device's platform in `platform_facts` order;
        /// `u32::MAX` when not found.
        platform_index: u32,
    }

    /// `dpcore_backend_abi::usm_kind` values.
    #[repr(i32)]
    enum UsmKind {
        Unknown = 0,
        Device = 1,
        Shared = 2,
        Host = 3,
    }

    /// `dpcore_backend_abi::event_status` values.
    #[repr(i32)]
    enum EventStatus {
        Submitted = 0,
        Running = 1,
        Complete = 2,
    }

    /// What `usm_pointer_facts` learns about a pointer.
    struct PointerFacts {
        kind: UsmKind,
        /// Whether `base` and `size` (the containing allocation) are known.
        has_range: bool,
        base: usize,
        size: usize,
    }

    /// Profiling timestamps of an event, in ns.
    struct ProfilingTimes {
        submit: u64,
        start: u64,
        end: u64,
    }

    /// A backend's own handle of a device, context or queue.
    struct NativeHandle {
        backend: Backend,
        /// False for a backend without native handles (then `handle` is 0).
        supported: bool,
        handle: usize,
    }

    /// What `platform_facts` learns about one platform.
    struct PlatformFacts {
        backend: Backend,
        n_devices: u32,
        name: String,
        vendor: String,
        version: String,
    }

    /// `dpcore_backend_abi::source_kind` values.
    #[repr(i32)]
    enum SourceKind {
        Spirv = 1,
        OpenClC = 2,
        Sycl = 3,
    }

    /// `dpcore_backend_abi::arg_kind` values.
    #[repr(i32)]
    enum ArgKind {
        Pointer = 1,
        Scalar = 2,
        Local = 3,
    }

    /// One kernel argument; the same layout as `KernelArgV1` (checked
    /// below), so the core's array is handed to C++ as it is.
    struct KernelArg {
        kind: ArgKind,
        size: usize,
        /// The pointer (POINTER) or the address of the value (SCALAR).
        value: usize,
    }

    /// What `kernel_facts` learns about a kernel on a device (zero where a
    /// query failed).
    struct KernelFacts {
        name: String,
        num_args: u32,
        has_num_args: bool,
        max_work_group_size: u64,
        preferred_work_group_size_multiple: u64,
        private_mem_size: u64,
        local_mem_size: u64,
        compile_work_group_size: [u64; 3],
        max_sub_group_size: u32,
        max_num_sub_groups: u32,
        compile_sub_group_size: u32,
        compile_num_sub_groups: u32,
    }

    /// What `runtime_facts` learns about the SYCL runtime.
    struct RuntimeFacts {
        runtime: String,
        runtime_path: String,
        abi_major: u32,
        n_platforms: u32,
    }

    unsafe extern "C++" {
        include!("dpcore-sycl/src/bridge.h");

        /// One device object (holds a `sycl::device`).
        type Device;
        /// An ordered list of `sycl::device`s.
        type DeviceList;

        fn root_devices() -> Result<UniquePtr<DeviceList>>;
        fn device_list_len(list: &DeviceList) -> usize;
        fn device_list_get(list: &DeviceList, index: usize) -> Result<UniquePtr<Device>>;
        fn device_facts(dev: &Device) -> Result<DeviceFacts>;
        fn device_equal(a: &Device, b: &Device) -> bool;
        fn device_parent(dev: &Device) -> Result<UniquePtr<Device>>;
        fn device_partition(
            dev: &Device,
            kind: PartitionKind,
            params: &[usize],
        ) -> Result<UniquePtr<DeviceList>>;
        fn device_native(dev: &Device) -> usize;
        fn runtime_facts() -> Result<RuntimeFacts>;
        fn platform_facts() -> Result<Vec<PlatformFacts>>;

        /// A context object (holds a `sycl::context`).
        type Context;
        /// A queue object (a `sycl::queue` and its asynchronous errors).
        type Queue;
        /// An event object (holds a `sycl::event`).
        type Event;
        /// A list of events (dependencies, or events to wait for).
        type EventList;

        fn device_list_new() -> Result<UniquePtr<DeviceList>>;
        fn device_list_push(list: Pin<&mut DeviceList>, dev: &Device) -> Result<()>;
        fn event_list_new() -> Result<UniquePtr<EventList>>;
        fn event_list_push(list: Pin<&mut EventList>, ev: &Event) -> Result<()>;

        fn context_default(dev: &Device) -> Result<UniquePtr<Context>>;
        fn context_create(devs: &DeviceList) -> Result<UniquePtr<Context>>;
        fn context_equal(a: &Context, b: &Context) -> bool;
        fn context_native(ctx: &Context) -> usize;

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

        fn enqueue_barrier(
            q: &Queue,
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;
        fn enqueue_memcpy(
            q: &Queue,
            dst: usize,
            src: usize,
            n: usize,
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;
        fn enqueue_memset(
            q: &Queue,
            p: usize,
            value: u8,
            n: usize,
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;
        fn enqueue_fill(
            q: &Queue,
            p: usize,
            pattern: &[u8],
            count: usize,
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;
        fn enqueue_prefetch(
            q: &Queue,
            p: usize,
            n: usize,
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;
        fn enqueue_mem_advise(
            q: &Queue,
            p: usize,
            n: usize,
            advice: i32,
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;

        fn events_wait(evs: &EventList) -> Result<()>;
        fn event_wait_one(ev: &Event) -> Result<()>;
        fn event_status(ev: &Event) -> Result<EventStatus>;
        fn event_profiling(ev: &Event) -> Result<ProfilingTimes>;
        fn event_native(ev: &Event) -> usize;
        /// # Safety
        /// `native` is the address of a live `sycl::event`.
        unsafe fn event_adopt(native: usize) -> Result<UniquePtr<Event>>;

        fn usm_alloc(q: &Queue, kind: UsmKind, size: usize, align: usize) -> Result<usize>;
        fn usm_free(ctx: &Context, p: usize) -> Result<()>;
        fn usm_pointer_facts(ctx: &Context, p: usize) -> Result<PointerFacts>;
        fn usm_pointer_kind(ctx: &Context, p: usize) -> Result<UsmKind>;
        fn usm_pointer_device(ctx: &Context, p: usize) -> Result<UniquePtr<Device>>;

        fn native_handle_device(dev: &Device) -> Result<NativeHandle>;
        fn native_handle_context(ctx: &Context) -> Result<NativeHandle>;
        fn native_handle_queue(q: &Queue) -> Result<NativeHandle>;

        /// An executable kernel bundle (a `sycl::kernel_bundle`).
        type Bundle;
        /// A kernel object (holds a `sycl::kernel`).
        type Kernel;

        /// On a failed build (BUILD_FAILED), `log` receives the full log.
        fn bundle_create(
            ctx: &Context,
            dev: &Device,
            kind: SourceKind,
            src: &[u8],
            options: &[u8],
            log: Pin<&mut CxxString>,
        ) -> Result<UniquePtr<Bundle>>;
        fn bundle_kernel_names(b: &Bundle) -> Result<String>;
        fn bundle_has_kernel(b: &Bundle, name: &[u8]) -> Result<bool>;
        fn bundle_get_kernel(b: &Bundle, name: &[u8]) -> Result<UniquePtr<Kernel>>;
        fn bundle_native(b: &Bundle) -> usize;
        fn kernel_facts(k: &Kernel, dev: &Device) -> Result<KernelFacts>;
        fn kernel_native(k: &Kernel) -> usize;
        /// `global` has 1 to 3 sizes; `local` is empty or as long.
        fn enqueue_kernel(
            q: &Queue,
            k: &Kernel,
            global: &[usize],
            local: &[usize],
            args: &[KernelArg],
            deps: &EventList,
            want_event: bool,
        ) -> Result<UniquePtr<Event>>;
    }
}

// The bridge's enums restate numbers of the ABI crate; keep them in step.
const _: () = {
    assert!(ffi::Status::InvalidArgument.repr == status::INVALID_ARGUMENT);
    assert!(ffi::Status::NotFound.repr == status::NOT_FOUND);
    assert!(ffi::Status::BuildFailed.repr == status::BUILD_FAILED);
    assert!(ffi::Status::Backend.repr == status::BACKEND);
    assert!(ffi::Status::Unsupported.repr == status::UNSUPPORTED);
    assert!(ffi::Status::OutOfHostMemory.repr == status::OUT_OF_HOST_MEMORY);
    assert!(ffi::Status::OutOfDeviceMemory.repr == status::OUT_OF_DEVICE_MEMORY);
    assert!(ffi::Status::Internal.repr == status::INTERNAL);

    assert!(ffi::Backend::Unknown.repr == backend::UNKNOWN);
    assert!(ffi::Backend::OpenCl.repr == backend::OPENCL);
    assert!(ffi::Backend::LevelZero.repr == backend::LEVEL_ZERO);
    assert!(ffi::Backend::Cuda.repr == backend::CUDA);
    assert!(ffi::Backend::Hip.repr == backend::HIP);
    assert!(ffi::Backend::NativeCpu.repr == backend::NATIVE_CPU);

    assert!(ffi::DeviceType::Unknown.repr == device_type::UNKNOWN);
    assert!(ffi::DeviceType::Cpu.repr == device_type::CPU);
    assert!(ffi::DeviceType::Gpu.repr == device_type::GPU);
    assert!(ffi::DeviceType::Accelerator.repr == device_type::ACCELERATOR);
    assert!(ffi::DeviceType::Custom.repr == device_type::CUSTOM);

    assert!(ffi::Aspect::Fp16.repr == aspect::FP16);
    assert!(ffi::Aspect::Fp64.repr == aspect::FP64);
    assert!(ffi::Aspect::Atomic64.repr == aspect::ATOMIC64);
    assert!(ffi::Aspect::Image.repr == aspect::IMAGE);
    assert!(ffi::Aspect::UsmDeviceAllocations.repr == aspect::USM_DEVICE_ALLOCATIONS);
    assert!(ffi::Aspect::UsmHostAllocations.repr == aspect::USM_HOST_ALLOCATIONS);
    assert!(ffi::Aspect::UsmSharedAllocations.repr == aspect::USM_SHARED_ALLOCATIONS);
    assert!(ffi::Aspect::UsmSystemAllocations.repr == aspect::USM_SYSTEM_ALLOCATIONS);
    assert!(ffi::Aspect::UsmAtomicHostAllocations.repr == aspect::USM_ATOMIC_HOST_ALLOCATIONS);
    assert!(ffi::Aspect::UsmAtomicSharedAllocations.repr == aspect::USM_ATOMIC_SHARED_ALLOCATIONS);
    assert!(ffi::Aspect::QueueProfiling.repr == aspect::QUEUE_PROFILING);
    assert!(ffi::Aspect::OnlineCompiler.repr == aspect::ONLINE_COMPILER);
    assert!(ffi::Aspect::OnlineLinker.repr == aspect::ONLINE_LINKER);
    assert!(ffi::Aspect::Uuid.repr == aspect::UUID);

    assert!(ffi::AffinityDomain::Numa.repr == affinity::NUMA);
    assert!(ffi::AffinityDomain::L4Cache.repr == affinity::L4_CACHE);
    assert!(ffi::AffinityDomain::L3Cache.repr == affinity::L3_CACHE);
    assert!(ffi::AffinityDomain::L2Cache.repr == affinity::L2_CACHE);
    assert!(ffi::AffinityDomain::L1Cache.repr == affinity::L1_CACHE);
    assert!(ffi::AffinityDomain::NextPartitionable.repr == affinity::NEXT_PARTITIONABLE);

    assert!(ffi::PartitionKind::Equally.repr == partition_kind::EQUALLY);
    assert!(ffi::PartitionKind::ByCounts.repr == partition_kind::BY_COUNTS);
    assert!(ffi::PartitionKind::ByAffinityDomain.repr == partition_kind::BY_AFFINITY_DOMAIN);

    assert!(ffi::UsmKind::Unknown.repr == usm_kind::UNKNOWN);
    assert!(ffi::UsmKind::Device.repr == usm_kind::DEVICE);
    assert!(ffi::UsmKind::Shared.repr == usm_kind::SHARED);
    assert!(ffi::UsmKind::Host.repr == usm_kind::HOST);

    assert!(ffi::EventStatus::Submitted.repr == event_status::SUBMITTED);
    assert!(ffi::EventStatus::Running.repr == event_status::RUNNING);
    assert!(ffi::EventStatus::Complete.repr == event_status::COMPLETE);

    assert!(ffi::SourceKind::Spirv.repr == source_kind::SPIRV);
    assert!(ffi::SourceKind::OpenClC.repr == source_kind::OPENCL_C);
    assert!(ffi::SourceKind::Sycl.repr == source_kind::SYCL);

    assert!(ffi::ArgKind::Pointer.repr == arg_kind::POINTER);
    assert!(ffi::ArgKind::Scalar.repr == arg_kind::SCALAR);
    assert!(ffi::ArgKind::Local.repr == arg_kind::LOCAL);

    // The C++ side's table of scalar setters has 256 entries.
    assert!(MAX_SCALAR_ARG == 256);

    // `KernelArgV1` and the bridge's `KernelArg` have one layout, so that a
    // `KernelArgV1` array is read as `KernelArg`s without a copy (the
    // `kind` of a cxx enum is a transparent i32: any value is valid).
    use std::mem::{align_of, offset_of, size_of};
    assert!(size_of::<KernelArgV1>() == size_of::<ffi::KernelArg>());
    assert!(align_of::<KernelArgV1>() == align_of::<ffi::KernelArg>());
    assert!(offset_of!(KernelArgV1, kind) == offset_of!(ffi::KernelArg, kind));
    assert!(offset_of!(KernelArgV1, size) == offset_of!(ffi::KernelArg, size));
    assert!(offset_of!(KernelArgV1, value) == offset_of!(ffi::KernelArg, value));
    assert!(size_of::<ffi::ArgKind>() == size_of::<i32>());
};

// SAFETY: a `sycl::device` is a reference-counted handle whose member
// functions are thread-safe (SYCL 2020, 4.3.2), and the wrappers are never
// mutated after construction.
unsafe impl Send for ffi::Device {}
unsafe impl Sync for ffi::Device {}
// SAFETY: as above; a `DeviceList` is a vector of `sycl::device`, only
// mutated (through `Pin<&mut>`) while it is being built.
unsafe impl Send for ffi::DeviceList {}
unsafe impl Sync for ffi::DeviceList {}
// SAFETY: `sycl::context`, `sycl::queue` and `sycl::event` are thread-safe
// reference-counted handles (SYCL 2020, 4.3.2); a queue's asynchronous error
// list is protected by a mutex; the wrappers are never mutated after
// construction.
unsafe impl Send for ffi::Context {}
unsafe impl Sync for ffi::Context {}
unsafe impl Send for ffi::Queue {}
unsafe impl Sync for ffi::Queue {}
unsafe impl Send for ffi::Event {}
unsafe impl Sync for ffi::Event {}
// SAFETY: `sycl::kernel_bundle` and `sycl::kernel` are thread-safe
// reference-counted handles too; a `Bundle`'s other members (build log,
// kernel names, its cl_program reference) are never mutated after
// construction.
unsafe impl Send for ffi::Bundle {}
unsafe impl Sync for ffi::Bundle {}
unsafe impl Send for ffi::Kernel {}
unsafe impl Sync for ffi::Kernel {}

/// The SYCL ABI major this plugin was built for (`N` of `libsycl.so.N`).
pub const SYCL_ABI_MAJOR: &str = env!("DPCORE_SYCL_ABI_MAJOR");

// ---------------------------------------------------------------------------
// Host callbacks

/// The host's callbacks, copied out of the `HostV1` given to init (the core
/// does not promise that struct outlives the call).
#[derive(Clone, Copy)]
struct Host {
    set_error: unsafe extern "C" fn(status: i32, backend_code: i64, msg: *const u8, len: usize),
    log: unsafe extern "C" fn(level: i32, msg: *const u8, len: usize),
    set_build_log: unsafe extern "C" fn(log: *const u8, len: usize),
}

/// Set by `dpcore_backend_init` (the latest call wins).
static HOST: RwLock<Option<Host>> = RwLock::new(None);

fn host() -> Option<Host> {
    match HOST.read() {
        Ok(guard) => *guard,
        Err(poisoned) => *poisoned.into_inner(),
    }
}

/// Log levels of [`HostV1::log`].
const LOG_WARNING: i32 = 1;
const LOG_DEBUG: i32 = 3;

fn log(level: i32, msg: &str) {
    if let Some(h) = host() {
        // SAFETY: the host promised a valid callback that copies `len`
        // bytes from `msg`.
        unsafe { (h.log)(level, msg.as_ptr(), msg.len()) }
    }
}

/// Record the build log of a failed build with the host (on this thread).
fn set_build_log(text: &[u8]) {
    if let Some(h) = host() {
        let text = String::from_utf8_lossy(text);
        // SAFETY: the host promised a valid callback that copies `len`
        // bytes from `log`.
        unsafe { (h.set_build_log)(text.as_ptr(), text.len()) }
    }
}

/// A failed table call: the status to return and what to tell
/// `HostV1::set_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    status: i32,
    backend_code: i64,
    message: String,
}

impl Failure {
    fn new(status: i32, message: impl Into<String>) -> Self {
        Failure {
            status,
            backend_code: 0,
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Failure::new(status::INVALID_ARGUMENT, message)
    }

    /// Decode the `[dpcore:<status>:<code>] message` form the C++ side
    /// gives every exception; anything else is a plain BACKEND error.
    fn from_exception(e: &cxx::Exception) -> Self {
        Self::from_message(e.what())
    }

    fn from_message(what: &str) -> Self {
        let parsed = what.strip_prefix("[dpcore:").and_then(|rest| {
            let (header, message) = rest.split_once("] ")?;
            let (st, code) = header.split_once(':')?;
            Some(Failure {
                status: st.parse().ok()?,
                backend_code: code.parse().ok()?,
                message: message.to_string(),
            })
        });
        match parsed {
            Some(f) if f.status != status::SUCCESS => f,
            _ => Failure::new(status::BACKEND, what),
        }
    }

    /// Hand the failure to the host; returns the status.
    fn report(&self) -> i32 {
        if let Some(h) = host() {
            let msg = format!("dpcore-sycl: {}", self.message);
            // SAFETY: the host promised a valid callback that copies `len`
            // bytes from `msg`.
            unsafe { (h.set_error)(self.status, self.backend_code, msg.as_ptr(), msg.len()) }
        }
        self.status
    }
}

impl From<cxx::Exception> for Failure {
    fn from(e: cxx::Exception) -> Self {
        Failure::from_exception(&e)
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// Run `f` as the body of a table function: a panic becomes INTERNAL, a
/// [`Failure`] is reported to the host. Returns the status.
fn guarded(name: &str, f: impl FnOnce() -> Result<(), Failure>) -> i32 {
    let failure = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return status::SUCCESS,
        Ok(Err(failure)) => failure,
        Err(payload) => {
            let msg = panic_message(&*payload);
            // Dropping the payload runs foreign code of its own; keep a
            // panic there from escaping too.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            Failure::new(status::INTERNAL, format!("panic in {name}: {msg}"))
        }
    };
    // Formatting the message may itself panic (e.g. out of memory).
    catch_unwind(AssertUnwindSafe(|| failure.report())).unwrap_or(status::INTERNAL)
}

fn non_null<T>(p: *const T, what: &str) -> Result<(), Failure> {
    if p.is_null() {
        Err(Failure::invalid(format!("{what} is NULL")))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Device objects

/// Hand an object (device, context, queue, event) out as an [`Obj`]
/// (released by the matching `*_release`, see [`release`]).
fn into_obj<T: UniquePtrTarget>(obj: UniquePtr<T>) -> Obj {
    obj.into_raw().cast()
}

/// Borrow the object of type `T` behind an [`Obj`].
///
/// # Safety
/// `obj` must be NULL or an object of type `T` from this plugin not yet
/// released.
unsafe fn obj_ref<'a, T>(obj: Obj, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: by the caller's promise, a non-NULL `obj` came from `into_obj`
    // with a `UniquePtr<T>`.
    unsafe { obj.cast::<T>().as_ref() }.ok_or_else(|| Failure::invalid(format!("{what} is NULL")))
}

/// Borrow the device behind an [`Obj`].
///
/// # Safety
/// As for [`obj_ref`].
unsafe fn device_ref<'a>(obj: Obj, what: &str) -> Result<&'a ffi::Device, Failure> {
    // SAFETY: the caller's promise.
    unsafe { obj_ref(obj, what) }
}

/// Give back an object handed out by [`into_obj`]; NULL is ignored.
///
/// # Safety
/// `obj` must be NULL or an object of type `T` from this plugin, given back
/// once.
unsafe fn release<T: UniquePtrTarget>(obj: Obj) {
    if obj.is_null() {
        return;
    }
    let _ = catch_unwind(|| {
        // SAFETY: the caller's promise.
        drop(unsafe { UniquePtr::from_raw(obj.cast::<T>()) });
    });
}

/// The address a `*_native` function returns, or NULL for a NULL object.
///
/// # Safety
/// As for [`obj_ref`].
unsafe fn native_of<T>(obj: Obj, native: impl Fn(&T) -> usize) -> *mut c_void {
    if obj.is_null() {
        return ptr::null_mut();
    }
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller's promise.
        let obj = unsafe { &*obj.cast::<T>() };
        native(obj) as *mut c_void
    }))
    .unwrap_or(ptr::null_mut())
}

/// Whether two objects of type `T` are equal by `eq`; false if either is NULL.
///
/// # Safety
/// As for [`obj_ref`], for both.
unsafe fn equal_by<T>(a: Obj, b: Obj, eq: impl Fn(&T, &T) -> bool) -> bool {
    if a.is_null() || b.is_null() {
        return false;
    }
    if a == b {
        return true;
    }
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller's promise.
        let (a, b) = unsafe { (&*a.cast::<T>(), &*b.cast::<T>()) };
        eq(a, b)
    }))
    .unwrap_or(false)
}

/// New objects for the first `n` devices of `list`, all or nothing.
fn take_devices(list: &ffi::DeviceList, n: usize) -> Result<Vec<UniquePtr<ffi::Device>>, Failure> {
    (0..n)
        .map(|i| ffi::device_list_get(list, i).map_err(Failure::from))
        .collect()
}

/// The two-call pattern: write `min(cap, count)` new objects to `buf` (if
/// not NULL) and the count to `*count_out`.
///
/// # Safety
/// `buf` must be NULL or valid for `cap` writes; `count_out` must be valid.
unsafe fn hand_out(
    list: &ffi::DeviceList,
    buf: *mut Obj,
    cap: usize,
    count_out: *mut usize,
) -> Result<(), Failure> {
    let count = ffi::device_list_len(list);
    if !buf.is_null() {
        let objs = take_devices(list, cap.min(count))?;
        for (i, dev) in objs.into_iter().enumerate() {
            // SAFETY: i < min(cap, count) <= cap and `buf` holds `cap` slots.
            unsafe { buf.add(i).write(into_obj(dev)) };
        }
    }
    // SAFETY: checked non-NULL by the caller.
    unsafe { count_out.write(count) };
    Ok(())
}

/// The root devices, listed once (at init, or at the first `device_list`
/// if init could not).
static ROOTS: OnceLock<UniquePtr<ffi::DeviceList>> = OnceLock::new();

fn roots() -> Result<&'static ffi::DeviceList, Failure> {
    if let Some(list) = ROOTS.get() {
        return Ok(list);
    }
    let list = ffi::root_devices()?;
    let n = ffi::device_list_len(&list);
    // Another thread may have won the race; either list is the same.
    let list = ROOTS.get_or_init(|| list);
    log(LOG_DEBUG, &format!("dpcore-sycl: {n} SYCL root device(s)"));
    if n == 0 {
        log(
            LOG_WARNING,
            "dpcore-sycl: SYCL reports no device (for the OpenCL CPU device, set \
             OCL_ICD_FILENAMES to the path of libintelocl.so)",
        );
    }
    Ok(list.as_ref().expect("root_devices never returns NULL"))
}

// ---------------------------------------------------------------------------
// The table

unsafe extern "C" fn runtime_info(out: *mut RuntimeInfoV1) -> i32 {
    guarded("runtime_info", || {
        non_null(out, "out")?;
        let facts = ffi::runtime_facts()?;
        let mut info = RuntimeInfoV1::zeroed();
        write_str(&mut info.name, "sycl");
        write_str(&mut info.runtime, &facts.runtime);
        write_str(&mut info.runtime_path, &facts.runtime_path);
        info.runtime_abi_major = facts.abi_major;
        info.n_platforms = facts.n_platforms;
        // SAFETY: checked non-NULL; the core passes a writable record.
        unsafe { out.write(info) };
        Ok(())
    })
}

/// The platforms, listed once.
static PLATFORMS: OnceLock<Vec<PlatformInfoV1>> = OnceLock::new();

fn platforms() -> Result<&'static [PlatformInfoV1], Failure> {
    if let Some(p) = PLATFORMS.get() {
        return Ok(p);
    }
    let list: Vec<PlatformInfoV1> = ffi::platform_facts()?
        .iter()
        .map(|f| {
            let mut p = PlatformInfoV1::zeroed();
            p.backend = f.backend.repr;
            p.n_devices = f.n_devices;
            write_str(&mut p.name, &f.name);
            write_str(&mut p.vendor, &f.vendor);
            write_str(&mut p.version, &f.version);
            p
        })
        .collect();
    Ok(PLATFORMS.get_or_init(|| list))
}

unsafe extern "C" fn platform_list(
    buf: *mut PlatformInfoV1,
    cap: usize,
    count_out: *mut usize,
) -> i32 {
    guarded("platform_list", || {
        non_null(count_out, "count_out")?;
        let list = platforms()?;
        if !buf.is_null() {
            let n = cap.min(list.len());
            // SAFETY: the caller promises `buf` holds `cap` records.
            unsafe { ptr::copy_nonoverlapping(list.as_ptr(), buf, n) };
        }
        // SAFETY: checked non-NULL.
        unsafe { count_out.write(list.len()) };
        Ok(())
    })
}

unsafe extern "C" fn device_list(buf: *mut Obj, cap: usize, count_out: *mut usize) -> i32 {
    guarded("device_list", || {
        non_null(count_out, "count_out")?;
        let list = roots()?;
        // SAFETY: the caller's promises on `buf`, `cap` and `count_out`.
        unsafe { hand_out(list, buf, cap, count_out) }
    })
}

fn info_from_facts(f: &ffi::DeviceFacts) -> DeviceInfoV1 {
    let mut info = DeviceInfoV1::zeroed();
    info.backend = f.backend.repr;
    info.device_type = f.device_type.repr;
    write_str(&mut info.name, &f.name);
    write_str(&mut info.vendor, &f.vendor);
    write_str(&mut info.driver_version, &f.driver_version);
    write_str(&mut info.version, &f.version);
    write_str(&mut info.platform_name, &f.platform_name);
    write_str(&mut info.platform_version, &f.platform_version);
    info.vendor_id = f.vendor_id;
    info.max_compute_units = f.max_compute_units;
    info.max_clock_frequency = f.max_clock_frequency;
    info.max_work_item_dimensions = f.max_work_item_dimensions;
    info.global_mem_size = f.global_mem_size;
    info.local_mem_size = f.local_mem_size;
    info.max_mem_alloc_size = f.max_mem_alloc_size;
    info.global_mem_cache_size = f.global_mem_cache_size;
    info.max_work_group_size = f.max_work_group_size;
    info.max_work_item_sizes = f.max_work_item_sizes;
    info.max_num_sub_groups = f.max_num_sub_groups;
    let n = f.sub_group_sizes.len().min(MAX_SUB_GROUP_SIZES);
    info.sub_group_sizes[..n].copy_from_slice(&f.sub_group_sizes[..n]);
    info.n_sub_group_sizes = n as u32;
    info.aspects = f.aspects;
    if f.has_uuid {
        info.uuid = f.uuid;
    }
    info.is_sub_device = u32::from(f.is_sub_device);
    info.partition_max_sub_devices = f.partition_max_sub_devices;
    info.partition_properties = [
        (f.partition_equally, partition::EQUALLY),
        (f.partition_by_counts, partition::BY_COUNTS),
        (
            f.partition_by_affinity_domain,
            partition::BY_AFFINITY_DOMAIN,
        ),
    ]
    .iter()
    .filter(|(has, _)| *has)
    .fold(0, |bits, (_, bit)| bits | bit);
    info.affinity_domains = f.affinity_domains;
    info.platform_index = f.platform_index;
    info
}

unsafe extern "C" fn device_info(dev: Obj, out: *mut DeviceInfoV1) -> i32 {
    guarded("device_info", || {
        // SAFETY: the caller passes a live object or NULL.
        let dev = unsafe { device_ref(dev, "dev") }?;
        non_null(out, "out")?;
        let facts = ffi::device_facts(dev)?;
        if !facts.failed_queries.is_empty() {
            log(
                LOG_DEBUG,
                &format!(
                    "dpcore-sycl: device '{}': some queries failed and were left empty: {}",
                    facts.name,
                    facts.failed_queries.join("; ")
                ),
            );
        }
        let info = info_from_facts(&facts);
        // SAFETY: checked non-NULL; the core passes a writable record.
        unsafe { out.write(info) };
        Ok(())
    })
}

unsafe extern "C" fn device_equal(a: Obj, b: Obj) -> bool {
    catch_unwind(|| {
        if a.is_null() || b.is_null() {
            return false;
        }
        if a == b {
            return true;
        }
        // SAFETY: both are live objects of this plugin.
        let (a, b) = unsafe { (&*a.cast::<ffi::Device>(), &*b.cast::<ffi::Device>()) };
        ffi::device_equal(a, b)
    })
    .unwrap_or(false)
}

unsafe extern "C" fn device_parent(dev: Obj, out: *mut Obj) -> i32 {
    guarded("device_parent", || {
        non_null(out, "out")?;
        // SAFETY: checked non-NULL; a failed call leaves NULL behind.
        unsafe { out.write(ptr::null_mut()) };
        // SAFETY: the caller passes a live object or NULL.
        let dev = unsafe { device_ref(dev, "dev") }?;
        let parent = ffi::device_parent(dev)?;
        if !parent.is_null() {
            // SAFETY: as above.
            unsafe { out.write(into_obj(parent)) };
        }
        Ok(())
    })
}

/// Check `kind` and `params` and turn `kind` into the bridge's enum.
fn partition_request(kind: i32, params: &[usize]) -> Result<ffi::PartitionKind, Failure> {
    let (kind, what) = match kind {
        partition_kind::EQUALLY => (ffi::PartitionKind::Equally, "EQUALLY"),
        partition_kind::BY_COUNTS => (ffi::PartitionKind::ByCounts, "BY_COUNTS"),
        partition_kind::BY_AFFINITY_DOMAIN => {
            (ffi::PartitionKind::ByAffinityDomain, "BY_AFFINITY_DOMAIN")
        }
        other => return Err(Failure::invalid(format!("unknown partition kind {other}"))),
    };
    if kind == ffi::PartitionKind::ByCounts {
        if params.is_empty() {
            return Err(Failure::invalid(
                "partition BY_COUNTS needs at least one count",
            ));
        }
    } else if params.len() != 1 {
        return Err(Failure::invalid(format!(
            "partition {what} takes exactly one parameter, got {}",
            params.len()
        )));
    }
    // Some runtimes crash (divide by zero) on create_sub_devices(0).
    if kind == ffi::PartitionKind::Equally && params[0] == 0 {
        return Err(Failure::invalid(
            "partition EQUALLY needs at least one compute unit per sub-device",
        ));
    }
    if kind == ffi::PartitionKind::ByAffinityDomain
        && params[0] > affinity::NEXT_PARTITIONABLE as usize
    {
        return Err(Failure::invalid(format!(
            "unknown affinity domain {}",
            params[0]
        )));
    }
    Ok(kind)
}

unsafe extern "C" fn device_partition(
    dev: Obj,
    kind: i32,
    params: *const usize,
    n_params: usize,
    buf: *mut Obj,
    cap: usize,
    count_out: *mut usize,
) -> i32 {
    guarded("device_partition", || {
        // SAFETY: the caller passes a live object or NULL.
        let dev = unsafe { device_ref(dev, "dev") }?;
        non_null(count_out, "count_out")?;
        let params: &[usize] = if n_params == 0 {
            &[]
        } else {
            non_null(params, "params")?;
            // SAFETY: the caller promises `n_params` readable values.
            unsafe { std::slice::from_raw_parts(params, n_params) }
        };
        let kind = partition_request(kind, params)?;
        let subs = ffi::device_partition(dev, kind, params)?;
        // SAFETY: the caller's promises on `buf`, `cap` and `count_out`;
        // the sub-devices not handed out are dropped with `subs`.
        unsafe { hand_out(&subs, buf, cap, count_out) }
    })
}

unsafe extern "C" fn device_release(dev: Obj) {
    if dev.is_null() {
        return;
    }
    let _ = catch_unwind(|| {
        // SAFETY: `dev` came from `into_obj` and is given back exactly once.
        drop(unsafe { UniquePtr::from_raw(dev.cast::<ffi::Device>()) });
    });
}

unsafe extern "C" fn device_native(dev: Obj) -> *mut c_void {
    if dev.is_null() {
        return ptr::null_mut();
    }
    catch_unwind(|| {
        // SAFETY: a live object of this plugin.
        let dev = unsafe { &*dev.cast::<ffi::Device>() };
        ffi::device_native(dev) as *mut c_void
    })
    .unwrap_or(ptr::null_mut())
}

// ---------------------------------------------------------------------------
// Helpers for the object-returning functions

/// Check an object out-parameter and set it to NULL, so that a failed call
/// leaves NULL behind.
///
/// # Safety
/// `out` must be NULL or valid for a write.
unsafe fn clear_out(out: *mut Obj, what: &str) -> Result<(), Failure> {
    non_null(out, what)?;
    // SAFETY: checked non-NULL; the caller's promise.
    unsafe { out.write(ptr::null_mut()) };
    Ok(())
}

/// The event out-parameter of an enqueue function: NULL when the caller
/// wants no event.
struct EventOut(*mut Obj);

impl EventOut {
    /// # Safety
    /// `ev_out` must be NULL or valid for a write.
    unsafe fn new(ev_out: *mut Obj) -> Self {
        if !ev_out.is_null() {
            // SAFETY: the caller's promise; a failed call leaves NULL.
            unsafe { ev_out.write(ptr::null_mut()) };
        }
        EventOut(ev_out)
    }

    fn wanted(&self) -> bool {
        !self.0.is_null()
    }

    /// Hand out the event the C++ side made (exactly when it was wanted).
    fn set(self, ev: UniquePtr<ffi::Event>) -> Result<(), Failure> {
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

/// The `n` objects at `objs` (checked: `objs` and every element non-NULL).
///
/// # Safety
/// `objs` must be NULL or valid for `n` reads.
unsafe fn obj_slice<'a>(objs: *const Obj, n: usize, what: &str) -> Result<&'a [Obj], Failure> {
    if n == 0 {
        return Ok(&[]);
    }
    non_null(objs, what)?;
    // SAFETY: non-NULL and, by the caller's promise, valid for `n` reads.
    let objs = unsafe { std::slice::from_raw_parts(objs, n) };
    if let Some(i) = objs.iter().position(|o| o.is_null()) {
        return Err(Failure::invalid(format!("{what}[{i}] is NULL")));
    }
    Ok(objs)
}

/// The events of an `Obj` array as an `EventList`.
///
/// # Safety
/// `evs` must be NULL or hold `n` events of this plugin, NULL or live.
unsafe fn event_list(
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

/// Name of a [`backend`] value, for messages.
fn backend_name(b: i32) -> &'static str {
    match b {
        backend::OPENCL => "OpenCL",
        backend::LEVEL_ZERO => "Level Zero",
        backend::CUDA => "CUDA",
        backend::HIP => "HIP",
        backend::NATIVE_CPU => "native CPU",
        _ => "unknown",
    }
}

// ---------------------------------------------------------------------------
// Contexts

unsafe extern "C" fn context_default(dev: Obj, out: *mut Obj) -> i32 {
    guarded("context_default", || {
        // SAFETY: the caller passes a writable `out` or NULL.
        unsafe { clear_out(out, "out") }?;
        // SAFETY: the caller passes a live object or NULL.
        let dev = unsafe { device_ref(dev, "dev") }?;
        let ctx = ffi::context_default(dev)?;
        // SAFETY: checked non-NULL by `clear_out`.
        unsafe { out.write(into_obj(ctx)) };
        Ok(())
    })
}

unsafe extern "C" fn context_create(devs: *const Obj, n: usize, out: *mut Obj) -> i32 {
    guarded("context_create", || {
        // SAFETY: the caller passes a writable `out` or NULL.
        unsafe { clear_out(out, "out") }?;
        if n == 0 {
            return Err(Failure::invalid(
                "n is 0: a context needs at least one device",
            ));
        }
        // SAFETY: the caller promises `n` readable objects at `devs`.
        let objs = unsafe { obj_slice(devs, n, "devs") }?;
        let mut list = ffi::device_list_new()?;
        for &obj in objs {
            // SAFETY: non-NULL live device objects, by the caller's promise.
            let dev = unsafe { device_ref(obj, "devs") }?;
            ffi::device_list_push(list.pin_mut(), dev)?;
        }
        let ctx = ffi::context_create(&list)?;
        // SAFETY: checked non-NULL by `clear_out`.
        unsafe { out.write(into_obj(ctx)) };
        Ok(())
    })
}

unsafe extern "C" fn context_release(ctx: Obj) {
    // SAFETY: a context object given back once, or NULL.
    unsafe { release::<ffi::Context>(ctx) }
}

unsafe extern "C" fn context_equal(a: Obj, b: Obj) -> bool {
    // SAFETY: live context objects or NULL.
    unsafe { equal_by(a, b, ffi::context_equal) }
}

unsafe extern "C" fn context_native(ctx: Obj) -> *mut c_void {
    // SAFETY: a live context object or NULL.
    unsafe { native_of(ctx, ffi::context_native) }
}

// ---------------------------------------------------------------------------
// Queues

unsafe extern "C" fn queue_create(ctx: Obj, dev: Obj, flags: u32, out: *mut Obj) -> i32 {
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

unsafe extern "C" fn queue_adopt(
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

unsafe extern "C" fn queue_release(q: Obj) {
    // SAFETY: a queue object given back once, or NULL.
    unsafe { release::<ffi::Queue>(q) }
}

unsafe extern "C" fn queue_equal(a: Obj, b: Obj) -> bool {
    // SAFETY: live queue objects or NULL.
    unsafe { equal_by(a, b, ffi::queue_equal) }
}

unsafe extern "C" fn queue_native(q: Obj) -> *mut c_void {
    // SAFETY: a live queue object or NULL.
    unsafe { native_of(q, ffi::queue_native) }
}

unsafe extern "C" fn queue_wait(q: Obj) -> i32 {
    guarded("queue_wait", || {
        // SAFETY: the caller passes a live object or NULL.
        let q = unsafe { obj_ref::<ffi::Queue>(q, "q") }?;
        ffi::queue_wait(q)?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// Enqueue

/// The common part of the enqueue functions: check `q`, set up `ev_out`,
/// build the dependency list, run `op` and hand its event out.
///
/// # Safety
/// `q` must be NULL or a live queue object; `deps` NULL or `n_deps` event
/// objects; `ev_out` NULL or valid for a write.
unsafe fn enqueue(
    q: Obj,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
    op: impl FnOnce(&ffi::Queue, &ffi::EventList, bool) -> Result<UniquePtr<ffi::Event>, Failure>,
) -> Result<(), Failure> {
    // SAFETY: the caller's promise on `ev_out`.
    let ev_out = unsafe { EventOut::new(ev_out) };
    // SAFETY: the caller's promise on `q`.
    let q = unsafe { obj_ref::<ffi::Queue>(q, "q") }?;
    // SAFETY: the caller's promise on `deps`.
    let deps = unsafe { event_list(deps, n_deps, "deps") }?;
    let ev = op(q, &deps, ev_out.wanted())?;
    ev_out.set(ev)
}

unsafe extern "C" fn enqueue_barrier(
    q: Obj,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    guarded("enqueue_barrier", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                Ok(ffi::enqueue_barrier(q, deps, want)?)
            })
        }
    })
}

unsafe extern "C" fn enqueue_memcpy(
    q: Obj,
    dst: *mut c_void,
    src: *const c_void,
    n: usize,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    guarded("enqueue_memcpy", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                if n != 0 {
                    non_null(dst, "dst")?;
                    non_null(src, "src")?;
                }
                Ok(ffi::enqueue_memcpy(
                    q,
                    dst as usize,
                    src as usize,
                    n,
                    deps,
                    want,
                )?)
            })
        }
    })
}

unsafe extern "C" fn enqueue_memset(
    q: Obj,
    p: *mut c_void,
    value: u8,
    n: usize,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    guarded("enqueue_memset", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                if n != 0 {
                    non_null(p, "p")?;
                }
                Ok(ffi::enqueue_memset(q, p as usize, value, n, deps, want)?)
            })
        }
    })
}

/// Fill pattern sizes the runtime's fill takes.
const FILL_PATTERN_SIZES: [usize; 5] = [1, 2, 4, 8, 16];

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn enqueue_fill(
    q: Obj,
    p: *mut c_void,
    pattern: *const c_void,
    pattern_size: usize,
    count: usize,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    guarded("enqueue_fill", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                if !FILL_PATTERN_SIZES.contains(&pattern_size) {
                    return Err(Failure::invalid(format!(
                        "fill pattern size must be 1, 2, 4, 8 or 16 bytes, not {pattern_size}"
                    )));
                }
                if count.checked_mul(pattern_size).is_none() {
                    return Err(Failure::invalid(format!(
                        "fill of {count} elements of {pattern_size} bytes overflows"
                    )));
                }
                let zero = [0u8; 16];
                let pattern: &[u8] = if count == 0 && pattern.is_null() {
                    &zero[..pattern_size]
                } else {
                    non_null(p, "p")?;
                    non_null(pattern, "pattern")?;
                    // SAFETY: non-NULL; the caller promises `pattern_size`
                    // readable bytes.
                    std::slice::from_raw_parts(pattern.cast::<u8>(), pattern_size)
                };
                Ok(ffi::enqueue_fill(
                    q, p as usize, pattern, count, deps, want,
                )?)
            })
        }
    })
}

unsafe extern "C" fn enqueue_prefetch(
    q: Obj,
    p: *const c_void,
    n: usize,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    guarded("enqueue_prefetch", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                if n != 0 {
                    non_null(p, "p")?;
                }
                Ok(ffi::enqueue_prefetch(q, p as usize, n, deps, want)?)
            })
        }
    })
}

unsafe extern "C" fn enqueue_mem_advise(
    q: Obj,
    p: *const c_void,
    n: usize,
    advice: i32,
    deps: *const Obj,
    n_deps: usize,
    ev_out: *mut Obj,
) -> i32 {
    guarded("enqueue_mem_advise", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                if n != 0 {
                    non_null(p, "p")?;
                }
                Ok(ffi::enqueue_mem_advise(
                    q, p as usize, n, advice, deps, want,
                )?)
            })
        }
    })
}

// ---------------------------------------------------------------------------
// Events

unsafe extern "C" fn event_wait(evs: *const Obj, n: usize) -> i32 {
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

unsafe extern "C" fn event_status(ev: Obj, out: *mut i32) -> i32 {
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

unsafe extern "C" fn event_profiling(ev: Obj, out: *mut u64) -> i32 {
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

unsafe extern "C" fn event_release(ev: Obj) {
    // SAFETY: an event object given back once, or NULL.
    unsafe { release::<ffi::Event>(ev) }
}

unsafe extern "C" fn event_native(ev: Obj) -> *mut c_void {
    // SAFETY: a live event object or NULL.
    unsafe { native_of(ev, ffi::event_native) }
}

unsafe extern "C" fn event_adopt(native: *mut c_void, out: *mut Obj) -> i32 {
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

// ---------------------------------------------------------------------------
// USM

unsafe extern "C" fn usm_alloc(
    q: Obj,
    kind: i32,
    size: usize,
    align: usize,
    out: *mut *mut c_void,
) -> i32 {
    guarded("usm_alloc", || {
        non_null(out, "out")?;
        // SAFETY: checked non-NULL; a failed call leaves NULL behind.
        unsafe { out.write(ptr::null_mut()) };
        // SAFETY: the caller passes a live object or NULL.
        let q = unsafe { obj_ref::<ffi::Queue>(q, "q") }?;
        let kind = match kind {
            usm_kind::DEVICE => ffi::UsmKind::Device,
            usm_kind::SHARED => ffi::UsmKind::Shared,
            usm_kind::HOST => ffi::UsmKind::Host,
            usm_kind::UNKNOWN => {
                return Err(Failure::invalid(
                    "USM kind UNKNOWN cannot be allocated (use DEVICE, SHARED or HOST)",
                ))
            }
            other => return Err(Failure::invalid(format!("unknown USM kind {other}"))),
        };
        if align != 0 && !align.is_power_of_two() {
            return Err(Failure::invalid(format!(
                "alignment {align} is not a power of two"
            )));
        }
        if size == 0 {
            return Err(Failure::invalid("size is 0"));
        }
        let p = ffi::usm_alloc(q, kind, size, align)?;
        // SAFETY: checked non-NULL.
        unsafe { out.write(p as *mut c_void) };
        Ok(())
    })
}

unsafe extern "C" fn usm_free(ctx: Obj, p: *mut c_void) -> i32 {
    guarded("usm_free", || {
        // SAFETY: the caller passes a live object or NULL.
        let ctx = unsafe { obj_ref::<ffi::Context>(ctx, "ctx") }?;
        // Like free(NULL): nothing to do.
        if !p.is_null() {
            ffi::usm_free(ctx, p as usize)?;
        }
        Ok(())
    })
}

unsafe extern "C" fn usm_pointer_kind(ctx: Obj, p: *const c_void, kind_out: *mut i32) -> i32 {
    guarded("usm_pointer_kind", || {
        // SAFETY: the caller passes a live object or NULL.
        let ctx = unsafe { obj_ref::<ffi::Context>(ctx, "ctx") }?;
        non_null(kind_out, "kind_out")?;
        // NULL is not USM: kind UNKNOWN.
        let kind = if p.is_null() {
            ffi::UsmKind::Unknown
        } else {
            ffi::usm_pointer_kind(ctx, p as usize)?
        };
        // SAFETY: checked non-NULL.
        unsafe { kind_out.write(kind.repr) };
        Ok(())
    })
}

unsafe extern "C" fn usm_pointer_info(ctx: Obj, p: *const c_void, out: *mut PointerInfoV1) -> i32 {
    guarded("usm_pointer_info", || {
        // SAFETY: the caller passes a live object or NULL.
        let ctx = unsafe { obj_ref::<ffi::Context>(ctx, "ctx") }?;
        non_null(out, "out")?;
        let mut info = PointerInfoV1::empty();
        // NULL is not USM: kind UNKNOWN.
        if !p.is_null() {
            let facts = ffi::usm_pointer_facts(ctx, p as usize)?;
            info.kind = facts.kind.repr;
            if facts.has_range {
                info.has_range = 1;
                info.base = facts.base;
                info.size = facts.size;
            }
            // Host USM belongs to the context, not to a device.
            if facts.kind == ffi::UsmKind::Device || facts.kind == ffi::UsmKind::Shared {
                let dev = ffi::usm_pointer_device(ctx, p as usize)?;
                if !dev.is_null() {
                    info.device = into_obj(dev);
                }
            }
        }
        // SAFETY: checked non-NULL; the core passes a writable record.
        unsafe { out.write(info) };
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// Kernel bundles and kernels

/// The bytes of a NUL-terminated string argument (checked non-NULL).
///
/// # Safety
/// `s` must be NULL or a NUL-terminated string.
unsafe fn c_str_arg<'a>(s: *const c_char, what: &str) -> Result<&'a [u8], Failure> {
    non_null(s, what)?;
    // SAFETY: non-NULL and NUL-terminated by the caller's promise.
    Ok(unsafe { CStr::from_ptr(s) }.to_bytes())
}

unsafe extern "C" fn bundle_create(
    ctx: Obj,
    dev: Obj,
    kind: i32,
    src: *const u8,
    len: usize,
    options: *const c_char,
    out: *mut Obj,
) -> i32 {
    guarded("bundle_create", || {
        // SAFETY: the caller passes a writable `out` or NULL.
        unsafe { clear_out(out, "out") }?;
        // SAFETY: the caller passes live objects or NULL.
        let ctx = unsafe { obj_ref::<ffi::Context>(ctx, "ctx") }?;
        // SAFETY: as above.
        let dev = unsafe { device_ref(dev, "dev") }?;
        let kind = match kind {
            source_kind::SPIRV => ffi::SourceKind::Spirv,
            source_kind::OPENCL_C => ffi::SourceKind::OpenClC,
            source_kind::SYCL => ffi::SourceKind::Sycl,
            other => return Err(Failure::invalid(format!("unknown source kind {other}"))),
        };
        non_null(src, "src")?;
        if len == 0 {
            return Err(Failure::invalid("len is 0: the source is empty"));
        }
        // SAFETY: non-NULL; the caller promises `len` readable bytes.
        let src = unsafe { std::slice::from_raw_parts(src, len) };
        let options: &[u8] = if options.is_null() {
            &[]
        } else {
            // SAFETY: a NUL-terminated string by the caller's promise.
            unsafe { c_str_arg(options, "options") }?
        };
        let_cxx_string!(log = "");
        match ffi::bundle_create(ctx, dev, kind, src, options, log.as_mut()) {
            Ok(bundle) => {
                // SAFETY: checked non-NULL by `clear_out`.
                unsafe { out.write(into_obj(bundle)) };
                Ok(())
            }
            Err(e) => {
                let failure = Failure::from(e);
                if failure.status == status::BUILD_FAILED {
                    set_build_log(log.as_bytes());
                }
                Err(failure)
            }
        }
    })
}

unsafe extern "C" fn bundle_release(b: Obj) {
    // SAFETY: a bundle object given back once, or NULL.
    unsafe { release::<ffi::Bundle>(b) }
}

unsafe extern "C" fn bundle_kernel_names(
    b: Obj,
    buf: *mut c_char,
    cap: usize,
    size_out: *mut usize,
) -> i32 {
    guarded("bundle_kernel_names", || {
        non_null(size_out, "size_out")?;
        // SAFETY: checked non-NULL; a failed call leaves 0 behind (or the
        // size needed, for OUT_OF_RANGE).
        unsafe { size_out.write(0) };
        // SAFETY: the caller passes a live object or NULL.
        let b = unsafe { obj_ref::<ffi::Bundle>(b, "b") }?;
        let names = ffi::bundle_kernel_names(b)?;
        let size = names.len() + 1;
        // SAFETY: checked non-NULL.
        unsafe { size_out.write(size) };
        if buf.is_null() {
            return Ok(());
        }
        if cap < size {
            return Err(Failure::new(
                status::OUT_OF_RANGE,
                format!("the kernel names need {size} bytes (NUL included); buf holds {cap}"),
            ));
        }
        // SAFETY: `buf` holds `cap >= size` bytes by the caller's promise.
        unsafe {
            ptr::copy_nonoverlapping(names.as_ptr(), buf.cast::<u8>(), names.len());
            buf.add(names.len()).write(0);
        }
        Ok(())
    })
}

unsafe extern "C" fn bundle_has_kernel(b: Obj, name: *const c_char, out: *mut bool) -> i32 {
    guarded("bundle_has_kernel", || {
        non_null(out, "out")?;
        // SAFETY: checked non-NULL; a failed call leaves false behind.
        unsafe { out.write(false) };
        // SAFETY: the caller passes a live object or NULL.
        let b = unsafe { obj_ref::<ffi::Bundle>(b, "b") }?;
        // SAFETY: a NUL-terminated string or NULL.
        let name = unsafe { c_str_arg(name, "name") }?;
        let has = ffi::bundle_has_kernel(b, name)?;
        // SAFETY: checked non-NULL.
        unsafe { out.write(has) };
        Ok(())
    })
}

unsafe extern "C" fn bundle_get_kernel(b: Obj, name: *const c_char, out: *mut Obj) -> i32 {
    guarded("bundle_get_kernel", || {
        // SAFETY: the caller passes a writable `out` or NULL.
        unsafe { clear_out(out, "out") }?;
        // SAFETY: the caller passes a live object or NULL.
        let b = unsafe { obj_ref::<ffi::Bundle>(b, "b") }?;
        // SAFETY: a NUL-terminated string or NULL.
        let name = unsafe { c_str_arg(name, "name") }?;
        let k = ffi::bundle_get_kernel(b, name)?;
        // SAFETY: checked non-NULL by `clear_out`.
        unsafe { out.write(into_obj(k)) };
        Ok(())
    })
}

unsafe extern "C" fn bundle_native(b: Obj) -> *mut c_void {
    // SAFETY: a live bundle object or NULL.
    unsafe { native_of(b, ffi::bundle_native) }
}

unsafe extern "C" fn kernel_release(k: Obj) {
    // SAFETY: a kernel object given back once, or NULL.
    unsafe { release::<ffi::Kernel>(k) }
}

unsafe extern "C" fn kernel_info(k: Obj, dev: Obj, out: *mut KernelInfoV1) -> i32 {
    guarded("kernel_info", || {
        // SAFETY: the caller passes live objects or NULL.
        let k = unsafe { obj_ref::<ffi::Kernel>(k, "k") }?;
        // SAFETY: as above.
        let dev = unsafe { device_ref(dev, "dev") }?;
        non_null(out, "out")?;
        let f = ffi::kernel_facts(k, dev)?;
        let mut info = KernelInfoV1::zeroed();
        write_str(&mut info.name, &f.name);
        info.num_args = f.num_args;
        info.has_num_args = u32::from(f.has_num_args);
        info.max_work_group_size = f.max_work_group_size;
        info.preferred_work_group_size_multiple = f.preferred_work_group_size_multiple;
        info.private_mem_size = f.private_mem_size;
        info.local_mem_size = f.local_mem_size;
        info.compile_work_group_size = f.compile_work_group_size;
        info.max_sub_group_size = f.max_sub_group_size;
        info.max_num_sub_groups = f.max_num_sub_groups;
        info.compile_sub_group_size = f.compile_sub_group_size;
        info.compile_num_sub_groups = f.compile_num_sub_groups;
        // SAFETY: checked non-NULL; the core passes a writable record.
        unsafe { out.write(info) };
        Ok(())
    })
}

unsafe extern "C" fn kernel_native(k: Obj) -> *mut c_void {
    // SAFETY: a live kernel object or NULL.
    unsafe { native_of(k, ffi::kernel_native) }
}

/// Check the kernel arguments: known kinds, scalars of 1 to
/// [`MAX_SCALAR_ARG`] bytes with a value, local memory of at least a byte.
fn check_kernel_args(args: &[KernelArgV1]) -> Result<(), Failure> {
    for (i, a) in args.iter().enumerate() {
        match a.kind {
            arg_kind::POINTER => {}
            arg_kind::SCALAR => {
                if a.size == 0 || a.size > MAX_SCALAR_ARG {
                    return Err(Failure::invalid(format!(
                        "args[{i}]: a scalar of {} bytes (1 to {MAX_SCALAR_ARG} are allowed)",
                        a.size
                    )));
                }
                if a.value.is_null() {
                    return Err(Failure::invalid(format!("args[{i}].value is NULL")));
                }
            }
            arg_kind::LOCAL => {
                if a.size == 0 {
                    return Err(Failure::invalid(format!(
                        "args[{i}]: 0 bytes of local memory"
                    )));
                }
            }
            other => {
                return Err(Failure::invalid(format!(
                    "args[{i}]: unknown argument kind {other}"
                )))
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn enqueue_kernel(
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
) -> i32 {
    guarded("enqueue_kernel", || {
        // SAFETY: the caller's promises.
        unsafe {
            enqueue(q, deps, n_deps, ev_out, |q, deps, want| {
                let k = obj_ref::<ffi::Kernel>(k, "k")?;
                if !(1..=3).contains(&dims) {
                    return Err(Failure::invalid(format!(
                        "dims is {dims}: a kernel is launched over 1 to 3 dimensions"
                    )));
                }
                let dims = dims as usize;
                non_null(global, "global")?;
                // SAFETY: non-NULL; the caller promises `dims` sizes.
                let global = std::slice::from_raw_parts(global, dims);
                let local: &[usize] = if local.is_null() {
                    &[]
                } else {
                    // SAFETY: as above.
                    std::slice::from_raw_parts(local, dims)
                };
                let args: &[KernelArgV1] = if n_args == 0 {
                    &[]
                } else {
                    non_null(args, "args")?;
                    // SAFETY: non-NULL; the caller promises `n_args` records.
                    std::slice::from_raw_parts(args, n_args)
                };
                check_kernel_args(args)?;
                // SAFETY: the same layout (checked at compile time above).
                let args =
                    std::slice::from_raw_parts(args.as_ptr().cast::<ffi::KernelArg>(), args.len());
                Ok(ffi::enqueue_kernel(q, k, global, local, args, deps, want)?)
            })
        }
    })
}

// ---------------------------------------------------------------------------
// Native handles

unsafe extern "C" fn native_handle(
    kind: i32,
    obj: Obj,
    backend_out: *mut i32,
    out: *mut *mut c_void,
) -> i32 {
    guarded("native_handle", || {
        non_null(out, "out")?;
        non_null(backend_out, "backend_out")?;
        // SAFETY: both checked non-NULL; a failed call leaves NULL and
        // UNKNOWN behind (or the backend, when only the handle is missing).
        unsafe {
            out.write(ptr::null_mut());
            backend_out.write(backend::UNKNOWN);
        }
        // SAFETY (all three): the caller passes a live object of the kind
        // named by `kind`, or NULL.
        let (h, what) = match kind {
            native_kind::DEVICE => (
                ffi::native_handle_device(unsafe { device_ref(obj, "obj") }?)?,
                "device",
            ),
            native_kind::CONTEXT => (
                ffi::native_handle_context(unsafe { obj_ref(obj, "obj") }?)?,
                "context",
            ),
            native_kind::QUEUE => (
                ffi::native_handle_queue(unsafe { obj_ref(obj, "obj") }?)?,
                "queue",
            ),
            other => return Err(Failure::invalid(format!("unknown native kind {other}"))),
        };
        // SAFETY: checked non-NULL.
        unsafe { backend_out.write(h.backend.repr) };
        if !h.supported {
            return Err(Failure::new(
                status::UNSUPPORTED,
                format!(
                    "native handles are available for the OpenCL and Level Zero backends only; \
                     this {what} is on the {} backend",
                    backend_name(h.backend.repr)
                ),
            ));
        }
        // SAFETY: checked non-NULL.
        unsafe { out.write(h.handle as *mut c_void) };
        Ok(())
    })
}

static TABLE: BackendV1 = BackendV1 {
    abi_version: BACKEND_ABI_VERSION,
    struct_size: std::mem::size_of::<BackendV1>() as u32,
    runtime_info,
    platform_list,
    device_list,
    device_info,
    device_equal,
    device_parent,
    device_partition,
    device_release,
    device_native,
    context_default,
    context_create,
    context_release,
    context_equal,
    context_native,
    queue_create,
    queue_adopt,
    queue_release,
    queue_equal,
    queue_native,
    queue_wait,
    enqueue_barrier,
    enqueue_memcpy,
    enqueue_memset,
    enqueue_fill,
    enqueue_prefetch,
    enqueue_mem_advise,
    event_wait,
    event_status,
    event_profiling,
    event_release,
    event_native,
    usm_alloc,
    usm_free,
    usm_pointer_info,
    usm_pointer_kind,
    bundle_create,
    bundle_release,
    bundle_kernel_names,
    bundle_has_kernel,
    bundle_get_kernel,
    bundle_native,
    kernel_release,
    kernel_info,
    kernel_native,
    enqueue_kernel,
    native_handle,
    event_adopt,
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
        roots()?;
        // SAFETY: checked non-NULL.
        unsafe { out.write(&TABLE) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::sync::Once;

    thread_local! {
        /// The last `set_error` on this thread: (status, backend code, message).
        static LAST_ERROR: RefCell<Option<(i32, i64, String)>> = const { RefCell::new(None) };
    }

    unsafe extern "C" fn test_set_error(
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

    unsafe extern "C" fn test_log(_level: i32, _msg: *const u8, _len: usize) {}

    thread_local! {
        /// The last `set_build_log` on this thread.
        static LAST_BUILD_LOG: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    unsafe extern "C" fn test_set_build_log(log: *const u8, len: usize) {
        // SAFETY: the plugin passes `len` readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(log, len) };
        let log = String::from_utf8_lossy(bytes).into_owned();
        LAST_BUILD_LOG.with(|l| *l.borrow_mut() = Some(log));
    }

    fn take_build_log() -> Option<String> {
        LAST_BUILD_LOG.with(|l| l.borrow_mut().take())
    }

    static TEST_HOST: HostV1 = HostV1 {
        abi_version: BACKEND_ABI_VERSION,
        struct_size: std::mem::size_of::<HostV1>() as u32,
        set_error: test_set_error,
        log: test_log,
        set_build_log: test_set_build_log,
    };

    fn take_error() -> Option<(i32, i64, String)> {
        LAST_ERROR.with(|e| e.borrow_mut().take())
    }

    /// Initialise the plugin (once per process) and return its table.
    fn table() -> &'static BackendV1 {
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
    struct Dev(Obj);

    impl Drop for Dev {
        fn drop(&mut self) {
            // SAFETY: an object of this plugin, released once.
            unsafe { (table().device_release)(self.0) }
        }
    }

    fn list_devices() -> Vec<Dev> {
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

    fn info(dev: &Dev) -> DeviceInfoV1 {
        let mut info = DeviceInfoV1::zeroed();
        // SAFETY: live object, writable record.
        let rc = unsafe { (table().device_info)(dev.0, &mut info) };
        assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
        info
    }

    fn name(info: &DeviceInfoV1) -> String {
        String::from_utf8_lossy(dpcore_backend_abi::read_str(&info.name)).into_owned()
    }

    /// The first CPU device; fails (never skips) when there is none.
    fn cpu_device() -> Dev {
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

    fn partition(dev: &Dev, kind: i32, params: &[usize]) -> Result<Vec<Dev>, (i32, i64, String)> {
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
    fn platforms_are_listed_and_own_the_devices() {
        let t = table();
        let mut n = 0usize;
        // SAFETY: NULL buffer with a valid count pointer.
        let rc = unsafe { (t.platform_list)(ptr::null_mut(), 0, &mut n) };
        assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
        let mut list = vec![PlatformInfoV1::zeroed(); n];
        let mut m = 0usize;
        // SAFETY: `list` holds `n` records.
        let rc = unsafe { (t.platform_list)(list.as_mut_ptr(), n, &mut m) };
        assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
        assert_eq!(m, n);
        let devices = list_devices();
        let total: u32 = list.iter().map(|p| p.n_devices).sum();
        assert_eq!(total as usize, devices.len());
        for d in &devices {
            let i = info(d).platform_index as usize;
            assert!(i < n, "platform index {i} of {n}");
            assert_eq!(list[i].backend, info(d).backend);
            assert_eq!(
                dpcore_backend_abi::read_str(&list[i].name),
                dpcore_backend_abi::read_str(&info(d).platform_name)
            );
        }
        // SAFETY: NULL count pointer is rejected before anything is written.
        let rc = unsafe { (t.platform_list)(list.as_mut_ptr(), n, ptr::null_mut()) };
        assert_eq!(rc, status::INVALID_ARGUMENT);
    }

    #[test]
    fn runtime_info_describes_libsycl() {
        let mut info = RuntimeInfoV1::zeroed();
        // SAFETY: writable record.
        let rc = unsafe { (table().runtime_info)(&mut info) };
        assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
        assert_eq!(dpcore_backend_abi::read_str(&info.name), b"sycl");
        let runtime =
            String::from_utf8_lossy(dpcore_backend_abi::read_str(&info.runtime)).into_owned();
        assert!(
            runtime.contains(&format!("libsycl.so.{SYCL_ABI_MAJOR}")),
            "{runtime}"
        );
        let path =
            String::from_utf8_lossy(dpcore_backend_abi::read_str(&info.runtime_path)).into_owned();
        assert!(path.contains("libsycl.so"), "runtime_path = {path:?}");
        assert_eq!(
            info.runtime_abi_major,
            SYCL_ABI_MAJOR.parse::<u32>().unwrap()
        );
        let n = list_devices().len();
        assert!(
            n == 0 || info.n_platforms > 0,
            "{n} devices but no platform"
        );
    }

    #[test]
    fn cpu_device_info() {
        let dev = cpu_device();
        let info = info(&dev);
        assert_eq!(info.backend, backend::OPENCL);
        assert_eq!(info.device_type, device_type::CPU);
        assert!(info.max_compute_units > 0);
        assert!(!name(&info).is_empty());
        assert!(!dpcore_backend_abi::read_str(&info.platform_name).is_empty());
        assert!(!dpcore_backend_abi::read_str(&info.version).is_empty());
        assert!(info.n_sub_group_sizes > 0);
        let sizes = &info.sub_group_sizes[..info.n_sub_group_sizes as usize];
        assert!(sizes.iter().all(|&s| s > 0), "{sizes:?}");
        assert!(info.max_work_item_dimensions >= 1);
        assert!(info.max_work_item_sizes[0] > 0);
        assert!(info.max_work_group_size > 0);
        assert!(info.global_mem_size > 0);
        assert_eq!(info.is_sub_device, 0);
        if info.aspects & (1 << aspect::UUID) != 0 {
            assert_ne!(info.uuid, [0u8; 16]);
        }
        assert!(info.aspects & (1 << aspect::USM_HOST_ALLOCATIONS) != 0);
    }

    #[test]
    fn device_list_is_stable_and_honours_cap() {
        let a = list_devices();
        let b = list_devices();
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_ne!(x.0, y.0, "each call hands out new objects");
            // SAFETY: live objects.
            assert!(unsafe { (table().device_equal)(x.0, y.0) });
            // SAFETY: live object.
            let native = unsafe { (table().device_native)(x.0) };
            assert!(!native.is_null());
        }
        if !a.is_empty() {
            let mut one = [ptr::null_mut(); 1];
            let mut n = 0;
            // SAFETY: room for one object.
            let rc = unsafe { (table().device_list)(one.as_mut_ptr(), 1, &mut n) };
            assert_eq!(rc, status::SUCCESS);
            assert_eq!(n, a.len());
            let first = Dev(one[0]);
            // SAFETY: live objects.
            assert!(unsafe { (table().device_equal)(first.0, a[0].0) });
        }
    }

    #[test]
    fn partition_equally_and_parent() {
        let root = cpu_device();
        let root_info = info(&root);
        assert!(
            root_info.partition_properties & partition::EQUALLY != 0,
            "the CPU device cannot be partitioned equally"
        );
        let subs = partition(&root, partition_kind::EQUALLY, &[1]).expect("partition equally");
        assert_eq!(subs.len(), root_info.max_compute_units as usize);
        assert_eq!(
            subs.len(),
            2,
            "this machine's CPU device has 2 compute units"
        );
        for sub in &subs {
            let si = info(sub);
            assert_ne!(si.is_sub_device, 0);
            assert_eq!(si.max_compute_units, 1);
            let mut parent: Obj = ptr::null_mut();
            // SAFETY: live object, writable out.
            let rc = unsafe { (table().device_parent)(sub.0, &mut parent) };
            assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
            assert!(!parent.is_null());
            let parent = Dev(parent);
            // SAFETY: live objects.
            assert!(unsafe { (table().device_equal)(parent.0, root.0) });
            // SAFETY: live objects.
            assert!(!unsafe { (table().device_equal)(sub.0, root.0) });
        }

        // A root device has no parent.
        let mut parent: Obj = 1 as Obj;
        // SAFETY: live object, writable out.
        let rc = unsafe { (table().device_parent)(root.0, &mut parent) };
        assert_eq!(rc, status::SUCCESS);
        assert!(parent.is_null());
    }

    #[test]
    fn partition_writes_at_most_cap() {
        let root = cpu_device();
        let mut one = [ptr::null_mut(); 1];
        let mut n = 0;
        let params = [1usize];
        // SAFETY: room for one object; valid params.
        let rc = unsafe {
            (table().device_partition)(
                root.0,
                partition_kind::EQUALLY,
                params.as_ptr(),
                1,
                one.as_mut_ptr(),
                1,
                &mut n,
            )
        };
        assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
        assert_eq!(n, 2);
        let sub = Dev(one[0]);
        assert_ne!(info(&sub).is_sub_device, 0);
    }

    #[test]
    fn partition_by_counts() {
        let root = cpu_device();
        let subs = partition(&root, partition_kind::BY_COUNTS, &[1, 1]).expect("by counts");
        assert_eq!(subs.len(), 2);
        let (st, _, msg) = partition(&root, partition_kind::BY_COUNTS, &[1000])
            .err()
            .expect("1000 compute units is too many");
        assert_eq!(st, status::INVALID_ARGUMENT, "{msg}");
    }

    #[test]
    fn affinity_partition_is_unsupported() {
        let root = cpu_device();
        let root_info = info(&root);
        assert_eq!(
            root_info.partition_properties & partition::BY_AFFINITY_DOMAIN,
            0
        );
        let (st, _, msg) = partition(
            &root,
            partition_kind::BY_AFFINITY_DOMAIN,
            &[affinity::NUMA as usize],
        )
        .err()
        .expect("affinity partition must fail");
        assert_eq!(st, status::UNSUPPORTED, "{msg}");
        assert!(msg.contains(&name(&root_info)), "{msg}");
        assert!(msg.contains("partition_by_affinity_domain"), "{msg}");
        assert!(msg.contains("partition_equally"), "{msg}");
    }

    #[test]
    fn null_arguments_are_invalid() {
        let t = table();
        // SAFETY: every pointer argument is NULL or valid.
        unsafe {
            assert_eq!((t.runtime_info)(ptr::null_mut()), status::INVALID_ARGUMENT);
            assert!(take_error().unwrap().2.contains("out is NULL"));
            assert_eq!(
                (t.device_list)(ptr::null_mut(), 0, ptr::null_mut()),
                status::INVALID_ARGUMENT
            );
            assert!(take_error().is_some());
            let mut info = DeviceInfoV1::zeroed();
            assert_eq!(
                (t.device_info)(ptr::null_mut(), &mut info),
                status::INVALID_ARGUMENT
            );
            let (st, code, msg) = take_error().unwrap();
            assert_eq!((st, code), (status::INVALID_ARGUMENT, 0));
            assert!(msg.contains("dev is NULL"), "{msg}");
            let mut out: Obj = ptr::null_mut();
            assert_eq!(
                (t.device_parent)(ptr::null_mut(), &mut out),
                status::INVALID_ARGUMENT
            );
            assert!(take_error().is_some());
            let mut n = 0;
            assert_eq!(
                (t.device_partition)(
                    ptr::null_mut(),
                    partition_kind::EQUALLY,
                    [1usize].as_ptr(),
                    1,
                    ptr::null_mut(),
                    0,
                    &mut n
                ),
                status::INVALID_ARGUMENT
            );
            assert!(take_error().is_some());
            assert!(!(t.device_equal)(ptr::null_mut(), ptr::null_mut()));
            assert!((t.device_native)(ptr::null_mut()).is_null());
            (t.device_release)(ptr::null_mut());
        }

        let dev = cpu_device();
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                (t.device_info)(dev.0, ptr::null_mut()),
                status::INVALID_ARGUMENT
            );
            assert!(take_error().unwrap().2.contains("out is NULL"));
            assert_eq!(
                (t.device_parent)(dev.0, ptr::null_mut()),
                status::INVALID_ARGUMENT
            );
            assert!(take_error().is_some());
            let mut n = 0;
            // params NULL with n_params > 0.
            assert_eq!(
                (t.device_partition)(
                    dev.0,
                    partition_kind::EQUALLY,
                    ptr::null(),
                    1,
                    ptr::null_mut(),
                    0,
                    &mut n
                ),
                status::INVALID_ARGUMENT
            );
            assert!(take_error().unwrap().2.contains("params is NULL"));
            // count_out NULL.
            assert_eq!(
                (t.device_partition)(
                    dev.0,
                    partition_kind::EQUALLY,
                    [1usize].as_ptr(),
                    1,
                    ptr::null_mut(),
                    0,
                    ptr::null_mut()
                ),
                status::INVALID_ARGUMENT
            );
            assert!(take_error().is_some());
            // Unknown kind, wrong parameter count, unknown domain.
            for (kind, params) in [
                (0, &[1usize][..]),
                (partition_kind::EQUALLY, &[][..]),
                (partition_kind::EQUALLY, &[1, 1][..]),
                (partition_kind::BY_AFFINITY_DOMAIN, &[99][..]),
            ] {
                assert_eq!(
                    (t.device_partition)(
                        dev.0,
                        kind,
                        params.as_ptr(),
                        params.len(),
                        ptr::null_mut(),
                        0,
                        &mut n
                    ),
                    status::INVALID_ARGUMENT,
                    "kind {kind} params {params:?}"
                );
                assert!(take_error().is_some());
            }
        }
    }

    #[test]
    fn equally_zero_is_rejected() {
        let root = cpu_device();
        let (st, _, msg) = partition(&root, partition_kind::EQUALLY, &[0])
            .err()
            .expect("0 compute units per sub-device is invalid");
        assert_eq!(st, status::INVALID_ARGUMENT, "{msg}");
    }

    #[test]
    fn sycl_rejections_carry_the_sycl_code() {
        let root = cpu_device();
        // Accepted by the plugin, rejected by SYCL (errc::invalid).
        let (st, code, msg) = partition(&root, partition_kind::EQUALLY, &[1000])
            .err()
            .expect("1000 compute units per sub-device is too many");
        assert_eq!(st, status::INVALID_ARGUMENT, "{msg}");
        assert_ne!(code, 0, "{msg}");
        assert!(msg.contains(&format!("SYCL error code {code}")), "{msg}");
    }

    #[test]
    fn error_messages_are_decoded() {
        let f = Failure::from_message("[dpcore:202:12] no affinity (SYCL error code 12: sycl)");
        assert_eq!(
            f,
            Failure {
                status: status::UNSUPPORTED,
                backend_code: 12,
                message: "no affinity (SYCL error code 12: sycl)".to_string(),
            }
        );
        let f = Failure::from_message("[dpcore:1:-5] bad");
        assert_eq!(
            (f.status, f.backend_code, f.message.as_str()),
            (1, -5, "bad")
        );
        for raw in [
            "plain message",
            "[dpcore:x:1] m",
            "[dpcore:0:0] success?",
            "[dpcore:1] m",
        ] {
            let f = Failure::from_message(raw);
            assert_eq!(
                (f.status, f.backend_code, f.message.as_str()),
                (status::BACKEND, 0, raw)
            );
        }
    }

    #[test]
    fn panics_become_internal_errors() {
        let _ = table();
        let rc = guarded("test", || panic!("boom"));
        assert_eq!(rc, status::INTERNAL);
        let (st, _, msg) = take_error().unwrap();
        assert_eq!(st, status::INTERNAL);
        assert!(msg.contains("boom"), "{msg}");
    }

    // ---- contexts, queues, events, USM, native handles ----------------------

    /// Assert a table call succeeded.
    #[track_caller]
    fn ok(rc: i32) {
        assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
    }

    /// Assert a table call failed with `want`; return the recorded error.
    #[track_caller]
    fn fails(rc: i32, want: i32) -> (i32, i64, String) {
        let e = take_error();
        assert_eq!(rc, want, "{e:?}");
        let e = e.expect("a failed call sets the error");
        assert_eq!(e.0, rc);
        e
    }

    macro_rules! owned {
        ($(#[$doc:meta])* $name:ident, $release:ident) => {
            $(#[$doc])*
            struct $name(Obj);

            impl Drop for $name {
                fn drop(&mut self) {
                    // SAFETY: an object of this plugin, released once.
                    unsafe { (table().$release)(self.0) }
                }
            }
        };
    }
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
    struct Usm {
        ctx: Obj,
        p: *mut c_void,
    }

    impl Drop for Usm {
        fn drop(&mut self) {
            // SAFETY: memory of `ctx`, freed once.
            let rc = unsafe { (table().usm_free)(self.ctx, self.p) };
            assert_eq!(rc, status::SUCCESS, "{:?}", take_error());
        }
    }

    fn default_context(dev: &Dev) -> Ctx {
        let mut out: Obj = ptr::null_mut();
        // SAFETY: live device, writable out.
        ok(unsafe { (table().context_default)(dev.0, &mut out) });
        assert!(!out.is_null());
        Ctx(out)
    }

    fn new_queue(ctx: &Ctx, dev: &Dev, flags: u32) -> Queue {
        let mut out: Obj = ptr::null_mut();
        // SAFETY: live objects, writable out.
        ok(unsafe { (table().queue_create)(ctx.0, dev.0, flags, &mut out) });
        assert!(!out.is_null());
        Queue(out)
    }

    /// A CPU device, its default context and a queue with `flags`.
    fn setup(flags: u32) -> (Dev, Ctx, Queue) {
        let dev = cpu_device();
        let ctx = default_context(&dev);
        let q = new_queue(&ctx, &dev, flags);
        (dev, ctx, q)
    }

    fn alloc(ctx: &Ctx, q: &Queue, kind: i32, size: usize, align: usize) -> Usm {
        let mut p: *mut c_void = ptr::null_mut();
        // SAFETY: live queue, writable out.
        ok(unsafe { (table().usm_alloc)(q.0, kind, size, align, &mut p) });
        assert!(!p.is_null());
        Usm { ctx: ctx.0, p }
    }

    fn pointer_info(ctx: &Ctx, p: *const c_void) -> PointerInfoV1 {
        let mut info = PointerInfoV1::empty();
        // SAFETY: live context, writable record.
        ok(unsafe { (table().usm_pointer_info)(ctx.0, p, &mut info) });
        info
    }

    fn wait_all(evs: &[&Ev]) {
        let objs: Vec<Obj> = evs.iter().map(|e| e.0).collect();
        // SAFETY: live events.
        ok(unsafe { (table().event_wait)(objs.as_ptr(), objs.len()) });
    }

    fn status_of(ev: &Ev) -> i32 {
        let mut st = -1;
        // SAFETY: live event, writable out.
        ok(unsafe { (table().event_status)(ev.0, &mut st) });
        st
    }

    fn queue_wait(q: &Queue) {
        // SAFETY: live queue.
        ok(unsafe { (table().queue_wait)(q.0) });
    }

    /// `host[..]` <- `src[..host.len()]` after `deps`, waited for. (On an
    /// out-of-order queue, whatever wrote `src` must be waited for or be in
    /// `deps`.)
    fn read_back(q: &Queue, src: *const c_void, host: &mut [u8], deps: &[&Ev]) {
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

    #[test]
    fn default_context_is_stable_and_created_contexts_are_new() {
        let dev = cpu_device();
        let a = default_context(&dev);
        let b = default_context(&dev);
        assert_ne!(a.0, b.0, "each call hands out a new object");
        // SAFETY: live objects.
        unsafe {
            assert!((table().context_equal)(a.0, b.0));
            assert!((table().context_equal)(a.0, a.0));
            assert!(!(table().context_native)(a.0).is_null());
        }

        let devs = [dev.0];
        let mut out: Obj = ptr::null_mut();
        // SAFETY: one live device, writable out.
        ok(unsafe { (table().context_create)(devs.as_ptr(), 1, &mut out) });
        let created = Ctx(out);
        // SAFETY: live objects.
        unsafe {
            assert!(!(table().context_equal)(created.0, a.0));
            assert!((table().context_equal)(created.0, created.0));
        }
        // A queue in the new context works.
        let q = new_queue(&created, &dev, 0);
        queue_wait(&q);

        // The same device twice is accepted by SYCL.
        let twice = [dev.0, dev.0];
        // SAFETY: two live devices, writable out.
        ok(unsafe { (table().context_create)(twice.as_ptr(), 2, &mut out) });
        drop(Ctx(out));
    }

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
    fn usm_alloc_each_kind_and_pointer_info() {
        const MIB: usize = 1 << 20;
        let (dev, ctx, q) = setup(0);
        for kind in [usm_kind::DEVICE, usm_kind::SHARED, usm_kind::HOST] {
            for align in [0, 4096] {
                let mem = alloc(&ctx, &q, kind, MIB, align);
                if align != 0 {
                    assert_eq!(mem.p as usize % align, 0, "kind {kind}");
                }
                for offset in [0, 100, MIB - 1] {
                    // SAFETY: inside the allocation.
                    let p = unsafe { mem.p.cast::<u8>().add(offset) };
                    let info = pointer_info(&ctx, p.cast());
                    let d = Dev(info.device);
                    assert_eq!(info.kind, kind, "offset {offset}");
                    assert_ne!(info.has_range, 0, "the OpenCL backend tells the range");
                    assert_eq!(info.base, mem.p as usize, "kind {kind} offset {offset}");
                    assert!(info.size >= MIB, "size {}", info.size);
                    if kind == usm_kind::HOST {
                        assert!(d.0.is_null(), "host USM has no device");
                    } else {
                        assert!(!d.0.is_null());
                        // SAFETY: live objects.
                        assert!(unsafe { (table().device_equal)(d.0, dev.0) });
                    }
                }
            }
        }
        // Memory that is not USM.
        let on_stack = 0u64;
        let heap = Box::new([0u8; 64]);
        for p in [
            ptr::addr_of!(on_stack).cast::<c_void>(),
            heap.as_ptr().cast(),
            ptr::null(),
        ] {
            let info = pointer_info(&ctx, p);
            assert_eq!(info.kind, usm_kind::UNKNOWN);
            assert_eq!(info.has_range, 0);
            assert!(info.device.is_null());
        }
        // Another context's memory is not USM of this one.
        let devs = [dev.0];
        let mut other: Obj = ptr::null_mut();
        // SAFETY: one live device, writable out.
        ok(unsafe { (table().context_create)(devs.as_ptr(), 1, &mut other) });
        let other = Ctx(other);
        let mem = alloc(&ctx, &q, usm_kind::DEVICE, 64, 0);
        assert_eq!(pointer_info(&other, mem.p).kind, usm_kind::UNKNOWN);
    }

    #[test]
    fn usm_alloc_failures() {
        let (_dev, _ctx, q) = setup(0);
        let mut p: *mut c_void = 1 as *mut c_void;
        // SAFETY (all calls): live queue, writable out.
        let rc = unsafe { (table().usm_alloc)(q.0, usm_kind::DEVICE, 1 << 60, 0, &mut p) };
        let (_, _, msg) = fails(rc, status::OUT_OF_DEVICE_MEMORY);
        assert!(p.is_null());
        assert!(msg.contains(&(1usize << 60).to_string()), "{msg}");
        assert!(msg.contains("device USM"), "{msg}");
        for kind in [usm_kind::SHARED, usm_kind::HOST] {
            let rc = unsafe { (table().usm_alloc)(q.0, kind, 1 << 60, 64, &mut p) };
            let (_, _, msg) = fails(rc, status::OUT_OF_DEVICE_MEMORY);
            assert!(msg.contains("aligned to 64"), "{msg}");
        }
        for (kind, size, align, what) in [
            (usm_kind::DEVICE, 64, 3, "not a power of two"),
            (usm_kind::DEVICE, 64, 4097, "not a power of two"),
            (usm_kind::UNKNOWN, 64, 0, "UNKNOWN"),
            (7, 64, 0, "unknown USM kind 7"),
            (usm_kind::HOST, 0, 0, "size is 0"),
        ] {
            let rc = unsafe { (table().usm_alloc)(q.0, kind, size, align, &mut p) };
            let (_, _, msg) = fails(rc, status::INVALID_ARGUMENT);
            assert!(msg.contains(what), "{msg}");
            assert!(p.is_null());
        }
    }

    #[test]
    fn memcpy_roundtrip_through_device_memory() {
        let (_dev, ctx, q) = setup(0);
        let n = 4096;
        let src: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
        let mem = alloc(&ctx, &q, usm_kind::DEVICE, n, 0);
        let mut e1: Obj = ptr::null_mut();
        // SAFETY: live queue, `mem` holds n bytes.
        ok(unsafe {
            (table().enqueue_memcpy)(q.0, mem.p, src.as_ptr().cast(), n, ptr::null(), 0, &mut e1)
        });
        let e1 = Ev(e1);
        let mut back = vec![0u8; n];
        let mut e2: Obj = ptr::null_mut();
        let deps = [e1.0];
        // SAFETY: as above; one dependency.
        ok(unsafe {
            (table().enqueue_memcpy)(
                q.0,
                back.as_mut_ptr().cast(),
                mem.p,
                n,
                deps.as_ptr(),
                1,
                &mut e2,
            )
        });
        let e2 = Ev(e2);
        wait_all(&[&e2]);
        assert_eq!(status_of(&e1), event_status::COMPLETE);
        assert_eq!(back, src);

        // The same without events: dependencies on an event-less submission.
        let mut back2 = vec![0u8; n];
        let mut e3: Obj = ptr::null_mut();
        // SAFETY: as above.
        ok(unsafe { (table().enqueue_memset)(q.0, mem.p, 0x5A, n, ptr::null(), 0, &mut e3) });
        let e3 = Ev(e3);
        let deps = [e3.0];
        // SAFETY: as above; no event out.
        ok(unsafe {
            (table().enqueue_memcpy)(
                q.0,
                back2.as_mut_ptr().cast(),
                mem.p,
                n,
                deps.as_ptr(),
                1,
                ptr::null_mut(),
            )
        });
        queue_wait(&q);
        assert!(back2.iter().all(|&b| b == 0x5A));
        // SAFETY: live event.
        assert!(!unsafe { (table().event_native)(e3.0) }.is_null());
    }

    #[test]
    fn memset_and_fill_every_pattern_size() {
        let (_dev, ctx, q) = setup(queue_flags::IN_ORDER);
        let count = 37;
        let mem = alloc(&ctx, &q, usm_kind::DEVICE, 16 * (count + 1), 0);
        let total = 16 * (count + 1);
        for size in [1usize, 2, 4, 8, 16] {
            // Clear everything, then fill `count` elements without an event.
            // SAFETY (both): live queue; `mem` holds `total` bytes.
            ok(unsafe {
                (table().enqueue_memset)(q.0, mem.p, 0xEE, total, ptr::null(), 0, ptr::null_mut())
            });
            let pattern: Vec<u8> = (1..=size as u8).collect();
            ok(unsafe {
                (table().enqueue_fill)(
                    q.0,
                    mem.p,
                    pattern.as_ptr().cast(),
                    size,
                    count,
                    ptr::null(),
                    0,
                    ptr::null_mut(),
                )
            });
            let mut back = vec![0u8; total];
            // In order: after the fill.
            read_back(&q, mem.p, &mut back, &[]);
            let filled = size * count;
            for (i, &b) in back[..filled].iter().enumerate() {
                assert_eq!(b, pattern[i % size], "size {size} byte {i}");
            }
            assert!(
                back[filled..].iter().all(|&b| b == 0xEE),
                "size {size}: fill wrote past its end"
            );
        }
        // Fill with an event and a dependency.
        let mut e1: Obj = ptr::null_mut();
        // SAFETY: as above.
        ok(unsafe { (table().enqueue_memset)(q.0, mem.p, 0, total, ptr::null(), 0, &mut e1) });
        let e1 = Ev(e1);
        let pattern = 0xDEAD_BEEF_u32.to_le_bytes();
        let mut e2: Obj = ptr::null_mut();
        let deps = [e1.0];
        // SAFETY: as above.
        ok(unsafe {
            (table().enqueue_fill)(
                q.0,
                mem.p,
                pattern.as_ptr().cast(),
                4,
                3,
                deps.as_ptr(),
                1,
                &mut e2,
            )
        });
        let e2 = Ev(e2);
        wait_all(&[&e2]);
        let mut back = vec![0u8; 16];
        read_back(&q, mem.p, &mut back, &[]);
        assert_eq!(&back[..12], &pattern.repeat(3)[..]);
        assert_eq!(&back[12..], &[0; 4]);

        // Unsupported pattern sizes.
        for size in [0usize, 3, 5, 32] {
            let pattern = [0u8; 32];
            // SAFETY: as above.
            let rc = unsafe {
                (table().enqueue_fill)(
                    q.0,
                    mem.p,
                    pattern.as_ptr().cast(),
                    size,
                    1,
                    ptr::null(),
                    0,
                    ptr::null_mut(),
                )
            };
            let (_, _, msg) = fails(rc, status::INVALID_ARGUMENT);
            assert!(msg.contains("1, 2, 4, 8 or 16"), "{msg}");
        }
    }

    #[test]
    fn prefetch_and_mem_advise() {
        let (_dev, ctx, q) = setup(0);
        let mem = alloc(&ctx, &q, usm_kind::SHARED, 1 << 16, 0);
        let mut e1: Obj = ptr::null_mut();
        // SAFETY (all): live queue, `mem` holds 64 KiB.
        ok(unsafe { (table().enqueue_prefetch)(q.0, mem.p, 1 << 16, ptr::null(), 0, &mut e1) });
        let e1 = Ev(e1);
        let deps = [e1.0];
        ok(unsafe {
            (table().enqueue_prefetch)(q.0, mem.p, 1 << 16, deps.as_ptr(), 1, ptr::null_mut())
        });
        ok(unsafe {
            (table().enqueue_prefetch)(q.0, mem.p, 1 << 16, ptr::null(), 0, ptr::null_mut())
        });
        let mut e2: Obj = ptr::null_mut();
        ok(unsafe {
            (table().enqueue_mem_advise)(q.0, mem.p, 1 << 16, 0, ptr::null(), 0, &mut e2)
        });
        let e2 = Ev(e2);
        let deps = [e2.0];
        ok(unsafe {
            (table().enqueue_mem_advise)(q.0, mem.p, 1 << 16, 0, deps.as_ptr(), 1, ptr::null_mut())
        });
        ok(unsafe {
            (table().enqueue_mem_advise)(q.0, mem.p, 1 << 16, 0, ptr::null(), 0, ptr::null_mut())
        });
        queue_wait(&q);
        wait_all(&[&e1, &e2]);
    }

    #[test]
    fn empty_operations_submit_nothing() {
        let (_dev, ctx, q) = setup(queue_flags::PROFILING);
        let mem = alloc(&ctx, &q, usm_kind::DEVICE, 64, 0);
        let pattern = [1u8; 4];
        let t = table();
        type Op<'a> = Box<dyn Fn(*const Obj, usize, *mut Obj) -> i32 + 'a>;
        // Every operation with size 0, NULL pointers allowed.
        // SAFETY (all): live queue; sizes are 0.
        let ops: Vec<(&str, Op)> = vec![
            (
                "memcpy",
                Box::new(|d, n, e| unsafe {
                    (t.enqueue_memcpy)(q.0, ptr::null_mut(), ptr::null(), 0, d, n, e)
                }),
            ),
            (
                "memset",
                Box::new(|d, n, e| unsafe {
                    (t.enqueue_memset)(q.0, ptr::null_mut(), 1, 0, d, n, e)
                }),
            ),
            (
                "fill",
                Box::new(|d, n, e| unsafe {
                    (t.enqueue_fill)(q.0, mem.p, pattern.as_ptr().cast(), 4, 0, d, n, e)
                }),
            ),
            (
                "fill NULL",
                Box::new(|d, n, e| unsafe {
                    (t.enqueue_fill)(q.0, ptr::null_mut(), ptr::null(), 8, 0, d, n, e)
                }),
            ),
            (
                "prefetch",
                Box::new(|d, n, e| unsafe { (t.enqueue_prefetch)(q.0, ptr::null(), 0, d, n, e) }),
            ),
            (
                "mem_advise",
                Box::new(|d, n, e| unsafe {
                    (t.enqueue_mem_advise)(q.0, ptr::null(), 0, 0, d, n, e)
                }),
            ),
        ];
        for (name, op) in &ops {
            // No event wanted.
            assert_eq!(
                op(ptr::null(), 0, ptr::null_mut()),
                status::SUCCESS,
                "{name}: {:?}",
                take_error()
            );
            // An event without dependencies: already complete.
            let mut ev: Obj = ptr::null_mut();
            assert_eq!(
                op(ptr::null(), 0, &mut ev),
                status::SUCCESS,
                "{name}: {:?}",
                take_error()
            );
            let ev = Ev(ev);
            assert!(!ev.0.is_null(), "{name}");
            assert_eq!(status_of(&ev), event_status::COMPLETE, "{name}");
            wait_all(&[&ev]);
            let mut times = [0u64; 3];
            // SAFETY: live event, room for 3 values.
            let rc = unsafe { (t.event_profiling)(ev.0, times.as_mut_ptr()) };
            let (_, _, msg) = fails(rc, status::UNSUPPORTED);
            assert!(msg.contains("nothing to do"), "{msg}");
            // With a dependency: an event that implies it.
            let mut dep: Obj = ptr::null_mut();
            // SAFETY: live queue, `mem` holds 64 bytes.
            ok(unsafe { (t.enqueue_memset)(q.0, mem.p, 0, 64, ptr::null(), 0, &mut dep) });
            let dep = Ev(dep);
            let deps = [dep.0];
            let mut ev: Obj = ptr::null_mut();
            assert_eq!(
                op(deps.as_ptr(), 1, &mut ev),
                status::SUCCESS,
                "{name}: {:?}",
                take_error()
            );
            let ev = Ev(ev);
            wait_all(&[&ev]);
            assert_eq!(status_of(&dep), event_status::COMPLETE, "{name}");
            assert_eq!(status_of(&ev), event_status::COMPLETE, "{name}");
        }
        queue_wait(&q);
    }

    #[test]
    fn barriers_and_event_chains() {
        let (_dev, ctx, q) = setup(0);
        let n = 1 << 16;
        let a = alloc(&ctx, &q, usm_kind::DEVICE, n, 0);
        let b = alloc(&ctx, &q, usm_kind::DEVICE, n, 0);
        let t = table();
        // e1: a = 0x11; e2: b = 0x22; barrier(e1, e2) -> e3; a <- b after e3.
        let (mut e1, mut e2, mut e3, mut e4) = (
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
        );
        // SAFETY (all): live queue and events; `a`, `b` hold n bytes.
        ok(unsafe { (t.enqueue_memset)(q.0, a.p, 0x11, n, ptr::null(), 0, &mut e1) });
        ok(unsafe { (t.enqueue_memset)(q.0, b.p, 0x22, n, ptr::null(), 0, &mut e2) });
        let (e1, e2) = (Ev(e1), Ev(e2));
        let deps = [e1.0, e2.0];
        ok(unsafe { (t.enqueue_barrier)(q.0, deps.as_ptr(), 2, &mut e3) });
        let e3 = Ev(e3);
        let deps = [e3.0];
        ok(unsafe { (t.enqueue_memcpy)(q.0, a.p, b.p, n / 2, deps.as_ptr(), 1, &mut e4) });
        let e4 = Ev(e4);
        wait_all(&[&e4, &e3]);
        for e in [&e1, &e2, &e3, &e4] {
            assert_eq!(status_of(e), event_status::COMPLETE);
        }
        let mut back = vec![0u8; n];
        read_back(&q, a.p, &mut back, &[]);
        assert!(back[..n / 2].iter().all(|&x| x == 0x22));
        assert!(back[n / 2..].iter().all(|&x| x == 0x11));

        // A barrier on everything before, with and without an event, and a
        // barrier on dependencies without an event.
        ok(unsafe { (t.enqueue_memset)(q.0, a.p, 0x33, n, ptr::null(), 0, ptr::null_mut()) });
        let mut e5: Obj = ptr::null_mut();
        ok(unsafe { (t.enqueue_barrier)(q.0, ptr::null(), 0, &mut e5) });
        let e5 = Ev(e5);
        ok(unsafe { (t.enqueue_barrier)(q.0, ptr::null(), 0, ptr::null_mut()) });
        let deps = [e5.0];
        ok(unsafe { (t.enqueue_barrier)(q.0, deps.as_ptr(), 1, ptr::null_mut()) });
        wait_all(&[&e5]);
        read_back(&q, a.p, &mut back, &[]);
        assert!(back.iter().all(|&x| x == 0x33));
        queue_wait(&q);
        // Waiting for no event at all.
        // SAFETY: nothing to read.
        ok(unsafe { (t.event_wait)(ptr::null(), 0) });
    }

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

    #[test]
    fn asynchronous_errors_are_collected_and_reported_once() {
        let (_dev, _ctx, q) = setup(queue_flags::IN_ORDER);
        // SAFETY: a live queue object of this plugin.
        let qref = unsafe { &*q.0.cast::<ffi::Queue>() };
        let first = test_support::ffi::test_failing_host_task(qref, "first failure", true)
            .expect("submit a host task");
        let second = test_support::ffi::test_failing_host_task(qref, "second failure", false)
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
        let third = test_support::ffi::test_failing_host_task(qref, "third failure", false)
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

    // The OpenCL entry points the tests use to check and give back the
    // references native_handle retains (from the libOpenCL the SYCL runtime
    // has loaded; the test binary does not link it either).
    #[link(name = "dl")]
    extern "C" {
        fn dlopen(filename: *const std::ffi::c_char, flags: std::ffi::c_int) -> *mut c_void;
        fn dlsym(handle: *mut c_void, symbol: *const std::ffi::c_char) -> *mut c_void;
    }
    const RTLD_NOW: std::ffi::c_int = 2;
    const RTLD_NOLOAD: std::ffi::c_int = 4;
    type ClInfoFn = unsafe extern "C" fn(*mut c_void, u32, usize, *mut c_void, *mut usize) -> i32;
    type ClReleaseFn = unsafe extern "C" fn(*mut c_void) -> i32;

    fn opencl_symbol(name: &std::ffi::CStr) -> *mut c_void {
        // SAFETY: plain dlopen/dlsym calls with NUL-terminated names.
        unsafe {
            let lib = dlopen(c"libOpenCL.so.1".as_ptr(), RTLD_NOW | RTLD_NOLOAD);
            assert!(!lib.is_null(), "libOpenCL.so.1 is not loaded");
            let sym = dlsym(lib, name.as_ptr());
            assert!(!sym.is_null(), "no {name:?} in libOpenCL");
            sym
        }
    }

    /// The reference count of an OpenCL object through its clGet*Info.
    fn cl_reference_count(info: ClInfoFn, obj: *mut c_void, param: u32) -> u32 {
        let mut count = 0u32;
        // SAFETY: a live OpenCL object of the kind `info` takes; 4-byte result.
        let rc = unsafe {
            info(
                obj,
                param,
                4,
                ptr::addr_of_mut!(count).cast(),
                ptr::null_mut(),
            )
        };
        assert_eq!(rc, 0, "clGet*Info failed");
        count
    }

    #[test]
    fn opencl_native_handles_are_retained_for_the_caller() {
        const CL_DEVICE_REFERENCE_COUNT: u32 = 0x1047;
        const CL_CONTEXT_REFERENCE_COUNT: u32 = 0x1080;
        const CL_QUEUE_REFERENCE_COUNT: u32 = 0x1092;
        let (dev, ctx, q) = setup(0);
        let t = table();
        let objects = [
            (
                native_kind::DEVICE,
                dev.0,
                c"clGetDeviceInfo",
                c"clReleaseDevice",
                CL_DEVICE_REFERENCE_COUNT,
            ),
            (
                native_kind::CONTEXT,
                ctx.0,
                c"clGetContextInfo",
                c"clReleaseContext",
                CL_CONTEXT_REFERENCE_COUNT,
            ),
            (
                native_kind::QUEUE,
                q.0,
                c"clGetCommandQueueInfo",
                c"clReleaseCommandQueue",
                CL_QUEUE_REFERENCE_COUNT,
            ),
        ];
        for (kind, obj, info_name, release_name, param) in objects {
            // SAFETY: the symbols have these C signatures (OpenCL 1.2).
            let (info, release) = unsafe {
                (
                    std::mem::transmute::<*mut c_void, ClInfoFn>(opencl_symbol(info_name)),
                    std::mem::transmute::<*mut c_void, ClReleaseFn>(opencl_symbol(release_name)),
                )
            };
            let mut backend_out = -1;
            let mut h: *mut c_void = ptr::null_mut();
            // SAFETY: live object of `kind`, writable outs.
            ok(unsafe { (t.native_handle)(kind, obj, &mut backend_out, &mut h) });
            assert_eq!(backend_out, backend::OPENCL);
            assert!(!h.is_null(), "kind {kind}");
            let before = cl_reference_count(info, h, param);
            let mut h2: *mut c_void = ptr::null_mut();
            // SAFETY: as above.
            ok(unsafe { (t.native_handle)(kind, obj, &mut backend_out, &mut h2) });
            assert_eq!(h2, h);
            let after = cl_reference_count(info, h, param);
            // Root devices are not reference counted in OpenCL (always 1).
            if kind != native_kind::DEVICE {
                assert_eq!(after, before + 1, "kind {kind}: one reference per call");
            }
            // Give both references back.
            // SAFETY: references retained for us.
            unsafe {
                assert_eq!(release(h2), 0);
                assert_eq!(release(h), 0);
            }
            if kind != native_kind::DEVICE {
                assert_eq!(
                    cl_reference_count(info, h, param),
                    before - 1,
                    "kind {kind}"
                );
            }
        }
        // The objects still work after the references were given back.
        let mem = alloc(&ctx, &q, usm_kind::DEVICE, 64, 0);
        let mut back = [1u8; 64];
        let mut set: Obj = ptr::null_mut();
        // SAFETY: live queue, `mem` holds 64 bytes.
        ok(unsafe { (t.enqueue_memset)(q.0, mem.p, 0, 64, ptr::null(), 0, &mut set) });
        let set = Ev(set);
        read_back(&q, mem.p, &mut back, &[&set]);
        assert_eq!(back, [0u8; 64]);
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

    #[test]
    fn runtime_rejections_of_an_enqueue_are_reported_synchronously() {
        let (_dev, ctx, q) = setup(0);
        let mem = alloc(&ctx, &q, usm_kind::DEVICE, 4096, 0);
        let mut host = [0u8; 64];
        // 64 bytes from 10 bytes before the end: the OpenCL runtime checks
        // the size against the allocation and refuses at submission.
        // SAFETY: the pointer stays inside the allocation; the runtime
        // refuses the oversized copy before touching memory.
        let src = unsafe { mem.p.cast::<u8>().add(4096 - 10) };
        for want_event in [true, false] {
            let mut ev: Obj = 1 as Obj;
            let ev_out = if want_event {
                &mut ev as *mut Obj
            } else {
                ptr::null_mut()
            };
            // SAFETY: live queue; see above.
            let rc = unsafe {
                (table().enqueue_memcpy)(
                    q.0,
                    host.as_mut_ptr().cast(),
                    src.cast(),
                    64,
                    ptr::null(),
                    0,
                    ev_out,
                )
            };
            let (_, code, msg) = fails(rc, status::BACKEND);
            assert_ne!(code, 0, "{msg}");
            assert!(msg.contains("SYCL error code"), "{msg}");
            if want_event {
                assert!(ev.is_null(), "a failed call leaves NULL in ev_out");
            }
        }
        queue_wait(&q);
    }

    // ---- kernel bundles and kernels -------------------------------------------

    owned!(
        /// An owned kernel bundle object.
        Bundle,
        bundle_release
    );
    owned!(
        /// An owned kernel object.
        Kern,
        kernel_release
    );

    /// The test kernels of `tests-data/kernels.cl`, compiled to SPIR-V.
    const KERNELS_SPV: &[u8] = include_bytes!("../tests-data/kernels.spv");

    /// OpenCL C twin of the SPIR-V `vadd`.
    const VADD_CL: &str = "__kernel void vadd(__global const int *a, __global const int *b, \
                           __global int *c, int k) {\n\
                             size_t i = get_global_id(0);\n\
                             c[i] = a[i] + k * b[i];\n\
                           }\n";

    /// OpenCL C twin of the SPIR-V `ids`, plus `sizes`, which writes the
    /// local and group counts seen by work-item (0, 0, 0).
    const IDS_CL: &str = "__kernel void ids(__global uint *out) {\n\
          size_t i0 = get_global_id(0), i1 = get_global_id(1), i2 = get_global_id(2);\n\
          size_t n0 = get_global_size(0), n1 = get_global_size(1);\n\
          size_t linear = i0 + n0 * (i1 + n1 * i2);\n\
          out[3 * linear + 0] = (uint)i0;\n\
          out[3 * linear + 1] = (uint)i1;\n\
          out[3 * linear + 2] = (uint)i2;\n\
        }\n\
        __kernel void sizes(__global uint *out) {\n\
          if (get_global_id(0) == 0 && get_global_id(1) == 0 && get_global_id(2) == 0) {\n\
            for (uint d = 0; d < 3; ++d) {\n\
              out[d] = (uint)get_global_size(d);\n\
              out[3 + d] = (uint)get_local_size(d);\n\
              out[6 + d] = (uint)get_num_groups(d);\n\
            }\n\
          }\n\
        }\n";

    /// A failed build: the recorded error and build log.
    type BuildError = ((i32, i64, String), Option<String>);

    /// Build a bundle; the error (and the recorded build log) on failure.
    fn try_build(
        ctx: &Ctx,
        dev: &Dev,
        kind: i32,
        src: &[u8],
        options: Option<&std::ffi::CStr>,
    ) -> Result<Bundle, BuildError> {
        let mut out: Obj = 1 as Obj;
        let opts = options.map_or(ptr::null(), |o| o.as_ptr());
        // SAFETY: live objects; `src` holds `len` bytes; writable out.
        let rc = unsafe {
            (table().bundle_create)(ctx.0, dev.0, kind, src.as_ptr(), src.len(), opts, &mut out)
        };
        if rc == status::SUCCESS {
            assert!(!out.is_null());
            assert!(
                take_build_log().is_none(),
                "a successful build records no log"
            );
            return Ok(Bundle(out));
        }
        assert!(out.is_null(), "a failed call leaves NULL in out");
        let e = take_error().expect("a failed call sets the error");
        assert_eq!(e.0, rc);
        Err((e, take_build_log()))
    }

    #[track_caller]
    fn build(
        ctx: &Ctx,
        dev: &Dev,
        kind: i32,
        src: &[u8],
        options: Option<&std::ffi::CStr>,
    ) -> Bundle {
        match try_build(ctx, dev, kind, src, options) {
            Ok(b) => b,
            Err((e, log)) => panic!("build failed: {e:?}\nlog: {}", log.unwrap_or_default()),
        }
    }

    fn try_get_kernel(b: &Bundle, name: &str) -> Result<Kern, (i32, i64, String)> {
        let name = std::ffi::CString::new(name).unwrap();
        let mut out: Obj = 1 as Obj;
        // SAFETY: live bundle, NUL-terminated name, writable out.
        let rc = unsafe { (table().bundle_get_kernel)(b.0, name.as_ptr(), &mut out) };
        if rc == status::SUCCESS {
            assert!(!out.is_null());
            return Ok(Kern(out));
        }
        assert!(out.is_null());
        Err(fails(rc, rc))
    }

    #[track_caller]
    fn get_kernel(b: &Bundle, name: &str) -> Kern {
        try_get_kernel(b, name).unwrap_or_else(|e| panic!("no kernel {name}: {e:?}"))
    }

    fn has_kernel(b: &Bundle, name: &str) -> bool {
        let name = std::ffi::CString::new(name).unwrap();
        let mut out = true;
        // SAFETY: live bundle, NUL-terminated name, writable out.
        ok(unsafe { (table().bundle_has_kernel)(b.0, name.as_ptr(), &mut out) });
        out
    }

    fn kernel_names(b: &Bundle) -> Result<Vec<String>, (i32, i64, String)> {
        let mut size = 0usize;
        // SAFETY: live bundle, size query.
        let rc = unsafe { (table().bundle_kernel_names)(b.0, ptr::null_mut(), 0, &mut size) };
        if rc != status::SUCCESS {
            return Err(fails(rc, rc));
        }
        let mut buf = vec![1 as c_char; size];
        let mut size2 = 0usize;
        // SAFETY: `buf` holds `size` bytes.
        ok(unsafe { (table().bundle_kernel_names)(b.0, buf.as_mut_ptr(), size, &mut size2) });
        assert_eq!(size, size2);
        assert_eq!(buf[size - 1], 0, "NUL-terminated");
        let text = String::from_utf8_lossy(dpcore_backend_abi::read_str(&buf)).into_owned();
        assert_eq!(text.len() + 1, size);
        Ok(text.split('\n').map(str::to_string).collect())
    }

    fn kernel_info_of(k: &Kern, dev: &Dev) -> KernelInfoV1 {
        let mut info = KernelInfoV1::zeroed();
        // SAFETY: live objects, writable record.
        ok(unsafe { (table().kernel_info)(k.0, dev.0, &mut info) });
        info
    }

    fn pointer_arg<T>(p: *const T) -> KernelArgV1 {
        KernelArgV1 {
            kind: arg_kind::POINTER,
            size: std::mem::size_of::<*const T>(),
            value: p.cast(),
        }
    }

    /// A scalar argument (borrows `value`, which must outlive the launch call).
    fn scalar_arg<T>(value: &T) -> KernelArgV1 {
        KernelArgV1 {
            kind: arg_kind::SCALAR,
            size: std::mem::size_of::<T>(),
            value: (value as *const T).cast(),
        }
    }

    fn local_arg(size: usize) -> KernelArgV1 {
        KernelArgV1 {
            kind: arg_kind::LOCAL,
            size,
            value: ptr::null(),
        }
    }

    /// Launch `k` on `q`; returns the status.
    fn launch_rc(
        q: &Queue,
        k: &Kern,
        global: &[usize],
        local: Option<&[usize]>,
        args: &[KernelArgV1],
        deps: &[&Ev],
        ev_out: *mut Obj,
    ) -> i32 {
        let deps: Vec<Obj> = deps.iter().map(|e| e.0).collect();
        // SAFETY: live objects; the slices hold what their lengths say.
        unsafe {
            (table().enqueue_kernel)(
                q.0,
                k.0,
                global.len() as u32,
                global.as_ptr(),
                local.map_or(ptr::null(), |l| l.as_ptr()),
                args.as_ptr(),
                args.len(),
                deps.as_ptr(),
                deps.len(),
                ev_out,
            )
        }
    }

    /// Launch `k` on `q` without an event and wait for the queue.
    #[track_caller]
    fn run(q: &Queue, k: &Kern, global: &[usize], local: Option<&[usize]>, args: &[KernelArgV1]) {
        ok(launch_rc(q, k, global, local, args, &[], ptr::null_mut()));
        queue_wait(q);
    }

    /// Shared USM of `n` elements of `T`, as a slice (valid while `mem` is).
    fn shared<T: Copy>(ctx: &Ctx, q: &Queue, n: usize) -> (Usm, *mut T) {
        let mem = alloc(ctx, q, usm_kind::SHARED, n * std::mem::size_of::<T>(), 0);
        let p = mem.p.cast::<T>();
        (mem, p)
    }

    /// Run the vadd kernel `k` over `n` elements and check the result.
    fn check_vadd(ctx: &Ctx, q: &Queue, k: &Kern) {
        let n = 1000;
        let (_a, a) = shared::<i32>(ctx, q, n);
        let (_b, b) = shared::<i32>(ctx, q, n);
        let (_c, c) = shared::<i32>(ctx, q, n);
        // SAFETY: shared USM of `n` elements, not in use by the device.
        let (av, bv, cv) = unsafe {
            (
                std::slice::from_raw_parts_mut(a, n),
                std::slice::from_raw_parts_mut(b, n),
                std::slice::from_raw_parts_mut(c, n),
            )
        };
        for i in 0..n {
            av[i] = i as i32;
            bv[i] = 1000 - i as i32;
            cv[i] = -1;
        }
        let k3 = 3i32;
        let args = [
            pointer_arg(a),
            pointer_arg(b),
            pointer_arg(c),
            scalar_arg(&k3),
        ];
        // With an event this time.
        let mut ev: Obj = ptr::null_mut();
        ok(launch_rc(q, k, &[n], None, &args, &[], &mut ev));
        let ev = Ev(ev);
        wait_all(&[&ev]);
        assert_eq!(status_of(&ev), event_status::COMPLETE);
        for (i, &v) in cv.iter().enumerate() {
            assert_eq!(v, i as i32 + 3 * (1000 - i as i32), "c[{i}]");
        }
    }

    #[test]
    fn spirv_vadd_builds_and_runs() {
        let (dev, ctx, q) = setup(0);
        let b = build(&ctx, &dev, source_kind::SPIRV, KERNELS_SPV, None);
        // SAFETY: live object.
        assert!(!unsafe { (table().bundle_native)(b.0) }.is_null());
        let k = get_kernel(&b, "vadd");
        // SAFETY: live object.
        assert!(!unsafe { (table().kernel_native)(k.0) }.is_null());
        check_vadd(&ctx, &q, &k);
        // Build options are accepted (split on spaces).
        let b2 = build(
            &ctx,
            &dev,
            source_kind::SPIRV,
            KERNELS_SPV,
            Some(c"-cl-fast-relaxed-math  -cl-mad-enable"),
        );
        check_vadd(&ctx, &q, &get_kernel(&b2, "vadd"));
    }

    #[test]
    fn opencl_c_builds_and_runs_with_options_and_dependencies() {
        let (dev, ctx, q) = setup(0);
        let b = build(&ctx, &dev, source_kind::OPENCL_C, VADD_CL.as_bytes(), None);
        let k = get_kernel(&b, "vadd");
        check_vadd(&ctx, &q, &k);

        // Options reach the compiler; a chain of launches with events on an
        // out-of-order queue.
        let src = "__kernel void scale(__global int *x) { x[get_global_id(0)] *= FACTOR; }\n\
                   __kernel void iota(__global int *x) { x[get_global_id(0)] = (int)get_global_id(0); }\n";
        let b = build(
            &ctx,
            &dev,
            source_kind::OPENCL_C,
            src.as_bytes(),
            Some(c"-DFACTOR=7 -Werror"),
        );
        let (scale, iota) = (get_kernel(&b, "scale"), get_kernel(&b, "iota"));
        let n = 4096;
        let (_m, x) = shared::<i32>(&ctx, &q, n);
        let args = [pointer_arg(x)];
        let mut e1: Obj = ptr::null_mut();
        ok(launch_rc(&q, &iota, &[n], None, &args, &[], &mut e1));
        let e1 = Ev(e1);
        let mut e2: Obj = ptr::null_mut();
        ok(launch_rc(
            &q,
            &scale,
            &[n],
            Some(&[64]),
            &args,
            &[&e1],
            &mut e2,
        ));
        let e2 = Ev(e2);
        // Without an event, after e2.
        ok(launch_rc(
            &q,
            &scale,
            &[n],
            None,
            &args,
            &[&e2],
            ptr::null_mut(),
        ));
        queue_wait(&q);
        // SAFETY: shared USM of `n` elements, the device is done with it.
        let xv = unsafe { std::slice::from_raw_parts(x, n) };
        for (i, &v) in xv.iter().enumerate() {
            assert_eq!(v, 49 * i as i32, "x[{i}]");
        }
    }

    #[test]
    fn failed_opencl_c_build_records_the_log() {
        let (dev, ctx, _q) = setup(0);
        let dev_name = name(&info(&dev));
        let src = "__kernel void broken(__global int *x) {\n  x[0] = undeclared_thing + 1;\n}\n";
        let ((st, code, msg), log) =
            try_build(&ctx, &dev, source_kind::OPENCL_C, src.as_bytes(), None)
                .err()
                .expect("the build must fail");
        assert_eq!(st, status::BUILD_FAILED, "{msg}");
        assert_eq!(code, -11, "CL_BUILD_PROGRAM_FAILURE: {msg}");
        assert!(msg.contains("building OpenCL C for device"), "{msg}");
        assert!(msg.contains(&dev_name), "{msg}");
        assert!(
            msg.contains("undeclared_thing"),
            "the first error line: {msg}"
        );
        assert!(msg.contains("dpc_last_error_build_log"), "{msg}");
        let log = log.expect("the build log is recorded");
        assert!(log.contains("undeclared_thing"), "{log}");
        assert!(log.contains("error"), "{log}");

        // Unknown options: also a failed build, with a log.
        let ((st, _, msg), log) = try_build(
            &ctx,
            &dev,
            source_kind::OPENCL_C,
            VADD_CL.as_bytes(),
            Some(c"-no-such-option-anywhere"),
        )
        .err()
        .expect("the build must fail");
        assert_eq!(st, status::BUILD_FAILED, "{msg}");
        assert!(!log.expect("a log").is_empty());
    }

    #[test]
    fn garbage_spirv_fails_to_build() {
        let (dev, ctx, _q) = setup(0);
        // A header and one instruction of an opcode that does not exist:
        // well-formed, so the runtime is asked to build it.
        let unknown_op: Vec<u8> = [0x0723_0203u32, 0x0001_0000, 0, 1, 0, (1 << 16) | 0xFFFF]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let half = KERNELS_SPV.len() / 2 / 4 * 4;
        for (bytes, in_log) in [
            (vec![0x42u8; 64], "magic number"),
            (
                KERNELS_SPV[..KERNELS_SPV.len() - 2].to_vec(),
                "multiple of 4",
            ),
            (KERNELS_SPV[..16].to_vec(), "shorter than a SPIR-V header"),
            (KERNELS_SPV[..KERNELS_SPV.len() - 4].to_vec(), "truncated"),
            // (The OpenCL CPU runtime crashes on a module cut after a whole
            // instruction inside a function: the plugin checks first.)
            (KERNELS_SPV[..half].to_vec(), "truncated"),
            (unknown_op, ""),
        ] {
            let ((st, _, msg), log) = try_build(&ctx, &dev, source_kind::SPIRV, &bytes, None)
                .err()
                .expect("garbage must not build");
            assert_eq!(st, status::BUILD_FAILED, "{msg}");
            assert!(msg.contains("building SPIR-V for device"), "{msg}");
            assert!(msg.contains("dpc_last_error_build_log"), "{msg}");
            let log = log.expect("the build log is recorded");
            assert!(!log.is_empty());
            assert!(log.contains(in_log), "{in_log:?} in {log}");
        }
        // Every cut of the module at an instruction boundary is refused
        // without reaching the runtime, or fails in the runtime.
        let words: Vec<u32> = KERNELS_SPV
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let mut at = 5;
        while at < words.len() {
            at += (words[at] >> 16) as usize;
            if at < words.len() {
                let cut = &KERNELS_SPV[..4 * at];
                if let Err(((st, _, msg), _)) = try_build(&ctx, &dev, source_kind::SPIRV, cut, None)
                {
                    assert_eq!(st, status::BUILD_FAILED, "cut at word {at}: {msg}");
                }
            }
        }
    }

    #[test]
    fn kernel_names_lookup_and_not_found() {
        let (dev, ctx, _q) = setup(0);
        let b = build(&ctx, &dev, source_kind::OPENCL_C, IDS_CL.as_bytes(), None);
        let mut names = kernel_names(&b).expect("OpenCL C bundles list their kernels");
        names.sort();
        assert_eq!(names, ["ids", "sizes"]);
        // Two-call pattern: a buffer too small gives OUT_OF_RANGE and the size.
        let mut small = [0 as c_char; 4];
        let mut size = 0;
        // SAFETY: `small` holds 4 bytes.
        let rc = unsafe { (table().bundle_kernel_names)(b.0, small.as_mut_ptr(), 4, &mut size) };
        let (_, _, msg) = fails(rc, status::OUT_OF_RANGE);
        assert_eq!(size, "ids\nsizes".len() + 1, "{msg}");
        assert!(has_kernel(&b, "ids"));
        assert!(has_kernel(&b, "sizes"));
        assert!(!has_kernel(&b, "vadd"));
        assert!(!has_kernel(&b, ""));
        let (st, _, msg) = try_get_kernel(&b, "vadd").err().expect("no vadd here");
        assert_eq!(st, status::NOT_FOUND, "{msg}");
        assert!(msg.contains("'vadd'"), "{msg}");
        assert!(
            msg.contains("ids") && msg.contains("sizes"),
            "the names are listed: {msg}"
        );

        // SPIR-V bundles: no listing, but lookups work.
        let s = build(&ctx, &dev, source_kind::SPIRV, KERNELS_SPV, None);
        let (st, _, msg) = kernel_names(&s).expect_err("SPIR-V names are not listed");
        assert_eq!(st, status::UNSUPPORTED, "{msg}");
        assert!(msg.contains("SPIR-V"), "{msg}");
        assert!(has_kernel(&s, "vadd"));
        assert!(has_kernel(&s, "ids"));
        assert!(!has_kernel(&s, "sizes"));
        let (st, _, msg) = try_get_kernel(&s, "sizes")
            .err()
            .expect("no sizes in SPIR-V");
        assert_eq!(st, status::NOT_FOUND, "{msg}");
        assert!(msg.contains("'sizes'"), "{msg}");
        // Each get makes a new kernel object.
        let (k1, k2) = (get_kernel(&s, "vadd"), get_kernel(&s, "vadd"));
        assert_ne!(k1.0, k2.0);
    }

    #[test]
    fn kernel_info_reports_arguments_and_sizes() {
        let (dev, ctx, _q) = setup(0);
        for (kind, src) in [
            (source_kind::OPENCL_C, VADD_CL.as_bytes()),
            (source_kind::SPIRV, KERNELS_SPV),
        ] {
            let b = build(&ctx, &dev, kind, src, None);
            let k = get_kernel(&b, "vadd");
            let info = kernel_info_of(&k, &dev);
            assert_eq!(
                dpcore_backend_abi::read_str(&info.name),
                b"vadd",
                "kind {kind}"
            );
            assert_eq!(info.has_num_args, 1, "kind {kind}");
            assert_eq!(info.num_args, 4, "kind {kind}");
            assert!(info.max_work_group_size > 0, "kind {kind}");
            assert!(info.preferred_work_group_size_multiple > 0, "kind {kind}");
            assert!(info.max_sub_group_size > 0, "kind {kind}");
            assert_eq!(info.compile_work_group_size, [0; 3], "kind {kind}");
        }
        // Compile-time sizes, in the C API's order (x = dimension 0).
        let src = "__kernel __attribute__((reqd_work_group_size(2, 3, 4)))\n\
                   __attribute__((intel_reqd_sub_group_size(8)))\n\
                   void fixed(__global int *o, __local int *l) { l[0] = 1; o[0] = l[0]; }\n";
        let b = build(&ctx, &dev, source_kind::OPENCL_C, src.as_bytes(), None);
        let k = get_kernel(&b, "fixed");
        let info = kernel_info_of(&k, &dev);
        assert_eq!(info.num_args, 2);
        assert_eq!(info.compile_work_group_size, [2, 3, 4]);
        assert_eq!(info.compile_sub_group_size, 8);
        // ... which is also the order the launch takes.
        let (_m, o) = shared::<i32>(&ctx, &_q, 1);
        let args = [pointer_arg(o), local_arg(4)];
        run(&_q, &k, &[2, 3, 4], Some(&[2, 3, 4]), &args);
    }

    #[test]
    fn nd_range_with_local_memory_reduces_per_group() {
        let (dev, ctx, q) = setup(queue_flags::IN_ORDER);
        let src = "__kernel void group_sum(__global const int *in, __global int *out, \
                   __local int *scratch) {\n\
              size_t lid = get_local_id(0), n = get_local_size(0);\n\
              scratch[lid] = in[get_global_id(0)];\n\
              barrier(CLK_LOCAL_MEM_FENCE);\n\
              for (size_t s = n / 2; s > 0; s /= 2) {\n\
                if (lid < s) scratch[lid] += scratch[lid + s];\n\
                barrier(CLK_LOCAL_MEM_FENCE);\n\
              }\n\
              if (lid == 0) out[get_group_id(0)] = scratch[0];\n\
            }\n";
        let b = build(&ctx, &dev, source_kind::OPENCL_C, src.as_bytes(), None);
        let k = get_kernel(&b, "group_sum");
        let (wg, groups) = (64usize, 16usize);
        let n = wg * groups;
        let (_i, input) = shared::<i32>(&ctx, &q, n);
        let (_o, out) = shared::<i32>(&ctx, &q, groups);
        // SAFETY: shared USM, not in use by the device.
        let iv = unsafe { std::slice::from_raw_parts_mut(input, n) };
        for (i, v) in iv.iter_mut().enumerate() {
            *v = (i % 7) as i32 + 1;
        }
        let args = [
            pointer_arg(input),
            pointer_arg(out),
            local_arg(wg * std::mem::size_of::<i32>()),
        ];
        run(&q, &k, &[n], Some(&[wg]), &args);
        // SAFETY: as above; the queue was waited for.
        let ov = unsafe { std::slice::from_raw_parts(out, groups) };
        for g in 0..groups {
            let want: i32 = iv[g * wg..(g + 1) * wg].iter().sum();
            assert_eq!(ov[g], want, "group {g}");
        }
    }

    /// Check what `ids` wrote over `global`: element
    /// `i0 + g0 * (i1 + g1 * i2)` holds `(i0, i1, i2)`.
    fn check_ids(what: &str, out: &[u32], global: &[usize]) {
        let g = [
            global[0],
            *global.get(1).unwrap_or(&1),
            *global.get(2).unwrap_or(&1),
        ];
        for i2 in 0..g[2] {
            for i1 in 0..g[1] {
                for i0 in 0..g[0] {
                    let l = i0 + g[0] * (i1 + g[1] * i2);
                    assert_eq!(
                        &out[3 * l..3 * l + 3],
                        &[i0 as u32, i1 as u32, i2 as u32],
                        "{what}: global {global:?}, element {l}"
                    );
                }
            }
        }
    }

    #[test]
    fn global_dimension_0_is_get_global_id_0() {
        let (dev, ctx, q) = setup(queue_flags::IN_ORDER);
        let cl = build(&ctx, &dev, source_kind::OPENCL_C, IDS_CL.as_bytes(), None);
        let spv = build(&ctx, &dev, source_kind::SPIRV, KERNELS_SPV, None);
        for (what, b) in [("OpenCL C", &cl), ("SPIR-V", &spv)] {
            let k = get_kernel(b, "ids");
            for (global, local) in [
                (&[7usize][..], None),
                (&[5, 3][..], None),
                (&[4, 3, 2][..], None),
                (&[6, 4][..], Some(&[3usize, 2][..])),
                (&[4, 6, 2][..], Some(&[2usize, 3, 1][..])),
            ] {
                let n: usize = global.iter().product();
                let (_m, out) = shared::<u32>(&ctx, &q, 3 * n);
                // SAFETY: shared USM, not in use by the device.
                unsafe { ptr::write_bytes(out, 0xFF, 3 * n) };
                run(&q, &k, global, local, &[pointer_arg(out)]);
                // SAFETY: as above; the queue was waited for.
                let ov = unsafe { std::slice::from_raw_parts(out, 3 * n) };
                check_ids(what, ov, global);
            }
        }
        // Work-group sizes follow the same order.
        let k = get_kernel(&cl, "sizes");
        let (_m, out) = shared::<u32>(&ctx, &q, 9);
        run(&q, &k, &[8, 6, 4], Some(&[4, 3, 1]), &[pointer_arg(out)]);
        // SAFETY: as above.
        let ov = unsafe { std::slice::from_raw_parts(out, 9) };
        assert_eq!(ov, [8, 6, 4, 4, 3, 1, 2, 2, 4]);
    }

    #[test]
    fn sixty_four_int_arguments() {
        let (dev, ctx, q) = setup(0);
        let params: Vec<String> = (0..64).map(|i| format!("int a{i}")).collect();
        let sum: Vec<String> = (0..64).map(|i| format!("a{i}")).collect();
        let src = format!(
            "__kernel void many(__global int *out, {}) {{ out[0] = {}; }}\n",
            params.join(", "),
            sum.join(" + ")
        );
        let b = build(&ctx, &dev, source_kind::OPENCL_C, src.as_bytes(), None);
        let k = get_kernel(&b, "many");
        assert_eq!(kernel_info_of(&k, &dev).num_args, 65);
        let values: Vec<i32> = (0..64).map(|i| i * i + 1).collect();
        let (_m, out) = shared::<i32>(&ctx, &q, 1);
        let mut args = vec![pointer_arg(out)];
        args.extend(values.iter().map(scalar_arg));
        run(&q, &k, &[1], None, &args);
        // SAFETY: shared USM; the queue was waited for.
        assert_eq!(unsafe { *out }, values.iter().sum::<i32>());
    }

    #[test]
    fn scalars_of_every_size() {
        let (dev, ctx, q) = setup(0);
        let src = "typedef struct { int x, y, z; } three;\n\
                   typedef struct { int v[64]; } big;\n\
                   __kernel void scalars(__global long *o, char a, short b, long c, int4 d,\n\
                                         three e, big f, uchar g) {\n\
                     o[0] = a; o[1] = b; o[2] = c; o[3] = d.x; o[4] = d.w;\n\
                     o[5] = e.x; o[6] = e.z; long s = 0;\n\
                     for (int i = 0; i < 64; ++i) s += f.v[i];\n\
                     o[7] = s; o[8] = f.v[63]; o[9] = g;\n\
                   }\n";
        let b = build(&ctx, &dev, source_kind::OPENCL_C, src.as_bytes(), None);
        let k = get_kernel(&b, "scalars");
        let a: i8 = -5;
        let bb: i16 = -300;
        let c: i64 = (1 << 40) + 7;
        let d: [i32; 4] = [11, 12, 13, 14];
        let e: [i32; 3] = [21, 22, 23];
        let f: [i32; 64] = std::array::from_fn(|i| i as i32 * 3);
        let g: u8 = 250;
        assert_eq!(std::mem::size_of_val(&f), MAX_SCALAR_ARG);
        let (_m, out) = shared::<i64>(&ctx, &q, 10);
        let args = [
            pointer_arg(out),
            scalar_arg(&a),
            scalar_arg(&bb),
            scalar_arg(&c),
            scalar_arg(&d),
            scalar_arg(&e),
            scalar_arg(&f),
            scalar_arg(&g),
        ];
        run(&q, &k, &[1], None, &args);
        // SAFETY: shared USM; the queue was waited for.
        let ov = unsafe { std::slice::from_raw_parts(out, 10) };
        let fsum: i64 = f.iter().map(|&x| i64::from(x)).sum();
        assert_eq!(
            ov,
            [-5, -300, (1 << 40) + 7, 11, 14, 21, 23, fsum, 189, 250]
        );

        // Sizes the table does not take.
        for size in [0usize, MAX_SCALAR_ARG + 1] {
            let big = [0u8; MAX_SCALAR_ARG + 1];
            let mut bad = args;
            bad[1] = KernelArgV1 {
                kind: arg_kind::SCALAR,
                size,
                value: big.as_ptr().cast(),
            };
            let rc = launch_rc(&q, &k, &[1], None, &bad, &[], ptr::null_mut());
            let (_, _, msg) = fails(rc, status::INVALID_ARGUMENT);
            assert!(msg.contains("args[1]"), "{msg}");
        }
    }

    #[test]
    fn launch_errors_are_reported() {
        let (dev, ctx, q) = setup(0);
        let b = build(&ctx, &dev, source_kind::OPENCL_C, VADD_CL.as_bytes(), None);
        let k = get_kernel(&b, "vadd");
        let (_m, x) = shared::<i32>(&ctx, &q, 16);
        let k3 = 3i32;
        let args = [
            pointer_arg(x),
            pointer_arg(x),
            pointer_arg(x),
            scalar_arg(&k3),
        ];
        // A work-group size that does not divide the global size.
        let mut ev: Obj = 1 as Obj;
        let rc = launch_rc(&q, &k, &[10], Some(&[4]), &args, &[], &mut ev);
        let (_, code, msg) = fails(rc, status::INVALID_ARGUMENT);
        assert_ne!(code, 0, "{msg}");
        assert!(msg.contains("divisible"), "{msg}");
        assert!(ev.is_null());
        // Too few or too many arguments for the kernel (OpenCL keeps the
        // arguments of earlier launches: the runtime would not notice).
        for n in [2, 3, 5] {
            let mut more = args.to_vec();
            more.push(scalar_arg(&k3));
            let rc = launch_rc(&q, &k, &[16], None, &more[..n], &[], ptr::null_mut());
            let (_, _, msg) = fails(rc, status::INVALID_ARGUMENT);
            assert!(
                msg.contains(&format!("takes 4 arguments, {n} given")),
                "{msg}"
            );
        }
        queue_wait(&q);
        // The kernel still works afterwards.
        run(&q, &k, &[16], None, &args);
    }

    #[test]
    fn sycl_source_builds_and_runs_where_the_device_can_compile_it() {
        let (dev, ctx, q) = setup(0);
        let src = "#include <sycl/sycl.hpp>\n\
            namespace syclext = sycl::ext::oneapi;\n\
            namespace syclexp = sycl::ext::oneapi::experimental;\n\
            extern \"C\" SYCL_EXT_ONEAPI_FUNCTION_PROPERTY((syclexp::nd_range_kernel<1>))\n\
            void vadd(const int *a, const int *b, int *c, int k) {\n\
              size_t i = syclext::this_work_item::get_nd_item<1>().get_global_id(0);\n\
              c[i] = a[i] + k * b[i] + OFFSET;\n\
            }\n";
        let b = match try_build(
            &ctx,
            &dev,
            source_kind::SYCL,
            src.as_bytes(),
            Some(c"-DOFFSET=0"),
        ) {
            Ok(b) => b,
            Err(((st, _, msg), _)) => {
                assert_eq!(st, status::UNSUPPORTED, "{msg}");
                assert!(msg.contains("SYCL source"), "{msg}");
                assert!(msg.contains(&name(&info(&dev))), "{msg}");
                eprintln!("SYCL source is not supported here: {msg}");
                return;
            }
        };
        assert!(has_kernel(&b, "vadd"));
        assert!(!has_kernel(&b, "nope"));
        let (st, _, msg) = kernel_names(&b).expect_err("not listed");
        assert_eq!(st, status::UNSUPPORTED, "{msg}");
        let k = get_kernel(&b, "vadd");
        assert_eq!(kernel_info_of(&k, &dev).num_args, 4);
        let n = 256;
        let (_a, a) = shared::<i32>(&ctx, &q, n);
        let (_c, c) = shared::<i32>(&ctx, &q, n);
        // SAFETY: shared USM, not in use by the device.
        let av = unsafe { std::slice::from_raw_parts_mut(a, n) };
        for (i, v) in av.iter_mut().enumerate() {
            *v = i as i32;
        }
        let k2 = 2i32;
        let args = [
            pointer_arg(a),
            pointer_arg(a),
            pointer_arg(c),
            scalar_arg(&k2),
        ];
        run(&q, &k, &[n], Some(&[32]), &args);
        // SAFETY: as above; the queue was waited for.
        let cv = unsafe { std::slice::from_raw_parts(c, n) };
        for (i, &v) in cv.iter().enumerate() {
            assert_eq!(v, 3 * i as i32, "c[{i}]");
        }

        // A failed SYCL build: BUILD_FAILED with the compiler's diagnostics.
        let bad = "#include <sycl/sycl.hpp>\nint broken = not_declared_anywhere;\n";
        let ((st, _, msg), log) = try_build(&ctx, &dev, source_kind::SYCL, bad.as_bytes(), None)
            .err()
            .expect("must not build");
        assert_eq!(st, status::BUILD_FAILED, "{msg}");
        assert!(msg.contains("not_declared_anywhere"), "{msg}");
        let log = log.expect("a build log");
        assert!(log.contains("not_declared_anywhere"), "{log}");
    }

    #[test]
    fn kernels_launch_from_many_threads() {
        let (dev, ctx, q) = setup(0);
        let b = build(&ctx, &dev, source_kind::OPENCL_C, VADD_CL.as_bytes(), None);
        let k = get_kernel(&b, "vadd");
        let n = 512;
        let (k_addr, q_addr, ctx_addr) = (k.0 as usize, q.0 as usize, ctx.0 as usize);
        std::thread::scope(|s| {
            for t in 0..4i32 {
                s.spawn(move || {
                    let k = std::mem::ManuallyDrop::new(Kern(k_addr as Obj));
                    let q = std::mem::ManuallyDrop::new(Queue(q_addr as Obj));
                    let ctx = std::mem::ManuallyDrop::new(Ctx(ctx_addr as Obj));
                    let (_a, a) = shared::<i32>(&ctx, &q, n);
                    let (_c, c) = shared::<i32>(&ctx, &q, n);
                    for round in 0..20 {
                        // SAFETY: shared USM, not in use by the device.
                        let av = unsafe { std::slice::from_raw_parts_mut(a, n) };
                        for (i, v) in av.iter_mut().enumerate() {
                            *v = i as i32 + t;
                        }
                        let kk = round;
                        let args = [
                            pointer_arg(a),
                            pointer_arg(a),
                            pointer_arg(c),
                            scalar_arg(&kk),
                        ];
                        let mut ev: Obj = ptr::null_mut();
                        ok(launch_rc(&q, &k, &[n], None, &args, &[], &mut ev));
                        let ev = Ev(ev);
                        wait_all(&[&ev]);
                        // SAFETY: as above; the launch was waited for.
                        let cv = unsafe { std::slice::from_raw_parts(c, n) };
                        for (i, &v) in cv.iter().enumerate() {
                            assert_eq!(v, (i as i32 + t) * (1 + round), "thread {t} round {round}");
                        }
                    }
                });
            }
        });
        queue_wait(&q);
    }

    #[test]
    fn null_and_invalid_arguments_of_the_v3_functions() {
        let (dev, ctx, q) = setup(0);
        let b = build(&ctx, &dev, source_kind::OPENCL_C, VADD_CL.as_bytes(), None);
        let k = get_kernel(&b, "vadd");
        let t = table();
        let n = ptr::null_mut::<c_void>();
        let expect = |rc: i32, what: &str| {
            let (_, _, msg) = fails(rc, status::INVALID_ARGUMENT);
            assert!(msg.contains(what), "expected {what:?} in {msg:?}");
        };
        let src = VADD_CL.as_bytes();
        let mut out: Obj = ptr::null_mut();
        let mut size = 0usize;
        let mut yes = false;
        let mut kinfo = KernelInfoV1::zeroed();
        let global = [16usize];
        let (_m, x) = shared::<i32>(&ctx, &q, 16);
        let k3 = 3i32;
        let args = [
            pointer_arg(x),
            pointer_arg(x),
            pointer_arg(x),
            scalar_arg(&k3),
        ];
        let null_dep = [n];
        // SAFETY (all): every pointer is NULL or valid.
        unsafe {
            let create =
                |ctx: Obj, dev: Obj, kind: i32, src: *const u8, len: usize, out: *mut Obj| {
                    (t.bundle_create)(ctx, dev, kind, src, len, ptr::null(), out)
                };
            expect(
                create(
                    ctx.0,
                    dev.0,
                    source_kind::OPENCL_C,
                    src.as_ptr(),
                    src.len(),
                    ptr::null_mut(),
                ),
                "out is NULL",
            );
            expect(
                create(
                    n,
                    dev.0,
                    source_kind::OPENCL_C,
                    src.as_ptr(),
                    src.len(),
                    &mut out,
                ),
                "ctx is NULL",
            );
            expect(
                create(
                    ctx.0,
                    n,
                    source_kind::OPENCL_C,
                    src.as_ptr(),
                    src.len(),
                    &mut out,
                ),
                "dev is NULL",
            );
            expect(
                create(
                    ctx.0,
                    dev.0,
                    source_kind::OPENCL_C,
                    ptr::null(),
                    5,
                    &mut out,
                ),
                "src is NULL",
            );
            expect(
                create(
                    ctx.0,
                    dev.0,
                    source_kind::OPENCL_C,
                    src.as_ptr(),
                    0,
                    &mut out,
                ),
                "empty",
            );
            expect(
                create(ctx.0, dev.0, 0, src.as_ptr(), src.len(), &mut out),
                "unknown source kind 0",
            );
            assert!(out.is_null());
            assert!(take_build_log().is_none());
            // A device outside the context.
            let subs = partition(&dev, partition_kind::EQUALLY, &[1]).expect("partition");
            expect(
                create(
                    ctx.0,
                    subs[0].0,
                    source_kind::OPENCL_C,
                    src.as_ptr(),
                    src.len(),
                    &mut out,
                ),
                "not a device of the context",
            );

            expect(
                (t.bundle_kernel_names)(n, ptr::null_mut(), 0, &mut size),
                "b is NULL",
            );
            expect(
                (t.bundle_kernel_names)(b.0, ptr::null_mut(), 0, ptr::null_mut()),
                "size_out is NULL",
            );
            expect(
                (t.bundle_has_kernel)(n, c"vadd".as_ptr(), &mut yes),
                "b is NULL",
            );
            expect(
                (t.bundle_has_kernel)(b.0, ptr::null(), &mut yes),
                "name is NULL",
            );
            expect(
                (t.bundle_has_kernel)(b.0, c"vadd".as_ptr(), ptr::null_mut()),
                "out is NULL",
            );
            expect(
                (t.bundle_get_kernel)(n, c"vadd".as_ptr(), &mut out),
                "b is NULL",
            );
            expect(
                (t.bundle_get_kernel)(b.0, ptr::null(), &mut out),
                "name is NULL",
            );
            expect(
                (t.bundle_get_kernel)(b.0, c"vadd".as_ptr(), ptr::null_mut()),
                "out is NULL",
            );
            assert!((t.bundle_native)(n).is_null());
            (t.bundle_release)(n);

            expect((t.kernel_info)(n, dev.0, &mut kinfo), "k is NULL");
            expect((t.kernel_info)(k.0, n, &mut kinfo), "dev is NULL");
            expect((t.kernel_info)(k.0, dev.0, ptr::null_mut()), "out is NULL");
            assert!((t.kernel_native)(n).is_null());
            (t.kernel_release)(n);

            let mut ev: Obj = 1 as Obj;
            let launch = |q: Obj,
                          k: Obj,
                          dims: u32,
                          global: *const usize,
                          args: *const KernelArgV1,
                          n_args: usize,
                          deps: *const Obj,
                          n_deps: usize,
                          ev: *mut Obj| {
                (t.enqueue_kernel)(
                    q,
                    k,
                    dims,
                    global,
                    ptr::null(),
                    args,
                    n_args,
                    deps,
                    n_deps,
                    ev,
                )
            };
            expect(
                launch(
                    n,
                    k.0,
                    1,
                    global.as_ptr(),
                    args.as_ptr(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "q is NULL",
            );
            assert!(ev.is_null(), "a failed call leaves NULL in ev_out");
            expect(
                launch(
                    q.0,
                    n,
                    1,
                    global.as_ptr(),
                    args.as_ptr(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "k is NULL",
            );
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    ptr::null(),
                    args.as_ptr(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "global is NULL",
            );
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    global.as_ptr(),
                    ptr::null(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "args is NULL",
            );
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    global.as_ptr(),
                    args.as_ptr(),
                    4,
                    ptr::null(),
                    1,
                    &mut ev,
                ),
                "deps is NULL",
            );
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    global.as_ptr(),
                    args.as_ptr(),
                    4,
                    null_dep.as_ptr(),
                    1,
                    &mut ev,
                ),
                "deps[0] is NULL",
            );
            for dims in [0, 4] {
                expect(
                    launch(
                        q.0,
                        k.0,
                        dims,
                        global.as_ptr(),
                        args.as_ptr(),
                        4,
                        ptr::null(),
                        0,
                        &mut ev,
                    ),
                    "1 to 3 dimensions",
                );
            }
            let mut bad = args;
            bad[3].value = ptr::null();
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    global.as_ptr(),
                    bad.as_ptr(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "args[3].value is NULL",
            );
            bad = args;
            bad[2].kind = 99;
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    global.as_ptr(),
                    bad.as_ptr(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "args[2]: unknown argument kind 99",
            );
            bad = args;
            bad[2] = local_arg(0);
            expect(
                launch(
                    q.0,
                    k.0,
                    1,
                    global.as_ptr(),
                    bad.as_ptr(),
                    4,
                    ptr::null(),
                    0,
                    &mut ev,
                ),
                "args[2]: 0 bytes of local memory",
            );
            assert!(ev.is_null());
        }
        queue_wait(&q);
    }

    /// Launch overhead of a no-op kernel, submit + wait, through the table
    /// and in plain SYCL. Run with `--ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn launch_overhead() {
        let (dev, ctx, q) = setup(0);
        let b = build(
            &ctx,
            &dev,
            source_kind::OPENCL_C,
            b"__kernel void noop() {}\n",
            None,
        );
        let k = get_kernel(&b, "noop");
        let rounds = 5000;
        // SAFETY: live objects of this plugin.
        let (qref, kref) = unsafe { (&*q.0.cast::<ffi::Queue>(), &*k.0.cast::<ffi::Kernel>()) };
        for _ in 0..2 {
            for with_event in [true, false] {
                let start = std::time::Instant::now();
                for _ in 0..rounds {
                    if with_event {
                        let mut ev: Obj = ptr::null_mut();
                        ok(launch_rc(&q, &k, &[1], None, &[], &[], &mut ev));
                        let ev = Ev(ev);
                        wait_all(&[&ev]);
                    } else {
                        ok(launch_rc(&q, &k, &[1], None, &[], &[], ptr::null_mut()));
                        queue_wait(&q);
                    }
                }
                let table_us = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
                let raw_us =
                    test_support::ffi::test_raw_launch_micros(qref, kref, rounds, with_event)
                        .expect("raw launches");
                eprintln!(
                    "no-op kernel, submit + wait ({}): table {table_us:.2} us, raw SYCL {raw_us:.2} us",
                    if with_event { "event, event wait" } else { "no event, queue wait" }
                );
            }
        }
        // Submission alone (no wait per launch).
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            ok(launch_rc(&q, &k, &[1], None, &[], &[], ptr::null_mut()));
        }
        queue_wait(&q);
        eprintln!(
            "no-op kernel, {rounds} event-less submits then one wait: {:.2} us per launch",
            start.elapsed().as_secs_f64() * 1e6 / rounds as f64
        );
    }
}
