//! n-dimensional USM arrays (`dpc_array_*`) and their DLPack export and
//! import.
//!
//! An array is a reference-counted view: data type, shape, strides in
//! elements (negative and zero allowed), the address of element (0, …, 0),
//! the queue it belongs to (none for host arrays imported from `kDLCPU`),
//! its USM kind and whether it may be written. The memory it views belongs
//! to a reference-counted base: a dpcore allocation, or foreign memory with
//! the deleter it came with (run exactly once, when the last view goes).

use crate::export;
use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::sync::{Arc, Mutex};

use dpcore_backend_abi as abi;

use crate::context;
use crate::device;
use crate::dlpack::*;
use crate::error::{dpc_status, dpc_status::*, Error, Result};
use crate::event::{Deps, Event};
use crate::handle::{self, HandleType, Kind};
use crate::queue::{self, dpc_queue, Queue};
use crate::strings::{check_ptr, write_out};
use crate::usm;

/// Opaque array type of the C API.
pub struct dpc_array_s {
    _private: (),
}

/// An n-dimensional array handle. Reference counted; views share memory.
pub type dpc_array = *mut dpc_array_s;

/// Array flag: dpcore may write the array.
pub const DPC_ARRAY_WRITABLE: u32 = 1;
/// Array flag: C-contiguous (row-major, no gaps).
pub const DPC_ARRAY_C_CONTIGUOUS: u32 = 2;
/// Array flag: Fortran-contiguous (column-major, no gaps).
pub const DPC_ARRAY_F_CONTIGUOUS: u32 = 4;
/// The most dimensions an array may have.
pub const DPC_ARRAY_MAX_NDIM: i32 = 64;
/// `dpc_array_from_usm` flag: the caller vouches that the memory is device
/// USM of the queue's context (dpcore skips asking the runtime).
pub const DPC_ARRAY_TRUST_DEVICE: u32 = 1 << 8;
/// `dpc_array_from_usm` flag: the caller vouches for shared USM.
pub const DPC_ARRAY_TRUST_SHARED: u32 = 2 << 8;
/// `dpc_array_from_usm` flag: the caller vouches for host USM.
pub const DPC_ARRAY_TRUST_HOST: u32 = 3 << 8;
const TRUST_MASK: u32 = 3 << 8;
/// "Not given" for a start or stop of `dpc_array_slice` (like `None` in a
/// Python slice).
pub const DPC_SLICE_NONE: i64 = i64::MIN;

/// Who frees the memory an array views.
enum Owner {
    /// A dpcore allocation (`dpc_usm_free` when the last view goes).
    Dpcore(usize),
    /// Foreign memory: run this once when the last view goes.
    Foreign(Mutex<Option<Box<dyn FnOnce() + Send>>>),
}

struct Base {
    owner: Owner,
}

impl Base {
    /// The base of memory dpcore was lent: `release` runs once, when the
    /// last view goes, or when the base is dropped unused because the call
    /// that made it failed (or panicked).
    fn foreign(release: Box<dyn FnOnce() + Send>) -> Arc<Base> {
        Arc::new(Base {
            owner: Owner::Foreign(Mutex::new(Some(release))),
        })
    }
}

impl Drop for Base {
    fn drop(&mut self) {
        match &self.owner {
            Owner::Dpcore(p) => {
                if let Err(e) = usm::free_array_memory(*p) {
                    crate::log::error(&e.message);
                }
            }
            Owner::Foreign(f) => {
                if let Some(f) = f.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    f();
                }
            }
        }
    }
}

/// A view of memory. The unsafe code that reads and writes arrays relies on
/// this invariant: every element the view reaches (the bytes
/// `data + extent()`) lies in memory that stays valid while `base` lives —
/// USM that `queue`'s context reaches, or host memory for a host array
/// (`queue` None). `alloc` makes fresh memory for its shape; views
/// (`Array::view`) reach only elements of the array they come from; imported
/// memory is as the lender promises (`dpc_array_from_usm`'s caller, the
/// DLPack producer), which dpcore cannot check beyond asking the runtime
/// what kind of USM `data` is.
pub struct Array {
    base: Arc<Base>,
    /// Address of element (0, …, 0).
    pub data: usize,
    pub dtype: dpc_dlpack_dtype,
    pub shape: Vec<i64>,
    /// In elements.
    pub strides: Vec<i64>,
    /// None for a host (`kDLCPU`) array.
    pub queue: Option<Arc<Queue>>,
    pub usm_kind: i32,
    pub writable: bool,
}

impl HandleType for Array {
    const KIND: Kind = Kind::Array;
}

/// Bytes per element of a supported data type, or an error naming it.
pub fn element_size(t: dpc_dlpack_dtype) -> Result<usize> {
    let ok = t.lanes == 1
        && match t.code {
            DPC_DL_INT | DPC_DL_UINT => matches!(t.bits, 8 | 16 | 32 | 64),
            DPC_DL_FLOAT => matches!(t.bits, 16 | 32 | 64),
            DPC_DL_COMPLEX => matches!(t.bits, 64 | 128),
            DPC_DL_BOOL => t.bits == 8,
            _ => false,
        };
    if !ok {
        return Err(Error::invalid_arg(format!(
            "unsupported data type (code {}, {} bits, {} lanes); dpcore arrays hold bool (code 6, 8 bits), \
             int/uint 8–64, float 16/32/64 and complex 64/128, one lane",
            t.code, t.bits, t.lanes
        )));
    }
    Ok(t.bits as usize / 8)
}

pub(crate) fn c_strides(shape: &[i64]) -> Vec<i64> {
    let mut s = vec![0i64; shape.len()];
    let mut acc = 1i64;
    for i in (0..shape.len()).rev() {
        s[i] = acc;
        acc = acc.saturating_mul(shape[i].max(1));
    }
    s
}

/// The element count of a shape that passed [`check_layout`] or
/// [`check_shape`] (so the product fits in an i64).
pub(crate) fn count(shape: &[i64]) -> i64 {
    shape.iter().product()
}

/// Fail unless the element count of `shape` (no negative extents) fits in
/// an i64 and `elsize` bytes per element in an isize.
fn check_count(shape: &[i64], elsize: usize) -> Result<()> {
    let n = shape
        .iter()
        .try_fold(1i64, |acc, &e| acc.checked_mul(e))
        .filter(|n| n.checked_mul(elsize.max(1) as i64).is_some());
    if n.is_none() {
        return Err(Error::invalid_arg(format!(
            "{}: shape {shape:?} has more elements than fit in memory",
            crate::error::current_export()
        )));
    }
    Ok(())
}

/// Check a layout that comes from outside (a lender's or a DLPack
/// producer's shape and strides, in elements, `elsize` bytes each): the
/// element count and every byte offset fit in 64 bits. Returns the lowest
/// and one-past-highest byte offset from element 0 (`Array::extent`).
pub(crate) fn check_layout(shape: &[i64], strides: &[i64], elsize: usize) -> Result<(i64, i64)> {
    check_count(shape, elsize)?;
    if shape.contains(&0) {
        return Ok((0, 0));
    }
    let es = elsize as i64;
    let (mut lo, mut hi) = (0i64, es);
    for (&n, &st) in shape.iter().zip(strides) {
        // Each stride, and n strides, in bytes: the element loops step by
        // them.
        let whole = st.checked_mul(es).and_then(|x| x.checked_mul(n));
        let span = whole.and((n - 1).checked_mul(st).and_then(|x| x.checked_mul(es)));
        let next = match span {
            Some(sp) if sp < 0 => lo.checked_add(sp).map(|l| (l, hi)),
            Some(sp) => hi.checked_add(sp).map(|h| (lo, h)),
            None => None,
        };
        let Some((l, h)) = next else {
            return Err(Error::invalid_arg(format!(
                "{}: shape {shape:?} with strides {strides:?} reaches bytes beyond 64-bit offsets",
                crate::error::current_export()
            )));
        };
        (lo, hi) = (l, h);
    }
    Ok((lo, hi))
}

impl Array {
    pub fn elsize(&self) -> usize {
        self.dtype.bits as usize / 8
    }

    pub fn size(&self) -> i64 {
        count(&self.shape)
    }

    pub(crate) fn contiguous(&self, order_c: bool) -> bool {
        if self.size() == 0 {
            return true;
        }
        let mut expect = 1i64;
        let idx: Vec<usize> = if order_c {
            (0..self.shape.len()).rev().collect()
        } else {
            (0..self.shape.len()).collect()
        };
        for i in idx {
            if self.shape[i] != 1 && self.strides[i] != expect {
                return false;
            }
            expect *= self.shape[i];
        }
        true
    }

    pub fn flags(&self) -> u32 {
        (self.writable as u32 * DPC_ARRAY_WRITABLE)
            | (self.contiguous(true) as u32 * DPC_ARRAY_C_CONTIGUOUS)
            | (self.contiguous(false) as u32 * DPC_ARRAY_F_CONTIGUOUS)
    }

    /// Lowest and one-past-highest byte offset (from `data`) the view touches.
    pub(crate) fn extent(&self) -> (i64, i64) {
        if self.size() == 0 {
            return (0, 0);
        }
        let (mut lo, mut hi) = (0i64, 0i64);
        for (n, s) in self.shape.iter().zip(&self.strides) {
            let span = (n - 1) * s * self.elsize() as i64;
            if span < 0 {
                lo += span
            } else {
                hi += span
            }
        }
        (lo, hi + self.elsize() as i64)
    }

    /// A view sharing `self`'s memory. The caller keeps the [`Array`]
    /// invariant: every element of the new view is an element of `self`.
    pub(crate) fn view(&self, data: usize, shape: Vec<i64>, strides: Vec<i64>) -> Array {
        Array {
            base: self.base.clone(),
            data,
            dtype: self.dtype,
            shape,
            strides,
            queue: self.queue.clone(),
            usm_kind: self.usm_kind,
            writable: self.writable,
        }
    }
}

/// Visit every element's byte offset (from element 0) in C order.
fn for_each_offset(shape: &[i64], strides_bytes: &[i64], mut f: impl FnMut(usize, i64)) {
    let n = count(shape);
    if n <= 0 {
        return;
    }
    let nd = shape.len();
    let mut idx = vec![0i64; nd];
    let mut off = 0i64;
    for k in 0..n as usize {
        f(k, off);
        for d in (0..nd).rev() {
            idx[d] += 1;
            off += strides_bytes[d];
            if idx[d] < shape[d] {
                break;
            }
            off -= strides_bytes[d] * shape[d];
            idx[d] = 0;
        }
    }
}

/// A shape argument, checked: `ndim` in range, `shape` non-NULL when
/// `ndim` > 0, no negative extent.
///
/// # Safety
/// When `ndim` is 1 to `DPC_ARRAY_MAX_NDIM`, `shape` is NULL or valid for
/// reads of `ndim` values.
unsafe fn check_shape(ndim: i32, shape: *const i64) -> Result<Vec<i64>> {
    let function = crate::error::current_export();
    if !(0..=DPC_ARRAY_MAX_NDIM).contains(&ndim) {
        return Err(Error::invalid_arg(format!(
            "{function}: ndim {ndim} is outside 0..={DPC_ARRAY_MAX_NDIM}"
        )));
    }
    if ndim > 0 {
        check_ptr("shape", shape)?;
    }
    let s = if ndim == 0 {
        Vec::new()
    } else {
        // SAFETY: `ndim` is 1..=64 and `shape` non-NULL (both checked
        // above), valid for `ndim` reads (this function's contract); the
        // values are copied out at once.
        unsafe { std::slice::from_raw_parts(shape, ndim as usize) }.to_vec()
    };
    if let Some(i) = s.iter().position(|&x| x < 0) {
        return Err(Error::invalid_arg(format!(
            "{function}: shape[{i}] is {} (negative)",
            s[i]
        )));
    }
    // The widest element is 16 bytes: every shape accepted here has a byte
    // size that fits in an isize, whatever its data type.
    check_count(&s, 16)?;
    Ok(s)
}

/// A strides argument (elements, one per dimension of `shape`), copied out;
/// NULL, or no dimensions: the C-contiguous strides of `shape`.
///
/// # Safety
/// `p` is NULL or valid for reads of `shape.len()` values.
unsafe fn read_strides(p: *const i64, shape: &[i64]) -> Vec<i64> {
    if p.is_null() || shape.is_empty() {
        return c_strides(shape);
    }
    // SAFETY: `p` is non-NULL (checked above) and valid for reads of
    // `shape.len()` values (this function's contract); they are copied out
    // at once.
    unsafe { std::slice::from_raw_parts(p, shape.len()) }.to_vec()
}

