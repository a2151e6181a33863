//! Kernel bundles and kernels (`dpc_bundle_*`, `dpc_kernel_*`): device code
//! loaded at run time from SPIR-V, OpenCL C or SYCL source, cached, and
//! launched with validated arguments.

use crate::export;
use std::ffi::{c_char, c_void, CString};
use std::sync::{Arc, Mutex};

use dpcore_backend_abi as abi;

use crate::backend::{self, field, Backend};
use crate::context::{self, dpc_context, Context};
use crate::device::{self, dpc_device, Device};
use crate::error::{dpc_status, dpc_status::*, Error, Result};
use crate::event::{self, dpc_event};
use crate::handle::{self, HandleType, Kind};
use crate::queue::{self, dpc_queue};
use crate::spirv::{self, Param};
use crate::strings::{check_ptr, in_str, write_out, write_out_str};

/// Opaque bundle type of the C API.
pub struct dpc_bundle_s {
    _private: (),
}

/// A built kernel bundle for one device in one context. Reference counted.
pub type dpc_bundle = *mut dpc_bundle_s;

/// Opaque kernel type of the C API.
pub struct dpc_kernel_s {
    _private: (),
}

/// A kernel of a bundle. Reference counted; keeps its bundle alive.
pub type dpc_kernel = *mut dpc_kernel_s;

/// The kind of a kernel argument.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum dpc_arg_kind {
    /// A USM pointer; `value` is the pointer itself.
    DPC_ARG_POINTER = 1,
    /// `size` bytes (1 to 256) at `value`, passed by value.
    DPC_ARG_SCALAR = 2,
    /// `size` bytes of work-group local memory; `value` is unused.
    DPC_ARG_LOCAL = 3,
    /// A `dpc_array` (`value` is the handle): its data pointer is passed,
    /// and with a NULL queue the queue is inferred from the arrays.
    DPC_ARG_ARRAY = 4,
}

/// One kernel argument for `dpc_kernel_launch`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dpc_kernel_arg {
    /// A `dpc_arg_kind` value.
    pub kind: i32,
    /// Bytes: of the scalar, or of local memory. Ignored for pointers.
    pub size: usize,
    /// The pointer (`DPC_ARG_POINTER`) or the scalar's bytes
    /// (`DPC_ARG_SCALAR`). Read during the call only.
    pub value: *const c_void,
}

/// Keys for `dpc_kernel_get_info_u64`. Sizes are bytes; values are for the
/// device the kernel's bundle was built for; 0 where the runtime does not
/// tell.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum dpc_kernel_info {
    DPC_KERNEL_INFO_NUM_ARGS = 1,
    DPC_KERNEL_INFO_MAX_WORK_GROUP_SIZE = 2,
    DPC_KERNEL_INFO_PREFERRED_WORK_GROUP_SIZE_MULTIPLE = 3,
    DPC_KERNEL_INFO_PRIVATE_MEM_SIZE = 4,
    DPC_KERNEL_INFO_LOCAL_MEM_SIZE = 5,
    DPC_KERNEL_INFO_MAX_SUB_GROUP_SIZE = 6,
    DPC_KERNEL_INFO_MAX_NUM_SUB_GROUPS = 7,
    DPC_KERNEL_INFO_COMPILE_SUB_GROUP_SIZE = 8,
    DPC_KERNEL_INFO_COMPILE_NUM_SUB_GROUPS = 9,
}

fn kind_name(kind: i32) -> &'static str {
    match kind {
        abi::source_kind::SPIRV => "SPIR-V",
        abi::source_kind::OPENCL_C => "OpenCL C",
        abi::source_kind::SYCL => "SYCL source",
        _ => "unknown input",
    }
}

pub struct Bundle {
    obj: abi::Obj,
    backend: &'static Backend,
    pub context: Arc<Context>,
    pub device: Arc<Device>,
    pub kind: i32,
    /// Kernels read from the SPIR-V module (names and parameters).
    pub sigs: Option<Vec<spirv::KernelSig>>,
}

// SAFETY: a `Bundle` owns one plugin bundle object (released once, by
// `Drop`) and otherwise holds Send + Sync data. Every table function may be
// called from any thread (the backend interface's conventions), so the
// owner may move to another thread.
unsafe impl Send for Bundle {}
// SAFETY: through `&Bundle` the object only reaches table functions that
// take it by value and may be called from any thread concurrently (the
// backend interface's conventions); nothing is mutated through `&self`.
unsafe impl Sync for Bundle {}

impl HandleType for Bundle {
    const KIND: Kind = Kind::Bundle;
}

impl Drop for Bundle {
    fn drop(&mut self) {
        // SAFETY: `self.obj` is the bundle object `bundle_create` of
        // `self.backend` returned (the only constructor, `build`), owned by
        // this `Bundle` alone; `drop` runs once, so it is given back once.
        unsafe { (self.backend.table.bundle_release)(self.obj) }
    }
}

impl Bundle {
    /// The kernel names: read from SPIR-V, or asked of the runtime.
    pub fn names(&self) -> Result<Vec<String>> {
        if let Some(s) = &self.sigs {
            return Ok(s.iter().map(|k| k.name.clone()).collect());
        }
        let t = self.backend.table;
        let mut n = 0usize;
        backend::check(
            // SAFETY: `self.obj` is a live bundle object of `self.backend`
            // (owned by `self`, borrowed for the call); a NULL buffer asks
            // for the size only, written to the local `n`.
            unsafe {
                crate::faults::table_call!(
                    t,
                    bundle_kernel_names(self.obj, std::ptr::null_mut(), 0, &mut n)
                )
            },
            "bundle_kernel_names",
        )?;
        let mut buf = vec![0u8; n.max(1)];
        backend::check(
            // SAFETY: as above; `buf` is a local buffer valid for writes of
            // `buf.len()` bytes, the capacity passed.
            unsafe {
                crate::faults::table_call!(
                    t,
                    bundle_kernel_names(
                        self.obj,
                        buf.as_mut_ptr() as *mut c_char,
                        buf.len(),
                        &mut n,
                    )
                )
            },
            "bundle_kernel_names",
        )?;
        // SAFETY: `buf` is an initialised `Vec<u8>` of `buf.len()` bytes,
        // alive for the borrow; `c_char` has the size and alignment of `u8`.
        let s =
            field(unsafe { std::slice::from_raw_parts(buf.as_ptr() as *const c_char, buf.len()) });
        Ok(s.split('\n')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect())
    }

