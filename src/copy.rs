//! Copies between arrays on the device (`dpc_array_copy`,
//! `dpc_array_astype`, and `dpc_array_to_device`'s device path): any
//! strides on either side, broadcasting, and conversion between every pair
//! of data types, run as device kernels.
//!
//! The kernels are dpcore's own copy library, `kernels/lib/copy_cast.cl`,
//! compiled to one small SPIR-V module per conversion (`S_D`) and per
//! element width for plain moves (`mN`), packed into
//! `kernels/lib/copy_cast.pack` and embedded here. A module is built for a
//! device the first time a copy needs it (about 40 ms on the OpenCL CPU
//! device) and kept in a small cache of built modules per context and
//! device.

use crate::export;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{Arc, Mutex, OnceLock};

use dpcore_backend_abi as abi;

use crate::array::{self, c_strides, count, dpc_array, Array};
use crate::dlpack::*;
use crate::error::{dpc_status, dpc_status::*, Error, Result};
use crate::handle;
use crate::kernel::{self, Kernel};
use crate::queue::Queue;
use crate::strings::{check_ptr, write_out};

static PACK: &[u8] = include_bytes!("../kernels/lib/copy_cast.pack");

/// Built copy modules kept per context and device (least recently used go
/// first). Each holds its context alive, so the number is bounded.
const CACHE_CAPACITY: usize = 64;

/// The largest number of work-items one launch covers; bigger copies are
/// split (some runtimes keep ids in 32 bits).
const MAX_LAUNCH: i64 = 1 << 30;

/// The modules of the embedded pack by name, or why the pack is unusable.
fn modules() -> std::result::Result<&'static HashMap<&'static str, &'static [u8]>, &'static str> {
    static M: OnceLock<std::result::Result<HashMap<&'static str, &'static [u8]>, &'static str>> =
        OnceLock::new();
    M.get_or_init(|| parse_pack(PACK)).as_ref().map_err(|e| *e)
}

fn parse_pack(
    p: &'static [u8],
) -> std::result::Result<HashMap<&'static str, &'static [u8]>, &'static str> {
    const BAD: &str = "dpcore's embedded copy-kernel pack is damaged; rebuild dpcore";
    let u32_at = |o: usize| -> std::result::Result<usize, &'static str> {
        let b = p.get(o..o + 4).ok_or(BAD)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    if p.get(0..8) != Some(b"DPCKPACK") || u32_at(8)? != 1 {
        return Err(BAD);
    }
    let n = u32_at(12)?;
    let mut map = HashMap::with_capacity(n);
    let mut o = 16;
    for _ in 0..n {
        let nl = u32_at(o)?;
        let name = p.get(o + 4..o + 4 + nl).ok_or(BAD)?;
        let name = std::str::from_utf8(name).map_err(|_| BAD)?;
        o += 4 + nl;
        let dl = u32_at(o)?;
        let data = p.get(o + 4..o + 4 + dl).ok_or(BAD)?;
        o += 4 + dl;
        map.insert(name, data);
    }
    if o != p.len() {
        return Err(BAD);
    }
    Ok(map)
}

/// The type tag of the copy library (`i32`, `c64`, ...).
fn tag(t: dpc_dlpack_dtype) -> Result<&'static str> {
    array::element_size(t)?;
    Ok(match (t.code, t.bits) {
        (DPC_DL_BOOL, _) => "b",
        (DPC_DL_INT, 8) => "i8",
        (DPC_DL_INT, 16) => "i16",
        (DPC_DL_INT, 32) => "i32",
        (DPC_DL_INT, 64) => "i64",
        (DPC_DL_UINT, 8) => "u8",
        (DPC_DL_UINT, 16) => "u16",
        (DPC_DL_UINT, 32) => "u32",
        (DPC_DL_UINT, 64) => "u64",
        (DPC_DL_FLOAT, 16) => "f16",
        (DPC_DL_FLOAT, 32) => "f32",
        (DPC_DL_FLOAT, 64) => "f64",
        (DPC_DL_COMPLEX, 64) => "c64",
        _ => "c128",
    })
}

fn same_dtype(a: dpc_dlpack_dtype, b: dpc_dlpack_dtype) -> bool {
    a.code == b.code && a.bits == b.bits && a.lanes == b.lanes
}