/// An optional C array argument of `n` values, copied out: None when `p`
/// is NULL.
///
/// # Safety
/// `p` is NULL or valid for reads of `n` values.
unsafe fn read_opt<T: Copy>(p: *const T, n: usize) -> Option<Vec<T>> {
    if p.is_null() {
        return None;
    }
    if n == 0 {
        return Some(Vec::new());
    }
    // SAFETY: `p` is non-NULL (checked above) and valid for reads of `n`
    // values (this function's contract); they are copied out at once.
    Some(unsafe { std::slice::from_raw_parts(p, n) }.to_vec())
}

/// Fail unless `usm_kind` is a `dpc_usm_kind` (0, meaning device memory,
/// included); the message names the running export.
fn check_usm_kind(usm_kind: i32) -> Result<()> {
    if !(0..=3).contains(&usm_kind) {
        return Err(Error::invalid_arg(format!(
            "{}: usm_kind {usm_kind} is not a dpc_usm_kind",
            crate::error::current_export()
        )));
    }
    Ok(())
}

pub(crate) fn queue_or_default(q: dpc_queue) -> Result<Arc<Queue>> {
    let function = crate::error::current_export();
    if !q.is_null() {
        return queue::get("queue", q);
    }
    let d = crate::selector::default_device().map_err(|e| {
        Error::new(
            e.status,
            format!("{function}: queue is NULL and {}", e.message),
        )
    })?;
    queue::default_queue(&d)
}

/// A new C-contiguous array's memory on `q`.
pub(crate) fn alloc(
    q: &Arc<Queue>,
    dtype: dpc_dlpack_dtype,
    shape: Vec<i64>,
    kind: i32,
) -> Result<Array> {
    let es = element_size(dtype)?;
    let kind = if kind == 0 {
        abi::usm_kind::DEVICE
    } else {
        kind
    };
    let n = count(&shape) as usize;
    let bytes = n
        .checked_mul(es)
        .ok_or_else(|| Error::invalid_arg("array size overflows"))?;
    let p = usm::alloc_for_array(q, kind, bytes.max(1))?;
    Ok(Array {
        base: Arc::new(Base {
            owner: Owner::Dpcore(p as usize),
        }),
        data: p as usize,
        dtype,
        strides: c_strides(&shape),
        shape,
        queue: Some(q.clone()),
        usm_kind: kind,
        writable: true,
    })
}

/// Enqueue a copy of `bytes` bytes on `q` (staged between contexts); does
/// not wait.
///
/// # Safety
/// As `usm::memcpy`: `src` is valid for reads and `dst` for writes of
/// `bytes` bytes until the copy completes, memory `q`'s runtime can copy.
pub(crate) unsafe fn memcpy(q: &Arc<Queue>, dst: usize, src: usize, bytes: usize) -> Result<()> {
    // SAFETY: this function's contract is `usm::memcpy`'s; no dependencies.
    unsafe { usm::memcpy(q, dst, src, bytes, &Deps::none(), false) }.map(drop)
}

// ---------------------------------------------------------------- exports

/// A new C-contiguous array of `shape` and data type `dtype` on `q`, in USM
/// of `usm_kind` (0: device memory), its elements set to `fill` (the bytes
/// of one element) when given, uninitialised otherwise. Returns when the
/// memory is set.
pub(crate) fn create(
    q: &Arc<Queue>,
    dtype: dpc_dlpack_dtype,
    shape: Vec<i64>,
    usm_kind: i32,
    fill: Option<&[u8]>,
) -> Result<Array> {
    check_usm_kind(usm_kind)?;
    let a = alloc(q, dtype, shape, usm_kind)?;
    let bytes = a.size() as usize * a.elsize();
    if let (Some(v), true) = (fill, bytes > 0) {
        let count = bytes / v.len();
        // SAFETY: `a.data` is USM of `q`'s context that `alloc` just made
        // for `bytes` bytes (`count` elements of `v.len()`, one element's
        // size), alive while `a` is, and `a` outlives the `q.wait()` below;
        // `v` holds `v.len()` bytes.
        unsafe { usm::fill_checked(q, a.data, v.len(), v, count, &Deps::none(), false) }?;
        q.wait()?;
    }
    Ok(a)
}

/// A new C-contiguous array on `q` in USM of `usm_kind` (0: device memory)
/// holding a copy of host memory: element `i` of the host layout is at
/// `host + sum(index[d] * host_strides[d])` elements (`host_strides` None:
/// C-contiguous). Returns when the copy is done. `host` may be NULL only
/// when the array has no elements (`DPC_ERROR_NULL_POINTER` otherwise,
/// after the checks of the allocation).
///
/// # Safety
/// `host_strides`, when given, holds one value per dimension; when the
/// array has elements and `host` is non-NULL, the `es` bytes (one element
/// of `dtype`) at `host + offset` of every element of the layout are
/// readable during the call.
pub(crate) unsafe fn from_host(
    q: &Arc<Queue>,
    dtype: dpc_dlpack_dtype,
    shape: Vec<i64>,
    usm_kind: i32,
    host: *const u8,
    host_strides: Option<&[i64]>,
) -> Result<Array> {
    let a = alloc(q, dtype, shape, usm_kind)?;
    let es = a.elsize();
    let n = a.size() as usize;
    if n > 0 {
        check_ptr("host", host)?;
        let hs = host_strides.unwrap_or(&a.strides);
        let hs_bytes: Vec<i64> = hs.iter().map(|x| x * es as i64).collect();
        let mut packed = usm::host_buffer(n * es, "to pack the host data")?;
        for_each_offset(&a.shape, &hs_bytes, |k, off| {
            // SAFETY: `host` is non-NULL (checked above) and every element
            // of the layout is readable (`es` bytes at `host + off`, this
            // function's contract); `k < n`, so the `es` bytes at `k * es`
            // are inside `packed` (`n * es` bytes), a fresh buffer that
            // cannot overlap the caller's.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    host.offset(off as isize),
                    packed.as_mut_ptr().add(k * es),
                    es,
                )
            };
        });
        // SAFETY: `packed` holds `packed.len()` bytes and `a.data` is the
        // fresh allocation of as many (`n` elements of `es`), both alive
        // until the `q.wait()` below returns.
        unsafe { memcpy(q, a.data, packed.as_ptr() as usize, packed.len()) }?;
        q.wait()?;
    }
    Ok(a)
}

