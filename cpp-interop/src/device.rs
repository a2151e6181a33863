//! Devices (`device_list`, `device_info`, `device_equal`, `device_parent`,
//! `device_partition`, `device_release`, `device_native`): the SYCL root
//! devices, listed once, what they are, their sub-devices, and the device
//! lists the other parts build (the C++ half is
//! `src/bridge/device.{h,cpp}`).

use std::ffi::c_void;
use std::panic::catch_unwind;
use std::ptr;
use std::sync::OnceLock;

use cxx::UniquePtr;
use dpcore_backend_abi::{
    affinity, aspect, device_type, partition, partition_kind, write_str, DeviceInfoV1, Obj,
    MAX_SUB_GROUP_SIZES,
};

use crate::error::{guarded, non_null, Failure};
use crate::host::{log, LOG_DEBUG, LOG_WARNING};
use crate::object::{into_obj, obj_ref};

#[cxx::bridge(namespace = "dpcore_sycl")]
pub(crate) mod ffi {
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

    unsafe extern "C++" {
        // A type of another bridge is an alias of it; the C++ needs the
        // definition of a shared type used by value (generated in that
        // bridge's header), the declaration of an opaque one (in
        // `src/bridge/*.h`).
        include!("dpcore-sycl/src/platform.rs.h");
        include!("dpcore-sycl/src/bridge/device.h");

        type Backend = crate::platform::ffi::Backend;

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

        fn device_list_new() -> Result<UniquePtr<DeviceList>>;
        fn device_list_push(list: Pin<&mut DeviceList>, dev: &Device) -> Result<()>;
    }
}

// The bridge's enums restate numbers of the ABI crate; keep them in step.
const _: () = {
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
// SAFETY: as above; a `DeviceList` is a vector of `sycl::device`, only
// mutated (through `Pin<&mut>`) while it is being built.
unsafe impl Send for ffi::DeviceList {}
unsafe impl Sync for ffi::DeviceList {}

/// Borrow the device behind an [`Obj`].
///
/// # Safety
/// As for [`obj_ref`].
pub(crate) unsafe fn device_ref<'a>(obj: Obj, what: &str) -> Result<&'a ffi::Device, Failure> {
    // SAFETY: the caller's promise.
    unsafe { obj_ref(obj, what) }
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

pub(crate) fn roots() -> Result<&'static ffi::DeviceList, Failure> {
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

pub(crate) unsafe extern "C" fn device_list(
    buf: *mut Obj,
    cap: usize,
    count_out: *mut usize,
) -> i32 {
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

pub(crate) unsafe extern "C" fn device_info(dev: Obj, out: *mut DeviceInfoV1) -> i32 {
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

pub(crate) unsafe extern "C" fn device_equal(a: Obj, b: Obj) -> bool {
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

pub(crate) unsafe extern "C" fn device_parent(dev: Obj, out: *mut Obj) -> i32 {
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

pub(crate) unsafe extern "C" fn device_partition(
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

pub(crate) unsafe extern "C" fn device_release(dev: Obj) {
    if dev.is_null() {
        return;
    }
    let _ = catch_unwind(|| {
        // SAFETY: `dev` came from `into_obj` and is given back exactly once.
        drop(unsafe { UniquePtr::from_raw(dev.cast::<ffi::Device>()) });
    });
}

pub(crate) unsafe extern "C" fn device_native(dev: Obj) -> *mut c_void {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{
        cpu_device, info, list_devices, name, partition, table, take_error, Dev,
    };
    use dpcore_backend_abi::{backend, status};

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
}
