//! Devices: enumeration in `sycl::device::get_devices()` order, cached
//! info, filter strings, DLPack ids and sub-devices (`dpc_device_*`).

use crate::export;
use std::ffi::c_char;
use std::sync::{Arc, OnceLock};

use dpcore_backend_abi as abi;

use crate::backend::{self, field, Backend};
use crate::error::{dpc_status, dpc_status::*, Error, Result};
use crate::handle::{self, HandleType, Kind};
use crate::strings::{check_ptr, write_out, write_out_slice, write_out_str};

/// Opaque device type of the C API.
pub struct dpc_device_s {
    _private: (),
}

/// A device handle. Root devices (those returned by `dpc_device_get`,
/// `dpc_device_select`, ...) are valid for the life of the process, and
/// retain/release on them do nothing; sub-devices are reference counted.
pub type dpc_device = *mut dpc_device_s;

/// The runtime backend a device belongs to.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum dpc_backend {
    DPC_BACKEND_UNKNOWN = 0,
    DPC_BACKEND_OPENCL = 1,
    DPC_BACKEND_LEVEL_ZERO = 2,
    DPC_BACKEND_CUDA = 3,
    DPC_BACKEND_HIP = 4,
    DPC_BACKEND_NATIVE_CPU = 5,
}

/// The kind of device.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum dpc_device_type {
    DPC_DEVICE_TYPE_UNKNOWN = 0,
    DPC_DEVICE_TYPE_CPU = 1,
    DPC_DEVICE_TYPE_GPU = 2,
    DPC_DEVICE_TYPE_ACCELERATOR = 3,
    DPC_DEVICE_TYPE_CUSTOM = 4,
}

/// Device capabilities for `dpc_device_has_aspect`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum dpc_aspect {
    DPC_ASPECT_FP16 = 0,
    DPC_ASPECT_FP64 = 1,
    DPC_ASPECT_ATOMIC64 = 2,
    DPC_ASPECT_IMAGE = 3,
    DPC_ASPECT_USM_DEVICE_ALLOCATIONS = 4,
    DPC_ASPECT_USM_HOST_ALLOCATIONS = 5,
    DPC_ASPECT_USM_SHARED_ALLOCATIONS = 6,
    DPC_ASPECT_USM_SYSTEM_ALLOCATIONS = 7,
    DPC_ASPECT_USM_ATOMIC_HOST_ALLOCATIONS = 8,
    DPC_ASPECT_USM_ATOMIC_SHARED_ALLOCATIONS = 9,
    DPC_ASPECT_QUEUE_PROFILING = 10,
    DPC_ASPECT_ONLINE_COMPILER = 11,
    DPC_ASPECT_ONLINE_LINKER = 12,
    DPC_ASPECT_UUID = 13,
}

/// Number of `dpc_aspect` values.
pub const DPC_ASPECT_COUNT: i32 = 14;

/// Keys for `dpc_device_get_info_string` (1–99) and
/// `dpc_device_get_info_u64` (100–199).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum dpc_device_info {
    DPC_DEVICE_INFO_NAME = 1,
    DPC_DEVICE_INFO_VENDOR = 2,
    DPC_DEVICE_INFO_DRIVER_VERSION = 3,
    /// The device's own version string (for OpenCL: `OpenCL 3.0 ...`).
    DPC_DEVICE_INFO_VERSION = 4,
    DPC_DEVICE_INFO_PLATFORM_NAME = 5,
    DPC_DEVICE_INFO_PLATFORM_VERSION = 6,
    /// The canonical `backend:type:N` filter string (root devices only).
    DPC_DEVICE_INFO_FILTER_STRING = 7,
    /// The name of the plugin the device comes from: `sycl` for the SYCL
    /// plugin, `mock` for `libdpcore_mock.so` (see `DPCORE_PLUGINS`).
    DPC_DEVICE_INFO_PLUGIN = 8,
    DPC_DEVICE_INFO_MAX_COMPUTE_UNITS = 100,
    /// In MHz.
    DPC_DEVICE_INFO_MAX_CLOCK_FREQUENCY = 101,
    /// In bytes.
    DPC_DEVICE_INFO_GLOBAL_MEM_SIZE = 102,
    /// In bytes.
    DPC_DEVICE_INFO_LOCAL_MEM_SIZE = 103,
    /// The largest single allocation, in bytes.
    DPC_DEVICE_INFO_MAX_MEM_ALLOC_SIZE = 104,
    /// In bytes.
    DPC_DEVICE_INFO_GLOBAL_MEM_CACHE_SIZE = 105,
    DPC_DEVICE_INFO_MAX_WORK_GROUP_SIZE = 106,
    DPC_DEVICE_INFO_MAX_WORK_ITEM_DIMENSIONS = 107,
    DPC_DEVICE_INFO_MAX_NUM_SUB_GROUPS = 108,
    DPC_DEVICE_INFO_VENDOR_ID = 109,
    DPC_DEVICE_INFO_PARTITION_MAX_SUB_DEVICES = 110,
    /// 1 for a sub-device, 0 for a root device.
    DPC_DEVICE_INFO_IS_SUB_DEVICE = 111,
}

/// Affinity domains for `dpc_device_partition_by_affinity`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum dpc_affinity_domain {
    DPC_AFFINITY_NUMA = 0,
    DPC_AFFINITY_L4_CACHE = 1,
    DPC_AFFINITY_L3_CACHE = 2,
    DPC_AFFINITY_L2_CACHE = 3,
    DPC_AFFINITY_L1_CACHE = 4,
    DPC_AFFINITY_NEXT_PARTITIONABLE = 5,
}

/// The public backend value for a backend-interface one.
pub fn backend_from_abi(b: i32) -> dpc_backend {
    match b {
        abi::backend::OPENCL => dpc_backend::DPC_BACKEND_OPENCL,
        abi::backend::LEVEL_ZERO => dpc_backend::DPC_BACKEND_LEVEL_ZERO,
        abi::backend::CUDA => dpc_backend::DPC_BACKEND_CUDA,
        abi::backend::HIP => dpc_backend::DPC_BACKEND_HIP,
        abi::backend::NATIVE_CPU => dpc_backend::DPC_BACKEND_NATIVE_CPU,
        _ => dpc_backend::DPC_BACKEND_UNKNOWN,
    }
}