/// The kernels of a built copy module.
struct CopyKernels {
    copy1: Arc<Kernel>,
    copy2: Arc<Kernel>,
    copy3: Arc<Kernel>,
    copyn: Arc<Kernel>,
}

struct CacheEntry {
    context: u64,
    device: usize,
    module: String,
    kernels: Arc<CopyKernels>,
    used: u64,
}

#[derive(Default)]
struct Cache {
    entries: Vec<CacheEntry>,
    clock: u64,
}

static CACHE: Mutex<Cache> = Mutex::new(Cache {
    entries: Vec::new(),
    clock: 0,
});

/// The kernels of copy module `module` built for `q`'s device and context.
fn kernels(q: &Queue, module: &str) -> Result<Arc<CopyKernels>> {
    let dev_key = Arc::as_ptr(&q.device) as usize;
    // Held while building, so that concurrent first uses build once.
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.clock += 1;
    let now = cache.clock;
    if let Some(e) = cache
        .entries
        .iter_mut()
        .find(|e| e.context == q.context.id && e.device == dev_key && e.module == module)
    {
        e.used = now;
        return Ok(e.kernels.clone());
    }
    let needs_fp64 = module.contains("f64") || module.contains("c128");
    if needs_fp64 && !q.device.has_aspect(abi::aspect::FP64) {
        return Err(Error::new(
            DPC_ERROR_UNSUPPORTED,
            format!(
                "converting to or from float64/complex128 needs a device with fp64, and {} has none",
                q.device.describe()
            ),
        ));
    }
    let spv = modules()
        .map_err(|m| Error::new(DPC_ERROR_INTERNAL, m))?
        .get(module)
        .ok_or_else(|| {
            Error::new(
                DPC_ERROR_INTERNAL,
                format!("dpcore's copy-kernel pack has no module \"{module}\""),
            )
        })?;
    let add_context = |mut e: Error| {
        e.message = format!(
            "building dpcore's copy kernels \"{module}\" for {}: {}",
            q.device.describe(),
            e.message
        );
        e
    };
    let bundle = kernel::build(&q.context, &q.device, abi::source_kind::SPIRV, spv, "")
        .map_err(add_context)?;
    let k = Arc::new(CopyKernels {
        copy1: kernel::get_kernel(&bundle, "dpc_copy1").map_err(add_context)?,
        copy2: kernel::get_kernel(&bundle, "dpc_copy2").map_err(add_context)?,
        copy3: kernel::get_kernel(&bundle, "dpc_copy3").map_err(add_context)?,
        copyn: kernel::get_kernel(&bundle, "dpc_copyn").map_err(add_context)?,
    });
    if cache.entries.len() >= CACHE_CAPACITY {
        if let Some(oldest) = (0..cache.entries.len()).min_by_key(|&i| cache.entries[i].used) {
            cache.entries.swap_remove(oldest);
        }
    }
    cache.entries.push(CacheEntry {
        context: q.context.id,
        device: dev_key,
        module: module.to_string(),
        kernels: k.clone(),
        used: now,
    });
    Ok(k)
}

/// Dimensions for copying `shape` from strides `ss` to strides `ds`
/// (elements): extents of 1 dropped, axes ordered by the destination's
/// stride magnitude (largest first), and neighbours merged where both
/// sides step evenly across them. The element-to-element map is unchanged.
pub(crate) fn collapse(shape: &[i64], ss: &[i64], ds: &[i64]) -> (Vec<i64>, Vec<i64>, Vec<i64>) {
    let mut axes: Vec<usize> = (0..shape.len()).filter(|&i| shape[i] != 1).collect();
    axes.sort_by_key(|&i| std::cmp::Reverse((ds[i].unsigned_abs(), ss[i].unsigned_abs())));
    let (mut sh, mut s, mut d) = (Vec::new(), Vec::new(), Vec::new());
    for i in axes {
        let p = sh.len();
        if p > 0 && s[p - 1] == ss[i] * shape[i] && d[p - 1] == ds[i] * shape[i] {
            sh[p - 1] *= shape[i];
            s[p - 1] = ss[i];
            d[p - 1] = ds[i];
        } else {
            sh.push(shape[i]);
            s.push(ss[i]);
            d.push(ds[i]);
        }
    }
    (sh, s, d)
}

fn ptr_arg(p: &usize) -> abi::KernelArgV1 {
    abi::KernelArgV1 {
        kind: abi::arg_kind::POINTER,
        size: std::mem::size_of::<usize>(),
        value: *p as *const c_void,
    }
}

