//! Strings across the C ABI: the two-call output pattern and checked input.

use std::ffi::{c_char, CStr};

use crate::error::{current_export, dpc_status::*, Error, Result};

/// Two-call pattern: `*size_out` receives `s.len() + 1`; when `buf` is
/// non-NULL, `s` and a NUL are copied if `capacity` allows, otherwise
/// `DPC_ERROR_BUFFER_TOO_SMALL` (with `*size_out` still set).
///
/// # Safety
/// `buf` is NULL or valid for writes of `capacity` bytes and does not
/// overlap `s`; `size_out` is NULL or valid for a write of `usize`.
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
    // SAFETY: `size_out` is non-NULL (checked above) and, by this
    // function's contract, valid for a write of `usize`.
    unsafe { *size_out = needed };
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
    // SAFETY: `buf` is non-NULL (checked above) and, by this function's
    // contract, valid for `capacity` bytes; `capacity >= s.len() + 1`
    // (checked above), so the `s.len()` bytes and the NUL at offset
    // `s.len()` are in bounds; it does not overlap `s` (the contract).
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf as *mut u8, s.len());
        *buf.add(s.len()) = 0;
    }
    Ok(())
}

/// Two-call pattern for arrays of `T`: `*count_out` receives `items.len()`;
/// when `buf` is non-NULL the items are copied if `capacity` allows.
///
/// # Safety
/// `buf` is NULL or valid for writes of `capacity` items and does not
/// overlap `items`; `count_out` is NULL or valid for a write of `usize`.
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
    // SAFETY: `count_out` is non-NULL (checked above) and, by this
    // function's contract, valid for a write of `usize`.
    unsafe { *count_out = items.len() };
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
    // SAFETY: `buf` is non-NULL (checked above) and, by this function's
    // contract, valid for `capacity` items of `T`; `capacity >=
    // items.len()` (checked above); it does not overlap `items` (the
    // contract).
    unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), buf, items.len()) };
    Ok(())
}

/// Borrow a NUL-terminated UTF-8 input string.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`
/// and is not modified during `'a`.
pub unsafe fn in_str<'a>(arg: &str, p: *const c_char) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::null(arg));
    }
    // SAFETY: `p` is non-NULL (checked above); by this function's
    // contract it points to a NUL-terminated string that stays alive and
    // unchanged for `'a`, the lifetime of the borrow returned.
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
    // SAFETY: `out` is non-NULL (checked above) and, by this function's
    // contract, valid for a write of `T`.
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