/// A device with everything the API reports about it, read once.
pub struct Device {
    obj: abi::Obj,
    backend: &'static Backend,
    pub info: abi::DeviceInfoV1,
    pub name: String,
    /// Position in the root device list; `None` for a sub-device.
    pub root_index: Option<usize>,
    /// `backend:type:N` for root devices.
    pub filter: Option<String>,
    /// A root device's DLPack device type and id (see `dlpack_id`).
    pub dlpack: Option<(i32, usize)>,
    /// The device this one was partitioned from.
    pub parent: Option<Arc<Device>>,
    /// A root device's default context (the platform's), made at first use
    /// and kept for the life of the process.
    pub default_context: OnceLock<Arc<crate::context::Context>>,
    /// A root device's canonical queue and its immortal handle, made at
    /// first use.
    pub default_queue: OnceLock<(Arc<crate::queue::Queue>, usize)>,
    /// A sub-device's default context and canonical queue, while something
    /// uses them. Weak: both hold the sub-device, so strong references here
    /// would keep all three alive forever.
    pub sub_defaults: std::sync::Mutex<SubDefaults>,
}

/// A sub-device's default context and queue, cached while alive.
#[derive(Default)]
pub struct SubDefaults {
    pub context: std::sync::Weak<crate::context::Context>,
    pub queue: std::sync::Weak<crate::queue::Queue>,
}

// SAFETY: a `Device` owns one plugin device object (released once, by
// `Drop`) and otherwise holds Send + Sync data (`DeviceInfoV1` is plain
// integers; `Context` and `Queue` are Send + Sync). Every table function
// may be called from any thread (the backend interface's conventions), so
// the owner may move to another thread.
unsafe impl Send for Device {}
// SAFETY: through `&Device` the object only reaches table functions that
// take it by value and may be called from any thread concurrently (the
// backend interface's conventions); the Rust state shared through `&self`
// is behind `OnceLock` and `Mutex`.
unsafe impl Sync for Device {}

impl HandleType for Device {
    const KIND: Kind = Kind::Device;
}

impl Drop for Device {
    fn drop(&mut self) {
        // SAFETY: `self.obj` is a device object of `self.backend`, owned by
        // this `Device` alone (see `Device::new`); `drop` runs once, so it
        // is given back exactly once, as the interface requires.
        unsafe { (self.backend.table.device_release)(self.obj) }
    }
}

impl Device {
    /// Take ownership of a plugin device object and read its info. On
    /// failure the object is given back.
    ///
    /// # Safety
    /// `obj` is a live device object of `backend` that the caller owns and
    /// hands over: nothing else gives it back.
    unsafe fn new(backend: &'static Backend, obj: abi::Obj) -> Result<Device> {
        let mut info = abi::DeviceInfoV1::zeroed();
        // SAFETY: `obj` is a live device object of `backend` (this
        // function's contract); `info` is a live local record the plugin
        // fills.
        let st = unsafe { crate::faults::table_call!(backend.table, device_info(obj, &mut info)) };
        if let Err(e) = backend::check(st, "device_info") {
            // SAFETY: the caller handed `obj` over (this function's
            // contract) and no `Device` owns it yet: it is given back once,
            // here.
            unsafe { (backend.table.device_release)(obj) };
            return Err(e);
        }
        Ok(Device {
            obj,
            backend,
            name: field(&info.name),
            info,
            root_index: None,
            filter: None,
            dlpack: None,
            parent: None,
            default_context: OnceLock::new(),
            default_queue: OnceLock::new(),
            sub_defaults: std::sync::Mutex::new(SubDefaults::default()),
        })
    }

    pub fn backend_kind(&self) -> dpc_backend {
        backend_from_abi(self.info.backend)
    }

    pub fn device_type(&self) -> dpc_device_type {
        match self.info.device_type {
            abi::device_type::CPU => dpc_device_type::DPC_DEVICE_TYPE_CPU,
            abi::device_type::GPU => dpc_device_type::DPC_DEVICE_TYPE_GPU,
            abi::device_type::ACCELERATOR => dpc_device_type::DPC_DEVICE_TYPE_ACCELERATOR,
            abi::device_type::CUSTOM => dpc_device_type::DPC_DEVICE_TYPE_CUSTOM,
            _ => dpc_device_type::DPC_DEVICE_TYPE_UNKNOWN,
        }
    }

    pub fn has_aspect(&self, a: u32) -> bool {
        a < 64 && self.info.aspects & (1u64 << a) != 0
    }

    /// The root device this one descends from (itself for a root).
    pub fn root(self: &Arc<Device>) -> Arc<Device> {
        let mut d = self.clone();
        while let Some(p) = d.parent.clone() {
            d = p;
        }
        d
    }

    /// The DLPack device id of the device's root: for a SYCL device its
    /// `kDLOneAPI` id, the index of the root device in
    /// `sycl::device::get_devices()` order, as dpnp and dpctl report it;
    /// for a device of another plugin its index among the devices of its
    /// DLPack device type.
    pub fn dlpack_id(self: &Arc<Device>) -> Option<usize> {
        self.root().dlpack.map(|(_, id)| id)
    }

    /// The DLPack device type of the device's root (`kDLOneAPI` for SYCL
    /// devices, `kDLCUDA` for CUDA devices of another plugin, `kDLExtDev`
    /// otherwise).
    pub fn dlpack_type(self: &Arc<Device>) -> Option<i32> {
        self.root().dlpack.map(|(t, _)| t)
    }

    /// The name of the plugin the device comes from (`sycl`, ...).
    pub fn plugin(&self) -> &str {
        &self.backend.name
    }

    pub fn sub_group_sizes(&self) -> &[u64] {
        let n = (self.info.n_sub_group_sizes as usize).min(abi::MAX_SUB_GROUP_SIZES);
        &self.info.sub_group_sizes[..n]
    }

    /// A one-line description for messages: `[0] opencl:cpu:0 AMD EPYC`.
    pub fn describe(&self) -> String {
        match (&self.root_index, &self.filter) {
            (Some(i), Some(f)) => format!("[{i}] {f} \"{}\"", self.name),
            _ => format!("sub-device \"{}\"", self.name),
        }
    }

    /// The plugin object, for calls through the backend table.
    pub fn obj(&self) -> abi::Obj {
        self.obj
    }