fn scalar_arg<T>(v: &T) -> abi::KernelArgV1 {
    abi::KernelArgV1 {
        kind: abi::arg_kind::SCALAR,
        size: std::mem::size_of::<T>(),
        value: v as *const T as *const c_void,
    }
}

/// Enqueue the copy of the collapsed layout `(sh, ss, ds)` from `src` to
/// `dst` (addresses of element 0; element sizes `ses`, `des`).
///
/// # Safety
/// `k` was built for `q`'s device and context (`kernels(q, ..)`) for
/// elements of `ses` and `des` bytes; `sh`, `ss` and `ds` have one value
/// per dimension; every element the layout `(sh, ss)` reaches from `src` is
/// readable, and every element `(sh, ds)` reaches from `dst` writable, USM
/// of `q`'s context, until the commands complete.
#[allow(clippy::too_many_arguments)] // the layout and both sides
unsafe fn launch(
    q: &Queue,
    k: &CopyKernels,
    src: usize,
    ses: i64,
    dst: usize,
    des: i64,
    sh: &[i64],
    ss: &[i64],
    ds: &[i64],
) -> Result<()> {
    let n = count(sh);
    if sh.len() > 8 || (sh.len() > 1 && n > MAX_LAUNCH) {
        // Loop over the outermost axis on the host.
        for i in 0..sh[0] {
            // SAFETY: the sub-layout at index `i` of the outermost axis
            // reaches a subset of the elements this call's layout reaches
            // (this function's contract), with the same kernel and queue.
            unsafe {
                launch(
                    q,
                    k,
                    (src as i64 + i * ss[0] * ses) as usize,
                    ses,
                    (dst as i64 + i * ds[0] * des) as usize,
                    des,
                    &sh[1..],
                    &ss[1..],
                    &ds[1..],
                )
            }?;
        }
        return Ok(());
    }
    if sh.len() <= 1 {
        let (n, s, d) = match sh.len() {
            0 => (1, 0, 0),
            _ => (sh[0], ss[0], ds[0]),
        };
        let mut start = 0i64;
        while start < n {
            let len = (n - start).min(MAX_LAUNCH);
            let sp = (src as i64 + start * s * ses) as usize;
            let dp = (dst as i64 + start * d * des) as usize;
            let args = [ptr_arg(&sp), scalar_arg(&s), ptr_arg(&dp), scalar_arg(&d)];
            // SAFETY: `dpc_copy1(src, src_stride, dst, dst_stride)` over
            // `len` work-items copies elements `start..start + len` of the
            // layout, which this function's contract makes valid USM of
            // `q`'s context until the command completes; `k` was built for
            // `q`; the scalars are locals alive for the call.
            unsafe { kernel::enqueue_unchecked(q, &k.copy1, &[len as usize], &args) }?;
            start += len;
        }
        return Ok(());
    }
    // get_global_id(0) runs over the innermost axis (the last one).
    if sh.len() == 2 {
        let g = [sh[1] as usize, sh[0] as usize];
        let args = [
            ptr_arg(&src),
            scalar_arg(&ss[1]),
            scalar_arg(&ss[0]),
            ptr_arg(&dst),
            scalar_arg(&ds[1]),
            scalar_arg(&ds[0]),
        ];
        // SAFETY: `dpc_copy2` over the 2-d range `g` copies exactly the
        // elements of the layout (this function's contract: valid USM of
        // `q`'s context until the command completes); `k` was built for `q`;
        // the scalars are locals alive for the call.
        return unsafe { kernel::enqueue_unchecked(q, &k.copy2, &g, &args) };
    }
    if sh.len() == 3 {
        let g = [sh[2] as usize, sh[1] as usize, sh[0] as usize];
        let s4: [i64; 4] = [ss[2], ss[1], ss[0], 0];
        let d4: [i64; 4] = [ds[2], ds[1], ds[0], 0];
        let args = [
            ptr_arg(&src),
            scalar_arg(&s4),
            ptr_arg(&dst),
            scalar_arg(&d4),
        ];
        // SAFETY: `dpc_copy3` over the 3-d range `g` copies exactly the
        // elements of the layout (this function's contract: valid USM of
        // `q`'s context until the command completes); `k` was built for `q`;
        // the scalars are locals alive for the call.
        return unsafe { kernel::enqueue_unchecked(q, &k.copy3, &g, &args) };
    }
    let pad = |v: &[i64], fill: i64| {
        let mut a = [fill; 8];
        a[..v.len()].copy_from_slice(v);
        a
    };
    let (shape8, ss8, ds8) = (pad(sh, 1), pad(ss, 0), pad(ds, 0));
    let nd = sh.len() as i32;
    let args = [
        ptr_arg(&src),
        ptr_arg(&dst),
        scalar_arg(&nd),
        scalar_arg(&shape8),
        scalar_arg(&ss8),
        scalar_arg(&ds8),
    ];
    // SAFETY: `dpc_copyn` over `n` work-items copies exactly the elements of
    // the layout of `nd` (4 to 8) dimensions, padded with extents of 1 (this
    // function's contract: valid USM of `q`'s context until the command
    // completes); `k` was built for `q`; the scalars are locals alive for
    // the call.
    unsafe { kernel::enqueue_unchecked(q, &k.copyn, &[n as usize], &args) }
}

