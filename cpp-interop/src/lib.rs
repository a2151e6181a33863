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

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::{OnceLock, RwLock};

use cxx::UniquePtr;
use dpcore_backend_abi::{
    affinity, aspect, backend, device_type, partition, partition_kind, status, write_str,
    BackendV1, DeviceInfoV1, HostV1, Obj, PlatformInfoV1, RuntimeInfoV1, BACKEND_ABI_VERSION,
    MAX_SUB_GROUP_SIZES,
};

#[cxx::bridge(namespace = "dpcore_sycl")]
mod ffi {
    /// `dpc_status` codes the C++ side raises (checked against
    /// `dpcore_backend_abi::status` below).
    #[repr(i32)]
    enum Status {
        InvalidArgument = 1,
        Backend = 201,
        Unsupported = 202,
        OutOfHostMemory = 300,
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

    /// What `platform_facts` learns about one platform.
    struct PlatformFacts {
        backend: Backend,
        n_devices: u32,
        name: String,
        vendor: String,
        version: String,
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
    }
}

// The bridge's enums restate numbers of the ABI crate; keep them in step.
const _: () = {
    assert!(ffi::Status::InvalidArgument.repr == status::INVALID_ARGUMENT);
    assert!(ffi::Status::Backend.repr == status::BACKEND);
    assert!(ffi::Status::Unsupported.repr == status::UNSUPPORTED);
    assert!(ffi::Status::OutOfHostMemory.repr == status::OUT_OF_HOST_MEMORY);
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
};

// SAFETY: a `sycl::device` is a reference-counted handle whose member
// functions are thread-safe (SYCL 2020, 4.3.2), and the wrappers are never
// mutated after construction.
unsafe impl Send for ffi::Device {}
unsafe impl Sync for ffi::Device {}
// SAFETY: as above; a `DeviceList` is an immutable vector of `sycl::device`.
unsafe impl Send for ffi::DeviceList {}
unsafe impl Sync for ffi::DeviceList {}

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

/// Hand a device out as an [`Obj`] (released by [`device_release`]).
fn into_obj(dev: UniquePtr<ffi::Device>) -> Obj {
    dev.into_raw().cast()
}

/// Borrow the device behind an [`Obj`].
///
/// # Safety
/// `obj` must be NULL or an object from this plugin not yet released.
unsafe fn device_ref<'a>(obj: Obj, what: &str) -> Result<&'a ffi::Device, Failure> {
    // SAFETY: by the caller's promise, a non-NULL `obj` came from `into_obj`.
    unsafe { obj.cast::<ffi::Device>().as_ref() }
        .ok_or_else(|| Failure::invalid(format!("{what} is NULL")))
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

    static TEST_HOST: HostV1 = HostV1 {
        abi_version: BACKEND_ABI_VERSION,
        struct_size: std::mem::size_of::<HostV1>() as u32,
        set_error: test_set_error,
        log: test_log,
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
}