    /// The name of kernel `index` in the order of [`Bundle::names`], or
    /// `DPC_ERROR_OUT_OF_RANGE` saying how many kernels there are (the body
    /// of `dpc_bundle_get_kernel_name`).
    pub(crate) fn kernel_name(&self, index: usize) -> Result<String> {
        let mut names = self.names()?;
        if index >= names.len() {
            return Err(Error::new(
                DPC_ERROR_OUT_OF_RANGE,
                format!(
                    "dpc_bundle_get_kernel_name: index {index} is out of range ({} kernels)",
                    names.len()
                ),
            ));
        }
        Ok(names.swap_remove(index))
    }

    /// Whether the bundle has a kernel called `name`, as the runtime tells
    /// (the body of `dpc_bundle_has_kernel`).
    pub(crate) fn has_kernel(&self, name: &str) -> Result<bool> {
        let cname = CString::new(name)
            .map_err(|_| Error::invalid_arg("kernel name contains a NUL byte"))?;
        let mut has = false;
        backend::check(
            // SAFETY: `self.obj` is a live bundle object of `self.backend`
            // (owned by `self`, borrowed for the call); `cname` is
            // NUL-terminated and alive for the call; `has` is a local the
            // plugin writes.
            unsafe {
                crate::faults::table_call!(
                    self.backend.table,
                    bundle_has_kernel(self.obj, cname.as_ptr(), &mut has)
                )
            },
            "bundle_has_kernel",
        )?;
        Ok(has)
    }

    /// The runtime's own bundle object
    /// (`sycl::kernel_bundle<sycl::bundle_state::executable>*`), borrowed:
    /// valid while `self` is.
    pub(crate) fn native(&self) -> *mut c_void {
        // SAFETY: `self.obj` is a live bundle object of `self.backend`
        // (owned by `self`, borrowed for the call).
        unsafe { (self.backend.table.bundle_native)(self.obj) }
    }
}

pub struct Kernel {
    obj: abi::Obj,
    backend: &'static Backend,
    pub bundle: Arc<Bundle>,
    pub name: String,
    pub info: abi::KernelInfoV1,
    /// Parameter kinds, when the bundle's SPIR-V tells them.
    pub params: Option<Vec<Param>>,
}

// SAFETY: a `Kernel` owns one plugin kernel object (released once, by
// `Drop`) and otherwise holds Send + Sync data (`KernelInfoV1` is plain
// integers). Every table function may be called from any thread (the
// backend interface's conventions), so the owner may move to another thread.
unsafe impl Send for Kernel {}
// SAFETY: through `&Kernel` the object only reaches table functions that
// take it by value and may be called from any thread concurrently (the
// backend interface's conventions); nothing is mutated through `&self`.
unsafe impl Sync for Kernel {}

impl HandleType for Kernel {
    const KIND: Kind = Kind::Kernel;
}

impl Drop for Kernel {
    fn drop(&mut self) {
        // SAFETY: `self.obj` is the kernel object `bundle_get_kernel` of
        // `self.backend` returned (the only constructor, `get_kernel`), owned
        // by this `Kernel` alone; `drop` runs once, so it is given back once.
        unsafe { (self.backend.table.kernel_release)(self.obj) }
    }
}

impl Kernel {
    /// The number of arguments, when known.
    pub fn num_args(&self) -> Option<usize> {
        match &self.params {
            Some(p) => Some(p.len()),
            None => (self.info.has_num_args != 0).then_some(self.info.num_args as usize),
        }
    }

    /// The numeric property `key` (a `dpc_kernel_info` value) of the kernel
    /// on its bundle's device (the body of `dpc_kernel_get_info_u64`):
    /// `DPC_ERROR_UNSUPPORTED` when the number of arguments is asked and not
    /// known, `DPC_ERROR_INVALID_ARGUMENT` for an unknown key.
    pub(crate) fn info_u64(&self, key: i32) -> Result<u64> {
        let i = &self.info;
        Ok(match key {
            1 => self.num_args().ok_or_else(|| {
                Error::new(
                    DPC_ERROR_UNSUPPORTED,
                    format!(
                        "the runtime does not tell how many arguments kernel \"{}\" takes",
                        self.name
                    ),
                )
            })? as u64,
            2 => i.max_work_group_size,
            3 => i.preferred_work_group_size_multiple,
            4 => i.private_mem_size,
            5 => i.local_mem_size,
            6 => i.max_sub_group_size as u64,
            7 => i.max_num_sub_groups as u64,
            8 => i.compile_sub_group_size as u64,
            9 => i.compile_num_sub_groups as u64,
            other => {
                return Err(Error::invalid_arg(format!(
                    "{other} is not a dpc_kernel_info key (1..9)"
                )))
            }
        })
    }

    /// The runtime's own kernel object (`sycl::kernel*`), borrowed: valid
    /// while `self` is.
    pub(crate) fn native(&self) -> *mut c_void {
        // SAFETY: `self.obj` is a live kernel object of `self.backend`
        // (owned by `self`, borrowed for the call).
        unsafe { (self.backend.table.kernel_native)(self.obj) }
    }
}

// ---------------------------------------------------------------- the cache

/// Built bundles, by context, device, input kind, and the input and options
/// themselves (compared in full on a hit: a hash only picks candidates).
///
/// Every entry holds its bundle weakly, so a bundle the program still holds
/// (or a kernel of it) is found again at no cost; the `warm` list holds the
/// most recently used few strongly, so a bundle built, released and built
/// again is found too. Runtime bundles are large (~4 MB for a small module
/// on the OpenCL CPU device), so only `warm_capacity()` of them are kept
/// alive by the cache alone.
struct CacheEntry {
    context_id: u64,
    device: usize,
    kind: i32,
    hash: u64,
    src: Vec<u8>,
    options: String,
    bundle: std::sync::Weak<Bundle>,
}