/// Copy `src` to `dst` (same shape) on `q`, whose context holds both
/// allocations; submits and does not wait.
///
/// # Safety
/// `src` and `dst` keep the [`Array`] invariant, their memory is USM of
/// `q`'s context, and it stays alive until the copy completes (the caller
/// waits for `q` while it holds both).
unsafe fn device_copy(q: &Arc<Queue>, src: &Array, dst: &Array) -> Result<()> {
    if dst.size() == 0 {
        return Ok(());
    }
    let (sh, ss, ds) = collapse(&dst.shape, &src.strides, &dst.strides);
    let same = same_dtype(src.dtype, dst.dtype);
    let es = src.elsize();
    if same && (sh.is_empty() || (sh.len() == 1 && ss[0] == 1 && ds[0] == 1)) {
        // SAFETY: both layouts are one contiguous run of `dst.size()`
        // elements of `es` bytes from element 0, inside each array's memory
        // (the `Array` invariant), USM of `q`'s context alive until the copy
        // completes (this function's contract).
        return unsafe { array::memcpy(q, dst.data, src.data, dst.size() as usize * es) };
    }
    let module = if same {
        format!("m{es}")
    } else {
        format!("{}_{}", tag(src.dtype)?, tag(dst.dtype)?)
    };
    let k = kernels(q, &module)?;
    // SAFETY: `k` was just built for `q` for these element types; `collapse`
    // keeps the element-to-element map, so the layouts reach exactly the
    // arrays' elements, inside their memory (the `Array` invariant), USM of
    // `q`'s context alive until the copy completes (this function's
    // contract).
    unsafe {
        launch(
            q,
            &k,
            src.data,
            es as i64,
            dst.data,
            dst.elsize() as i64,
            &sh,
            &ss,
            &ds,
        )
    }
}

/// A C-contiguous device copy of `src` (same data type) on `q`, staged
/// through host memory. Returns when done.
///
/// # Safety
/// `src` keeps the [`Array`] invariant.
unsafe fn stage(q: &Arc<Queue>, src: &Array) -> Result<Array> {
    let t = array::alloc(q, src.dtype, src.shape.clone(), abi::usm_kind::DEVICE)?;
    let bytes = src.size() as usize * src.elsize();
    if bytes > 0 {
        let mut packed = crate::usm::host_buffer(bytes, "to stage a copy through the host")?;
        // SAFETY: `src` keeps the `Array` invariant (this function's
        // contract); the C-contiguous layout of its shape puts every element
        // inside `packed`, `bytes` bytes of ours.
        unsafe { array::to_host(src, packed.as_mut_ptr(), &c_strides(&src.shape)) }?;
        // SAFETY: `packed` and `t`'s fresh allocation hold `bytes` bytes
        // each, and both outlive the `q.wait()` below.
        unsafe { array::memcpy(q, t.data, packed.as_ptr() as usize, bytes) }?;
        q.wait()?;
    }
    Ok(t)
}

/// The strides of `src` broadcast to `shape` (numpy's rules: trailing axes
/// line up; an extent of 1 repeats), or an error naming both shapes.
fn broadcast_strides(src: &Array, shape: &[i64]) -> Result<Vec<i64>> {
    let function = crate::error::current_export();
    let bad = || {
        Error::invalid_arg(format!(
            "{function}: the source's shape {:?} does not broadcast to the destination's shape {shape:?}",
            src.shape
        ))
    };
    if src.shape.len() > shape.len() {
        return Err(bad());
    }
    let lead = shape.len() - src.shape.len();
    let mut out = vec![0i64; shape.len()];
    for (i, o) in out.iter_mut().enumerate().skip(lead) {
        let (n, s) = (src.shape[i - lead], src.strides[i - lead]);
        if n == shape[i] {
            *o = s;
        } else if n != 1 {
            return Err(bad());
        }
    }
    Ok(out)
}

