//! Platforms, in `sycl::platform::get_platforms()` order (`dpc_platform_*`).

use crate::export;
use std::ffi::c_char;
use std::sync::{Arc, OnceLock};

use dpcore_backend_abi as abi;

use crate::backend::{self, field};
use crate::device::{self, backend_from_abi, dpc_backend, dpc_device, Device};
use crate::error::{dpc_status, dpc_status::*, Error, Result};
use crate::handle::{self, HandleType, Kind};
use crate::strings::{check_ptr, write_out, write_out_str};

/// Opaque platform type of the C API.
pub struct dpc_platform_s {
    _private: (),
}

/// A platform handle: valid for the life of the process; retain/release
/// on it are accepted and do nothing.
pub type dpc_platform = *mut dpc_platform_s;

/// Keys for `dpc_platform_get_info_string`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum dpc_platform_info {
    DPC_PLATFORM_INFO_NAME = 1,
    DPC_PLATFORM_INFO_VENDOR = 2,
    DPC_PLATFORM_INFO_VERSION = 3,
}

pub struct Platform {
    pub index: usize,
    pub backend: dpc_backend,
    pub n_devices: u32,
    pub name: String,
    pub vendor: String,
    pub version: String,
}

impl HandleType for Platform {
    const KIND: Kind = Kind::Platform;
}

pub struct Platforms {
    pub list: Vec<Arc<Platform>>,
    pub handles: Vec<usize>,
    /// Per loaded backend (by its table's address), the position of its
    /// first platform in `list`: the platforms of all backends, in load order.
    offsets: Vec<(usize, usize)>,
}

impl Platforms {
    /// The position in `list` of platform `index` of backend `b` (as its
    /// `DeviceInfoV1::platform_index` counts); None when it cannot be told.
    pub fn global_index(&self, b: &backend::Backend, index: u32) -> Option<usize> {
        let key = b.table as *const abi::BackendV1 as usize;
        let off = self.offsets.iter().find(|(k, _)| *k == key)?.1;
        (index != u32::MAX).then_some(off + index as usize)
    }
}

impl Platform {
    /// The string property `key` (a `dpc_platform_info`), or
    /// `DPC_ERROR_INVALID_ARGUMENT` for an unknown key.
    pub(crate) fn info_string(&self, key: i32) -> Result<&str> {
        use dpc_platform_info::*;
        match key {
            k if k == DPC_PLATFORM_INFO_NAME as i32 => Ok(&self.name),
            k if k == DPC_PLATFORM_INFO_VENDOR as i32 => Ok(&self.vendor),
            k if k == DPC_PLATFORM_INFO_VERSION as i32 => Ok(&self.version),
            k => Err(Error::invalid_arg(format!(
                "{k} is not a dpc_platform_info key (1 = NAME, 2 = VENDOR, 3 = VERSION)"
            ))),
        }
    }
}

static PLATFORMS: OnceLock<Platforms> = OnceLock::new();

/// The platforms of one backend.
fn enumerate(b: &'static backend::Backend) -> Result<Vec<Arc<Platform>>> {
    let t = b.table;
    let mut n = 0usize;
    backend::check(
        // SAFETY: `t` is `b`'s table; `buf` is NULL with capacity 0, so only
        // `n`, a live local, is written.
        unsafe { crate::faults::table_call!(t, platform_list(std::ptr::null_mut(), 0, &mut n)) },
        "platform_list",
    )?;
    let mut raw = vec![abi::PlatformInfoV1::zeroed(); n];
    let mut m = 0usize;
    backend::check(
        // SAFETY: `raw` is a live buffer of `n` records, the capacity
        // passed; `m` is a live local.
        unsafe { crate::faults::table_call!(t, platform_list(raw.as_mut_ptr(), n, &mut m)) },
        "platform_list",
    )?;
    Ok(raw[..m.min(n)]
        .iter()
        .enumerate()
        .map(|(index, p)| {
            Arc::new(Platform {
                index,
                backend: backend_from_abi(p.backend),
                n_devices: p.n_devices,
                name: field(&p.name),
                vendor: field(&p.vendor),
                version: field(&p.version),
            })
        })
        .collect())
}