    pub fn backend(&self) -> &'static Backend {
        self.backend
    }

    pub fn native(&self) -> *mut std::ffi::c_void {
        // SAFETY: `self.obj` is a live device object of `self.backend`
        // (owned by `self`, borrowed for the call).
        unsafe { (self.backend.table.device_native)(self.obj) }
    }

    pub fn string_info(&self, key: i32) -> Result<String> {
        use dpc_device_info::*;
        let i = &self.info;
        Ok(match key {
            k if k == DPC_DEVICE_INFO_NAME as i32 => self.name.clone(),
            k if k == DPC_DEVICE_INFO_VENDOR as i32 => field(&i.vendor),
            k if k == DPC_DEVICE_INFO_DRIVER_VERSION as i32 => field(&i.driver_version),
            k if k == DPC_DEVICE_INFO_VERSION as i32 => field(&i.version),
            k if k == DPC_DEVICE_INFO_PLATFORM_NAME as i32 => field(&i.platform_name),
            k if k == DPC_DEVICE_INFO_PLATFORM_VERSION as i32 => field(&i.platform_version),
            k if k == DPC_DEVICE_INFO_PLUGIN as i32 => self.backend.name.clone(),
            k if k == DPC_DEVICE_INFO_FILTER_STRING as i32 => match &self.filter {
                Some(f) => f.clone(),
                None => {
                    return Err(Error::new(
                        DPC_ERROR_UNSUPPORTED,
                        format!(
                            "{} is a sub-device: filter strings select root devices only; \
                             keep the sub-device handle or partition the root device again",
                            self.describe()
                        ),
                    ))
                }
            },
            k if (100..200).contains(&k) => {
                return Err(Error::invalid_arg(format!(
                    "device info key {k} is a number; use dpc_device_get_info_u64"
                )))
            }
            k => {
                return Err(Error::invalid_arg(format!(
                    "{k} is not a dpc_device_info key"
                )))
            }
        })
    }

    pub fn u64_info(&self, key: i32) -> Result<u64> {
        use dpc_device_info::*;
        let i = &self.info;
        Ok(match key {
            k if k == DPC_DEVICE_INFO_MAX_COMPUTE_UNITS as i32 => i.max_compute_units as u64,
            k if k == DPC_DEVICE_INFO_MAX_CLOCK_FREQUENCY as i32 => i.max_clock_frequency as u64,
            k if k == DPC_DEVICE_INFO_GLOBAL_MEM_SIZE as i32 => i.global_mem_size,
            k if k == DPC_DEVICE_INFO_LOCAL_MEM_SIZE as i32 => i.local_mem_size,
            k if k == DPC_DEVICE_INFO_MAX_MEM_ALLOC_SIZE as i32 => i.max_mem_alloc_size,
            k if k == DPC_DEVICE_INFO_GLOBAL_MEM_CACHE_SIZE as i32 => i.global_mem_cache_size,
            k if k == DPC_DEVICE_INFO_MAX_WORK_GROUP_SIZE as i32 => i.max_work_group_size,
            k if k == DPC_DEVICE_INFO_MAX_WORK_ITEM_DIMENSIONS as i32 => {
                i.max_work_item_dimensions as u64
            }
            k if k == DPC_DEVICE_INFO_MAX_NUM_SUB_GROUPS as i32 => i.max_num_sub_groups as u64,
            k if k == DPC_DEVICE_INFO_VENDOR_ID as i32 => i.vendor_id as u64,
            k if k == DPC_DEVICE_INFO_PARTITION_MAX_SUB_DEVICES as i32 => {
                i.partition_max_sub_devices as u64
            }
            k if k == DPC_DEVICE_INFO_IS_SUB_DEVICE as i32 => (self.parent.is_some()) as u64,
            k if (1..100).contains(&k) => {
                return Err(Error::invalid_arg(format!(
                    "device info key {k} is a string; use dpc_device_get_info_string"
                )))
            }
            k => {
                return Err(Error::invalid_arg(format!(
                    "{k} is not a dpc_device_info key"
                )))
            }
        })
    }

    /// Partition; `kind` and `params` as in the backend interface.
    pub fn partition(self: &Arc<Device>, kind: i32, params: &[usize]) -> Result<Vec<Arc<Device>>> {
        let t = self.backend.table;
        let mut n = 0usize;
        // First call: the count. Second: the devices. The runtime answers
        // the same for the same request.
        // SAFETY: `self.obj` is a live device object of `self.backend`
        // (owned by `self`); `params` is readable for `params.len()` values
        // (a slice); `buf` is NULL with capacity 0, so only `n`, a live
        // local, is written.
        let st = unsafe {
            crate::faults::table_call!(
                t,
                device_partition(
                    self.obj,
                    kind,
                    params.as_ptr(),
                    params.len(),
                    std::ptr::null_mut(),
                    0,
                    &mut n,
                )
            )
        };
        backend::check(st, "device_partition")?;
        let mut objs: Vec<abi::Obj> = vec![std::ptr::null_mut(); n];
        let mut m = 0usize;
        // SAFETY: as above, and `objs` is a live buffer of `n` objects, the
        // capacity passed; `m` is a live local.
        let st = unsafe {
            crate::faults::table_call!(
                t,
                device_partition(
                    self.obj,
                    kind,
                    params.as_ptr(),
                    params.len(),
                    objs.as_mut_ptr(),
                    n,
                    &mut m,
                )
            )
        };
        backend::check(st, "device_partition")?;
        let written = m.min(n);
        let mut out = Vec::with_capacity(written);
        let mut failure = None;
        for &o in &objs[..written] {
            if failure.is_some() {
                // SAFETY: `o` is one of the `written` new device objects the
                // plugin wrote to `objs`, owned here and not handed to any
                // `Device`: it is given back once.
                unsafe { (t.device_release)(o) };
                continue;
            }
            // SAFETY: `o` is one of the `written` new device objects of
            // `self.backend` the plugin wrote to `objs`, owned here; it is
            // handed over once (the loop visits each once).
            match unsafe { Device::new(self.backend, o) } {
                Ok(mut d) => {
                    d.parent = Some(self.clone());
                    out.push(Arc::new(d));
                }
                Err(e) => failure = Some(e),
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

/// The root devices and their immortal handles.
pub struct Registry {
    pub devices: Vec<Arc<Device>>,
    pub handles: Vec<usize>,
    /// Why there are no devices, when the backend did not load.
    pub unavailable: Option<Error>,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

pub fn backend_name(b: dpc_backend) -> &'static str {
    match b {
        dpc_backend::DPC_BACKEND_OPENCL => "opencl",
        dpc_backend::DPC_BACKEND_LEVEL_ZERO => "level_zero",
        dpc_backend::DPC_BACKEND_CUDA => "cuda",
        dpc_backend::DPC_BACKEND_HIP => "hip",
        dpc_backend::DPC_BACKEND_NATIVE_CPU => "native_cpu",
        dpc_backend::DPC_BACKEND_UNKNOWN => "unknown",
    }
}

fn type_name(t: dpc_device_type) -> &'static str {
    match t {
        dpc_device_type::DPC_DEVICE_TYPE_CPU => "cpu",
        dpc_device_type::DPC_DEVICE_TYPE_GPU => "gpu",
        dpc_device_type::DPC_DEVICE_TYPE_ACCELERATOR => "accelerator",
        dpc_device_type::DPC_DEVICE_TYPE_CUSTOM => "custom",
        dpc_device_type::DPC_DEVICE_TYPE_UNKNOWN => "unknown",
    }
}

impl Device {
    pub fn backend_str(&self) -> &'static str {
        backend_name(self.backend_kind())
    }
    pub fn type_str(&self) -> &'static str {
        type_name(self.device_type())
    }
}