/// A new C-contiguous array of `ndim` dimensions of `shape` and data type
/// `dtype`, uninitialised, on `queue` (NULL: the default device's canonical
/// queue) in USM of `usm_kind` (0 or `DPC_USM_DEVICE`: device memory).
///
/// Ownership: a new reference the caller releases; the memory is freed with
/// the last view. Errors: `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_INVALID_HANDLE`,
/// `DPC_ERROR_INVALID_ARGUMENT` (data type, ndim outside 0..=64, negative
/// extent, USM kind), `DPC_ERROR_OUT_OF_DEVICE_MEMORY`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_empty(
    queue: dpc_queue,
    dtype: dpc_dlpack_dtype,
    ndim: i32,
    shape: *const i64,
    usm_kind: i32,
    array_out: *mut dpc_array,
) -> dpc_status {
    export!(|| {
        check_ptr("array_out", array_out)?;
        // SAFETY: the caller provides `shape` readable for `ndim` values (the
        // export's contract), `check_shape`'s contract.
        let s = unsafe { check_shape(ndim, shape) }?;
        let q = queue_or_default(queue)?;
        let a = create(&q, dtype, s, usm_kind, None)?;
        let h = handle::insert(Arc::new(a), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array (the export's contract).
        unsafe { write_out("array_out", array_out, h as dpc_array) }
    })
}

/// As `dpc_array_empty`, with every element zero. Returns when the memory
/// is set.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_zeros(
    queue: dpc_queue,
    dtype: dpc_dlpack_dtype,
    ndim: i32,
    shape: *const i64,
    usm_kind: i32,
    array_out: *mut dpc_array,
) -> dpc_status {
    export!(|| {
        check_ptr("array_out", array_out)?;
        // SAFETY: the caller provides `shape` readable for `ndim` values (the
        // export's contract), `check_shape`'s contract.
        let s = unsafe { check_shape(ndim, shape) }?;
        let q = queue_or_default(queue)?;
        let a = create(&q, dtype, s, usm_kind, Some(&[0u8]))?;
        let h = handle::insert(Arc::new(a), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array (the export's contract).
        unsafe { write_out("array_out", array_out, h as dpc_array) }
    })
}

/// As `dpc_array_empty`, with every element equal to the scalar at `value`
/// (one element of `dtype`). Returns when the memory is set.
///
/// Errors: those of `dpc_array_empty`, and `DPC_ERROR_NULL_POINTER` for `value`.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_full(
    queue: dpc_queue,
    dtype: dpc_dlpack_dtype,
    ndim: i32,
    shape: *const i64,
    usm_kind: i32,
    value: *const c_void,
    array_out: *mut dpc_array,
) -> dpc_status {
    export!(|| {
        check_ptr("value", value)?;
        let es = element_size(dtype)?;
        // SAFETY: checked non-NULL above; the caller provides one element of
        // `dtype` (`es` bytes) at `value`, read during the call (the
        // export's contract).
        let v = unsafe { std::slice::from_raw_parts(value as *const u8, es) };
        check_ptr("array_out", array_out)?;
        // SAFETY: the caller provides `shape` readable for `ndim` values (the
        // export's contract), `check_shape`'s contract.
        let s = unsafe { check_shape(ndim, shape) }?;
        let q = queue_or_default(queue)?;
        let a = create(&q, dtype, s, usm_kind, Some(v))?;
        let h = handle::insert(Arc::new(a), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array (the export's contract).
        unsafe { write_out("array_out", array_out, h as dpc_array) }
    })
}

/// A new C-contiguous array holding a copy of host memory: element `i` of
/// the host layout is at `host + sum(index[d] * host_strides[d])` elements
/// (`host_strides` NULL: C-contiguous). Returns when the copy is done.
///
/// Ownership and errors: those of `dpc_array_empty`, and
/// `DPC_ERROR_NULL_POINTER` for `host` when the array is not empty.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_from_host(
    queue: dpc_queue,
    dtype: dpc_dlpack_dtype,
    ndim: i32,
    shape: *const i64,
    host: *const c_void,
    host_strides: *const i64,
    usm_kind: i32,
    array_out: *mut dpc_array,
) -> dpc_status {
    export!(|| {
        check_ptr("array_out", array_out)?;
        // SAFETY: the caller provides `shape` readable for `ndim` values (the
        // export's contract), `check_shape`'s contract.
        let s = unsafe { check_shape(ndim, shape) }?;
        // SAFETY: the caller provides `host_strides` NULL or one stride per
        // dimension (the export's contract), `read_opt`'s contract.
        let hs = unsafe { read_opt(host_strides, s.len()) };
        let q = queue_or_default(queue)?;
        // SAFETY: `hs` has one value per dimension when given; the caller
        // provides every element of the layout readable at `host` when the
        // array is not empty and `host` is non-NULL (the export's contract),
        // `from_host`'s contract.
        let a = unsafe { from_host(&q, dtype, s, usm_kind, host as *const u8, hs.as_deref()) }?;
        let h = handle::insert(Arc::new(a), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array (the export's contract).
        unsafe { write_out("array_out", array_out, h as dpc_array) }
    })
}

/// Copy `array` out to host memory laid out by `host_strides` (elements;
/// NULL: C-contiguous), any strides on either side. Returns when the copy
/// is done, after the work already submitted to the array's queue (an
/// out-of-order queue is waited for first).
///
/// Deprecated: the host buffer's size cannot be checked, so a short buffer
/// is overwritten; use `dpc_array_copy_to_host`. Kept for the ABI.
///
/// Ownership: `host` is the caller's. Errors: `DPC_ERROR_INVALID_HANDLE`,
/// `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_BACKEND`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_to_host(
    array: dpc_array,
    host: *mut c_void,
    host_strides: *const i64,
) -> dpc_status {
    export!(|| {
        let a = handle::get::<Array>("array", array as usize)?;
        if a.size() == 0 {
            return Ok(());
        }
        check_ptr("host", host)?;
        // SAFETY: the caller provides `host_strides` NULL or one stride per
        // dimension (the export's contract), `read_strides`'s contract.
        let hs = unsafe { read_strides(host_strides, &a.shape) };
        // SAFETY: `host` is non-NULL (checked above) and the caller provides
        // it writable for every element of the layout `hs` (the export's
        // contract: this deprecated call cannot check the size); `a` keeps
        // the array's memory alive for the call.
        unsafe { to_host(&a, host as *mut u8, &hs) }
    })
}

/// Copy `array` out to the caller's host buffer `buf` of `capacity` bytes,
/// laid out by `buf_strides` (elements, one per dimension, any sign; NULL:
/// C-contiguous). The layout is placed from the start of `buf`: its lowest
/// byte is `buf[0]`, so with negative strides element (0, …, 0) is not at
/// `buf`. Returns when the copy is done, after the work already submitted
/// to the array's queue.
///
/// Two-call pattern: `*size_out` (required) always receives the bytes the
/// layout spans; with `buf` NULL only that is reported; with `capacity`
/// smaller, `DPC_ERROR_BUFFER_TOO_SMALL` and nothing is written. An array
/// of 0 elements needs 0 bytes.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`
/// (`size_out`), `DPC_ERROR_BUFFER_TOO_SMALL`, `DPC_ERROR_INVALID_ARGUMENT`
/// (strides whose span overflows), `DPC_ERROR_OUT_OF_HOST_MEMORY`,
/// `DPC_ERROR_BACKEND`. Ownership: `buf` is the caller's. Thread safety:
/// any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_copy_to_host(
    array: dpc_array,
    buf: *mut c_void,
    capacity: usize,
    buf_strides: *const i64,
    size_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("size_out", size_out)?;
        let a = handle::get::<Array>("array", array as usize)?;
        // SAFETY: the caller provides `buf_strides` NULL or one stride per
        // dimension (the export's contract), `read_strides`'s contract.
        let hs = unsafe { read_strides(buf_strides, &a.shape) };
        let buf = if buf.is_null() {
            None
        } else {
            // SAFETY: non-NULL here; the caller provides `buf` writable for
            // `capacity` bytes during the call (the export's contract), and
            // no object is larger than `isize::MAX` bytes, so the length is
            // within it. It is the caller's buffer, apart from `size_out` and
            // dpcore's memory, viewed as possibly uninitialised bytes.
            Some(unsafe {
                std::slice::from_raw_parts_mut(
                    buf as *mut MaybeUninit<u8>,
                    capacity.min(isize::MAX as usize),
                )
            })
        };
        // SAFETY: checked non-NULL above; the caller provides a writable
        // size_t (the export's contract).
        let needed = unsafe { &mut *size_out };
        // SAFETY: `a` is a live array (held), which keeps the `Array`
        // invariant, `copy_to_host`'s contract.
        unsafe { copy_to_host(&a, &hs, buf, needed) }
    })
}

/// Copy `a` out to the host buffer `buf` laid out by `strides` (elements,
/// one per dimension, any sign), placed from the start of `buf`: its
/// lowest byte is `buf[0]`. Returns when the copy is done, after the work
/// already submitted to the array's queue.
///
/// Two-call pattern: `*needed` receives the bytes the layout spans (0 for
/// no elements) before anything is copied; with `buf` None, or nothing to
/// copy, only that; with `buf` shorter, `DPC_ERROR_BUFFER_TOO_SMALL` and
/// nothing is written to it. Strides whose span overflows are
/// `DPC_ERROR_INVALID_ARGUMENT` (`*needed` unchanged).
///
/// # Safety
/// `strides` has one value per dimension of `a`; `a` keeps the [`Array`]
/// invariant.
pub(crate) unsafe fn copy_to_host(
    a: &Array,
    strides: &[i64],
    buf: Option<&mut [MaybeUninit<u8>]>,
    needed: &mut usize,
) -> Result<()> {
    let (lo, hi) = span_bytes(&a.shape, strides, a.elsize()).ok_or_else(|| {
        Error::invalid_arg(format!(
            "dpc_array_copy_to_host: strides {strides:?} over shape {:?} span more bytes than memory holds",
            a.shape
        ))
    })?;
    let need = (hi - lo) as usize;
    *needed = need;
    let buf = match buf {
        Some(b) if need > 0 => b,
        _ => return Ok(()),
    };
    if buf.len() < need {
        return Err(Error::new(
            DPC_ERROR_BUFFER_TOO_SMALL,
            format!(
                "dpc_array_copy_to_host: the copy needs {need} bytes but the buffer holds {}",
                buf.len()
            ),
        ));
    }
    // SAFETY: `buf` holds at least `need` writable bytes (checked above).
    // Element (0, …, 0) goes to `buf[-lo]` (`lo <= 0`, and `-lo < need`, so
    // inside `buf`) and every element of the layout `strides` to
    // `buf[0..need)`, which `span_bytes` computed without overflow; `a`
    // keeps the `Array` invariant (this function's contract).
    unsafe { to_host(a, buf.as_mut_ptr().cast::<u8>().add(-lo as usize), strides) }
}

/// The lowest and one-past-highest byte offsets, from element (0, …, 0),
/// that a layout reaches; None when the sums overflow.
fn span_bytes(shape: &[i64], strides: &[i64], es: usize) -> Option<(i64, i64)> {
    if count(shape) == 0 {
        return Some((0, 0));
    }
    let (mut lo, mut hi) = (0i64, 0i64);
    for (n, s) in shape.iter().zip(strides) {
        let span = (n - 1).checked_mul(*s)?.checked_mul(es as i64)?;
        if span < 0 {
            lo = lo.checked_add(span)?;
        } else {
            hi = hi.checked_add(span)?;
        }
    }
    Some((lo, hi.checked_add(es as i64)?))
}

/// Copy the elements of `a` into host memory at `host` laid out by
/// `host_strides` (elements, one per dimension). The source is staged
/// through one host buffer first, so the two may overlap. Returns when done
/// (after the work already submitted to the array's queue).
///
/// # Safety
/// `host_strides` has one value per dimension of `a`, and `host` is valid
/// for writes of the `es` bytes at `host + offset` of every element the
/// layout reaches (offsets in bytes from element (0, …, 0), of any sign).
/// `a` keeps the [`Array`] invariant.
pub(crate) unsafe fn to_host(a: &Array, host: *mut u8, host_strides: &[i64]) -> Result<()> {
    let es = a.elsize();
    if a.size() == 0 {
        return Ok(());
    }
    let (lo, hi) = a.extent();
    let span = (hi - lo) as usize;
    let mut staged = usm::host_buffer(span, "to stage the copy to the host")?;
    let origin = (a.data as i64 + lo) as usize;
    match &a.queue {
        Some(q) => {
            // On an out-of-order queue (dpnp's, dpctl's) the copy would not
            // wait for the work already submitted that writes the array.
            if !q.in_order() {
                q.wait()?;
            }
            // SAFETY: `origin` is the lowest byte the array reaches and its
            // `span` bytes are memory `q` reaches (the `Array` invariant;
            // `a` is borrowed for the call); `staged` holds `span` bytes;
            // both outlive the `q.wait()` below.
            unsafe { memcpy(q, staged.as_mut_ptr() as usize, origin, span) }?;
            q.wait()?;
        }
        // SAFETY: a host array's `span` bytes from `origin` are readable host
        // memory (the `Array` invariant); `staged` is a fresh buffer of
        // `span` bytes, so they do not overlap.
        None => unsafe {
            std::ptr::copy_nonoverlapping(origin as *const u8, staged.as_mut_ptr(), span)
        },
    }
    let src_bytes: Vec<i64> = a.strides.iter().map(|x| x * es as i64).collect();
    let dst_bytes: Vec<i64> = host_strides.iter().map(|x| x * es as i64).collect();
    let mut src_offs = Vec::with_capacity(a.size() as usize);
    for_each_offset(&a.shape, &src_bytes, |_, off| src_offs.push(off - lo));
    for_each_offset(&a.shape, &dst_bytes, |k, off| {
        // SAFETY: `src_offs[k]` is element `k`'s offset from the lowest byte
        // the array reaches, so its `es` bytes lie in `staged` (`span` bytes,
        // `extent`); `host + off` is valid for `es` bytes (this function's
        // contract); `staged` is our own buffer, so they do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                staged.as_ptr().add(src_offs[k] as usize),
                host.offset(off as isize),
                es,
            )
        };
    });
    Ok(())
}

/// Add a reference to `array`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_array_retain(array: dpc_array) -> dpc_status {
    export!(|| { handle::retain(Kind::Array, "array", array as usize) })
}

/// Drop a reference to `array`; NULL is a no-op. The memory is freed (or
/// its foreign deleter run) when the last view of it, and the last DLPack
/// export of it, are gone.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_array_release(array: dpc_array) -> dpc_status {
    export!(|| { handle::release(Kind::Array, "array", array as usize) })
}

/// Drop a reference to `array` once the `n_events` events are complete:
/// for keeping inputs alive until the commands that read them are done.
/// With no events it is `dpc_array_release`. The reference is given up at
/// once (the handle must not be used again by the caller); the memory, and
/// a foreign producer's deleter, stay until the events complete, when
/// dpcore's own deferred-release thread drops the reference (no host task,
/// no callback on the device's threads). A foreign deleter may therefore
/// run on that thread.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE` (the array or any event; nothing is
/// released then), `DPC_ERROR_NULL_POINTER` (`events` NULL with `n_events`
/// > 0). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_release_after(
    array: dpc_array,
    events: *const crate::event::dpc_event,
    n_events: usize,
) -> dpc_status {
    export!(|| {
        let a = handle::get::<Array>("array", array as usize)?;
        // SAFETY: the caller provides `events` NULL or readable for
        // `n_events` handles (the export's contract), `deps`'s contract.
        let d = unsafe { crate::event::deps(events, n_events) }?;
        handle::release(Kind::Array, "array", array as usize)?;
        drop_after(a, d.events)
    })
}

/// Drop the reference `a` once `events` are complete: now when there are
/// none, otherwise on dpcore's deferred-release thread (so the memory, and
/// a foreign producer's deleter, stay until then).
fn drop_after(a: Arc<Array>, events: Vec<Arc<Event>>) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    usm::defer_drop(Box::new(a), events)
}

/// The number of dimensions of `array`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_get_ndim(array: dpc_array, ndim_out: *mut i32) -> dpc_status {
    export!(|| {
        check_ptr("ndim_out", ndim_out)?;
        let n = handle::with::<Array, _>("array", array as usize, |a| a.shape.len() as i32)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // int32_t (the export's contract).
        unsafe { write_out("ndim_out", ndim_out, n) }
    })
}

/// The shape of `array` into `shape_out` (room for `ndim` values).
///
/// Deprecated: the buffer's size cannot be checked, so a short buffer is
/// overwritten; use `dpc_array_copy_shape`. Kept for the ABI.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER` (unless ndim is 0).
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_get_shape(array: dpc_array, shape_out: *mut i64) -> dpc_status {
    export!(|| {
        let a = handle::get::<Array>("array", array as usize)?;
        if !a.shape.is_empty() {
            check_ptr("shape_out", shape_out)?;
            // SAFETY: checked non-NULL above; the caller provides room for
            // ndim values (the export's contract: this deprecated call
            // cannot check it); `a.shape` is dpcore's, so they do not overlap.
            unsafe { std::ptr::copy_nonoverlapping(a.shape.as_ptr(), shape_out, a.shape.len()) };
        }
        Ok(())
    })
}

/// The strides of `array`, in elements, into `strides_out` (room for
/// `ndim` values).
///
/// Deprecated: the buffer's size cannot be checked, so a short buffer is
/// overwritten; use `dpc_array_copy_strides`. Kept for the ABI.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER` (unless ndim is 0).
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_get_strides(
    array: dpc_array,
    strides_out: *mut i64,
) -> dpc_status {
    export!(|| {
        let a = handle::get::<Array>("array", array as usize)?;
        if !a.strides.is_empty() {
            check_ptr("strides_out", strides_out)?;
            // SAFETY: checked non-NULL above; the caller provides room for
            // ndim values (the export's contract: this deprecated call
            // cannot check it); `a.strides` is dpcore's, so they do not
            // overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(a.strides.as_ptr(), strides_out, a.strides.len())
            };
        }
        Ok(())
    })
}

/// Copy `values` (one per dimension) into the caller's `buf` of `capacity`
/// values (the two-call pattern of `dpc_array_copy_shape`).
///
/// # Safety
/// `buf` is NULL or valid for `capacity` writes of `i64` and does not
/// overlap `values`; `n_out` is NULL or valid for a write of `usize`.
unsafe fn copy_dims(
    values: &[i64],
    buf: *mut i64,
    capacity: usize,
    n_out: *mut usize,
) -> Result<()> {
    let function = crate::error::current_export();
    check_ptr("ndim_out", n_out)?;
    // SAFETY: checked non-NULL above; valid for a write (this function's
    // contract).
    unsafe { n_out.write(values.len()) };
    if buf.is_null() {
        return Ok(());
    }
    if capacity < values.len() {
        return Err(Error::new(
            DPC_ERROR_BUFFER_TOO_SMALL,
            format!(
                "{function}: the array has {} dimensions but the buffer holds {capacity}",
                values.len()
            ),
        ));
    }
    // SAFETY: `buf` is non-NULL and holds `capacity >= values.len()` i64
    // (checked above; this function's contract), not overlapping `values`.
    unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), buf, values.len()) };
    Ok(())
}