struct Cache {
    entries: Vec<CacheEntry>,
    warm: std::collections::VecDeque<Arc<Bundle>>,
}

static CACHE: Mutex<Cache> = Mutex::new(Cache {
    entries: Vec::new(),
    warm: std::collections::VecDeque::new(),
});

/// How many bundles the cache keeps alive on its own: `DPCORE_BUNDLE_CACHE`
/// (a number, 0 to keep none), else 8.
fn warm_capacity() -> usize {
    static CAP: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CAP.get_or_init(|| {
        std::env::var("DPCORE_BUNDLE_CACHE")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(8)
    })
}

impl Cache {
    fn touch(&mut self, b: &Arc<Bundle>) {
        self.warm.retain(|w| !Arc::ptr_eq(w, b));
        self.warm.push_back(b.clone());
        while self.warm.len() > warm_capacity() {
            self.warm.pop_front();
        }
    }
}

/// A fast 64-bit hash of bytes (8 bytes a step, multiply-xorshift mixing);
/// enough to pick candidates, which are then compared in full.
fn hash(bytes: &[u8], seed: u64) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ v).wrapping_mul(K);
        h ^= h >> 29;
    }
    for &b in chunks.remainder() {
        h = (h ^ b as u64).wrapping_mul(K);
    }
    h ^ (h >> 32)
}

/// Build (or find in the cache) a bundle.
pub fn build(
    ctx: &Arc<Context>,
    dev: &Arc<Device>,
    kind: i32,
    src: &[u8],
    options: &str,
) -> Result<Arc<Bundle>> {
    if !ctx.contains(dev) {
        return Err(Error::invalid_arg(format!(
            "{} is not in {}; build for a device of the context",
            dev.describe(),
            ctx.describe()
        )));
    }
    let h = hash(options.as_bytes(), hash(src, kind as u64));
    let dev_key = Arc::as_ptr(dev) as usize;
    {
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pos) = cache.entries.iter().position(|e| {
            e.hash == h
                && e.context_id == ctx.id
                && e.device == dev_key
                && e.kind == kind
                && e.src == src
                && e.options == options
        }) {
            match cache.entries[pos].bundle.upgrade() {
                Some(b) => {
                    cache.touch(&b);
                    return Ok(b);
                }
                None => {
                    cache.entries.swap_remove(pos);
                }
            }
        }
    }
    let sigs = if kind == abi::source_kind::SPIRV {
        Some(
            spirv::kernels(src)
                .map_err(|m| Error::invalid_arg(format!("the SPIR-V input is invalid: {m}")))?,
        )
    } else {
        None
    };
    let b = dev.backend();
    let opts = CString::new(options)
        .map_err(|_| Error::invalid_arg("build options contain a NUL byte"))?;
    let mut obj: abi::Obj = std::ptr::null_mut();
    backend::check(
        // SAFETY: `ctx` and `dev` are live objects (held by the `Arc`s
        // borrowed for the call); `dev` is `b`'s and in `ctx` (checked
        // above), so `ctx` is `b`'s too: a context's devices share its
        // plugin (`context::create` refuses devices of two). `src` is valid
        // for `src.len()` bytes and `opts` is NUL-terminated, both alive for
        // the call; `obj` is a local the plugin writes.
        unsafe {
            crate::faults::table_call!(
                b.table,
                bundle_create(
                    ctx.obj(),
                    dev.obj(),
                    kind,
                    src.as_ptr(),
                    src.len(),
                    opts.as_ptr(),
                    &mut obj,
                )
            )
        },
        "bundle_create",
    )?;
    let bundle = Arc::new(Bundle {
        obj,
        backend: b,
        context: ctx.clone(),
        device: dev.clone(),
        kind,
        sigs,
    });
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    // Entries of bundles that no longer exist go; their inputs are copies.
    cache.entries.retain(|e| e.bundle.strong_count() > 0);
    cache.entries.push(CacheEntry {
        context_id: ctx.id,
        device: dev_key,
        kind,
        hash: h,
        src: src.to_vec(),
        options: options.to_string(),
        bundle: Arc::downgrade(&bundle),
    });
    cache.touch(&bundle);
    Ok(bundle)
}

/// Build (or find in the cache) a bundle from the SPIR-V file at `path`
/// (the body of `dpc_bundle_create_from_spirv_file`): a file that cannot be
/// read is `DPC_ERROR_NOT_FOUND` (no such file) or
/// `DPC_ERROR_INVALID_ARGUMENT`, with the path and the system's reason.
pub(crate) fn build_from_spirv_file(
    ctx: &Arc<Context>,
    dev: &Arc<Device>,
    path: &str,
    options: &str,
) -> Result<Arc<Bundle>> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::new(
            if e.kind() == std::io::ErrorKind::NotFound {
                DPC_ERROR_NOT_FOUND
            } else {
                DPC_ERROR_INVALID_ARGUMENT
            },
            format!("cannot read SPIR-V file \"{path}\": {e}"),
        )
    })?;
    build(ctx, dev, abi::source_kind::SPIRV, &bytes, options)
}

/// The kernel `name` of `bundle`.
pub fn get_kernel(bundle: &Arc<Bundle>, name: &str) -> Result<Arc<Kernel>> {
    let t = bundle.backend.table;
    let cname =
        CString::new(name).map_err(|_| Error::invalid_arg("kernel name contains a NUL byte"))?;
    let mut obj: abi::Obj = std::ptr::null_mut();
    if let Err(mut e) = backend::check(
        // SAFETY: `bundle.obj` is a live bundle object of `bundle.backend`
        // (the `Arc` is borrowed for the call); `cname` is NUL-terminated and
        // alive for the call; `obj` is a local the plugin writes.
        unsafe {
            crate::faults::table_call!(t, bundle_get_kernel(bundle.obj, cname.as_ptr(), &mut obj))
        },
        "bundle_get_kernel",
    ) {
        if e.status == DPC_ERROR_NOT_FOUND {
            if let Ok(names) = bundle.names() {
                e.message = format!(
                    "the {} bundle has no kernel \"{name}\"; its kernels are: {}",
                    kind_name(bundle.kind),
                    names.join(", ")
                );
            }
        }
        return Err(e);
    }
    let mut info = abi::KernelInfoV1::zeroed();
    // SAFETY: `obj` is the kernel object just returned (success checked
    // above); `bundle.device` is the live device object the bundle was built
    // for, of the same backend; `info` is a local the plugin fills.
    let st =
        unsafe { crate::faults::table_call!(t, kernel_info(obj, bundle.device.obj(), &mut info)) };
    if let Err(e) = backend::check(st, "kernel_info") {
        // SAFETY: `obj` is ours and not yet in a `Kernel`: given back here,
        // once, before returning.
        unsafe { (t.kernel_release)(obj) };
        return Err(e);
    }
    let params = bundle
        .sigs
        .as_ref()
        .and_then(|s| s.iter().find(|k| k.name == name))
        .map(|k| k.params.clone());
    Ok(Arc::new(Kernel {
        obj,
        backend: bundle.backend,
        bundle: bundle.clone(),
        name: name.to_string(),
        info,
        params,
    }))
}