/// The root devices of one plugin, not yet numbered.
fn enumerate(b: &'static Backend) -> Result<Vec<Device>> {
    let t = b.table;
    let mut n = 0usize;
    backend::check(
        // SAFETY: `t` is `b`'s table; `buf` is NULL with capacity 0, so only
        // `n`, a live local, is written.
        unsafe { crate::faults::table_call!(t, device_list(std::ptr::null_mut(), 0, &mut n)) },
        "device_list",
    )?;
    let mut objs: Vec<abi::Obj> = vec![std::ptr::null_mut(); n];
    let mut m = 0usize;
    backend::check(
        // SAFETY: `objs` is a live buffer of `n` objects, the capacity
        // passed; `m` is a live local.
        unsafe { crate::faults::table_call!(t, device_list(objs.as_mut_ptr(), n, &mut m)) },
        "device_list",
    )?;
    let mut devices: Vec<Device> = Vec::with_capacity(m.min(n));
    let mut failure = None;
    for &o in &objs[..m.min(n)] {
        if failure.is_some() {
            // SAFETY: `o` is one of the new device objects the plugin wrote
            // to `objs` (at most `n`, the capacity), owned here and not
            // handed to any `Device`: it is given back once.
            unsafe { (t.device_release)(o) };
            continue;
        }
        // SAFETY: `o` is one of the new device objects of `b` the plugin
        // wrote to `objs`, owned here; it is handed over once (the loop
        // visits each once).
        match unsafe { Device::new(b, o) } {
            Ok(d) => devices.push(d),
            Err(e) => failure = Some(e),
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(devices),
    }
}

/// The DLPack device type of root devices of plugin `b` that report `kind`.
fn dlpack_type_of(b: &Backend, kind: dpc_backend) -> i32 {
    if b.name == backend::SYCL {
        crate::dlpack::DPC_DL_ONEAPI
    } else if kind == dpc_backend::DPC_BACKEND_CUDA {
        crate::dlpack::DPC_DL_CUDA
    } else {
        crate::dlpack::DPC_DL_EXT_DEV
    }
}

/// Number the root devices of every plugin, in load order: their position
/// in the list, their filter strings (N counts devices of the same backend
/// and type, in list order, which is what the selector grammar matches)
/// and their DLPack ids (counted per DLPack device type).
fn number(all: Vec<Device>) -> Vec<Arc<Device>> {
    let mut out: Vec<Arc<Device>> = Vec::with_capacity(all.len());
    for (i, mut d) in all.into_iter().enumerate() {
        d.root_index = Some(i);
        let n = out
            .iter()
            .filter(|o| o.backend_kind() == d.backend_kind() && o.device_type() == d.device_type())
            .count();
        d.filter = Some(format!("{}:{}:{n}", d.backend_str(), d.type_str()));
        let t = dlpack_type_of(d.backend, d.backend_kind());
        let id = out
            .iter()
            .filter(|o| o.dlpack.is_some_and(|(ot, _)| ot == t))
            .count();
        d.dlpack = Some((t, id));
        out.push(Arc::new(d));
    }
    out
}

/// The root device with DLPack device `(device_type, id)`.
pub fn by_dlpack(device_type: i32, id: i64) -> Option<Arc<Device>> {
    let id = usize::try_from(id).ok()?;
    registry()
        .devices
        .iter()
        .find(|d| d.dlpack == Some((device_type, id)))
        .cloned()
}

/// The registry while no enumeration has succeeded.
static EMPTY: Registry = Registry {
    devices: Vec::new(),
    handles: Vec::new(),
    unavailable: None,
};
/// Held while the devices are enumerated, so that only one thread does it.
static ENUMERATING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The root devices, enumerated once per process; empty while the
/// enumeration fails (see [`try_registry`]).
pub fn registry() -> &'static Registry {
    try_registry().unwrap_or(&EMPTY)
}