/// The shape of `array` into `buf`, which holds `capacity` values.
///
/// Two-call pattern: `*ndim_out` (required) always receives the number of
/// dimensions; with `buf` NULL only that is reported; with `capacity`
/// smaller than it `DPC_ERROR_BUFFER_TOO_SMALL` and nothing is written to
/// `buf`. Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`
/// (`ndim_out`), `DPC_ERROR_BUFFER_TOO_SMALL`. Ownership: `buf` is the
/// caller's. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_copy_shape(
    array: dpc_array,
    buf: *mut i64,
    capacity: usize,
    ndim_out: *mut usize,
) -> dpc_status {
    export!(|| {
        let a = handle::get::<Array>("array", array as usize)?;
        // SAFETY: the caller provides `buf` NULL or writable for `capacity`
        // values and `ndim_out` NULL or writable (the export's contract);
        // `buf` cannot overlap `a.shape`, which is dpcore's.
        unsafe { copy_dims(&a.shape, buf, capacity, ndim_out) }
    })
}

/// The strides of `array`, in elements, into `buf`, which holds `capacity`
/// values. Two-call pattern, errors, ownership and thread safety as
/// `dpc_array_copy_shape`.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_copy_strides(
    array: dpc_array,
    buf: *mut i64,
    capacity: usize,
    ndim_out: *mut usize,
) -> dpc_status {
    export!(|| {
        let a = handle::get::<Array>("array", array as usize)?;
        // SAFETY: the caller provides `buf` NULL or writable for `capacity`
        // values and `ndim_out` NULL or writable (the export's contract);
        // `buf` cannot overlap `a.strides`, which is dpcore's.
        unsafe { copy_dims(&a.strides, buf, capacity, ndim_out) }
    })
}

/// The data type of `array`.
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_get_dtype(
    array: dpc_array,
    dtype_out: *mut dpc_dlpack_dtype,
) -> dpc_status {
    export!(|| {
        check_ptr("dtype_out", dtype_out)?;
        let t = handle::with::<Array, _>("array", array as usize, |a| a.dtype)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_dlpack_dtype (the export's contract).
        unsafe { write_out("dtype_out", dtype_out, t) }
    })
}

/// The address of element (0, …, 0) of `array` (for C code and kernels).
///
/// Ownership: borrowed; valid while the array (or any view of its memory)
/// lives. Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_get_data(
    array: dpc_array,
    data_out: *mut *mut c_void,
) -> dpc_status {
    export!(|| {
        check_ptr("data_out", data_out)?;
        let p = handle::with::<Array, _>("array", array as usize, |a| a.data as *mut c_void)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // `void*` (the export's contract).
        unsafe { write_out("data_out", data_out, p) }
    })
}

/// Everything about an array's layout in one call (`dpc_array_get_layout`).
/// `shape` and `strides` (in elements) point into the array itself: they
/// hold `ndim` values each and stay valid, unchanged, while the caller holds
/// a reference to the array (views never change).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dpc_array_layout {
    pub ndim: i32,
    /// `dpc_usm_kind` of the memory (`DPC_USM_UNKNOWN` for host arrays).
    pub usm_kind: i32,
    pub dtype: dpc_dlpack_dtype,
    /// `DPC_ARRAY_*` flags.
    pub flags: u32,
    /// The address of element (0, …, 0).
    pub data: *mut c_void,
    pub shape: *const i64,
    pub strides: *const i64,
}

/// The layout of `a`; its `shape` and `strides` point into `a`, valid while
/// `a` lives.
fn layout(a: &Array) -> dpc_array_layout {
    dpc_array_layout {
        ndim: a.shape.len() as i32,
        usm_kind: a.usm_kind,
        dtype: a.dtype,
        flags: a.flags(),
        data: a.data as *mut c_void,
        shape: a.shape.as_ptr(),
        strides: a.strides.as_ptr(),
    }
}