fn param_name(p: Param) -> String {
    match p {
        Param::Pointer => "a global/constant pointer (DPC_ARG_POINTER)".into(),
        Param::Local => "a __local pointer (DPC_ARG_LOCAL)".into(),
        Param::Scalar(n) => format!("a {n}-byte value (DPC_ARG_SCALAR of size {n})"),
        Param::ScalarAnySize => "a value (DPC_ARG_SCALAR)".into(),
    }
}

/// Check a launch before it reaches the runtime.
fn validate(
    k: &Kernel,
    q: &queue::Queue,
    global: &[usize],
    local: Option<&[usize]>,
    args: &[abi::KernelArgV1],
) -> Result<()> {
    let kb = &k.bundle;
    let same_plugin = std::ptr::eq(kb.device.backend(), q.device.backend());
    if !same_plugin
        || !Arc::ptr_eq(&kb.device, &q.device)
        // SAFETY: both are live device objects (held by the `Arc`s in the
        // borrowed kernel's bundle and queue) of one plugin (checked just
        // before: `||` stops on another plugin), given to that plugin.
        && !unsafe { (k.backend.table.device_equal)(kb.device.obj(), q.device.obj()) }
        || !kb.context.same_as(&q.context)
    {
        return Err(Error::invalid_arg(format!(
            "kernel \"{}\" was built for {} in context #{}, but the queue is on {} in context #{}; \
             build the bundle for the queue's device and context",
            k.name,
            kb.device.describe(),
            kb.context.id,
            q.device.describe(),
            q.context.id
        )));
    }
    let d = &q.device.info;
    if let Some(l) = local {
        let mut items: u64 = 1;
        for (i, (&g, &l)) in global.iter().zip(l).enumerate() {
            if l == 0 {
                return Err(Error::invalid_arg(format!(
                    "local size is 0 in dimension {i}"
                )));
            }
            if g % l != 0 {
                return Err(Error::invalid_arg(format!(
                    "local size {l} does not divide global size {g} in dimension {i}"
                )));
            }
            if i < 3 && d.max_work_item_sizes[i] != 0 && l as u64 > d.max_work_item_sizes[i] {
                return Err(Error::invalid_arg(format!(
                    "local size {l} in dimension {i} exceeds the device's maximum of {} work-items",
                    d.max_work_item_sizes[i]
                )));
            }
            items = items.saturating_mul(l as u64);
        }
        let kmax = k.info.max_work_group_size;
        let max = if kmax != 0 {
            kmax.min(d.max_work_group_size.max(1))
        } else {
            d.max_work_group_size
        };
        if max != 0 && items > max {
            return Err(Error::invalid_arg(format!(
                "a work-group of {items} work-items is larger than kernel \"{}\" allows on {} ({max})",
                k.name,
                q.device.describe()
            )));
        }
    }
    if let Some(n) = k.num_args() {
        if n != args.len() {
            return Err(Error::invalid_arg(format!(
                "kernel \"{}\" takes {n} arguments but {} were given",
                k.name,
                args.len()
            )));
        }
    }
    for (i, a) in args.iter().enumerate() {
        match a.kind {
            1 => {}
            2 => {
                if a.size == 0 || a.size > abi::MAX_SCALAR_ARG {
                    return Err(Error::invalid_arg(format!(
                        "argument {i}: a scalar of {} bytes; scalars are 1 to {} bytes",
                        a.size,
                        abi::MAX_SCALAR_ARG
                    )));
                }
                if a.value.is_null() {
                    return Err(Error::new(DPC_ERROR_NULL_POINTER, format!("argument {i}: the scalar's value is NULL")));
                }
            }
            3 => {
                if a.size == 0 {
                    return Err(Error::invalid_arg(format!("argument {i}: local memory of 0 bytes")));
                }
                if d.local_mem_size != 0 && a.size as u64 > d.local_mem_size {
                    return Err(Error::invalid_arg(format!(
                        "argument {i}: {} bytes of local memory requested; {} has {}",
                        a.size,
                        q.device.describe(),
                        d.local_mem_size
                    )));
                }
            }
            other => {
                return Err(Error::invalid_arg(format!(
                    "argument {i}: kind {other} is not DPC_ARG_POINTER (1), DPC_ARG_SCALAR (2) or DPC_ARG_LOCAL (3)"
                )))
            }
        }
        if let Some(p) = k.params.as_ref().and_then(|ps| ps.get(i)) {
            let ok = match (*p, a.kind) {
                (Param::Pointer, 1) | (Param::Local, 3) | (Param::ScalarAnySize, 2) => true,
                (Param::Scalar(n), 2) => n == a.size,
                _ => false,
            };
            if !ok {
                let given = match a.kind {
                    1 => "DPC_ARG_POINTER".to_string(),
                    2 => format!("DPC_ARG_SCALAR of {} bytes", a.size),
                    _ => format!("DPC_ARG_LOCAL of {} bytes", a.size),
                };
                return Err(Error::invalid_arg(format!(
                    "argument {i} of kernel \"{}\" is {}, but {given} was given",
                    k.name,
                    param_name(*p)
                )));
            }
        }
    }
    Ok(())
}