/// The root devices, enumerated once per process, or why the enumeration
/// failed: a plugin's `device_list` or `device_info` failing while no
/// other plugin listed a device. Such a failed enumeration is not kept:
/// the next call tries again, so a passing failure does not leave the
/// process without devices for good. When another plugin did list devices
/// the list is kept without the failing plugin's (whose failure is logged
/// and kept in `unavailable`): one plugin's failure takes nothing from the
/// others. A plugin that did not load is no failure here either.
pub fn try_registry() -> Result<&'static Registry> {
    if let Some(r) = REGISTRY.get() {
        return Ok(r);
    }
    let _one = ENUMERATING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = REGISTRY.get() {
        return Ok(r);
    }
    let mut all = Vec::new();
    let mut unavailable = backend::any().err();
    let mut failed = None;
    for b in backend::loaded() {
        match enumerate(b) {
            Ok(d) => all.extend(d),
            Err(mut e) => {
                e.message = format!(
                    "the devices of plugin {} could not be listed: {}",
                    b.name, e.message
                );
                crate::log::error(&e.message);
                failed.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failed {
        if all.is_empty() {
            return Err(e);
        }
        unavailable.get_or_insert(e);
    }
    Ok(REGISTRY.get_or_init(|| {
        let devices = number(all);
        let mut handles = Vec::with_capacity(devices.len());
        let mut kept = Vec::with_capacity(devices.len());
        for d in devices {
            // Immortal handles: valid for the life of the process.
            if let Ok(h) = handle::insert(d.clone(), true) {
                handles.push(h);
                kept.push(d);
            }
        }
        Registry {
            devices: kept,
            handles,
            unavailable,
        }
    }))
}

/// The core's device for a plugin device object (taking ownership of
/// `obj`): the registry's root device when it is one, else a sub-device
/// with its parents found through the runtime.
///
/// # Safety
/// `obj` is NULL or a device object of `b` that the caller owns.
pub unsafe fn from_obj(b: &'static Backend, obj: abi::Obj) -> Result<Arc<Device>> {
    if obj.is_null() {
        return Err(Error::new(
            DPC_ERROR_INTERNAL,
            "the backend returned no device",
        ));
    }
    // Only `b`'s own devices can be `obj`; a device object of another
    // plugin must never reach `b`'s table.
    let reg = match try_registry() {
        Ok(r) => r,
        Err(e) => {
            // SAFETY: the caller handed `obj` over (this function's
            // contract); it is given back once, here, and not used again.
            unsafe { (b.table.device_release)(obj) };
            return Err(e);
        }
    };
    for d in reg.devices.iter().filter(|d| std::ptr::eq(d.backend, b)) {
        // SAFETY: both are live device objects of `b`: `d.obj` is owned by a
        // registry device of `b` (the filter above), which lives for the
        // process; `obj` is non-NULL (checked above) and the caller's (this
        // function's contract).
        if unsafe { (b.table.device_equal)(d.obj, obj) } {
            // SAFETY: the caller handed `obj` over (this function's
            // contract); it is given back once, here, and not used again.
            unsafe { (b.table.device_release)(obj) };
            return Ok(d.clone());
        }
    }
    let mut parent_obj: abi::Obj = std::ptr::null_mut();
    // SAFETY: `obj` is a live device object of `b` (as above);
    // `parent_obj` is a live local the plugin writes.
    let st = unsafe { crate::faults::table_call!(b.table, device_parent(obj, &mut parent_obj)) };
    if let Err(e) = backend::check(st, "device_parent") {
        // SAFETY: `obj` was handed over and is given back once, here.
        unsafe { (b.table.device_release)(obj) };
        return Err(e);
    }
    let parent = if parent_obj.is_null() {
        None
    } else {
        // SAFETY: `parent_obj` is a new device object of `b` from
        // `device_parent` (non-NULL, checked above), owned here; it is
        // handed over to the recursive call, which takes ownership.
        match unsafe { from_obj(b, parent_obj) } {
            Ok(p) => Some(p),
            Err(e) => {
                // SAFETY: `obj` was handed over and is given back once,
                // here.
                unsafe { (b.table.device_release)(obj) };
                return Err(e);
            }
        }
    };
    // SAFETY: `obj` is a live device object of `b` that was handed over and
    // not yet given back (the early returns above all returned); it is
    // handed over in turn.
    let mut d = unsafe { Device::new(b, obj) }?;
    d.parent = parent;
    Ok(Arc::new(d))
}

/// The handle for a device: the immortal one for a root device, a new
/// counted one otherwise.
pub fn handle_for(d: &Arc<Device>) -> Result<dpc_device> {
    if let Some(i) = d.root_index {
        if let Some(h) = registry().handles.get(i) {
            return Ok(*h as dpc_device);
        }
    }
    Ok(handle::insert(d.clone(), false)? as dpc_device)
}

/// A list of the devices for error messages.
pub fn list_for_message() -> String {
    let r = match try_registry() {
        Ok(r) => r,
        Err(e) => return format!("the device list could not be read: {}", e.message),
    };
    if r.devices.is_empty() {
        return match &r.unavailable {
            Some(e) => format!("there are no devices: {}", e.message),
            None => "there are no devices: the SYCL runtime reports 0 platforms with devices \
                     (for the OpenCL CPU runtime set OCL_ICD_FILENAMES; run `dpcore-info --diagnose`)"
                .into(),
        };
    }
    let items: Vec<String> = r.devices.iter().map(|d| d.describe()).collect();
    format!("the devices are: {}", items.join(", "))
}

pub fn get(arg: &str, h: dpc_device) -> Result<Arc<Device>> {
    handle::get::<Device>(arg, h as usize)
}

/// The immortal handle of the root device at `index` (in
/// `dpc_device_count` order), or `DPC_ERROR_OUT_OF_RANGE` listing the
/// devices.
pub(crate) fn handle_at(index: usize) -> Result<dpc_device> {
    let r = try_registry()?;
    match r.handles.get(index) {
        Some(h) => Ok(*h as dpc_device),
        None => Err(Error::new(
            DPC_ERROR_OUT_OF_RANGE,
            format!(
                "dpc_device_get: index {index} is out of range ({} devices); {}",
                r.devices.len(),
                list_for_message()
            ),
        )),
    }
}

/// The capability bit of a `dpc_aspect` value a C caller passed, or
/// `DPC_ERROR_INVALID_ARGUMENT` when it is not one.
pub(crate) fn aspect_bit(aspect: i32) -> Result<u32> {
    if !(0..DPC_ASPECT_COUNT).contains(&aspect) {
        return Err(Error::invalid_arg(format!(
            "dpc_device_has_aspect: {aspect} is not a dpc_aspect (0..{})",
            DPC_ASPECT_COUNT - 1
        )));
    }
    Ok(aspect as u32)
}

impl Device {
    /// The device's 16-byte UUID, or `DPC_ERROR_UNSUPPORTED` when the
    /// runtime reports none (no `UUID` aspect).
    pub(crate) fn uuid(&self) -> Result<[u8; 16]> {
        if !self.has_aspect(abi::aspect::UUID) {
            return Err(Error::new(
                DPC_ERROR_UNSUPPORTED,
                format!("the runtime reports no UUID for {}", self.describe()),
            ));
        }
        Ok(self.info.uuid)
    }

    /// Whether `self` and `other` are the same device: the same object,
    /// or two objects of one plugin that its runtime calls equal. Devices
    /// of two plugins are never the same device, and a plugin's table
    /// takes only its own objects.
    pub(crate) fn same_as(&self, other: &Device) -> bool {
        std::ptr::eq(self, other)
            || (std::ptr::eq(self.backend, other.backend)
                // SAFETY: both are live device objects (owned by `self` and
                // `other`, borrowed for the call) of one plugin (checked
                // just before), whose table this is.
                && unsafe { (self.backend.table.device_equal)(self.obj, other.obj) })
    }
}

/// The DLPack device id `d` reports (its root's; see
/// [`Device::dlpack_id`]), or `DPC_ERROR_INTERNAL` when its root is not in
/// the device list.
pub(crate) fn dlpack_id_of(d: &Arc<Device>) -> Result<usize> {
    d.dlpack_id().ok_or_else(|| {
        Error::new(
            DPC_ERROR_INTERNAL,
            "device has no root device in the device list",
        )
    })
}

/// The root device whose `kDLOneAPI` DLPack id is `id`, or
/// `DPC_ERROR_DEVICE_NOT_FOUND` listing the devices.
pub(crate) fn from_oneapi_id(id: i32) -> Result<Arc<Device>> {
    by_dlpack(crate::dlpack::DPC_DL_ONEAPI, id as i64).ok_or_else(|| {
        Error::new(
            DPC_ERROR_DEVICE_NOT_FOUND,
            format!("no device has kDLOneAPI id {id}; {}", list_for_message()),
        )
    })
}

/// A checked partition request: what one `dpc_device_partition_*` call
/// asks for, made from its C arguments (with their messages when they are
/// out of range) before the device handle is looked at.
pub(crate) enum Partition<'a> {
    /// Sub-devices of this many compute units each (at least 1).
    Equally(usize),
    /// One sub-device per count, of that many compute units (at least one
    /// count, each at least 1).
    ByCounts(&'a [usize]),
    /// By this `dpc_affinity_domain` (0..5).
    ByAffinity(usize),
}

impl<'a> Partition<'a> {
    /// Equal partition into sub-devices of `compute_units` each.
    pub(crate) fn equally(compute_units: usize) -> Result<Partition<'a>> {
        if compute_units == 0 {
            return Err(Error::invalid_arg(
                "dpc_device_partition_equally: compute_units must be at least 1",
            ));
        }
        Ok(Partition::Equally(compute_units))
    }

    /// Partition into one sub-device per count in `counts`.
    pub(crate) fn by_counts(counts: &'a [usize]) -> Result<Partition<'a>> {
        if counts.is_empty() {
            return Err(Error::invalid_arg(
                "dpc_device_partition_by_counts: n_counts must be at least 1",
            ));
        }
        if let Some(i) = counts.iter().position(|&x| x == 0) {
            return Err(Error::invalid_arg(format!(
                "dpc_device_partition_by_counts: counts[{i}] is 0; every sub-device needs at least 1 compute unit"
            )));
        }
        Ok(Partition::ByCounts(counts))
    }

    /// Partition by the `dpc_affinity_domain` value `domain`.
    pub(crate) fn by_affinity(domain: i32) -> Result<Partition<'a>> {
        if !(0..=5).contains(&domain) {
            return Err(Error::invalid_arg(format!(
                "dpc_device_partition_by_affinity: {domain} is not a dpc_affinity_domain (0..5)"
            )));
        }
        Ok(Partition::ByAffinity(domain as usize))
    }

    /// The backend interface's `partition_kind` and parameters.
    fn kind_and_params(&self) -> (i32, &[usize]) {
        match self {
            Partition::Equally(n) => (abi::partition_kind::EQUALLY, std::slice::from_ref(n)),
            Partition::ByCounts(c) => (abi::partition_kind::BY_COUNTS, c),
            Partition::ByAffinity(d) => (
                abi::partition_kind::BY_AFFINITY_DOMAIN,
                std::slice::from_ref(d),
            ),
        }
    }
}

/// Partition `d` as `req` asks: the new sub-devices, each with `d` as its
/// parent.
pub(crate) fn sub_devices(d: &Arc<Device>, req: &Partition<'_>) -> Result<Vec<Arc<Device>>> {
    let (kind, params) = req.kind_and_params();
    d.partition(kind, params)
}

/// Give sub-devices to the C caller in the two-call pattern of the
/// `dpc_device_partition_*` exports: with `buf` NULL only `*count_out`
/// (the number of sub-devices); otherwise a new handle per sub-device in
/// `buf` (none when `capacity` is too small: `DPC_ERROR_BUFFER_TOO_SMALL`,
/// with `*count_out` still set).
///
/// # Safety
/// `buf` is NULL or valid for writes of `capacity` handles; `count_out` is
/// valid for a write of `usize` (the exports' contracts, with `count_out`
/// checked non-NULL by the caller).
pub(crate) unsafe fn write_out_sub_devices(
    subs: &[Arc<Device>],
    buf: *mut dpc_device,
    capacity: usize,
    count_out: *mut usize,
) -> Result<()> {
    let function = crate::error::current_export();
    if !buf.is_null() && capacity < subs.len() {
        // SAFETY: by this function's contract `count_out` is valid for a
        // write of `usize`.
        unsafe { *count_out = subs.len() };
        return Err(Error::new(
            DPC_ERROR_BUFFER_TOO_SMALL,
            format!(
                "{function}: the partition makes {} sub-devices but `capacity` is {capacity}",
                subs.len()
            ),
        ));
    }
    if buf.is_null() {
        // SAFETY: as above.
        unsafe { *count_out = subs.len() };
        return Ok(());
    }
    let mut handles = Vec::with_capacity(subs.len());
    for s in subs {
        match handle::insert(s.clone(), false) {
            Ok(h) => handles.push(h as dpc_device),
            Err(e) => {
                for h in handles {
                    let _ = handle::release(Kind::Device, "device", h as usize);
                }
                return Err(e);
            }
        }
    }
    // SAFETY: `buf` is non-NULL (checked above) and, by this function's
    // contract, valid for writes of `capacity` handles, and `capacity >=
    // subs.len() == handles.len()` (checked above); `handles` is a local
    // `Vec`, so the two cannot overlap.
    unsafe { std::ptr::copy_nonoverlapping(handles.as_ptr(), buf, handles.len()) };
    // SAFETY: by this function's contract `count_out` is valid for a write
    // of `usize`.
    unsafe { *count_out = handles.len() };
    Ok(())
}

// ---------------------------------------------------------------- exports

/// The number of root devices, in `sycl::device::get_devices()` order
/// (which honours `ONEAPI_DEVICE_SELECTOR`).
///
/// When the backend plugin or its runtime cannot be loaded this is 0 and
/// the call still succeeds; `dpc_backend_load` gives the reason.
/// Errors: `DPC_ERROR_NULL_POINTER`; the status of a loaded plugin's
/// failure to list its devices (`DPC_ERROR_BACKEND`,
/// `DPC_ERROR_DEVICE_LOST`, ...), with a message naming the plugin: such a
/// failure is not kept, and the next call lists the devices again.
/// Thread safety: any thread; the list is fixed at the first success.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_count(count_out: *mut usize) -> dpc_status {
    export!(|| {
        check_ptr("count_out", count_out)?;
        let n = try_registry()?.devices.len();
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `size_t` (the export's contract).
        unsafe { write_out("count_out", count_out, n) }
    })
}

/// The root device at `index` (0-based, in `dpc_device_count` order).
///
/// Ownership: the handle is valid for the life of the process; releasing
/// it is allowed and does nothing. Errors: `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_OUT_OF_RANGE` (message lists the devices).
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_get(index: usize, device_out: *mut dpc_device) -> dpc_status {
    export!(|| {
        check_ptr("device_out", device_out)?;
        let h = handle_at(index)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_device` (the export's contract).
        unsafe { write_out("device_out", device_out, h) }
    })
}

/// Add a reference to `device`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_device_retain(device: dpc_device) -> dpc_status {
    export!(|| { handle::retain(Kind::Device, "device", device as usize) })
}

/// Drop a reference to `device`; NULL is a no-op. Root devices are never
/// freed; a sub-device is freed with its last reference.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE` (not a device, or already released).
/// Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_device_release(device: dpc_device) -> dpc_status {
    export!(|| { handle::release(Kind::Device, "device", device as usize) })
}

/// The backend of `device`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_get_backend(
    device: dpc_device,
    backend_out: *mut dpc_backend,
) -> dpc_status {
    export!(|| {
        check_ptr("backend_out", backend_out)?;
        let b = handle::with::<Device, _>("device", device as usize, |d| d.backend_kind())?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_backend` (the export's contract).
        unsafe { write_out("backend_out", backend_out, b) }
    })
}

/// The type (CPU, GPU, ...) of `device`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_get_type(
    device: dpc_device,
    type_out: *mut dpc_device_type,
) -> dpc_status {
    export!(|| {
        check_ptr("type_out", type_out)?;
        let t = handle::with::<Device, _>("device", device as usize, |d| d.device_type())?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_device_type` (the export's contract).
        unsafe { write_out("type_out", type_out, t) }
    })
}

/// A string property of `device`; `key` is a `dpc_device_info` string key
/// (`DPC_DEVICE_INFO_NAME` … `DPC_DEVICE_INFO_PLUGIN`).
///
/// Two-call pattern: `*size_out` receives the size needed (NUL included);
/// the string is copied when `buf` is non-NULL and `capacity` suffices.
/// Answers come from a cache filled when the device is first seen.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`
/// (`size_out`), `DPC_ERROR_INVALID_ARGUMENT` (not a string key),
/// `DPC_ERROR_BUFFER_TOO_SMALL`, `DPC_ERROR_UNSUPPORTED` (filter string of a
/// sub-device). Ownership: `buf` is the caller's. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_get_info_string(
    device: dpc_device,
    key: i32,
    buf: *mut c_char,
    capacity: usize,
    size_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("size_out", size_out)?;
        handle::with::<Device, _>("device", device as usize, |d| {
            let s = d.string_info(key)?;
            // SAFETY: the export's contract is `buf` NULL or writable for
            // `capacity` bytes and `size_out` writable (checked non-NULL
            // above), `write_out_str`'s contract; `s` is a fresh `String`
            // the caller's buffer cannot overlap.
            unsafe { write_out_str(&s, buf, capacity, size_out) }
        })?
    })
}

