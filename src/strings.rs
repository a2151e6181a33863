//! Strings across the C ABI: the two-call output pattern and checked input.

use std::ffi::{c_char, CStr};

use crate::error::{current_export, dpc_status::*, Error, Result};

/// Two-call pattern: `*size_out` receives `s.len() + 1`; when `buf` is
/// non-NULL, `s` and a NUL are copied if `capacity` allows, otherwise
/// `DPC_ERROR_BUFFER_TOO_SMALL` (with `*size_out` still set).
///
/// # Safety
/// `buf` is NULL or valid for `capacity` bytes; `size_out` is NULL or valid.
pub unsafe fn write_out_str(
    s: &str,
    buf: *mut c_char,
    capacity: usize,
    size_out: *mut usize,
) -> Result<()> {
    if size_out.is_null() {
        return Err(Error::new(
            DPC_ERROR_NULL_POINTER,
            "argument `size_out` is NULL (it receives the size needed, NUL included)",
        ));
    }
    let needed = s.len() + 1;
    *size_out = needed;
    if buf.is_null() {
        return Ok(());
    }
    if capacity < needed {
        return Err(Error::new(
            DPC_ERROR_BUFFER_TOO_SMALL,
            format!(
                "buffer of {capacity} bytes is too small: {needed} bytes are needed (NUL included)"
            ),
        ));
    }
    std::ptr::copy_nonoverlapping(s.as_ptr(), buf as *mut u8, s.len());
    *buf.add(s.len()) = 0;
    Ok(())
}

/// Two-call pattern for arrays of `T`: `*count_out` receives `items.len()`;
/// when `buf` is non-NULL the items are copied if `capacity` allows.
///
/// # Safety
/// `buf` is NULL or valid for `capacity` items; `count_out` is valid or NULL.
pub unsafe fn write_out_slice<T: Copy>(
    items: &[T],
    buf: *mut T,
    capacity: usize,
    count_out: *mut usize,
) -> Result<()> {
    if count_out.is_null() {
        return Err(Error::new(
            DPC_ERROR_NULL_POINTER,
            "argument `count_out` is NULL (it receives the number of items)",
        ));
    }
    *count_out = items.len();
    if buf.is_null() {
        return Ok(());
    }
    if capacity < items.len() {
        return Err(Error::new(
            DPC_ERROR_BUFFER_TOO_SMALL,
            format!(
                "buffer of {capacity} items is too small: {} are needed",
                items.len()
            ),
        ));
    }
    std::ptr::copy_nonoverlapping(items.as_ptr(), buf, items.len());
    Ok(())
}

/// Borrow a NUL-terminated UTF-8 input string.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub unsafe fn in_str<'a>(arg: &str, p: *const c_char) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::null(arg));
    }
    // SAFETY: non-NULL and NUL-terminated (the caller's contract).
    unsafe { CStr::from_ptr(p) }.to_str().map_err(|e| {
        Error::new(
            DPC_ERROR_INVALID_UTF8,
            format!(
                "{}: argument `{arg}` is not valid UTF-8 ({e})",
                current_export()
            ),
        )
    })
}

/// Write `v` through an output pointer, checking it for NULL.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
#[inline]
pub unsafe fn write_out<T>(arg: &str, out: *mut T, v: T) -> Result<()> {
    if out.is_null() {
        return Err(Error::null(arg));
    }
    // SAFETY: non-NULL and valid for a write (the caller's contract).
    unsafe { out.write(v) };
    Ok(())
}

/// Fail with `DPC_ERROR_NULL_POINTER` when `p` (argument `arg` of the
/// running export) is NULL.
#[inline]
pub fn check_ptr<T>(arg: &str, p: *const T) -> Result<()> {
    if p.is_null() {
        Err(Error::null(arg))
    } else {
        Ok(())
    }
}