/// The arguments of a `dpc_kernel_launch`, with its `DPC_ARG_ARRAY`
/// arguments resolved.
pub(crate) struct LaunchArgs {
    /// The arguments in the kernel's order; an array argument has become a
    /// `DPC_ARG_POINTER` to its array's data.
    args: Vec<abi::KernelArgV1>,
    /// The arrays of the array arguments, by argument index, alive for the
    /// launch.
    arrays: Vec<(usize, Arc<crate::array::Array>)>,
}

impl LaunchArgs {
    /// Resolve the `DPC_ARG_ARRAY` arguments of `given` (their `value` is a
    /// `dpc_array` handle, checked and held here); the other arguments are
    /// copied as they are, their values not looked at.
    pub(crate) fn resolve(given: &[dpc_kernel_arg]) -> Result<LaunchArgs> {
        let mut args = Vec::with_capacity(given.len());
        let mut arrays = Vec::new();
        for (i, a) in given.iter().enumerate() {
            let mut arg = abi::KernelArgV1 {
                kind: a.kind,
                size: a.size,
                value: a.value,
            };
            if a.kind == dpc_arg_kind::DPC_ARG_ARRAY as i32 {
                let arr = handle::get::<crate::array::Array>(
                    &format!("args[{i}] (an array)"),
                    a.value as usize,
                )?;
                arg.kind = dpc_arg_kind::DPC_ARG_POINTER as i32;
                arg.value = arr.data as *const c_void;
                arrays.push((i, arr));
            }
            args.push(arg);
        }
        Ok(LaunchArgs { args, arrays })
    }
}

/// Launch `k` over the sizes of `global` (1 to 3 dimensions; with `local`,
/// as an nd-range of work-groups of `local`) with `args`, after `deps`, on
/// `queue` or, when it is `None`, on the queue of the array arguments (the
/// body of `dpc_kernel_launch`). Every check that export documents is made
/// before anything is submitted. Returns the command's event when `want`.
///
/// # Safety
/// The values of the scalar arguments are readable for their sizes during
/// the call. What the kernel does with its pointer arguments is the
/// caller's contract: USM the device reaches, alive until the command
/// completes (array arguments are checked here).
pub(crate) unsafe fn launch(
    queue: Option<Arc<queue::Queue>>,
    k: &Kernel,
    global: &[usize],
    local: Option<&[usize]>,
    args: &LaunchArgs,
    deps: &event::Deps,
    want: bool,
) -> Result<Option<Arc<event::Event>>> {
    if !(1..=3).contains(&global.len()) || local.is_some_and(|l| l.len() != global.len()) {
        return Err(Error::invalid_arg(format!(
            "{}: {} global sizes and {} local sizes; a launch has 1, 2 or 3 dimensions \
             and as many local sizes as global ones",
            crate::error::current_export(),
            global.len(),
            local.map_or(0, |l| l.len())
        )));
    }
    let q = match queue {
        Some(q) => q,
        None => {
            if args.arrays.is_empty() {
                return Err(Error::new(
                    DPC_ERROR_INVALID_HANDLE,
                    "dpc_kernel_launch: queue is NULL and no argument is an array to infer it from",
                ));
            }
            let list: Vec<_> = args.arrays.iter().map(|(_, a)| a.clone()).collect();
            crate::array::common_queue(&list)?
        }
    };
    for (i, arr) in &args.arrays {
        match &arr.queue {
            None if !q.device.has_aspect(abi::aspect::USM_SYSTEM_ALLOCATIONS) => {
                return Err(Error::invalid_arg(format!(
                    "argument {i} is a host array and {} cannot reach host memory; copy it with dpc_array_to_device",
                    q.device.describe()
                )))
            }
            Some(aq) if !aq.context.same_as(&q.context) => {
                return Err(Error::invalid_arg(format!(
                    "argument {i} is an array in context #{}, but the launch runs on {}",
                    aq.context.id,
                    q.describe()
                )))
            }
            _ => {}
        }
    }
    validate(k, &q, global, local, &args.args)?;
    deps.check_backend(q.backend())?;
    // SAFETY: `validate` checked that `k` was built for `q`'s device and
    // context, and the kinds and scalar sizes of `args.args` (the values of
    // the scalars are readable: this function's contract); `global` has 1 to
    // 3 sizes and `local`, when given, as many (checked above); `deps`'s
    // events are `q`'s plugin's (checked just above). What the kernel does
    // with its pointer arguments is this function's caller's contract (array
    // arguments: checked above to be memory `q`'s device reaches, and held
    // by `args` for the call).
    unsafe { submit(&q, k, global, local, &args.args, deps, want) }
}

/// Submit `k` on `q` over `global` (with `local`, as an nd-range) with
/// `args`, after `deps`, without any check. Returns the command's event
/// when `want`.
///
/// # Safety
/// `k` was built for `q`'s device and context; `global` has 1 to 3 sizes
/// and `local`, when given, as many; `args` match the kernel's parameters
/// (scalar values readable for their size during the call); pointers are
/// memory `q`'s device reaches, valid for what the kernel does with them
/// until the command completes; `deps`'s events are `q`'s plugin's.
unsafe fn submit(
    q: &queue::Queue,
    k: &Kernel,
    global: &[usize],
    local: Option<&[usize]>,
    args: &[abi::KernelArgV1],
    deps: &event::Deps,
    want: bool,
) -> Result<Option<Arc<event::Event>>> {
    // SAFETY: `q.obj()` and `k.obj` are live objects (`q` and `k` are
    // borrowed for the call), of one plugin since `k` was built for `q`'s
    // device; the kernel, the sizes, the arguments and the events are as the
    // plugin needs by this function's contract; `global`, `local`, `args`
    // and `deps` (which keeps its events alive) are borrowed for the call.
    // The closure passes `ev` as the `ev_out` of a `q.backend()` enqueue
    // and returns its status, as `submit` needs.
    unsafe {
        event::submit(q.backend(), "enqueue_kernel", want, |ev| {
            crate::faults::table_call!(
                q.backend().table,
                enqueue_kernel(
                    q.obj(),
                    k.obj,
                    global.len() as u32,
                    global.as_ptr(),
                    local.map_or(std::ptr::null(), |x| x.as_ptr()),
                    args.as_ptr(),
                    args.len(),
                    deps.ptr(),
                    deps.len(),
                    ev,
                )
            )
        })
    }
}