/// A numeric property of `device`; `key` is a `dpc_device_info` numeric
/// key (`DPC_DEVICE_INFO_MAX_COMPUTE_UNITS` and after). Sizes are bytes.
///
/// Answers come from a cache: a call costs nanoseconds.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_ARGUMENT` (not a numeric key). Thread safety: any
/// thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_get_info_u64(
    device: dpc_device,
    key: i32,
    value_out: *mut u64,
) -> dpc_status {
    export!(|| {
        check_ptr("value_out", value_out)?;
        let v = handle::with::<Device, _>("device", device as usize, |d| d.u64_info(key))??;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `uint64_t` (the export's contract).
        unsafe { write_out("value_out", value_out, v) }
    })
}

/// Whether `device` has `aspect` (a `dpc_aspect` value).
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_ARGUMENT` (unknown aspect). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_has_aspect(
    device: dpc_device,
    aspect: i32,
    has_out: *mut bool,
) -> dpc_status {
    export!(|| {
        check_ptr("has_out", has_out)?;
        let a = aspect_bit(aspect)?;
        let v = handle::with::<Device, _>("device", device as usize, |d| d.has_aspect(a))?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `bool` (the export's contract).
        unsafe { write_out("has_out", has_out, v) }
    })
}

/// The maximum work-item sizes per dimension; `sizes_out` receives 3
/// values (dimension 0 first; unused dimensions are 1 or 0).
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Ownership: `sizes_out` is the caller's array of 3. Thread safety: any
/// thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_get_max_work_item_sizes(
    device: dpc_device,
    sizes_out: *mut u64,
) -> dpc_status {
    export!(|| {
        check_ptr("sizes_out", sizes_out)?;
        let s =
            handle::with::<Device, _>("device", device as usize, |d| d.info.max_work_item_sizes)?;
        // SAFETY: `sizes_out` is non-NULL (checked above) and, by the
        // export's contract, the caller's array of 3 writable `uint64_t`;
        // `s` is a local `[u64; 3]`, so the two cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), sizes_out, 3) };
        Ok(())
    })
}

/// The sub-group sizes the device supports.
///
/// Two-call pattern: `*count_out` receives the number of sizes; they are
/// copied when `buf` is non-NULL and `capacity` suffices.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`
/// (`count_out`), `DPC_ERROR_BUFFER_TOO_SMALL`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_get_sub_group_sizes(
    device: dpc_device,
    buf: *mut u64,
    capacity: usize,
    count_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("count_out", count_out)?;
        handle::with::<Device, _>("device", device as usize, |d| {
            // SAFETY: the export's contract is `buf` NULL or the caller's
            // memory, writable for `capacity` values, and `count_out`
            // writable (checked non-NULL above), `write_out_slice`'s
            // contract; the sizes are the device's cached info, which
            // dpcore never hands out, so the caller's buffer cannot overlap
            // them.
            unsafe { write_out_slice(d.sub_group_sizes(), buf, capacity, count_out) }
        })?
    })
}

