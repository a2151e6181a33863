//! The leak census: what the program still holds — releasable handles by
//! kind, USM by context, deferred releases not yet done — read through the
//! C API at any time, and printed at exit when `DPCORE_LEAK_CHECK=1` (as
//! Level Zero's validation layer does for its objects).

use crate::export;
use std::ffi::c_char;

use crate::error::{dpc_status, Error, Result};
use crate::handle::{self, Kind};
use crate::strings::{check_ptr, write_out, write_out_str};
use crate::usm;

/// What `dpc_census_live_handles` counts: one kind of handle, or all.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum dpc_handle_kind {
    /// Every kind.
    DPC_HANDLE_ALL = 0,
    /// `dpc_device` (sub-devices; root devices are immortal).
    DPC_HANDLE_DEVICE = 1,
    /// `dpc_selector`.
    DPC_HANDLE_SELECTOR = 2,
    /// `dpc_platform`.
    DPC_HANDLE_PLATFORM = 3,
    /// `dpc_context`.
    DPC_HANDLE_CONTEXT = 4,
    /// `dpc_queue`.
    DPC_HANDLE_QUEUE = 5,
    /// `dpc_event`.
    DPC_HANDLE_EVENT = 6,
    /// `dpc_bundle`.
    DPC_HANDLE_BUNDLE = 7,
    /// `dpc_kernel`.
    DPC_HANDLE_KERNEL = 8,
    /// `dpc_array`.
    DPC_HANDLE_ARRAY = 9,
}

fn kind_from(k: i32) -> Result<Option<Kind>> {
    if k == 0 {
        return Ok(None);
    }
    handle::ALL_KINDS
        .iter()
        .copied()
        .find(|x| *x as i32 == k)
        .map(Some)
        .ok_or_else(|| {
            Error::invalid_arg(format!(
                "kind {k} is not a dpc_handle_kind (0 for all, 1..=9 for one kind)"
            ))
        })
}

/// Totals of `usm::live_by_context`: (allocations, bytes).
fn usm_totals(by_context: &[(String, u64, u64)]) -> (u64, u64) {
    by_context
        .iter()
        .fold((0, 0), |(n, b), (_, n1, b1)| (n + n1, b + b1))
}

/// The USM dpcore allocated for the program that is not freed yet, memory
/// waiting in a deferred free included, over every context: (allocations,
/// bytes).
pub(crate) fn live_usm() -> (u64, u64) {
    usm_totals(&usm::live_by_context())
}

/// The census as text: one summary line, then a line per kind of handle
/// and per context that still holds something.
pub fn report() -> String {
    let handles = handle::live_count(None);
    let usm = usm::live_by_context();
    let (allocs, bytes) = usm_totals(&usm);
    let pending = usm::pending_deferred();
    let mut s = format!(
        "dpcore leak census: {handles} live handles, {bytes} bytes of USM in {allocs} allocations, \
         {pending} deferred releases pending\n"
    );
    for k in handle::ALL_KINDS {
        let n = handle::live_count(Some(k));
        if n > 0 {
            s.push_str(&format!("  {}: {n} live\n", k.c_name()));
        }
    }
    for (ctx, n, b) in &usm {
        s.push_str(&format!("  {ctx}: {b} bytes in {n} allocations\n"));
    }
    s
}

extern "C" fn report_at_exit() {
    // A release deferred to the end of a command the program already
    // waited for (fill's pattern buffer, free_after on a finished event)
    // is done by dpcore's thread a moment later: give it that moment (at
    // most a second), so the census counts only what is really pending.
    let _ = std::panic::catch_unwind(|| usm::settle_deferred(std::time::Duration::from_secs(1)));
    let r = report();
    // SAFETY: `r` is alive for the call and `r.as_ptr()` is valid for
    // reads of `r.len()` bytes; writing to fd 2 touches no Rust-owned
    // state (if it is closed the call just fails); a short write is ignored.
    unsafe {
        libc::write(2, r.as_ptr().cast(), r.len());
    }
}

/// With `DPCORE_LEAK_CHECK` set to anything but `0` or empty, print the
/// census to standard error when the process exits. Called once.
pub(crate) fn arm_from_env() {
    let on = std::env::var("DPCORE_LEAK_CHECK")
        .map(|v| !v.is_empty() && v != "0")
        .unwrap_or(false);
    if on {
        // SAFETY: `report_at_exit` is a plain `extern "C" fn()` with no
        // captured state, as `atexit` requires; it reads only dpcore's own
        // counters and maps (statics that live until the process ends),
        // waits a bounded time for dpcore's own thread, and cannot unwind
        // (a panic in an `extern "C"` fn aborts).
        unsafe {
            libc::atexit(report_at_exit);
        }
    }
}

// ---------------------------------------------------------------- exports

/// The number of live handles of `kind` (`DPC_HANDLE_ALL`: of every kind)
/// that the program must still release. Immortal handles (root devices,
/// platform default contexts, root devices' canonical queues) are not
/// counted.
///
/// Errors: `DPC_ERROR_NULL_POINTER` (`count_out`), `DPC_ERROR_INVALID_ARGUMENT`
/// (`kind` not a `dpc_handle_kind`). Thread safety: any thread; the count
/// is a snapshot.
#[no_mangle]
pub unsafe extern "C" fn dpc_census_live_handles(kind: i32, count_out: *mut u64) -> dpc_status {
    export!(|| {
        check_ptr("count_out", count_out)?;
        let k = kind_from(kind)?;
        // SAFETY: checked non-NULL above; the caller provides a writable
        // u64 (the export's contract).
        unsafe { write_out("count_out", count_out, handle::live_count(k)) }
    })
}

/// The USM that dpcore allocated for the program and that is not freed yet
/// (memory waiting in a deferred free included), over every context.
/// Either pointer may be NULL.
///
/// Errors: none besides `DPC_ERROR_INTERNAL`. Thread safety: any thread;
/// a snapshot.
#[no_mangle]
pub unsafe extern "C" fn dpc_census_live_usm(
    allocations_out: *mut u64,
    bytes_out: *mut u64,
) -> dpc_status {
    export!(|| {
        let (n, b) = live_usm();
        if !allocations_out.is_null() {
            // SAFETY: checked non-NULL just above; the caller provides a
            // writable u64 (the export's contract).
            unsafe { allocations_out.write(n) };
        }
        if !bytes_out.is_null() {
            // SAFETY: checked non-NULL just above; the caller provides a
            // writable u64 (the export's contract).
            unsafe { bytes_out.write(b) };
        }
        Ok(())
    })
}

/// The census as text (what `DPCORE_LEAK_CHECK=1` prints at exit): a first
/// line `dpcore leak census: H live handles, B bytes of USM in N
/// allocations, D deferred releases pending`, then one line per kind of
/// handle and per context that still holds something.
///
/// Two-call pattern: `*size_out` (required) receives the size needed, NUL
/// included; `buf` NULL asks for the size only. Errors:
/// `DPC_ERROR_NULL_POINTER` (`size_out`), `DPC_ERROR_BUFFER_TOO_SMALL`.
/// Ownership: `buf` is the caller's. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_census_report(
    buf: *mut c_char,
    capacity: usize,
    size_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("size_out", size_out)?;
        // SAFETY: `size_out` checked non-NULL above; the caller provides
        // `buf` NULL or writable for `capacity` bytes and a writable
        // `size_out` (the export's contract), which is `write_out_str`'s
        // contract; `buf` cannot overlap the fresh `String` from `report()`.
        unsafe { write_out_str(&report(), buf, capacity, size_out) }
    })
}