/// Enqueue `k` on `q` over `global` (1 to 3 dimensions) with `args`,
/// without the checks of `dpc_kernel_launch`: for dpcore's own kernels,
/// whose signatures the caller knows. No event is made.
///
/// # Safety
/// `k` was built for `q`'s device and context; `global` has 1 to 3 sizes;
/// `args` must match the kernel's parameters (scalar values readable for
/// their size during the call); pointers must be USM of the queue's
/// context, valid for what the kernel does with them until the command
/// completes.
pub(crate) unsafe fn enqueue_unchecked(
    q: &queue::Queue,
    k: &Kernel,
    global: &[usize],
    args: &[abi::KernelArgV1],
) -> Result<()> {
    // SAFETY: this function's contract is `submit`'s, with no `local` and
    // no events.
    unsafe { submit(q, k, global, None, args, &event::Deps::none(), false) }?;
    Ok(())
}

// ---------------------------------------------------------------- exports

/// The `options` argument of the `dpc_bundle_create_from_*` exports: ""
/// when NULL.
///
/// # Safety
/// `options` is NULL or a NUL-terminated string that outlives `'a` and is
/// not modified during `'a`.
unsafe fn in_options<'a>(options: *const c_char) -> Result<&'a str> {
    if options.is_null() {
        return Ok("");
    }
    // SAFETY: non-NULL here; NUL-terminated, alive and unchanged for `'a`
    // (this function's contract), which is `in_str`'s contract.
    unsafe { in_str("options", options) }
}