/// The device's 16-byte UUID.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_UNSUPPORTED` when the runtime does not report one (see
/// `DPC_ASPECT_UUID`). Ownership: `uuid_out` is the caller's 16 bytes.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_get_uuid(device: dpc_device, uuid_out: *mut u8) -> dpc_status {
    export!(|| {
        check_ptr("uuid_out", uuid_out)?;
        let uuid = handle::with::<Device, _>("device", device as usize, |d| d.uuid())??;
        // SAFETY: `uuid_out` is non-NULL (checked above) and, by the
        // export's contract, the caller's 16 writable bytes; `uuid` is a
        // local `[u8; 16]`, so the two cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(uuid.as_ptr(), uuid_out, 16) };
        Ok(())
    })
}

/// Whether `a` and `b` are the same device.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_equal(
    a: dpc_device,
    b: dpc_device,
    equal_out: *mut bool,
) -> dpc_status {
    export!(|| {
        check_ptr("equal_out", equal_out)?;
        let da = get("a", a)?;
        let db = get("b", b)?;
        let eq = da.same_as(&db);
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `bool` (the export's contract).
        unsafe { write_out("equal_out", equal_out, eq) }
    })
}

/// The `kDLOneAPI` DLPack device id of `device`: the index of its root
/// device in `sycl::device::get_devices()` order, the id dpnp and dpctl
/// report in `__dlpack_device__` (a sub-device reports its root's id).
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_get_dlpack_id(
    device: dpc_device,
    id_out: *mut i32,
) -> dpc_status {
    export!(|| {
        check_ptr("id_out", id_out)?;
        let d = get("device", device)?;
        let i = dlpack_id_of(&d)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `int32_t` (the export's contract).
        unsafe { write_out("id_out", id_out, i as i32) }
    })
}

/// The root device whose `kDLOneAPI` DLPack id is `id`.
///
/// Ownership: the handle is valid for the life of the process.
/// Errors: `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_DEVICE_NOT_FOUND` (message
/// lists the devices). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_from_dlpack_id(
    id: i32,
    device_out: *mut dpc_device,
) -> dpc_status {
    export!(|| {
        check_ptr("device_out", device_out)?;
        let d = from_oneapi_id(id)?;
        let h = handle_for(&d)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_device` (the export's contract).
        unsafe { write_out("device_out", device_out, h) }
    })
}

/// The device `device` was partitioned from, or NULL in `*parent_out` for a
/// root device.
///
/// Ownership: a new reference the caller releases (a root parent's handle
/// is immortal). Errors: `DPC_ERROR_INVALID_HANDLE`,
/// `DPC_ERROR_NULL_POINTER`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_get_parent(
    device: dpc_device,
    parent_out: *mut dpc_device,
) -> dpc_status {
    export!(|| {
        check_ptr("parent_out", parent_out)?;
        let d = get("device", device)?;
        let h = match &d.parent {
            Some(p) => handle_for(p)?,
            None => std::ptr::null_mut(),
        };
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_device` (the export's contract).
        unsafe { write_out("parent_out", parent_out, h) }
    })
}

/// Partition `device` into sub-devices of `compute_units` compute units
/// each.
///
/// With `buf` NULL only `*count_out` is written (the number the partition
/// makes). Otherwise `buf` (of `capacity` handles) receives the new
/// sub-devices, each a new reference the caller releases.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`
/// (`count_out`), `DPC_ERROR_INVALID_ARGUMENT` (`compute_units` 0),
/// `DPC_ERROR_UNSUPPORTED` (the device cannot be partitioned this way; the
/// message names the kinds it supports), `DPC_ERROR_BUFFER_TOO_SMALL`,
/// `DPC_ERROR_BACKEND`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_partition_equally(
    device: dpc_device,
    compute_units: usize,
    buf: *mut dpc_device,
    capacity: usize,
    count_out: *mut usize,
) -> dpc_status {
    export!(|| {
        let req = Partition::equally(compute_units)?;
        check_ptr("count_out", count_out)?;
        let d = get("device", device)?;
        let subs = sub_devices(&d, &req)?;
        // SAFETY: the export's contract on `buf`/`capacity` and `count_out`
        // (checked non-NULL above) is `write_out_sub_devices`'s.
        unsafe { write_out_sub_devices(&subs, buf, capacity, count_out) }
    })
}

/// Partition `device` into `n_counts` sub-devices with `counts[i]`
/// compute units each.
///
/// Output and errors as `dpc_device_partition_equally`;
/// `DPC_ERROR_INVALID_ARGUMENT` also when `n_counts` is 0 or a count is 0,
/// `DPC_ERROR_NULL_POINTER` when `counts` is NULL.
/// Ownership: `counts` is borrowed for the call. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_partition_by_counts(
    device: dpc_device,
    counts: *const usize,
    n_counts: usize,
    buf: *mut dpc_device,
    capacity: usize,
    count_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("counts", counts)?;
        let c: &[usize] = if n_counts == 0 {
            &[] // not read (`by_counts` refuses it)
        } else {
            // SAFETY: `counts` is non-NULL (checked above) and, by the
            // export's contract, readable for `n_counts` values, borrowed
            // and unchanged for the call, which the slice does not outlive.
            unsafe { std::slice::from_raw_parts(counts, n_counts) }
        };
        let req = Partition::by_counts(c)?;
        check_ptr("count_out", count_out)?;
        let d = get("device", device)?;
        let subs = sub_devices(&d, &req)?;
        // SAFETY: the export's contract on `buf`/`capacity` and `count_out`
        // (checked non-NULL above) is `write_out_sub_devices`'s.
        unsafe { write_out_sub_devices(&subs, buf, capacity, count_out) }
    })
}