/// The list while no enumeration has succeeded.
static EMPTY: Platforms = Platforms {
    list: Vec::new(),
    handles: Vec::new(),
    offsets: Vec::new(),
};
/// Held while the platforms are enumerated, so that only one thread does it.
static ENUMERATING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The platforms of every loaded backend, in load order, enumerated once;
/// empty when no backend is available or while the enumeration fails (see
/// [`try_platforms`]).
pub fn platforms() -> &'static Platforms {
    try_platforms().unwrap_or(&EMPTY)
}

/// The platforms, enumerated once per process, or why a loaded plugin's
/// `platform_list` failed while no other plugin listed a platform. A
/// failure is logged; a failed enumeration is not kept (the next call
/// tries again), but one that another plugin's platforms make useful is.
pub fn try_platforms() -> Result<&'static Platforms> {
    if let Some(p) = PLATFORMS.get() {
        return Ok(p);
    }
    let _one = ENUMERATING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = PLATFORMS.get() {
        return Ok(p);
    }
    let mut per_backend = Vec::new();
    let mut failed = None;
    for b in backend::loaded() {
        match enumerate(b) {
            Ok(ps) => per_backend.push((b, ps)),
            Err(mut e) => {
                e.message = format!(
                    "the platforms of plugin {} could not be listed: {}",
                    b.name, e.message
                );
                crate::log::error(&e.message);
                failed.get_or_insert(e);
            }
        }
    }
    // One plugin's failure takes nothing from the others: kept without its
    // platforms when another plugin listed some, else tried again next time.
    if let Some(e) = failed {
        if per_backend.iter().all(|(_, ps)| ps.is_empty()) {
            return Err(e);
        }
    }
    Ok(PLATFORMS.get_or_init(|| {
        let mut list: Vec<Arc<Platform>> = Vec::new();
        let mut handles = Vec::new();
        let mut offsets = Vec::new();
        for (b, ps) in per_backend {
            offsets.push((b.table as *const abi::BackendV1 as usize, list.len()));
            for p in ps {
                let p = Arc::new(Platform {
                    index: list.len(),
                    backend: p.backend,
                    n_devices: p.n_devices,
                    name: p.name.clone(),
                    vendor: p.vendor.clone(),
                    version: p.version.clone(),
                });
                match handle::insert(p.clone(), true) {
                    Ok(h) => {
                        list.push(p);
                        handles.push(h);
                    }
                    Err(_) => break,
                }
            }
        }
        Platforms {
            list,
            handles,
            offsets,
        }
    }))
}

/// The handle of the platform at `index` (in `dpc_platform_count`
/// order), or `DPC_ERROR_OUT_OF_RANGE`.
pub(crate) fn handle_at(index: usize) -> Result<dpc_platform> {
    let p = try_platforms()?;
    match p.handles.get(index) {
        Some(h) => Ok(*h as dpc_platform),
        None => Err(Error::new(
            DPC_ERROR_OUT_OF_RANGE,
            format!(
                "dpc_platform_get: index {index} is out of range ({} platforms)",
                p.list.len()
            ),
        )),
    }
}

/// The handle of the platform `d` (a sub-device through its root)
/// belongs to, or `DPC_ERROR_BACKEND` when the runtime could not tell.
pub(crate) fn handle_for_device(d: &Arc<Device>) -> Result<dpc_platform> {
    let root = d.root();
    let ps = try_platforms()?;
    let i = ps.global_index(root.backend(), root.info.platform_index);
    match i.and_then(|i| ps.handles.get(i)) {
        Some(h) => Ok(*h as dpc_platform),
        None => Err(Error::new(
            DPC_ERROR_BACKEND,
            format!(
                "the runtime could not tell the platform of {}",
                d.describe()
            ),
        )),
    }
}

// ---------------------------------------------------------------- exports