/// A view of `src` broadcast to `shape` (sharing its memory).
fn broadcast(src: &Array, shape: &[i64]) -> Result<Array> {
    Ok(src.view(src.data, shape.to_vec(), broadcast_strides(src, shape)?))
}

fn overlaps(a: &Array, b: &Array) -> bool {
    if a.size() == 0 || b.size() == 0 {
        return false;
    }
    let (alo, ahi) = a.extent();
    let (blo, bhi) = b.extent();
    let (alo, ahi) = (a.data as i64 + alo, a.data as i64 + ahi);
    let (blo, bhi) = (b.data as i64 + blo, b.data as i64 + bhi);
    alo < bhi && blo < ahi
}

/// Copy `src` into `dst` with conversion; see `dpc_array_copy`. Returns when
/// done.
///
/// # Safety
/// `src` and `dst` keep the [`Array`] invariant (every array dpcore makes
/// does; imported memory does on its lender's word).
pub(crate) unsafe fn copy_into(src: &Array, dst: &Array) -> Result<()> {
    let function = crate::error::current_export();
    if !dst.writable {
        return Err(Error::invalid_arg(format!(
            "{function}: the destination array is read-only (a view made by dpc_array_as_read_only, \
             or imported from a read-only DLPack tensor)"
        )));
    }
    // Arrays only ever hold supported data types, so only the shapes need
    // checking here.
    let src_view = broadcast(src, &dst.shape)?;
    if dst.size() == 0 {
        return Ok(());
    }
    // Where the copy runs: the destination's queue, else the source's,
    // else the default device's canonical queue.
    let exec = match (&dst.queue, &src.queue) {
        (Some(q), _) | (None, Some(q)) => q.clone(),
        (None, None) => array::queue_or_default(std::ptr::null_mut())?,
    };
    if !exec.in_order() {
        exec.wait()?;
    }
    let host_dst = dst.queue.is_none();
    if host_dst && same_dtype(src.dtype, dst.dtype) {
        // Straight to host memory, through one staging buffer.
        // SAFETY: `src_view` (of `src`'s elements) keeps the `Array`
        // invariant; `dst` is a writable host array (checked above) of the
        // same shape, so `dst.data` with `dst.strides` reaches only its own
        // elements, writable host memory (the `Array` invariant).
        return unsafe { array::to_host(&src_view, dst.data as *mut u8, &dst.strides) };
    }
    // The source, as memory the execution queue's context can reach.
    let src_direct = match &src.queue {
        Some(sq) if sq.context.same_as(&exec.context) => {
            if !Arc::ptr_eq(sq, &exec) {
                sq.wait()?; // after the work already submitted to its queue
            }
            true
        }
        _ => false,
    };
    // A staged or temporary copy has the source's own shape; broadcast it
    // again.
    let sview = if !src_direct {
        // SAFETY: `src` keeps the `Array` invariant (this function's
        // contract).
        broadcast(&unsafe { stage(&exec, src) }?, &dst.shape)?
    } else if !host_dst && overlaps(src, dst) {
        let t = array::alloc(&exec, src.dtype, src.shape.clone(), abi::usm_kind::DEVICE)?;
        // SAFETY: `src` is USM of `exec`'s context (`src_direct`) and `t` a
        // fresh allocation on `exec`, both alive past the wait below.
        unsafe { device_copy(&exec, src, &t) }?;
        exec.wait()?;
        broadcast(&t, &dst.shape)?
    } else {
        src_view
    };
    if host_dst {
        let t = array::alloc(&exec, dst.dtype, dst.shape.clone(), abi::usm_kind::DEVICE)?;
        // SAFETY: `sview` is a staged copy, a temporary or `src` itself, USM
        // of `exec`'s context in each case, and `t` a fresh allocation on
        // `exec`; all alive past the wait below.
        unsafe { device_copy(&exec, &sview, &t) }?;
        exec.wait()?;
        // SAFETY: `t` is a fresh array; `dst` is a writable host array
        // (checked above) of the same shape, so `dst.data` with
        // `dst.strides` reaches only its own elements, writable host memory
        // (the `Array` invariant).
        unsafe { array::to_host(&t, dst.data as *mut u8, &dst.strides) }
    } else {
        // SAFETY: `dst` is USM of `exec`'s context (`exec` is its queue) and
        // so is `sview` (see above); both are alive past the wait below.
        unsafe { device_copy(&exec, &sview, dst) }?;
        exec.wait()
    }
}