/// Partition `device` by the affinity domain `domain` (a
/// `dpc_affinity_domain`).
///
/// Output and errors as `dpc_device_partition_equally`;
/// `DPC_ERROR_INVALID_ARGUMENT` for an unknown domain.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_partition_by_affinity(
    device: dpc_device,
    domain: i32,
    buf: *mut dpc_device,
    capacity: usize,
    count_out: *mut usize,
) -> dpc_status {
    export!(|| {
        let req = Partition::by_affinity(domain)?;
        check_ptr("count_out", count_out)?;
        let d = get("device", device)?;
        let subs = sub_devices(&d, &req)?;
        // SAFETY: the export's contract on `buf`/`capacity` and `count_out`
        // (checked non-NULL above) is `write_out_sub_devices`'s.
        unsafe { write_out_sub_devices(&subs, buf, capacity, count_out) }
    })
}

/// The runtime's own device object (`sycl::device*` for the SYCL backend),
/// for C++ code in the same process.
///
/// Ownership: borrowed; valid while `device` is. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`. Thread safety:
/// any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_get_native(
    device: dpc_device,
    native_out: *mut *mut std::ffi::c_void,
) -> dpc_status {
    export!(|| {
        check_ptr("native_out", native_out)?;
        let p = handle::with::<Device, _>("device", device as usize, |d| d.native())?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `void*` (the export's contract).
        unsafe { write_out("native_out", native_out, p) }
    })
}