/// Build a bundle for `device` in `context` from a SPIR-V module of `size`
/// bytes at `spirv`, with build `options` (NULL or a NUL-terminated string).
/// Built bundles are cached by context, device, input and options: building
/// the same module again returns the cached bundle at once and uses no more
/// memory, while the program holds it (or one of its kernels) and for the 8
/// most recently used (`DPCORE_BUNDLE_CACHE` sets that number).
///
/// Ownership: a new reference the caller releases; `spirv` and `options`
/// are read during the call only. Errors: `DPC_ERROR_INVALID_HANDLE`,
/// `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_INVALID_ARGUMENT` (not a SPIR-V
/// module, device not in the context), `DPC_ERROR_BUILD_FAILED` (the log is
/// in `dpc_last_error_build_log`), `DPC_ERROR_UNSUPPORTED` (the device
/// cannot take SPIR-V). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_bundle_create_from_spirv(
    context: dpc_context,
    device: dpc_device,
    spirv: *const c_void,
    size: usize,
    options: *const c_char,
    bundle_out: *mut dpc_bundle,
) -> dpc_status {
    export!(|| {
        check_ptr("spirv", spirv)?;
        // SAFETY: checked non-NULL above; the caller provides `size`
        // readable bytes at `spirv`, read during the call only (the
        // export's contract).
        let src = unsafe { std::slice::from_raw_parts(spirv as *const u8, size) };
        check_ptr("bundle_out", bundle_out)?;
        let ctx = context::get("context", context)?;
        let dev = device::get("device", device)?;
        // SAFETY: the caller provides `options` NULL or NUL-terminated,
        // alive for the call (the export's contract).
        let opts = unsafe { in_options(options) }?;
        let b = build(&ctx, &dev, abi::source_kind::SPIRV, src, opts)?;
        let h = handle::insert(b, false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_bundle (the export's contract).
        unsafe { write_out("bundle_out", bundle_out, h as dpc_bundle) }
    })
}

/// Build a bundle from the SPIR-V file at `path` (as
/// `dpc_bundle_create_from_spirv`).
///
/// Errors: those of `dpc_bundle_create_from_spirv`, plus `DPC_ERROR_NOT_FOUND`
/// (no such file) and `DPC_ERROR_INVALID_ARGUMENT` (unreadable), with the
/// path and the system's reason. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_bundle_create_from_spirv_file(
    context: dpc_context,
    device: dpc_device,
    path: *const c_char,
    options: *const c_char,
    bundle_out: *mut dpc_bundle,
) -> dpc_status {
    export!(|| {
        // SAFETY: the caller provides `path` NULL or NUL-terminated, alive
        // for the call (the export's contract).
        let p = unsafe { in_str("path", path) }?;
        check_ptr("bundle_out", bundle_out)?;
        let ctx = context::get("context", context)?;
        let dev = device::get("device", device)?;
        // SAFETY: the caller provides `options` NULL or NUL-terminated,
        // alive for the call (the export's contract).
        let opts = unsafe { in_options(options) }?;
        let b = build_from_spirv_file(&ctx, &dev, p, opts)?;
        let h = handle::insert(b, false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_bundle (the export's contract).
        unsafe { write_out("bundle_out", bundle_out, h as dpc_bundle) }
    })
}

/// Build a bundle from OpenCL C `source` (NUL-terminated) with `options`
/// (passed to the OpenCL compiler, e.g. `"-cl-std=CL2.0 -DN=4"`). Cached like
/// `dpc_bundle_create_from_spirv`.
///
/// Errors: those of `dpc_bundle_create_from_spirv`; `DPC_ERROR_UNSUPPORTED`
/// on devices that are not OpenCL devices. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_bundle_create_from_opencl_c(
    context: dpc_context,
    device: dpc_device,
    source: *const c_char,
    options: *const c_char,
    bundle_out: *mut dpc_bundle,
) -> dpc_status {
    export!(|| {
        // SAFETY: the caller provides `source` NULL or NUL-terminated,
        // alive for the call (the export's contract).
        let s = unsafe { in_str("source", source) }?;
        check_ptr("bundle_out", bundle_out)?;
        let ctx = context::get("context", context)?;
        let dev = device::get("device", device)?;
        // SAFETY: the caller provides `options` NULL or NUL-terminated,
        // alive for the call (the export's contract).
        let opts = unsafe { in_options(options) }?;
        let b = build(&ctx, &dev, abi::source_kind::OPENCL_C, s.as_bytes(), opts)?;
        let h = handle::insert(b, false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_bundle (the export's contract).
        unsafe { write_out("bundle_out", bundle_out, h as dpc_bundle) }
    })
}

/// Build a bundle from SYCL `source` (NUL-terminated), compiled at run time
/// by the SYCL kernel compiler where the device reports it can. Cached like
/// `dpc_bundle_create_from_spirv`.
///
/// Errors: those of `dpc_bundle_create_from_spirv`; `DPC_ERROR_UNSUPPORTED`
/// where the runtime cannot compile SYCL source for the device.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_bundle_create_from_sycl(
    context: dpc_context,
    device: dpc_device,
    source: *const c_char,
    options: *const c_char,
    bundle_out: *mut dpc_bundle,
) -> dpc_status {
    export!(|| {
        // SAFETY: the caller provides `source` NULL or NUL-terminated,
        // alive for the call (the export's contract).
        let s = unsafe { in_str("source", source) }?;
        check_ptr("bundle_out", bundle_out)?;
        let ctx = context::get("context", context)?;
        let dev = device::get("device", device)?;
        // SAFETY: the caller provides `options` NULL or NUL-terminated,
        // alive for the call (the export's contract).
        let opts = unsafe { in_options(options) }?;
        let b = build(&ctx, &dev, abi::source_kind::SYCL, s.as_bytes(), opts)?;
        let h = handle::insert(b, false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_bundle (the export's contract).
        unsafe { write_out("bundle_out", bundle_out, h as dpc_bundle) }
    })
}

/// Add a reference to `bundle`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_bundle_retain(bundle: dpc_bundle) -> dpc_status {
    export!(|| { handle::retain(Kind::Bundle, "bundle", bundle as usize) })
}

/// Drop a reference to `bundle`; NULL is a no-op. The bundle lives on while
/// its kernels or the build cache hold it.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_bundle_release(bundle: dpc_bundle) -> dpc_status {
    export!(|| { handle::release(Kind::Bundle, "bundle", bundle as usize) })
}

/// The number of kernels in `bundle` (read from the SPIR-V module, or from
/// the OpenCL program).
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_UNSUPPORTED` (SYCL-source bundles: the runtime does not list
/// their kernels; get them by name). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_bundle_get_kernel_count(
    bundle: dpc_bundle,
    count_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("count_out", count_out)?;
        let b = handle::get::<Bundle>("bundle", bundle as usize)?;
        let n = b.names()?.len();
        // SAFETY: checked non-NULL above; the caller provides a writable
        // size_t (the export's contract).
        unsafe { write_out("count_out", count_out, n) }
    })
}

/// The name of kernel `index` of `bundle`.
///
/// Two-call pattern (`*size_out` gets the size needed, NUL included).
/// Errors: those of `dpc_bundle_get_kernel_count`, plus
/// `DPC_ERROR_OUT_OF_RANGE` and `DPC_ERROR_BUFFER_TOO_SMALL`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_bundle_get_kernel_name(
    bundle: dpc_bundle,
    index: usize,
    buf: *mut c_char,
    capacity: usize,
    size_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("size_out", size_out)?;
        let b = handle::get::<Bundle>("bundle", bundle as usize)?;
        let name = b.kernel_name(index)?;
        // SAFETY: `size_out` checked non-NULL above; the caller provides
        // `buf` NULL or writable for `capacity` bytes and a writable
        // `size_out` (the export's contract); `buf` cannot overlap `name`,
        // a fresh `String` of dpcore's.
        unsafe { write_out_str(&name, buf, capacity, size_out) }
    })
}

/// Whether `bundle` has a kernel called `name`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_UTF8`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_bundle_has_kernel(
    bundle: dpc_bundle,
    name: *const c_char,
    has_out: *mut bool,
) -> dpc_status {
    export!(|| {
        check_ptr("has_out", has_out)?;
        // SAFETY: the caller provides `name` NULL or NUL-terminated, alive
        // for the call (the export's contract).
        let n = unsafe { in_str("name", name) }?;
        let b = handle::get::<Bundle>("bundle", bundle as usize)?;
        let has = b.has_kernel(n)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // bool (the export's contract).
        unsafe { write_out("has_out", has_out, has) }
    })
}

/// The kernel called `name` in `bundle`, with its device-specific info
/// read once.
///
/// Ownership: a new reference the caller releases; it keeps the bundle
/// alive. Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_UTF8`, `DPC_ERROR_NOT_FOUND` (the message lists the
/// bundle's kernels where it can). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_bundle_get_kernel(
    bundle: dpc_bundle,
    name: *const c_char,
    kernel_out: *mut dpc_kernel,
) -> dpc_status {
    export!(|| {
        check_ptr("kernel_out", kernel_out)?;
        // SAFETY: the caller provides `name` NULL or NUL-terminated, alive
        // for the call (the export's contract).
        let n = unsafe { in_str("name", name) }?;
        let b = handle::get::<Bundle>("bundle", bundle as usize)?;
        let k = get_kernel(&b, n)?;
        let h = handle::insert(k, false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_kernel (the export's contract).
        unsafe { write_out("kernel_out", kernel_out, h as dpc_kernel) }
    })
}

/// The runtime's own bundle object
/// (`sycl::kernel_bundle<sycl::bundle_state::executable>*`).
///
/// Ownership: borrowed; valid while `bundle` is. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`. Thread safety: any
/// thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_bundle_get_native(
    bundle: dpc_bundle,
    native_out: *mut *mut c_void,
) -> dpc_status {
    export!(|| {
        check_ptr("native_out", native_out)?;
        let p = handle::with::<Bundle, _>("bundle", bundle as usize, |b| b.native())?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `void*` (the export's contract).
        unsafe { write_out("native_out", native_out, p) }
    })
}

/// Add a reference to `kernel`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_kernel_retain(kernel: dpc_kernel) -> dpc_status {
    export!(|| { handle::retain(Kind::Kernel, "kernel", kernel as usize) })
}

/// Drop a reference to `kernel`; NULL is a no-op. Launches already
/// submitted still run.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_kernel_release(kernel: dpc_kernel) -> dpc_status {
    export!(|| { handle::release(Kind::Kernel, "kernel", kernel as usize) })
}

/// The name of `kernel`.
///
/// Two-call pattern (`*size_out` gets the size needed, NUL included).
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_BUFFER_TOO_SMALL`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_kernel_get_name(
    kernel: dpc_kernel,
    buf: *mut c_char,
    capacity: usize,
    size_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("size_out", size_out)?;
        handle::with::<Kernel, _>("kernel", kernel as usize, |k| {
            // SAFETY: `size_out` checked non-NULL above; the caller provides
            // `buf` NULL or writable for `capacity` bytes and a writable
            // `size_out` (the export's contract); `buf` cannot overlap the
            // kernel's name, a `String` private to dpcore.
            unsafe { write_out_str(&k.name, buf, capacity, size_out) }
        })?
    })
}

/// A numeric property of `kernel` on its bundle's device; `key` is a
/// `dpc_kernel_info` value. `DPC_KERNEL_INFO_NUM_ARGS` comes from the
/// SPIR-V module where there is one, else from the runtime.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_ARGUMENT` (unknown key), `DPC_ERROR_UNSUPPORTED` (the
/// number of arguments is not known). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_kernel_get_info_u64(
    kernel: dpc_kernel,
    key: i32,
    value_out: *mut u64,
) -> dpc_status {
    export!(|| {
        check_ptr("value_out", value_out)?;
        let v = handle::with::<Kernel, _>("kernel", kernel as usize, |k| k.info_u64(key))??;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // uint64_t (the export's contract).
        unsafe { write_out("value_out", value_out, v) }
    })
}

/// The runtime's own kernel object (`sycl::kernel*`).
///
/// Ownership: borrowed; valid while `kernel` is. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`. Thread safety: any
/// thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_kernel_get_native(
    kernel: dpc_kernel,
    native_out: *mut *mut c_void,
) -> dpc_status {
    export!(|| {
        check_ptr("native_out", native_out)?;
        let p = handle::with::<Kernel, _>("kernel", kernel as usize, |k| k.native())?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `void*` (the export's contract).
        unsafe { write_out("native_out", native_out, p) }
    })
}

/// Launch `kernel` on `queue` (or, with `queue` NULL, on the queue of its
/// `DPC_ARG_ARRAY` arguments: compute follows data) over `dims` (1, 2 or 3) dimensions of
/// `global[dims]` work-items; with `local` non-NULL, as an nd-range with
/// work-groups of `local[dims]`. `global[0]` is the dimension of
/// `get_global_id(0)`. `args` holds `n_args` arguments in the kernel's
/// order; after the `n_events` events.
///
/// Checked before anything is submitted: array arguments are on the
/// queue's context (host arrays only where the device reaches host memory);
/// the kernel was built for the queue's device and context; the argument count matches the kernel (from
/// its SPIR-V, or the runtime); each argument's kind (and a scalar's size)
/// matches the parameter where the SPIR-V tells it; each local size divides
/// its global size, and the work-group fits the kernel and the device.
///
/// Ownership: `args` and the scalars they point at are read during the call
/// only. The memory the kernel reaches through pointer and array arguments
/// must stay allocated until the kernel completes: dpcore holds the arrays
/// only for the call (release them with `dpc_array_release_after` on the
/// launch's event, or wait for it first). `*event_out`, when `event_out` is
/// non-NULL, is a new event the caller releases. Errors: `DPC_ERROR_INVALID_HANDLE`,
/// `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_INVALID_ARGUMENT` (each check above,
/// with a message naming the argument or dimension), `DPC_ERROR_BACKEND`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_kernel_launch(
    queue: dpc_queue,
    kernel: dpc_kernel,
    dims: u32,
    global: *const usize,
    local: *const usize,
    args: *const dpc_kernel_arg,
    n_args: usize,
    events: *const dpc_event,
    n_events: usize,
    event_out: *mut dpc_event,
) -> dpc_status {
    export!(|| {
        let k = handle::get::<Kernel>("kernel", kernel as usize)?;
        // `dims` says how many sizes `global` and `local` hold: checked
        // before they are read.
        if !(1..=3).contains(&dims) {
            return Err(Error::invalid_arg(format!(
                "dpc_kernel_launch: dims is {dims}; it must be 1, 2 or 3"
            )));
        }
        check_ptr("global", global)?;
        if n_args > 0 {
            check_ptr("args", args)?;
        }
        // SAFETY: `global` checked non-NULL above and `local` non-NULL
        // where used; the caller provides `dims` readable `size_t` in each,
        // and `n_args` readable arguments at `args` (checked non-NULL when
        // `n_args` > 0), all read during the call only (the export's
        // contract). The slices do not outlive the closure.
        let (g, l, given) = unsafe {
            (
                std::slice::from_raw_parts(global, dims as usize),
                (!local.is_null()).then(|| std::slice::from_raw_parts(local, dims as usize)),
                if n_args == 0 {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(args, n_args)
                },
            )
        };
        let a = LaunchArgs::resolve(given)?;
        let q = if queue.is_null() {
            None // inferred from the array arguments
        } else {
            Some(queue::get("queue", queue)?)
        };
        // SAFETY: the caller provides `events` NULL or readable for
        // `n_events` handles (the export's contract), `deps`'s contract.
        let d = unsafe { event::deps(events, n_events) }?;
        // SAFETY: the caller provides the scalar values readable during the
        // call, and pointer arguments the kernel may use as it does until
        // the command completes (the export's contract), which is
        // `launch`'s contract.
        let ev = unsafe { launch(q, &k, g, l, &a, &d, !event_out.is_null()) }?;
        // SAFETY: `event_out` is NULL or writable (the export's contract).
        unsafe { event::write_event(event_out, ev) }
    })
}

#[cfg(test)]
mod tests {
    use super::hash;

    #[test]
    fn hash_separates_inputs() {
        assert_ne!(hash(b"abc", 1), hash(b"abd", 1));
        assert_ne!(hash(b"abc", 1), hash(b"abc", 2));
        assert_ne!(hash(b"", 1), hash(b"\0", 1));
        assert_eq!(hash(b"0123456789abcdef0", 7), hash(b"0123456789abcdef0", 7));
    }
}