// ---------------------------------------------------------------- exports

/// Copy the elements of `src` into `dst`, converting the data type where
/// they differ, with any strides on either side (negative and zero
/// included). `src` broadcasts to `dst`'s shape by numpy's rules (equal
/// shapes are the common case). Returns when the copy is done.
///
/// The copy runs as a device kernel on `dst`'s queue (or `src`'s when `dst`
/// is a host array), after the work already submitted to both arrays'
/// queues; a contiguous copy without conversion is a plain memory copy.
/// A source in another context or on another device, or a host array, is
/// staged through host memory first; overlapping source and destination
/// are copied through a temporary. Conversions follow numpy's `astype`:
/// to bool is "non-zero", complex to real keeps the real part, float to
/// integer truncates (out of range is undefined, as in C), float16 rounds
/// to nearest even. The first copy of a pair of types on a device builds
/// a small kernel module (tens of milliseconds); later ones reuse it.
///
/// Ownership: both arrays are borrowed. Errors: `DPC_ERROR_INVALID_HANDLE`;
/// `DPC_ERROR_INVALID_ARGUMENT` (`dst` read-only; shapes that do not
/// broadcast — the message names both); `DPC_ERROR_UNSUPPORTED` (a
/// float64/complex128 conversion on a device without fp64);
/// `DPC_ERROR_OUT_OF_DEVICE_MEMORY` (a temporary); `DPC_ERROR_BACKEND`.
/// Thread safety: any thread; concurrent copies into overlapping memory
/// are the caller's race.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_copy(src: dpc_array, dst: dpc_array) -> dpc_status {
    export!(|| {
        let s = handle::get::<Array>("src", src as usize)?;
        let d = handle::get::<Array>("dst", dst as usize)?;
        // SAFETY: `s` and `d` are live arrays (held), which keep the `Array`
        // invariant.
        unsafe { copy_into(&s, &d) }
    })
}