/// The number of platforms the runtime reports (0 when the backend plugin
/// or its runtime cannot be loaded; `dpc_backend_load` says why).
///
/// Errors: `DPC_ERROR_NULL_POINTER`; the status of a loaded plugin's
/// failure to list its platforms (`DPC_ERROR_BACKEND`, ...), with a message
/// naming the plugin: such a failure is not kept, and the next call lists
/// them again. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_platform_count(count_out: *mut usize) -> dpc_status {
    export!(|| {
        check_ptr("count_out", count_out)?;
        let n = try_platforms()?.list.len();
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `size_t` (the export's contract).
        unsafe { write_out("count_out", count_out, n) }
    })
}

/// The platform at `index`, in `sycl::platform::get_platforms()` order.
///
/// Ownership: valid for the life of the process. Errors:
/// `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_OUT_OF_RANGE`. Thread safety: any
/// thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_platform_get(
    index: usize,
    platform_out: *mut dpc_platform,
) -> dpc_status {
    export!(|| {
        check_ptr("platform_out", platform_out)?;
        let h = handle_at(index)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_platform` (the export's contract).
        unsafe { write_out("platform_out", platform_out, h) }
    })
}

/// Add a reference to `platform` (platforms live for the whole process,
/// so this only validates the handle).
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_platform_retain(platform: dpc_platform) -> dpc_status {
    export!(|| { handle::retain(Kind::Platform, "platform", platform as usize) })
}

/// Drop a reference to `platform`; NULL is a no-op (platforms are never
/// freed).
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_platform_release(platform: dpc_platform) -> dpc_status {
    export!(|| { handle::release(Kind::Platform, "platform", platform as usize) })
}

/// The backend of `platform`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_platform_get_backend(
    platform: dpc_platform,
    backend_out: *mut dpc_backend,
) -> dpc_status {
    export!(|| {
        check_ptr("backend_out", backend_out)?;
        let b = handle::with::<Platform, _>("platform", platform as usize, |p| p.backend)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_backend` (the export's contract).
        unsafe { write_out("backend_out", backend_out, b) }
    })
}

/// The number of root devices of `platform`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_platform_get_device_count(
    platform: dpc_platform,
    count_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("count_out", count_out)?;
        let n = handle::with::<Platform, _>("platform", platform as usize, |p| p.n_devices)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `size_t` (the export's contract).
        unsafe { write_out("count_out", count_out, n as usize) }
    })
}

/// A string property of `platform`; `key` is a `dpc_platform_info`.
///
/// Two-call pattern: `*size_out` receives the size needed (NUL included);
/// copied when `buf` is non-NULL and `capacity` suffices.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`
/// (`size_out`), `DPC_ERROR_INVALID_ARGUMENT` (unknown key),
/// `DPC_ERROR_BUFFER_TOO_SMALL`. Ownership: `buf` is the caller's.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_platform_get_info_string(
    platform: dpc_platform,
    key: i32,
    buf: *mut c_char,
    capacity: usize,
    size_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("size_out", size_out)?;
        handle::with::<Platform, _>("platform", platform as usize, |p| {
            let s = p.info_string(key)?;
            // SAFETY: the export's contract is `buf` NULL or the caller's
            // memory, writable for `capacity` bytes, and `size_out` writable
            // (checked non-NULL above), `write_out_str`'s contract; `s` is
            // the platform's cached string, which dpcore never hands out,
            // so the caller's buffer cannot overlap it.
            unsafe { write_out_str(s, buf, capacity, size_out) }
        })?
    })
}

/// The platform `device` belongs to.
///
/// Ownership: valid for the life of the process. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_BACKEND`
/// when the runtime could not tell. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_device_get_platform(
    device: dpc_device,
    platform_out: *mut dpc_platform,
) -> dpc_status {
    export!(|| {
        check_ptr("platform_out", platform_out)?;
        let d = device::get("device", device)?;
        let h = handle_for_device(&d)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `dpc_platform` (the export's contract).
        unsafe { write_out("platform_out", platform_out, h) }
    })
}