/// The layout of `array` (ndim, shape, strides, data type, flags, USM kind
/// and data address) in one call, for bindings that read all of it.
///
/// Ownership: `shape` and `strides` in `*layout_out` are borrowed from the
/// array and valid while the caller holds a reference to it. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`. Thread safety: any
/// thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_get_layout(
    array: dpc_array,
    layout_out: *mut dpc_array_layout,
) -> dpc_status {
    export!(|| {
        check_ptr("layout_out", layout_out)?;
        let l = handle::with::<Array, _>("array", array as usize, |a| layout(a))?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array_layout (the export's contract).
        unsafe { write_out("layout_out", layout_out, l) }
    })
}

/// `DPC_ARRAY_*` flags of `array`: writable, C- and F-contiguous (computed).
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_get_flags(array: dpc_array, flags_out: *mut u32) -> dpc_status {
    export!(|| {
        check_ptr("flags_out", flags_out)?;
        let f = handle::with::<Array, _>("array", array as usize, |a| a.flags())?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // uint32_t (the export's contract).
        unsafe { write_out("flags_out", flags_out, f) }
    })
}

/// The queue `array` belongs to; NULL in `*queue_out` for a host array
/// (imported from `kDLCPU`).
///
/// Ownership: a new reference the caller releases (the canonical queue's
/// handle is immortal). Errors: `DPC_ERROR_INVALID_HANDLE`,
/// `DPC_ERROR_NULL_POINTER`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_get_queue(
    array: dpc_array,
    queue_out: *mut dpc_queue,
) -> dpc_status {
    export!(|| {
        check_ptr("queue_out", queue_out)?;
        let a = handle::get::<Array>("array", array as usize)?;
        let h = match &a.queue {
            None => std::ptr::null_mut(),
            Some(q) => queue::handle_for(q)?,
        };
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_queue (the export's contract).
        unsafe { write_out("queue_out", queue_out, h) }
    })
}

/// The USM kind of `array`'s memory (`DPC_USM_UNKNOWN` for host arrays).
///
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_get_usm_kind(
    array: dpc_array,
    kind_out: *mut i32,
) -> dpc_status {
    export!(|| {
        check_ptr("kind_out", kind_out)?;
        let k = handle::with::<Array, _>("array", array as usize, |a| a.usm_kind)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // int32_t (the export's contract).
        unsafe { write_out("kind_out", kind_out, k) }
    })
}

fn slice_indices(n: i64, start: i64, stop: i64, step: i64) -> (i64, i64) {
    // Python's slice.indices: returns (first index, count).
    let (lower, upper) = if step < 0 { (-1, n - 1) } else { (0, n) };
    let norm = |v: i64, default: i64| -> i64 {
        if v == DPC_SLICE_NONE {
            default
        } else if v < 0 {
            (v + n).max(lower)
        } else {
            v.min(upper)
        }
    };
    let s = norm(start, if step < 0 { upper } else { lower });
    let e = norm(stop, if step < 0 { lower } else { upper });
    // (distance - 1) / |step| + 1, without overflow for any step
    // (`i64::MIN` included): the distance is at most n + 1.
    let (dist, mag) = if step > 0 {
        (e - s, step.unsigned_abs())
    } else {
        (s - e, step.unsigned_abs())
    };
    let len = if dist > 0 {
        ((dist as u64 - 1) / mag + 1) as i64
    } else {
        0
    };
    (s, len)
}

/// A view of `a` sliced per dimension like Python's `a[start:stop:step]`
/// (negative indices count from the end; `DPC_SLICE_NONE` for a bound not
/// given). `starts`, `stops` and `steps` hold one value per dimension, or
/// are None for bounds not given and steps of 1. A step of 0 is
/// `DPC_ERROR_INVALID_ARGUMENT`.
pub(crate) fn slice(
    a: &Array,
    starts: Option<&[i64]>,
    stops: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> Result<Array> {
    let nd = a.shape.len();
    let get = |v: Option<&[i64]>, i: usize, d: i64| v.map_or(d, |v| v[i]);
    let mut picked = Vec::with_capacity(nd);
    for i in 0..nd {
        let step = get(steps, i, 1);
        if step == 0 {
            return Err(Error::invalid_arg(format!(
                "dpc_array_slice: steps[{i}] is 0"
            )));
        }
        let (first, len) = slice_indices(
            a.shape[i],
            get(starts, i, DPC_SLICE_NONE),
            get(stops, i, DPC_SLICE_NONE),
            step,
        );
        picked.push((first, len, step));
    }
    // An empty view reaches no element: its address and strides stay the
    // array's. (An empty array's strides are never checked against memory,
    // since they reach none, and may be as large as an i64 holds.)
    if picked.iter().any(|&(_, len, _)| len == 0) {
        let shape = picked.iter().map(|&(_, len, _)| len).collect();
        return Ok(a.view(a.data, shape, a.strides.clone()));
    }
    let overflow = || {
        Error::invalid_arg(format!(
            "dpc_array_slice: the view's offset or strides overflow (array strides {:?})",
            a.strides
        ))
    };
    let mut data = a.data as i64;
    let (mut shape, mut strides) = (Vec::with_capacity(nd), Vec::with_capacity(nd));
    for (i, &(first, len, step)) in picked.iter().enumerate() {
        // Within a non-empty array every element's offset fits (the array's
        // layout was checked when it was made); checked all the same.
        let off = first
            .checked_mul(a.strides[i])
            .and_then(|o| o.checked_mul(a.elsize() as i64))
            .ok_or_else(overflow)?;
        data = data.wrapping_add(off);
        shape.push(len);
        // With two elements or more the new stride is within the array's
        // extent (|step| < n); with fewer it is never used to reach an
        // element, and the old one is kept, so that a step as large as
        // i64::MAX leaves no stride that overflows in bytes.
        strides.push(if len > 1 {
            a.strides[i].checked_mul(step).ok_or_else(overflow)?
        } else {
            a.strides[i]
        });
    }
    Ok(a.view(data as usize, shape, strides))
}

/// A view of `array` sliced per dimension like Python's `a[start:stop:step]`
/// (negative indices count from the end; `DPC_SLICE_NONE` for a bound not
/// given; `starts`/`stops` may be NULL for all-none; `steps` NULL for all 1).
///
/// Ownership: a new reference sharing the memory. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_ARGUMENT` (a step of 0; a view whose offset or
/// strides would overflow, which only a lent host layout can give).
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_slice(
    array: dpc_array,
    starts: *const i64,
    stops: *const i64,
    steps: *const i64,
    view_out: *mut dpc_array,
) -> dpc_status {
    export!(|| {
        check_ptr("view_out", view_out)?;
        let a = handle::get::<Array>("array", array as usize)?;
        let nd = a.shape.len();
        // SAFETY: the caller provides each of `starts`, `stops` and `steps`
        // NULL or holding `ndim` values (the export's contract), `read_opt`'s
        // contract.
        let starts = unsafe { read_opt(starts, nd) };
        // SAFETY: as for `starts`.
        let stops = unsafe { read_opt(stops, nd) };
        // SAFETY: as for `starts`.
        let steps = unsafe { read_opt(steps, nd) };
        let v = slice(&a, starts.as_deref(), stops.as_deref(), steps.as_deref())?;
        let h = handle::insert(Arc::new(v), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array (the export's contract).
        unsafe { write_out("view_out", view_out, h as dpc_array) }
    })
}

/// A view of `a` with its dimensions in the order `axes`, which must be a
/// permutation of 0..ndim (`DPC_ERROR_INVALID_ARGUMENT` otherwise).
pub(crate) fn permute(a: &Array, axes: &[i32]) -> Result<Array> {
    let nd = a.shape.len();
    let mut seen = vec![false; nd];
    let permutation = axes.len() == nd
        && axes.iter().all(|&x| {
            x >= 0 && (x as usize) < nd && !std::mem::replace(&mut seen[x as usize], true)
        });
    if !permutation {
        return Err(Error::invalid_arg(format!(
            "dpc_array_permute: {axes:?} is not a permutation of 0..{nd}"
        )));
    }
    Ok(a.view(
        a.data,
        axes.iter().map(|&x| a.shape[x as usize]).collect(),
        axes.iter().map(|&x| a.strides[x as usize]).collect(),
    ))
}

/// A view of `array` with its dimensions in the order `axes` (a permutation
/// of 0..ndim); a transpose is `axes = {ndim-1, …, 0}`.
///
/// Ownership: a new reference sharing the memory. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_ARGUMENT` (not a permutation). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_permute(
    array: dpc_array,
    axes: *const i32,
    view_out: *mut dpc_array,
) -> dpc_status {
    export!(|| {
        check_ptr("view_out", view_out)?;
        let a = handle::get::<Array>("array", array as usize)?;
        let nd = a.shape.len();
        if nd > 0 {
            check_ptr("axes", axes)?;
        }
        // SAFETY: `axes` holds `ndim` values when non-NULL (the export's
        // contract), `read_opt`'s contract; with no dimensions it may be NULL.
        let ax = unsafe { read_opt(axes, nd) }.unwrap_or_default();
        let v = permute(&a, &ax)?;
        let h = handle::insert(Arc::new(v), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array (the export's contract).
        unsafe { write_out("view_out", view_out, h as dpc_array) }
    })
}

/// Strides for viewing `shape`/`strides` as `new` in C order without a copy.
fn reshape_strides(shape: &[i64], strides: &[i64], new: &[i64]) -> Option<Vec<i64>> {
    if count(shape) == 0 || count(new) == 0 {
        return Some(c_strides(new));
    }
    // Drop extents of 1, then match groups of old and new dimensions whose
    // products agree; inside a group the old dimensions must be contiguous.
    let old: Vec<(i64, i64)> = shape
        .iter()
        .zip(strides)
        .filter(|(n, _)| **n != 1)
        .map(|(n, s)| (*n, *s))
        .collect();
    let mut out = vec![0i64; new.len()];
    let (mut oi, mut ni) = (0usize, 0usize);
    let new_nz: Vec<usize> = (0..new.len()).filter(|&i| new[i] != 1).collect();
    while oi < old.len() && ni < new_nz.len() {
        let (o0, n0) = (oi, ni);
        let (mut op, mut np) = (old[oi].0, new[new_nz[ni]]);
        while op != np {
            if op < np {
                oi += 1;
                op *= old.get(oi)?.0;
            } else {
                ni += 1;
                np *= new[*new_nz.get(ni)?];
            }
        }
        for k in o0..oi {
            if old[k].1 != old[k + 1].0 * old[k + 1].1 {
                return None;
            }
        }
        let mut s = old[oi].1;
        for k in (n0..=ni).rev() {
            out[new_nz[k]] = s;
            s *= new[new_nz[k]];
        }
        oi += 1;
        ni += 1;
    }
    if oi != old.len() || ni != new_nz.len() {
        return None;
    }
    // Extents of 1: any stride; use the C stride of the next dimension.
    for i in (0..new.len()).rev() {
        if new[i] == 1 {
            out[i] = if i + 1 < new.len() {
                out[i + 1] * new[i + 1]
            } else {
                1
            };
        }
    }
    Some(out)
}

/// A view of `a` with shape `new` (same number of elements, C order), when
/// its strides allow it without a copy; `DPC_ERROR_INVALID_ARGUMENT`
/// otherwise, the message naming both shapes.
pub(crate) fn reshape(a: &Array, new: Vec<i64>) -> Result<Array> {
    if count(&new) != a.size() {
        return Err(Error::invalid_arg(format!(
            "dpc_array_reshape: cannot reshape shape {:?} ({} elements) into {new:?} ({} elements)",
            a.shape,
            a.size(),
            count(&new)
        )));
    }
    let st = reshape_strides(&a.shape, &a.strides, &new).ok_or_else(|| {
        Error::invalid_arg(format!(
            "dpc_array_reshape: shape {:?} with strides {:?} cannot be viewed as {new:?} without a copy",
            a.shape, a.strides
        ))
    })?;
    Ok(a.view(a.data, new, st))
}

/// A view of `array` with `ndim` dimensions of `shape` (same number of
/// elements, C order), when the strides allow it without a copy.
///
/// Ownership: a new reference sharing the memory. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_ARGUMENT` (another number of elements, or a layout that
/// needs a copy — the message names both shapes). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_reshape(
    array: dpc_array,
    ndim: i32,
    shape: *const i64,
    view_out: *mut dpc_array,
) -> dpc_status {
    export!(|| {
        check_ptr("view_out", view_out)?;
        // SAFETY: the caller provides `shape` readable for `ndim` values (the
        // export's contract), `check_shape`'s contract.
        let new = unsafe { check_shape(ndim, shape) }?;
        let a = handle::get::<Array>("array", array as usize)?;
        let v = reshape(&a, new)?;
        let h = handle::insert(Arc::new(v), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array (the export's contract).
        unsafe { write_out("view_out", view_out, h as dpc_array) }
    })
}

/// A read-only view of all of `a`.
pub(crate) fn read_only(a: &Array) -> Array {
    let mut v = a.view(a.data, a.shape.clone(), a.strides.clone());
    v.writable = false;
    v
}

/// A read-only view of `array`: dpcore refuses to write through it and its
/// DLPack exports carry the read-only flag.
///
/// Ownership: a new reference sharing the memory. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_as_read_only(
    array: dpc_array,
    view_out: *mut dpc_array,
) -> dpc_status {
    export!(|| {
        check_ptr("view_out", view_out)?;
        let a = handle::get::<Array>("array", array as usize)?;
        let v = read_only(&a);
        let h = handle::insert(Arc::new(v), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array (the export's contract).
        unsafe { write_out("view_out", view_out, h as dpc_array) }
    })
}

/// A C-contiguous copy of `a` on `q` in USM of `usm_kind` (0: device
/// memory; anything but a `dpc_usm_kind` is `DPC_ERROR_INVALID_ARGUMENT`):
/// copied on the device when `a` is in `q`'s context, otherwise staged
/// through host memory (`copy::to_device`). Returns when the copy is done.
///
/// # Safety
/// `a` keeps the [`Array`] invariant.
pub(crate) unsafe fn copy_to_device(a: &Array, q: &Arc<Queue>, usm_kind: i32) -> Result<Array> {
    check_usm_kind(usm_kind)?;
    // SAFETY: `a` keeps the `Array` invariant (this function's contract),
    // `to_device`'s contract.
    unsafe { crate::copy::to_device(a, q, usm_kind) }
}

/// A C-contiguous copy of `array` on `queue` (NULL: the default device's
/// canonical queue) in USM of `usm_kind` (0: device). An array in the
/// queue's context is copied on the device (strided views by a copy
/// kernel, as `dpc_array_copy`); one on another device or context, or a
/// host array, is staged through host memory. Returns when the copy is
/// done.
///
/// Ownership: a new reference the caller releases. Errors:
/// `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_ARGUMENT` (USM kind), `DPC_ERROR_OUT_OF_DEVICE_MEMORY`,
/// `DPC_ERROR_BACKEND`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_to_device(
    array: dpc_array,
    queue: dpc_queue,
    usm_kind: i32,
    array_out: *mut dpc_array,
) -> dpc_status {
    export!(|| {
        check_ptr("array_out", array_out)?;
        let a = handle::get::<Array>("array", array as usize)?;
        let q = queue_or_default(queue)?;
        // SAFETY: `a` is a live array (held), which keeps the `Array`
        // invariant, `copy_to_device`'s contract.
        let out = unsafe { copy_to_device(&a, &q, usm_kind) }?;
        let h = handle::insert(Arc::new(out), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array (the export's contract).
        unsafe { write_out("array_out", array_out, h as dpc_array) }
    })
}

/// Compute follows data: the queue to run on for `arrays`, when they are
/// all on one device in one context.
pub fn common_queue(arrays: &[Arc<Array>]) -> Result<Arc<Queue>> {
    let describe = || -> String {
        arrays
            .iter()
            .enumerate()
            .map(|(i, a)| match &a.queue {
                Some(q) => format!("array {i}: {}", q.describe()),
                None => format!("array {i}: host memory (kDLCPU), no queue"),
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let first = arrays
        .first()
        .ok_or_else(|| Error::invalid_arg("dpc_array_common_queue: n_arrays is 0"))?;
    let q = first.queue.clone().ok_or_else(|| {
        Error::invalid_arg(format!(
            "host arrays have no queue to run on; copy them to a device first ({})",
            describe()
        ))
    })?;
    for a in &arrays[1..] {
        let same = match &a.queue {
            Some(o) => {
                (Arc::ptr_eq(&o.device, &q.device)
                    || std::ptr::eq(o.device.backend(), q.device.backend())
                    // SAFETY: both are live device objects (held by the
                    // queues, which the borrowed arrays hold) of `q`'s
                    // plugin (checked just before), given to that plugin.
                    && unsafe { (q.backend().table.device_equal)(o.device.obj(), q.device.obj()) })
                    && o.context.same_as(&q.context)
            }
            None => false,
        };
        if !same {
            return Err(Error::invalid_arg(format!(
                "the arrays are not on one device in one context, so there is no queue to run on: {}",
                describe()
            )));
        }
    }
    Ok(q)
}

/// Compute follows data: the queue to run on for the `n_arrays` arrays —
/// the first array's queue, when every array is on the same device in the
/// same context.
///
/// Ownership: a new reference the caller releases (the canonical queue's
/// handle is immortal). Errors: `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_HANDLE` (any array), `DPC_ERROR_INVALID_ARGUMENT` (no
/// arrays, host arrays, or arrays on different devices or contexts — the
/// message lists every array's device, queue and context).
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_common_queue(
    arrays: *const dpc_array,
    n_arrays: usize,
    queue_out: *mut dpc_queue,
) -> dpc_status {
    export!(|| {
        check_ptr("queue_out", queue_out)?;
        if n_arrays > 0 {
            check_ptr("arrays", arrays)?;
        }
        let hs = if n_arrays == 0 {
            &[][..]
        } else {
            // SAFETY: checked non-NULL above (`n_arrays` > 0); the caller
            // provides `n_arrays` handles (the export's contract), read
            // during the call.
            unsafe { std::slice::from_raw_parts(arrays, n_arrays) }
        };
        let mut list = Vec::with_capacity(n_arrays);
        for (i, h) in hs.iter().enumerate() {
            list.push(handle::get::<Array>(&format!("arrays[{i}]"), *h as usize)?);
        }
        let q = common_queue(&list)?;
        let h = queue::handle_for(&q)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_queue (the export's contract).
        unsafe { write_out("queue_out", queue_out, h) }
    })
}

// ---------------------------------------------------------------- DLPack

/// What an export owns: the tensor first, so the deleter can find the rest.
#[repr(C)]
struct Export<T> {
    tensor: T,
    shape: Vec<i64>,
    strides: Vec<i64>,
    _array: Arc<Array>,
}

fn dl_device(a: &Array) -> Result<dpc_dlpack_device> {
    Ok(match &a.queue {
        None => dpc_dlpack_device {
            device_type: DPC_DL_CPU,
            device_id: 0,
        },
        Some(q) => {
            let (t, id) = q
                .device
                .dlpack_type()
                .zip(q.device.dlpack_id())
                .ok_or_else(|| Error::new(DPC_ERROR_INTERNAL, "device without a DLPack id"))?;
            dpc_dlpack_device {
                device_type: t,
                device_id: id as i32,
            }
        }
    })
}

/// The tensor of an export: `data` is the lowest address the view touches
/// and `byte_offset` leads from there to element (0, …, 0), as DLPack
/// consumers (dpnp) expect for views with negative strides.
fn dl_tensor(a: &Array, shape: &mut [i64], strides: &mut [i64]) -> Result<dpc_dlpack_tensor> {
    let (lo, _) = a.extent();
    Ok(dpc_dlpack_tensor {
        data: (a.data as i64 + lo) as usize as *mut c_void,
        device: dl_device(a)?,
        ndim: a.shape.len() as i32,
        dtype: a.dtype,
        shape: if shape.is_empty() {
            std::ptr::null_mut()
        } else {
            shape.as_mut_ptr()
        },
        strides: if strides.is_empty() {
            std::ptr::null_mut()
        } else {
            strides.as_mut_ptr()
        },
        byte_offset: (-lo) as u64,
    })
}

/// The deleter of `dpc_array_to_dlpack_versioned`'s tensors.
///
/// # Safety
/// `t` is NULL or a tensor that `dpc_array_to_dlpack_versioned` made, not
/// yet deleted; the DLPack consumer calls this once per tensor.
unsafe extern "C" fn delete_versioned(t: *mut dpc_dlpack_managed_tensor_versioned) {
    // Outside any export: enter the fork gate. In a forked child that may
    // not use dpcore the tensor is left alone (leaked), not freed.
    let Ok(_pass) = crate::fork::enter() else {
        return;
    };
    if !t.is_null() {
        let _ = std::panic::catch_unwind(|| {
            // SAFETY: `t` is the `Box::into_raw` of an
            // `Export<dpc_dlpack_managed_tensor_versioned>` (the tensor is its
            // first field, `repr(C)`), not yet freed, and this is the one
            // call that frees it (this function's contract).
            drop(unsafe { Box::from_raw(t as *mut Export<dpc_dlpack_managed_tensor_versioned>) })
        });
    }
}

/// The deleter of `dpc_array_to_dlpack`'s tensors.
///
/// # Safety
/// `t` is NULL or a tensor that `dpc_array_to_dlpack` made, not yet
/// deleted; the DLPack consumer calls this once per tensor.
unsafe extern "C" fn delete_legacy(t: *mut dpc_dlpack_managed_tensor) {
    // Outside any export: enter the fork gate. In a forked child that may
    // not use dpcore the tensor is left alone (leaked), not freed.
    let Ok(_pass) = crate::fork::enter() else {
        return;
    };
    if !t.is_null() {
        let _ = std::panic::catch_unwind(|| {
            // SAFETY: `t` is the `Box::into_raw` of an
            // `Export<dpc_dlpack_managed_tensor>` (the tensor is its first
            // field, `repr(C)`), not yet freed, and this is the one call that
            // frees it (this function's contract).
            drop(unsafe { Box::from_raw(t as *mut Export<dpc_dlpack_managed_tensor>) })
        });
    }
}

/// `a` as a DLPack 1.x managed tensor, for a consumer that understands
/// DLPack up to `max_major`.`max_minor` (`DPC_ERROR_UNSUPPORTED` below 1.0).
/// The tensor keeps the memory alive until the consumer calls its deleter
/// (exactly once); read-only arrays set `DPC_DLPACK_FLAG_READ_ONLY`.
///
/// Ownership: the tensor returned is the consumer's.
pub(crate) fn to_dlpack_versioned(
    a: &Arc<Array>,
    max_major: u32,
    max_minor: u32,
) -> Result<*mut dpc_dlpack_managed_tensor_versioned> {
    if max_major < DPC_DLPACK_MAJOR_VERSION {
        return Err(Error::new(
            DPC_ERROR_UNSUPPORTED,
            format!(
                "the consumer understands DLPack {max_major}.{max_minor}; versioned tensors are DLPack 1.x: use dpc_array_to_dlpack for the legacy form"
            ),
        ));
    }
    let mut e = Box::new(Export {
        tensor: dpc_dlpack_managed_tensor_versioned {
            version: dpc_dlpack_version {
                major: DPC_DLPACK_MAJOR_VERSION,
                minor: DPC_DLPACK_MINOR_VERSION,
            },
            manager_ctx: std::ptr::null_mut(),
            deleter: Some(delete_versioned),
            flags: if a.writable {
                0
            } else {
                DPC_DLPACK_FLAG_READ_ONLY
            },
            dl_tensor: dl_device(a).map(|device| dpc_dlpack_tensor {
                data: std::ptr::null_mut(),
                device,
                ndim: 0,
                dtype: a.dtype,
                shape: std::ptr::null_mut(),
                strides: std::ptr::null_mut(),
                byte_offset: 0,
            })?,
        },
        shape: a.shape.clone(),
        strides: a.strides.clone(),
        _array: a.clone(),
    });
    let (s, st) = (
        &mut e.shape as *mut Vec<i64>,
        &mut e.strides as *mut Vec<i64>,
    );
    // SAFETY: `s` and `st` point to two distinct fields of the live box
    // `e`, and no other reference to them exists while the two borrows
    // live (the call); the assignment writes another field.
    e.tensor.dl_tensor = dl_tensor(a, unsafe { &mut *s }, unsafe { &mut *st })?;
    let raw = Box::into_raw(e);
    // SAFETY: `raw` comes from `Box::into_raw` just above: valid and not
    // aliased.
    unsafe { (*raw).tensor.manager_ctx = raw as *mut c_void };
    // `raw` points to the tensor too (its first field, `repr(C)`).
    Ok(raw as *mut dpc_dlpack_managed_tensor_versioned)
}

/// Export `array` as a DLPack 1.x `DLManagedTensorVersioned` (layout of
/// `dpc_dlpack_managed_tensor_versioned`). `max_major`/`max_minor` is the
/// highest DLPack version the consumer understands. The export keeps the
/// memory alive until the consumer calls its `deleter` (exactly once), even
/// after every dpcore handle of the array is released. Read-only arrays set
/// `DPC_DLPACK_FLAG_READ_ONLY`. USM arrays export as `kDLOneAPI` with the
/// device's DLPack id (host, shared and device USM alike, as dpnp does);
/// host arrays as `kDLCPU`.
///
/// Ownership: `*tensor_out` belongs to the consumer, who calls its deleter.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_UNSUPPORTED` (`max_major` below 1: use `dpc_array_to_dlpack`).
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_to_dlpack_versioned(
    array: dpc_array,
    max_major: u32,
    max_minor: u32,
    tensor_out: *mut *mut dpc_dlpack_managed_tensor_versioned,
) -> dpc_status {
    export!(|| {
        check_ptr("tensor_out", tensor_out)?;
        let a = handle::get::<Array>("array", array as usize)?;
        let t = to_dlpack_versioned(&a, max_major, max_minor)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // pointer (the export's contract).
        unsafe { write_out("tensor_out", tensor_out, t) }
    })
}

/// `a` as a legacy (unversioned) DLPack managed tensor. As
/// [`to_dlpack_versioned`], except that the legacy form has no read-only
/// flag: read-only arrays are refused (`DPC_ERROR_INVALID_ARGUMENT`).
///
/// Ownership: the tensor returned is the consumer's.
pub(crate) fn to_dlpack(a: &Arc<Array>) -> Result<*mut dpc_dlpack_managed_tensor> {
    if !a.writable {
        return Err(Error::invalid_arg(
            "dpc_array_to_dlpack: the array is read-only and legacy DLPack cannot say so; use dpc_array_to_dlpack_versioned",
        ));
    }
    let mut e = Box::new(Export {
        tensor: dpc_dlpack_managed_tensor {
            dl_tensor: dl_tensor(a, &mut [], &mut [])?,
            manager_ctx: std::ptr::null_mut(),
            deleter: Some(delete_legacy),
        },
        shape: a.shape.clone(),
        strides: a.strides.clone(),
        _array: a.clone(),
    });
    let (s, st) = (
        &mut e.shape as *mut Vec<i64>,
        &mut e.strides as *mut Vec<i64>,
    );
    // SAFETY: `s` and `st` point to two distinct fields of the live box
    // `e`, and no other reference to them exists while the two borrows
    // live (the call); the assignment writes another field.
    e.tensor.dl_tensor = dl_tensor(a, unsafe { &mut *s }, unsafe { &mut *st })?;
    let raw = Box::into_raw(e);
    // SAFETY: `raw` comes from `Box::into_raw` just above: valid and not
    // aliased.
    unsafe { (*raw).tensor.manager_ctx = raw as *mut c_void };
    // `raw` points to the tensor too (its first field, `repr(C)`).
    Ok(raw as *mut dpc_dlpack_managed_tensor)
}

/// Export `array` as a legacy (unversioned) `DLManagedTensor`. As
/// `dpc_array_to_dlpack_versioned`, except that the legacy form has no
/// read-only flag: read-only arrays are refused.
///
/// Ownership: `*tensor_out` belongs to the consumer, who calls its deleter.
/// Errors: `DPC_ERROR_INVALID_HANDLE`, `DPC_ERROR_NULL_POINTER`,
/// `DPC_ERROR_INVALID_ARGUMENT` (read-only array). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_to_dlpack(
    array: dpc_array,
    tensor_out: *mut *mut dpc_dlpack_managed_tensor,
) -> dpc_status {
    export!(|| {
        check_ptr("tensor_out", tensor_out)?;
        let a = handle::get::<Array>("array", array as usize)?;
        let t = to_dlpack(&a)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // pointer (the export's contract).
        unsafe { write_out("tensor_out", tensor_out, t) }
    })
}

/// The two forms of a DLPack managed tensor, as [`dlpack_base`] needs them.
trait ManagedTensor: Sized + 'static {
    /// The producer's deleter.
    fn deleter(&self) -> Option<unsafe extern "C" fn(*mut Self)>;
}

impl ManagedTensor for dpc_dlpack_managed_tensor_versioned {
    fn deleter(&self) -> Option<unsafe extern "C" fn(*mut Self)> {
        self.deleter
    }
}

impl ManagedTensor for dpc_dlpack_managed_tensor {
    fn deleter(&self) -> Option<unsafe extern "C" fn(*mut Self)> {
        self.deleter
    }
}

/// The base of an import of the managed tensor `t`, which owns it: the
/// producer's deleter runs exactly once, when the last view goes, or when
/// the base is dropped unused because the import failed (or panicked).
/// The deleter is read now, at the import: a tensor without one is the
/// producer's to free whenever it likes, so the base never reads it again
/// (the fuzzer's harness freed such a tensor while an export of its import
/// still held the import, and the base's late read of the struct was a
/// use after free).
///
/// # Safety
/// `t` is non-NULL and a managed tensor handed over to dpcore: valid, with
/// what it describes, until its deleter runs (DLPack's contract), and its
/// deleter run by nothing but the base returned.
unsafe fn dlpack_base<T: ManagedTensor>(t: *mut T) -> Arc<Base> {
    // SAFETY: `t` is a valid managed tensor (this function's contract).
    let deleter = unsafe { (*t).deleter() };
    let t = t as usize;
    Base::foreign(Box::new(move || {
        if let Some(d) = deleter {
            // SAFETY: a tensor with a deleter stays valid until the deleter
            // runs (DLPack's contract); this `FnOnce` is its only caller
            // and runs at most once, with the tensor the deleter belongs to.
            unsafe { d(t as *mut T) }
        }
    }))
}

/// Build an array over a DLPack tensor whose producer's deleter `base`
/// owns: on failure the base is dropped, and the deleter runs, before this
/// returns; otherwise with the last view.
///
/// `t` is a copy of the producer's `dl_tensor`, so nothing here borrows the
/// managed tensor that the deleter frees.
///
/// # Safety
/// While `base` lives, `t.shape` (when `t.ndim` > 0) and `t.strides` (when
/// non-NULL) are valid for reads of `t.ndim` values, and the memory at
/// `t.data` is what `t` describes (the producer's DLPack contract).
unsafe fn import(t: dpc_dlpack_tensor, writable: bool, base: Arc<Base>) -> Result<Array> {
    element_size(t.dtype)?;
    if t.ndim < 0 || t.ndim > DPC_ARRAY_MAX_NDIM || (t.ndim > 0 && t.shape.is_null()) {
        return Err(Error::invalid_arg(format!(
            "DLPack tensor with ndim {} and shape {:p}",
            t.ndim, t.shape
        )));
    }
    let nd = t.ndim as usize;
    let shape = if nd == 0 {
        vec![]
    } else {
        // SAFETY: `nd` is 1..=64 and `t.shape` non-NULL (checked above),
        // valid for `nd` reads (this function's contract; `base` is alive);
        // the values are copied out at once.
        unsafe { std::slice::from_raw_parts(t.shape, nd) }.to_vec()
    };
    if shape.iter().any(|&n| n < 0) {
        return Err(Error::invalid_arg(format!(
            "DLPack tensor with a negative extent: {shape:?}"
        )));
    }
    let strides = if t.strides.is_null() || nd == 0 {
        c_strides(&shape)
    } else {
        // SAFETY: non-NULL and `nd` is 1..=64; valid for `nd` reads (this
        // function's contract; `base` is alive); copied out at once.
        unsafe { std::slice::from_raw_parts(t.strides, nd) }.to_vec()
    };
    let span = check_layout(&shape, &strides, element_size(t.dtype)?)?;
    let data = (t.data as usize)
        .checked_add(t.byte_offset as usize)
        .ok_or_else(|| {
            Error::invalid_arg(format!(
                "DLPack tensor with data {:p} and byte_offset {} past the end of the address space",
                t.data, t.byte_offset
            ))
        })?;
    if t.data.is_null() && count(&shape) > 0 {
        return Err(Error::new(
            DPC_ERROR_NULL_POINTER,
            "DLPack tensor with NULL data",
        ));
    }
    let (queue, usm_kind) = match t.device.device_type {
        DPC_DL_CPU => (None, abi::usm_kind::UNKNOWN),
        DPC_DL_ONEAPI => {
            let dev = device::by_dlpack(DPC_DL_ONEAPI, t.device.device_id as i64).ok_or_else(|| {
                Error::new(
                    DPC_ERROR_DEVICE_NOT_FOUND,
                    format!(
                        "DLPack tensor on kDLOneAPI device {}; {}",
                        t.device.device_id,
                        device::list_for_message()
                    ),
                )
            })?;
            let ctx = context::default_context(&dev)?;
            let mut kind = 0i32;
            if count(&shape) > 0 {
                kind = usm::pointer_kind(&ctx, t.data as usize)?;
                if kind == abi::usm_kind::UNKNOWN {
                    return Err(Error::new(
                        DPC_ERROR_INVALID_POINTER,
                        format!(
                            "DLPack tensor on kDLOneAPI device {} ({}) points at {:p}, which is not USM of that device's default context",
                            t.device.device_id,
                            dev.describe(),
                            t.data
                        ),
                    ));
                }
                // The elements lie in the allocation `data` points into.
                usm::check_span(&ctx, t.data as usize, data, span, true)?;
            }
            let q = queue::default_queue(&dev)?;
            (Some(q), if kind == 0 { abi::usm_kind::DEVICE } else { kind })
        }
        other => {
            return Err(Error::new(
                DPC_ERROR_UNSUPPORTED,
                format!("DLPack device type {other} is not supported; dpcore takes kDLOneAPI (14) and kDLCPU (1)"),
            ))
        }
    };
    Ok(Array {
        base,
        data,
        dtype: t.dtype,
        shape,
        strides,
        queue,
        usm_kind,
        writable,
    })
}

/// Build an array over a DLPack 1.x tensor of version `version` and flags
/// `flags` (the read-only flag is honoured), as [`import`]: a major version
/// newer than dpcore's is `DPC_ERROR_UNSUPPORTED` (the deleter runs then
/// too).
///
/// # Safety
/// As [`import`].
unsafe fn import_versioned(
    version: dpc_dlpack_version,
    flags: u64,
    t: dpc_dlpack_tensor,
    base: Arc<Base>,
) -> Result<Array> {
    if version.major > DPC_DLPACK_MAJOR_VERSION {
        return Err(Error::new(
            DPC_ERROR_UNSUPPORTED,
            format!(
                "DLPack {}.{} tensor; dpcore understands major version {DPC_DLPACK_MAJOR_VERSION}",
                version.major, version.minor
            ),
        ));
    }
    let writable = flags & DPC_DLPACK_FLAG_READ_ONLY == 0;
    // SAFETY: this function's contract is `import`'s.
    unsafe { import(t, writable, base) }
}

/// Import a DLPack 1.x `DLManagedTensorVersioned` (layout of
/// `dpc_dlpack_managed_tensor_versioned`) as an array, zero-copy, taking
/// ownership: the producer's deleter runs exactly once — when the last
/// dpcore view of it is released, or before this call returns if the
/// import fails for any reason (major version too new, unsupported data
/// type or device, NULL fields, a kDLOneAPI pointer that is not USM of the
/// device's default context). `kDLOneAPI` tensors join the device's
/// canonical queue; `kDLCPU` tensors become host arrays. The read-only flag
/// is honoured.
///
/// Errors: `DPC_ERROR_NULL_POINTER`, `DPC_ERROR_UNSUPPORTED` (version,
/// device type), `DPC_ERROR_INVALID_ARGUMENT` (data type, shape),
/// `DPC_ERROR_DEVICE_NOT_FOUND`, `DPC_ERROR_INVALID_POINTER`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_from_dlpack_versioned(
    tensor: *mut dpc_dlpack_managed_tensor_versioned,
    array_out: *mut dpc_array,
) -> dpc_status {
    export!(|| {
        check_ptr("tensor", tensor)?;
        // SAFETY: `tensor` is non-NULL (checked above) and handed over to
        // dpcore: valid, with what it describes, until its deleter runs,
        // which only dpcore does (the export's contract, DLPack's).
        let base = unsafe { dlpack_base(tensor) };
        // On failure from here on `base` is dropped: the deleter runs.
        check_ptr("array_out", array_out)?;
        // SAFETY: `tensor` is valid until its deleter runs, which only `base`
        // does (above); the fields are copied out.
        let (version, flags, t) =
            unsafe { ((*tensor).version, (*tensor).flags, (*tensor).dl_tensor) };
        // SAFETY: what `t` describes is valid until the deleter runs, which
        // only `base` does (the export's contract, DLPack's), `import`'s
        // contract.
        let a = unsafe { import_versioned(version, flags, t, base) }?;
        let h = handle::insert(Arc::new(a), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array (the export's contract).
        unsafe { write_out("array_out", array_out, h as dpc_array) }
    })
}

/// A function dpcore calls once to give back memory it was lent
/// (`dpc_array_from_usm`), with the context pointer given with it.
pub type dpc_release_fn = Option<unsafe extern "C" fn(release_ctx: *mut c_void)>;

struct ReleaseCall {
    f: unsafe extern "C" fn(*mut c_void),
    ctx: *mut c_void,
}
// SAFETY: a `ReleaseCall` is a function pointer and its context pointer,
// used once to call the one with the other; `dpc_array_from_usm`'s contract
// (documented there) lets that call run on any thread, the context included.
unsafe impl Send for ReleaseCall {}

/// The base of memory lent with `release` (`dpc_array_from_usm`):
/// `release(release_ctx)` runs exactly once, when the last view goes, or
/// when the base is dropped unused because the call failed (or panicked);
/// nothing runs when `release` is NULL.
///
/// # Safety
/// `release`, when non-NULL, may be called once with `release_ctx`, on any
/// thread (`dpc_array_from_usm`'s contract).
unsafe fn lent_base(release: dpc_release_fn, release_ctx: *mut c_void) -> Arc<Base> {
    let call = release.map(|f| ReleaseCall {
        f,
        ctx: release_ctx,
    });
    Base::foreign(Box::new(move || {
        if let Some(c) = call {
            // SAFETY: the lender's function with its context, called once
            // (this `FnOnce` runs at most once), on any thread, as this
            // function's contract allows.
            unsafe { (c.f)(c.ctx) }
        }
    }))
}

/// Check what `dpc_array_from_usm` is told about lent memory: a supported
/// data type, and no flags but `DPC_ARRAY_WRITABLE` and `DPC_ARRAY_TRUST_*`.
fn check_lent(dtype: dpc_dlpack_dtype, flags: u32) -> Result<()> {
    element_size(dtype)?;
    if flags & !(DPC_ARRAY_WRITABLE | TRUST_MASK) != 0 {
        return Err(Error::invalid_arg(format!(
            "dpc_array_from_usm: flags {flags:#x} has bits other than DPC_ARRAY_WRITABLE and DPC_ARRAY_TRUST_*"
        )));
    }
    Ok(())
}

/// An array over USM memory that dpcore did not allocate, whose release
/// `base` owns: element (0, …, 0) at `data`, `shape` and `strides` in
/// elements, on `q`. Its USM kind is the one `flags` vouches for
/// (`DPC_ARRAY_TRUST_*`), or else the runtime's answer; memory that is not
/// USM of `q`'s context is `DPC_ERROR_INVALID_POINTER`. An array of no
/// elements is device USM and its `data` is not looked at. Writable when
/// `flags` has `DPC_ARRAY_WRITABLE`.
///
/// # Safety
/// `strides` has one value per dimension; every element the view reaches
/// from `data` lies in USM of `q`'s context (of the kind vouched for, if
/// any) that stays valid while `base` lives (the lender's promise).
unsafe fn from_usm(
    q: Arc<Queue>,
    dtype: dpc_dlpack_dtype,
    shape: Vec<i64>,
    strides: Vec<i64>,
    data: usize,
    flags: u32,
    base: Arc<Base>,
) -> Result<Array> {
    let mut kind = abi::usm_kind::DEVICE;
    let span = check_layout(&shape, &strides, element_size(dtype)?)?;
    if count(&shape) > 0 {
        kind = match ((flags & TRUST_MASK) >> 8) as i32 {
            0 => usm::pointer_kind(&q.context, data)?,
            trusted => trusted,
        };
        if kind == abi::usm_kind::UNKNOWN {
            return Err(Error::new(
                DPC_ERROR_INVALID_POINTER,
                format!(
                    "dpc_array_from_usm: {:p} is not USM of the context of {}",
                    data as *const c_void,
                    q.describe()
                ),
            ));
        }
        // The elements lie in the allocation `data` points into (asking
        // the runtime only when the caller did not vouch for the memory).
        let vouched = flags & TRUST_MASK != 0;
        usm::check_span(&q.context, data, data, span, !vouched)?;
    }
    Ok(Array {
        base,
        data,
        dtype,
        shape,
        strides,
        queue: Some(q),
        usm_kind: kind,
        writable: flags & DPC_ARRAY_WRITABLE != 0,
    })
}

/// An array viewing USM memory that dpcore did not allocate: `data` is the
/// address of element (0, …, 0), `strides` are in elements (NULL:
/// C-contiguous; negative and zero allowed), on `queue`, whose context the
/// memory must belong to (checked with the runtime). `flags` may hold
/// `DPC_ARRAY_WRITABLE`; without it the array is read-only. It may also hold
/// one of `DPC_ARRAY_TRUST_DEVICE`, `_SHARED` or `_HOST`: the caller vouches
/// that the memory is USM of that kind in the queue's context (because its
/// producer guarantees it, as dpnp's arrays do), and dpcore skips asking the
/// runtime, which costs about 2 µs for memory another library allocated.
/// Vouching wrongly is undefined behaviour, as passing a bad pointer is. When `release`
/// is non-NULL, `release(release_ctx)` runs exactly once: when the last
/// view of the memory (and the last DLPack export of it) is gone, or before
/// this function returns if it fails. This is how a binding lends memory it
/// owns (a Python object, a foreign allocation) to dpcore.
///
/// Ownership: a new reference the caller releases; the memory stays the
/// lender's. `release` may run on any thread, including dpcore's
/// deferred-release thread (`dpc_array_release_after`). Errors:
/// `DPC_ERROR_INVALID_HANDLE` (queue), `DPC_ERROR_NULL_POINTER` (`array_out`,
/// `shape` with ndim > 0, `data` for a non-empty array),
/// `DPC_ERROR_INVALID_ARGUMENT` (data type, ndim, negative extent, unknown
/// flags), `DPC_ERROR_INVALID_POINTER` (`data` is not USM of the queue's
/// context). Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_from_usm(
    queue: dpc_queue,
    dtype: dpc_dlpack_dtype,
    ndim: i32,
    shape: *const i64,
    strides: *const i64,
    data: *mut c_void,
    flags: u32,
    release: dpc_release_fn,
    release_ctx: *mut c_void,
    array_out: *mut dpc_array,
) -> dpc_status {
    // The base owns the release from the start: it runs when the last view
    // goes, or when the base is dropped because a check below failed (or
    // panicked).
    // SAFETY: the caller lets `release(release_ctx)` run once on any thread
    // (the export's contract), `lent_base`'s contract.
    let base = unsafe { lent_base(release, release_ctx) };
    export!(move || {
        check_ptr("array_out", array_out)?;
        // SAFETY: the caller provides `shape` readable for `ndim` values (the
        // export's contract), `check_shape`'s contract.
        let shape = unsafe { check_shape(ndim, shape) }?;
        check_lent(dtype, flags)?;
        let q = queue::get("queue", queue)?;
        // SAFETY: the caller provides `strides` NULL or one stride per
        // dimension (the export's contract), `read_strides`'s contract.
        let strides = unsafe { read_strides(strides, &shape) };
        if count(&shape) > 0 {
            check_ptr("data", data)?;
        }
        // SAFETY: `strides` has one value per dimension (`read_strides`); the
        // caller lends USM of the queue's context for every element of the
        // layout, valid until `release` runs, which only `base` does (the
        // export's contract), `from_usm`'s contract.
        let a = unsafe { from_usm(q, dtype, shape, strides, data as usize, flags, base) }?;
        let h = handle::insert(Arc::new(a), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array (the export's contract).
        unsafe { write_out("array_out", array_out, h as dpc_array) }
    })
}

/// Import a legacy `DLManagedTensor` (layout of `dpc_dlpack_managed_tensor`)
/// as an array, zero-copy, taking ownership exactly as
/// `dpc_array_from_dlpack_versioned` does (the deleter runs exactly once).
///
/// Errors: those of `dpc_array_from_dlpack_versioned` but the version.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_array_from_dlpack(
    tensor: *mut dpc_dlpack_managed_tensor,
    array_out: *mut dpc_array,
) -> dpc_status {
    export!(|| {
        check_ptr("tensor", tensor)?;
        // SAFETY: `tensor` is non-NULL (checked above) and handed over to
        // dpcore: valid, with what it describes, until its deleter runs,
        // which only dpcore does (the export's contract, DLPack's).
        let base = unsafe { dlpack_base(tensor) };
        // On failure from here on `base` is dropped: the deleter runs.
        check_ptr("array_out", array_out)?;
        // SAFETY: `tensor` is valid until its deleter runs, which only `base`
        // does (above); `dl_tensor` is copied out.
        let t = unsafe { (*tensor).dl_tensor };
        // SAFETY: what `t` describes is valid until the deleter runs, which
        // only `base` does (the export's contract, DLPack's), `import`'s
        // contract.
        let a = unsafe { import(t, true, base) }?;
        let h = handle::insert(Arc::new(a), false)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // dpc_array (the export's contract).
        unsafe { write_out("array_out", array_out, h as dpc_array) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const F32: dpc_dlpack_dtype = dpc_dlpack_dtype {
        code: DPC_DL_FLOAT,
        bits: 32,
        lanes: 1,
    };

    /// A host array over `mem` (element 0 at `first`), whose base counts
    /// its release in `released`. Its address is taken from all of `mem`,
    /// as a real allocation's is. The DLPack paths need no device for it,
    /// so Miri runs them too.
    fn host_array(
        mem: &mut [f32],
        first: usize,
        shape: Vec<i64>,
        strides: Vec<i64>,
        released: &Arc<AtomicUsize>,
    ) -> Arc<Array> {
        let r = released.clone();
        Arc::new(Array {
            base: Base::foreign(Box::new(move || {
                r.fetch_add(1, Ordering::SeqCst);
            })),
            data: mem.as_mut_ptr() as usize + first * 4,
            dtype: F32,
            shape,
            strides,
            queue: None,
            usm_kind: abi::usm_kind::UNKNOWN,
            writable: true,
        })
    }

    // Export a host view as DLPack 1.x, read it as a consumer does, import
    // it back and drop everything: every pointer the tensor holds is valid
    // while it lives, and each deleter runs exactly once, in order.
    #[test]
    fn dlpack_host_round_trip_runs_each_deleter_once() {
        let mut mem: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let released = Arc::new(AtomicUsize::new(0));
        // A 3x2 view with a reversed first axis: element (0, 0) is mem[8],
        // the lowest address touched is mem[0].
        let a = host_array(&mut mem, 8, vec![3, 2], vec![-4, 1], &released);
        let t = to_dlpack_versioned(&a, 1, 3).unwrap();
        drop(a);
        // SAFETY: `t` is the tensor just exported, live until its deleter.
        let (version, flags, dl) = unsafe { ((*t).version, (*t).flags, (*t).dl_tensor) };
        assert_eq!((version.major, flags), (1, 0));
        assert_eq!(
            (dl.ndim, dl.dtype, dl.device.device_type),
            (2, F32, DPC_DL_CPU)
        );
        // SAFETY: the exporter keeps shape and strides (ndim values each)
        // alive with the tensor.
        let (shape, strides) = unsafe {
            (
                std::slice::from_raw_parts(dl.shape, 2).to_vec(),
                std::slice::from_raw_parts(dl.strides, 2).to_vec(),
            )
        };
        assert_eq!((shape, strides), (vec![3, 2], vec![-4, 1]));
        assert_eq!(dl.byte_offset, 8 * 4);
        // SAFETY: `data + byte_offset` is element (0, 0) of the view, in
        // `mem`, which outlives the tensor; each (i, j) stays in `mem`.
        let read = |i: isize, j: isize| unsafe {
            *(dl.data as *const u8)
                .add(dl.byte_offset as usize)
                .cast::<f32>()
                .offset(-4 * i + j)
        };
        assert_eq!([read(0, 0), read(1, 1), read(2, 0)], [8.0, 5.0, 0.0]);
        // The import takes the producer's deleter over.
        // SAFETY: `t` is a live managed tensor handed over to `base`.
        let base = unsafe { dlpack_base(t) };
        // SAFETY: what `dl` describes lives until `base`'s deleter runs.
        let b = unsafe { import_versioned(version, flags, dl, base) }.unwrap();
        assert_eq!(
            (b.shape.clone(), b.strides.clone()),
            (vec![3, 2], vec![-4, 1])
        );
        assert_eq!(b.data, mem[8..].as_ptr() as usize);
        assert!(b.queue.is_none() && b.writable);
        assert_eq!(
            released.load(Ordering::SeqCst),
            0,
            "memory released while imported"
        );
        drop(b);
        assert_eq!(released.load(Ordering::SeqCst), 1);

        // The legacy form: the consumer's deleter frees it once.
        let a = host_array(&mut mem, 0, vec![12], vec![1], &released);
        let t = to_dlpack(&a).unwrap();
        drop(a);
        // SAFETY: the tensor just exported, and its own deleter, called once.
        unsafe {
            assert_eq!(*((*t).dl_tensor.shape), 12);
            ((*t).deleter.unwrap())(t);
        }
        assert_eq!(released.load(Ordering::SeqCst), 2);
    }

    static PRODUCER_DELETES: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn producer_deleter(t: *mut dpc_dlpack_managed_tensor_versioned) {
        // SAFETY: `t` is a `Box::into_raw` of the test below, deleted once.
        drop(unsafe { Box::from_raw(t) });
        PRODUCER_DELETES.fetch_add(1, Ordering::SeqCst);
    }

    // Corrupted producer tensors are refused before anything reads past
    // them, and the producer's deleter still runs exactly once.
    #[test]
    fn corrupted_dlpack_imports_are_refused_and_deleted_once() {
        let mut data = [1.0f32; 6];
        let mut shape = [2i64, 3];
        let mut negative = [2i64, -3];
        let good = dpc_dlpack_tensor {
            data: data.as_mut_ptr().cast(),
            device: dpc_dlpack_device {
                device_type: DPC_DL_CPU,
                device_id: 0,
            },
            ndim: 2,
            dtype: F32,
            shape: shape.as_mut_ptr(),
            strides: std::ptr::null_mut(),
            byte_offset: 0,
        };
        let cases: Vec<(&str, u32, dpc_dlpack_tensor, dpc_status)> = vec![
            (
                "ndim -1",
                1,
                dpc_dlpack_tensor { ndim: -1, ..good },
                DPC_ERROR_INVALID_ARGUMENT,
            ),
            (
                "ndim 65",
                1,
                dpc_dlpack_tensor { ndim: 65, ..good },
                DPC_ERROR_INVALID_ARGUMENT,
            ),
            (
                "NULL shape",
                1,
                dpc_dlpack_tensor {
                    shape: std::ptr::null_mut(),
                    ..good
                },
                DPC_ERROR_INVALID_ARGUMENT,
            ),
            (
                "negative extent",
                1,
                dpc_dlpack_tensor {
                    shape: negative.as_mut_ptr(),
                    ..good
                },
                DPC_ERROR_INVALID_ARGUMENT,
            ),
            (
                "dtype",
                1,
                dpc_dlpack_tensor {
                    dtype: dpc_dlpack_dtype {
                        code: 9,
                        bits: 7,
                        lanes: 1,
                    },
                    ..good
                },
                DPC_ERROR_INVALID_ARGUMENT,
            ),
            (
                "NULL data",
                1,
                dpc_dlpack_tensor {
                    data: std::ptr::null_mut(),
                    ..good
                },
                DPC_ERROR_NULL_POINTER,
            ),
            (
                "device type",
                1,
                dpc_dlpack_tensor {
                    device: dpc_dlpack_device {
                        device_type: 7,
                        device_id: 0,
                    },
                    ..good
                },
                DPC_ERROR_UNSUPPORTED,
            ),
            ("major version", 2, good, DPC_ERROR_UNSUPPORTED),
            ("none", 1, good, DPC_SUCCESS),
        ];
        for (n, (what, major, dl, status)) in cases.into_iter().enumerate() {
            let t = Box::into_raw(Box::new(dpc_dlpack_managed_tensor_versioned {
                version: dpc_dlpack_version { major, minor: 0 },
                manager_ctx: std::ptr::null_mut(),
                deleter: Some(producer_deleter),
                flags: 0,
                dl_tensor: dl,
            }));
            // SAFETY: `t` is a live managed tensor handed over to `base`;
            // what its fields point at outlives this loop.
            let r = unsafe {
                import_versioned((*t).version, (*t).flags, (*t).dl_tensor, dlpack_base(t))
            };
            match r {
                Ok(a) => {
                    assert_eq!(status, DPC_SUCCESS, "{what}");
                    assert_eq!(PRODUCER_DELETES.load(Ordering::SeqCst), n, "{what}");
                    drop(a);
                }
                Err(e) => {
                    assert_eq!(e.status, status, "{what}: {}", e.message);
                    assert!(!e.message.is_empty(), "{what}");
                }
            }
            assert_eq!(PRODUCER_DELETES.load(Ordering::SeqCst), n + 1, "{what}");
        }
    }

    // The byte span of a view: exact where it fits, None where it would
    // overflow (never a wrapped value).
    #[test]
    fn span_bytes_is_checked() {
        assert_eq!(span_bytes(&[3, 2], &[-4, 1], 4), Some((-32, 8)));
        assert_eq!(span_bytes(&[0, 5], &[1, 1], 4), Some((0, 0)));
        assert_eq!(span_bytes(&[1 << 40, 2], &[1 << 30, 1], 8), None);
        assert_eq!(span_bytes(&[3], &[i64::MIN], 1), None);
    }

    // Raw shape and stride arrays are read only as far as ndim says.
    #[test]
    fn shapes_and_strides_read_from_raw_pointers() {
        let shape = [4i64, 5];
        // SAFETY: `shape` holds the 2 values read.
        let read = unsafe { check_shape(2, shape.as_ptr()) };
        assert_eq!(read.unwrap(), vec![4, 5]);
        // SAFETY: ndim 0 reads nothing; a negative ndim is refused first.
        unsafe {
            assert!(check_shape(0, std::ptr::null()).unwrap().is_empty());
            assert!(check_shape(-1, shape.as_ptr()).is_err());
            assert!(check_shape(2, std::ptr::null()).is_err());
        }
        let strides = [1i64, 4];
        // SAFETY: `strides` holds one value per dimension; NULL means C order.
        unsafe {
            assert_eq!(read_strides(strides.as_ptr(), &[4, 5]), vec![1, 4]);
            assert_eq!(read_strides(std::ptr::null(), &[4, 5]), vec![5, 1]);
        }
    }

    #[test]
    fn slices_follow_python() {
        assert_eq!(
            slice_indices(10, DPC_SLICE_NONE, DPC_SLICE_NONE, 1),
            (0, 10)
        );
        assert_eq!(slice_indices(10, 2, 8, 3), (2, 2));
        assert_eq!(
            slice_indices(10, DPC_SLICE_NONE, DPC_SLICE_NONE, -1),
            (9, 10)
        );
        assert_eq!(slice_indices(10, -3, DPC_SLICE_NONE, 1), (7, 3));
        assert_eq!(slice_indices(10, 8, 2, -2), (8, 3));
        assert_eq!(slice_indices(10, 5, 5, 1), (5, 0));
        assert_eq!(
            slice_indices(0, DPC_SLICE_NONE, DPC_SLICE_NONE, -1),
            (-1, 0)
        );
        assert_eq!(slice_indices(10, 100, -100, -1), (9, 10));
        // Steps too large to add to a distance (found by the fuzzer).
        assert_eq!(
            slice_indices(10, DPC_SLICE_NONE, DPC_SLICE_NONE, i64::MAX),
            (0, 1)
        );
        assert_eq!(
            slice_indices(10, DPC_SLICE_NONE, DPC_SLICE_NONE, i64::MIN),
            (9, 1)
        );
        assert_eq!(slice_indices(10, 3, DPC_SLICE_NONE, i64::MIN + 1), (3, 1));
    }

    #[test]
    fn reshape_without_copy_where_numpy_allows() {
        assert_eq!(
            reshape_strides(&[2, 3, 4], &[12, 4, 1], &[6, 4]),
            Some(vec![4, 1])
        );
        assert_eq!(
            reshape_strides(&[2, 3, 4], &[12, 4, 1], &[24]),
            Some(vec![1])
        );
        assert_eq!(
            reshape_strides(&[2, 3, 4], &[12, 4, 1], &[2, 1, 12]),
            Some(vec![12, 12, 1])
        );
        // A transpose cannot be flattened without a copy.
        assert_eq!(reshape_strides(&[3, 2], &[1, 3], &[6]), None);
        // But splitting one of its dimensions can.
        assert_eq!(
            reshape_strides(&[4, 2], &[1, 4], &[2, 2, 2]),
            Some(vec![2, 1, 4])
        );
        // Every other element of a vector, regrouped.
        assert_eq!(reshape_strides(&[6], &[2], &[2, 3]), Some(vec![6, 2]));
        assert_eq!(reshape_strides(&[0, 3], &[3, 1], &[3, 0]), Some(vec![1, 1]));
        // any strides do for 0 elements
    }

    #[test]
    fn offsets_in_c_order() {
        let mut v = vec![];
        for_each_offset(&[2, 3], &[-3, 1], |k, off| v.push((k, off)));
        assert_eq!(v, vec![(0, 0), (1, 1), (2, 2), (3, -3), (4, -2), (5, -1)]);
        let mut z = vec![];
        for_each_offset(&[3], &[0], |_, off| z.push(off));
        assert_eq!(z, vec![0, 0, 0]);
        let mut s = vec![];
        for_each_offset(&[], &[], |k, off| s.push((k, off)));
        assert_eq!(s, vec![(0, 0)]);
    }
}