/// A new C-contiguous array with the elements of `array` converted to
/// `dtype` (conversions as in `dpc_array_copy`), on the array's queue in
/// the same kind of USM. Returns when the copy is done.
///
/// Ownership: a new reference the caller releases. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_ARGUMENT` (an unsupported `dtype`; a host array — copy
/// it to a device with `dpc_array_to_device` first), `DPC_ERROR_UNSUPPORTED`,
/// `DPC_ERROR_OUT_OF_DEVICE_MEMORY`, `DPC_ERROR_BACKEND`. Thread safety: any
/// thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_astype(
    array: dpc_array,
    dtype: dpc_dlpack_dtype,
    array_out: *mut dpc_array,
) -> dpc_status {
    export!(|| {
        check_ptr("array_out", array_out)?;
        let a = handle::get::<Array>("array", array as usize)?;
        // SAFETY: `a` is a live array (held), which keeps the `Array`
        // invariant.
        let out = unsafe { astype(&a, dtype) }?;
        let h = handle::insert(Arc::new(out), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array (the export's contract).
        unsafe { write_out("array_out", array_out, h as dpc_array) }
    })
}

/// A new C-contiguous array of `dtype` and `usm_kind` on `q` holding the
/// elements of `a`, converted (as `dpc_array_copy`). Returns when the copy
/// is done.
///
/// # Safety
/// `a` keeps the [`Array`] invariant.
unsafe fn copy_new(
    a: &Array,
    q: &Arc<Queue>,
    dtype: dpc_dlpack_dtype,
    usm_kind: i32,
) -> Result<Array> {
    let out = array::alloc(q, dtype, a.shape.clone(), usm_kind)?;
    // SAFETY: `a` keeps the `Array` invariant (this function's contract) and
    // `out` is a fresh array.
    unsafe { copy_into(a, &out) }?;
    Ok(out)
}

/// A new C-contiguous array with the elements of `a` converted to `dtype`,
/// on `a`'s queue in the same kind of USM (device USM where `a`'s kind is
/// not known): the body of `dpc_array_astype`, errors as documented there.
/// Returns when the copy is done.
///
/// # Safety
/// `a` keeps the [`Array`] invariant.
pub(crate) unsafe fn astype(a: &Array, dtype: dpc_dlpack_dtype) -> Result<Array> {
    array::element_size(dtype)?;
    let q = a.queue.clone().ok_or_else(|| {
        Error::invalid_arg(
            "dpc_array_astype: the array is host memory (kDLCPU) and has no queue; \
             copy it to a device with dpc_array_to_device first",
        )
    })?;
    let kind = if a.usm_kind > 0 {
        a.usm_kind
    } else {
        abi::usm_kind::DEVICE
    };
    // SAFETY: `a` keeps the `Array` invariant (this function's contract).
    unsafe { copy_new(a, &q, dtype, kind) }
}

/// Used by `dpc_array_to_device`: a C-contiguous copy of `a` on `q`.
///
/// # Safety
/// `a` keeps the [`Array`] invariant.
pub(crate) unsafe fn to_device(a: &Array, q: &Arc<Queue>, usm_kind: i32) -> Result<Array> {
    // SAFETY: `a` keeps the `Array` invariant (this function's contract).
    unsafe { copy_new(a, q, a.dtype, usm_kind) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_has_every_module() {
        let m = modules().expect("pack parses");
        let tags = [
            "b", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f16", "f32", "f64", "c64",
            "c128",
        ];
        // Under Miri (which interprets every instruction) the SPIR-V reader
        // runs over a sample of the pack: one module per source type.
        let sampled = |s: &str, d: &str| {
            !cfg!(miri)
                || tags.iter().position(|t| *t == d)
                    == tags
                        .iter()
                        .position(|t| *t == s)
                        .map(|i| (i + 1) % tags.len())
        };
        for s in tags {
            for d in tags {
                if s != d && sampled(s, d) {
                    let spv = m.get(format!("{s}_{d}").as_str()).expect("pair module");
                    let k = crate::spirv::kernels(spv).expect("valid SPIR-V");
                    let names: Vec<_> = k.iter().map(|k| k.name.as_str()).collect();
                    assert_eq!(names, ["dpc_copy1", "dpc_copy2", "dpc_copy3", "dpc_copyn"]);
                }
            }
        }
        for w in [1, 2, 4, 8, 16] {
            assert!(m.contains_key(format!("m{w}").as_str()));
        }
        assert_eq!(m.len(), 14 * 13 + 5);
    }

    #[test]
    fn damaged_packs_are_refused() {
        assert!(parse_pack(b"DPCKPACK\x01\0\0\0\x01\0\0\0").is_err());
        assert!(parse_pack(b"NOTAPACK\x01\0\0\0\0\0\0\0").is_err());
        assert!(parse_pack(b"DPCKPACK\x01\0\0\0\0\0\0\0")
            .unwrap()
            .is_empty());
        let trailing: &'static [u8] = b"DPCKPACK\x01\0\0\0\0\0\0\0x";
        assert!(parse_pack(trailing).is_err());
    }

    #[test]
    fn collapse_merges_contiguous_axes() {
        // C-contiguous on both sides: one axis.
        assert_eq!(
            collapse(&[2, 3, 4], &[12, 4, 1], &[12, 4, 1]),
            (vec![24], vec![1], vec![1])
        );
        // F-contiguous on both sides: reordered, then one axis.
        assert_eq!(
            collapse(&[2, 3, 4], &[1, 2, 6], &[1, 2, 6]),
            (vec![24], vec![1], vec![1])
        );
        // Transposing copy: nothing merges.
        assert_eq!(
            collapse(&[2, 3], &[1, 2], &[3, 1]),
            (vec![2, 3], vec![1, 2], vec![3, 1])
        );
        // Extents of 1 go; a reversed source stays reversed.
        assert_eq!(
            collapse(&[1, 5, 1], &[9, -1, 7], &[5, 1, 1]),
            (vec![5], vec![-1], vec![1])
        );
        // Broadcast source (stride 0) merges with itself.
        assert_eq!(
            collapse(&[3, 4], &[0, 0], &[4, 1]),
            (vec![12], vec![0], vec![1])
        );
        // Scalar.
        assert_eq!(collapse(&[], &[], &[]), (vec![], vec![], vec![]));
    }
}
