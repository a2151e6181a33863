//! Status codes, the thread-local last-error record, and the boundary that
//! every export runs inside (no panic crosses the C ABI).

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::strings::write_out_str;

/// Status returned by every fallible dpcore function.
///
/// A 32-bit value. `DPC_SUCCESS` is 0; errors are grouped in blocks
/// (1–99 caller errors, 100–199 device selection, 200–299 backend and
/// runtime, 300–399 memory, 900–999 dpcore itself). Values are never
/// renumbered; new ones are only added. The detail of the last failure
/// on the calling thread is available from `dpc_last_error_message`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum dpc_status {
    /// The call succeeded.
    DPC_SUCCESS = 0,
    /// An argument has a value outside what the function accepts.
    DPC_ERROR_INVALID_ARGUMENT = 1,
    /// A required pointer argument is NULL.
    DPC_ERROR_NULL_POINTER = 2,
    /// A handle is NULL where one is required, of the wrong type, already
    /// released, or not a dpcore handle at all.
    DPC_ERROR_INVALID_HANDLE = 3,
    /// An output buffer is too small; the size needed was reported.
    DPC_ERROR_BUFFER_TOO_SMALL = 4,
    /// An index is past the end of a list.
    DPC_ERROR_OUT_OF_RANGE = 5,
    /// A string argument is not valid UTF-8.
    DPC_ERROR_INVALID_UTF8 = 6,
    /// A memory pointer is not what the function needs (not allocated by
    /// dpcore, already freed, not the start of an allocation, not USM).
    DPC_ERROR_INVALID_POINTER = 7,
    /// A named thing (a kernel, a file) does not exist; the message names
    /// it and, where it can, what exists.
    DPC_ERROR_NOT_FOUND = 8,
    /// A device filter string is malformed; the message quotes it and
    /// shows the grammar.
    DPC_ERROR_INVALID_SELECTOR = 100,
    /// No device matches a well-formed filter string or request; the
    /// message lists the devices that exist.
    DPC_ERROR_DEVICE_NOT_FOUND = 101,
    /// No backend could be loaded (plugin missing, its runtime missing,
    /// or no platform); the message says why.
    DPC_ERROR_BACKEND_UNAVAILABLE = 200,
    /// The backend runtime reported an error; the backend code is in the
    /// last-error record.
    DPC_ERROR_BACKEND = 201,
    /// The device or runtime does not support the request.
    DPC_ERROR_UNSUPPORTED = 202,
    /// The backend plugin implements another interface version.
    DPC_ERROR_PLUGIN_INCOMPATIBLE = 203,
    /// Device code failed to build; the full build log is available from
    /// `dpc_last_error_build_log`.
    DPC_ERROR_BUILD_FAILED = 204,
    /// The device was lost (removed, reset after a hang, or its driver
    /// failed): the runtime reports it (for SYCL, Unified Runtime's
    /// `UR_RESULT_ERROR_DEVICE_LOST`, synchronously or as an asynchronous
    /// error). Work and memory on it are gone; objects made on it should be
    /// released. The backend code is in the last-error record.
    DPC_ERROR_DEVICE_LOST = 205,
    /// Host memory could not be allocated.
    DPC_ERROR_OUT_OF_HOST_MEMORY = 300,
    /// Device (USM) memory could not be allocated; the message states the
    /// request and the device's limits.
    DPC_ERROR_OUT_OF_DEVICE_MEMORY = 301,
    /// A panic or other internal fault was caught at the API boundary.
    DPC_ERROR_INTERNAL = 999,
}

use dpc_status::*;

impl dpc_status {
    /// Every status, in numeric order.
    pub const ALL: &'static [dpc_status] = &[
        DPC_SUCCESS,
        DPC_ERROR_INVALID_ARGUMENT,
        DPC_ERROR_NULL_POINTER,
        DPC_ERROR_INVALID_HANDLE,
        DPC_ERROR_BUFFER_TOO_SMALL,
        DPC_ERROR_OUT_OF_RANGE,
        DPC_ERROR_INVALID_UTF8,
        DPC_ERROR_INVALID_POINTER,
        DPC_ERROR_NOT_FOUND,
        DPC_ERROR_INVALID_SELECTOR,
        DPC_ERROR_DEVICE_NOT_FOUND,
        DPC_ERROR_BACKEND_UNAVAILABLE,
        DPC_ERROR_BACKEND,
        DPC_ERROR_UNSUPPORTED,
        DPC_ERROR_PLUGIN_INCOMPATIBLE,
        DPC_ERROR_BUILD_FAILED,
        DPC_ERROR_DEVICE_LOST,
        DPC_ERROR_OUT_OF_HOST_MEMORY,
        DPC_ERROR_OUT_OF_DEVICE_MEMORY,
        DPC_ERROR_INTERNAL,
    ];

    /// The status for a raw code, if it is one.
    pub fn from_code(code: i32) -> Option<dpc_status> {
        Self::ALL.iter().copied().find(|s| *s as i32 == code)
    }

    /// The status's name as a C string, e.g. `DPC_SUCCESS`.
    pub fn name_cstr(self) -> &'static std::ffi::CStr {
        match self {
            DPC_SUCCESS => c"DPC_SUCCESS",
            DPC_ERROR_INVALID_ARGUMENT => c"DPC_ERROR_INVALID_ARGUMENT",
            DPC_ERROR_NULL_POINTER => c"DPC_ERROR_NULL_POINTER",
            DPC_ERROR_INVALID_HANDLE => c"DPC_ERROR_INVALID_HANDLE",
            DPC_ERROR_BUFFER_TOO_SMALL => c"DPC_ERROR_BUFFER_TOO_SMALL",
            DPC_ERROR_OUT_OF_RANGE => c"DPC_ERROR_OUT_OF_RANGE",
            DPC_ERROR_INVALID_UTF8 => c"DPC_ERROR_INVALID_UTF8",
            DPC_ERROR_INVALID_POINTER => c"DPC_ERROR_INVALID_POINTER",
            DPC_ERROR_NOT_FOUND => c"DPC_ERROR_NOT_FOUND",
            DPC_ERROR_INVALID_SELECTOR => c"DPC_ERROR_INVALID_SELECTOR",
            DPC_ERROR_DEVICE_NOT_FOUND => c"DPC_ERROR_DEVICE_NOT_FOUND",
            DPC_ERROR_BACKEND_UNAVAILABLE => c"DPC_ERROR_BACKEND_UNAVAILABLE",
            DPC_ERROR_BACKEND => c"DPC_ERROR_BACKEND",
            DPC_ERROR_UNSUPPORTED => c"DPC_ERROR_UNSUPPORTED",
            DPC_ERROR_PLUGIN_INCOMPATIBLE => c"DPC_ERROR_PLUGIN_INCOMPATIBLE",
            DPC_ERROR_BUILD_FAILED => c"DPC_ERROR_BUILD_FAILED",
            DPC_ERROR_DEVICE_LOST => c"DPC_ERROR_DEVICE_LOST",
            DPC_ERROR_OUT_OF_HOST_MEMORY => c"DPC_ERROR_OUT_OF_HOST_MEMORY",
            DPC_ERROR_OUT_OF_DEVICE_MEMORY => c"DPC_ERROR_OUT_OF_DEVICE_MEMORY",
            DPC_ERROR_INTERNAL => c"DPC_ERROR_INTERNAL",
        }
    }

    /// The name without its NUL.
    pub fn name(self) -> &'static str {
        self.name_cstr().to_str().unwrap_or("DPC_ERROR_INTERNAL")
    }
}

/// A failure on its way to the C caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: dpc_status,
    pub message: String,
    pub backend_code: i64,
    /// The build log of a failed build.
    pub build_log: Option<String>,
}

impl Error {
    pub fn new(status: dpc_status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
            backend_code: 0,
            build_log: None,
        }
    }

    pub fn with_backend_code(mut self, code: i64) -> Error {
        self.backend_code = code;
        self
    }

    pub fn invalid_arg(message: impl Into<String>) -> Error {
        Error::new(DPC_ERROR_INVALID_ARGUMENT, message)
    }

    /// `arg` of the running export is NULL.
    pub fn null(arg: &str) -> Error {
        Error::new(
            DPC_ERROR_NULL_POINTER,
            format!("{}: argument `{arg}` is NULL", current_export()),
        )
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status.name(), self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

struct LastError {
    status: dpc_status,
    message: String,
    backend_code: i64,
    build_log: String,
}

thread_local! {
    static LAST: RefCell<LastError> = const { RefCell::new(LastError {
        status: DPC_SUCCESS,
        message: String::new(),
        backend_code: 0,
        build_log: String::new(),
    }) };
    /// The path of the export running on this thread (see `export!`);
    /// empty outside any boundary.
    static EXPORT: std::cell::Cell<&'static str> = const { std::cell::Cell::new("") };
}

/// The name of the export running on this thread (`"dpc_usm_alloc"`), for
/// messages; `"dpcore"` outside any export.
pub fn current_export() -> &'static str {
    short_name(EXPORT.with(|e| e.get()))
}

/// `dpcore::usm::dpc_usm_alloc::f` (what `export!` records) → `dpc_usm_alloc`.
fn short_name(path: &'static str) -> &'static str {
    let p = path.strip_suffix("::f").unwrap_or(path);
    match p.rsplit("::").next() {
        Some(n) if !n.is_empty() => n,
        _ => "dpcore",
    }
}

/// The body of every fallible export: `export!(|| { ... })` runs the
/// closure inside [`boundary`] under the export's own name, which the
/// compiler supplies (the name is never restated by hand). Pointer and
/// handle checks made inside name the export through [`current_export`].
#[macro_export]
macro_rules! export {
    ($body:expr) => {{
        fn f() {}
        $crate::error::boundary(::std::any::type_name_of_val(&f), $body)
    }};
}

/// Record `err` as the last failure on this thread.
pub fn set_last_error(err: &Error) {
    crate::log::debug(&format!("error {}: {}", err.status.name(), err.message));
    record(err);
}

/// Record `err` in this thread's last-error record, without logging it.
fn record(err: &Error) {
    LAST.with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            l.status = err.status;
            l.message.clear();
            l.message.push_str(&err.message);
            l.backend_code = err.backend_code;
            l.build_log.clear();
            if let Some(log) = &err.build_log {
                l.build_log.push_str(log);
            }
        }
    });
}

/// Snapshot of the last failure on this thread.
pub fn last_error() -> Error {
    LAST.with(|l| {
        let l = l.borrow();
        Error {
            status: l.status,
            message: l.message.clone(),
            backend_code: l.backend_code,
            build_log: (!l.build_log.is_empty()).then(|| l.build_log.clone()),
        }
    })
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

fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Inside an export the panic becomes a status and a message;
            // printing it would break the promise that dpcore prints
            // nothing unless asked. Elsewhere keep the usual behaviour.
            if EXPORT.with(|e| e.get().is_empty()) {
                previous(info);
            } else {
                let loc = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                crate::log::error(&format!("panic caught at the API boundary{loc}"));
            }
        }));
    });
}

/// Run the body of export `name` (its path, as `export!` gives it): its
/// error becomes the return status and the thread's last-error record; a
/// panic becomes `DPC_ERROR_INTERNAL`. Use it through `export!`.
#[inline]
pub fn boundary<F>(name: &'static str, f: F) -> dpc_status
where
    F: FnOnce() -> Result<()>,
{
    let outer = EXPORT.with(|e| e.replace(name));
    // The fork gate (crate::fork), held to the end of the call (recording
    // the error logs it, through the logger's lock). It fails only in a
    // forked child that must not use dpcore: the error is recorded without
    // logging, since the logger's lock may be held for ever there.
    let _pass = match crate::fork::enter() {
        Ok(p) => p,
        Err(e) => {
            EXPORT.with(|x| x.set(outer));
            record(&e);
            return e.status;
        }
    };
    let r = catch_unwind(AssertUnwindSafe(|| {
        crate::faults::on_entry()?;
        f()
    }));
    EXPORT.with(|e| e.set(outer));
    match r {
        Ok(Ok(())) => DPC_SUCCESS,
        Ok(Err(e)) => {
            set_last_error(&e);
            e.status
        }
        Err(payload) => {
            let e = Error::new(
                DPC_ERROR_INTERNAL,
                format!(
                    "{}: internal error (panic: {}); please report it",
                    short_name(name),
                    panic_message(payload.as_ref())
                ),
            );
            set_last_error(&e);
            e.status
        }
    }
}

/// Like [`boundary`] for exports that return a plain value rather than a
/// status (used by infallible getters): `fallback` on panic.
#[inline]
pub fn boundary_value<T, F>(fallback: T, f: F) -> T
where
    F: FnOnce() -> T,
{
    // Not an export of a name of its own: "dpcore" in messages.
    let outer = EXPORT.with(|e| e.replace("dpcore"));
    let r = catch_unwind(AssertUnwindSafe(f));
    EXPORT.with(|e| e.set(outer));
    r.unwrap_or(fallback)
}

/// Called once per process before the first export does any work.
pub fn init_once() {
    install_quiet_panic_hook();
    static CENSUS: std::sync::Once = std::sync::Once::new();
    CENSUS.call_once(crate::census::arm_from_env);
}

// ---------------------------------------------------------------- exports

/// The name of a status code, e.g. `"DPC_ERROR_INVALID_HANDLE"`.
///
/// Ownership: returns a pointer to a static NUL-terminated string; never
/// free it. An unknown code gives `"DPC_STATUS_UNKNOWN"`.
/// Errors: none. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn dpc_status_name(status: i32) -> *const c_char {
    boundary_value(
        c"DPC_STATUS_UNKNOWN".as_ptr(),
        || match dpc_status::from_code(status) {
            Some(s) => s.name_cstr().as_ptr(),
            None => c"DPC_STATUS_UNKNOWN".as_ptr(),
        },
    )
}

/// The status of the last failed dpcore call on the calling thread
/// (`DPC_SUCCESS` if none has failed yet).
///
/// Successful calls do not clear the record; read it right after the call
/// that failed. Errors: none. Thread safety: any thread; the record is per
/// thread.
#[no_mangle]
pub extern "C" fn dpc_last_error_status() -> dpc_status {
    boundary_value(DPC_ERROR_INTERNAL, || LAST.with(|l| l.borrow().status))
}

/// The backend's own error code for the last failure on this thread (for
/// SYCL: the `std::error_code` value of the `sycl::exception`), or 0.
///
/// Errors: none. Thread safety: any thread; the record is per thread.
#[no_mangle]
pub extern "C" fn dpc_last_error_backend_code() -> i64 {
    boundary_value(0, || LAST.with(|l| l.borrow().backend_code))
}

/// Copy one string field of this thread's record into `buf` (two-call
/// pattern). Not run through `boundary`: a failure here must not overwrite
/// the record being read.
///
/// # Safety
/// As [`write_out_str`]: `buf` is NULL or valid for writes of `capacity`
/// bytes (it cannot overlap the record, which is private to this module);
/// `size_out` is NULL or valid for a write of `usize`.
unsafe fn read_record(
    field: fn(&LastError) -> &str,
    buf: *mut c_char,
    capacity: usize,
    size_out: *mut usize,
) -> dpc_status {
    boundary_value(DPC_ERROR_INTERNAL, || {
        if size_out.is_null() {
            return DPC_ERROR_NULL_POINTER;
        }
        LAST.with(|l| {
            let l = l.borrow();
            // SAFETY: `buf`/`capacity` and `size_out` are this function's
            // arguments, valid as its `# Safety` section requires, which is
            // `write_out_str`'s contract; the record's field is a Rust
            // string the caller cannot hold a pointer into.
            match unsafe { write_out_str(field(&l), buf, capacity, size_out) } {
                Ok(()) => DPC_SUCCESS,
                Err(e) => e.status,
            }
        })
    })
}

/// Copy the message of the last failure on this thread into `buf`.
///
/// Two-call pattern: `*size_out` (required) receives the size needed,
/// NUL included; when `buf` is non-NULL and `capacity` is at least that
/// size the message is copied with its NUL. The message is empty when no
/// call has failed on this thread.
///
/// Reading the record never changes it, even when this call fails.
/// Errors: `DPC_ERROR_NULL_POINTER` (`size_out` NULL),
/// `DPC_ERROR_BUFFER_TOO_SMALL` (`buf` non-NULL and `capacity` too small;
/// `*size_out` still receives the size needed).
/// Ownership: `buf` is the caller's. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_last_error_message(
    buf: *mut c_char,
    capacity: usize,
    size_out: *mut usize,
) -> dpc_status {
    // SAFETY: the export's contract (its C documentation) is `buf` NULL or
    // writable for `capacity` bytes and `size_out` NULL or writable, which
    // is `read_record`'s contract.
    unsafe { read_record(|l| &l.message, buf, capacity, size_out) }
}

/// Copy the build log of the last failure on this thread into `buf`: the
/// compiler's full output when the failure was a build
/// (`DPC_ERROR_BUILD_FAILED`), otherwise empty.
///
/// Two-call pattern, ownership and errors as `dpc_last_error_message`;
/// reading the record never changes it. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_last_error_build_log(
    buf: *mut c_char,
    capacity: usize,
    size_out: *mut usize,
) -> dpc_status {
    // SAFETY: as in `dpc_last_error_message`: the export's contract on
    // `buf`/`capacity` and `size_out` is `read_record`'s contract.
    unsafe { read_record(|l| &l.build_log, buf, capacity, size_out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_becomes_internal_status_with_message() {
        init_once();
        // export! names the function it is in: here, this test.
        let st = export!(|| panic!("boom {}", 42));
        assert_eq!(st, DPC_ERROR_INTERNAL);
        let e = last_error();
        assert_eq!(e.status, DPC_ERROR_INTERNAL);
        assert!(
            e.message
                .starts_with("panic_becomes_internal_status_with_message: internal error"),
            "{}",
            e.message
        );
        assert!(e.message.contains("boom 42"), "{}", e.message);
    }

    #[test]
    fn null_pointer_messages_name_the_running_export() {
        let st = export!(|| crate::strings::check_ptr("thing_out", std::ptr::null::<u8>()));
        assert_eq!(st, DPC_ERROR_NULL_POINTER);
        assert_eq!(
            last_error().message,
            "null_pointer_messages_name_the_running_export: argument `thing_out` is NULL"
        );
        // Outside any export the messages say "dpcore".
        assert_eq!(current_export(), "dpcore");
    }

    #[test]
    fn error_sets_record_and_success_keeps_it() {
        let st = boundary("x", || Err(Error::invalid_arg("bad thing")));
        assert_eq!(st, DPC_ERROR_INVALID_ARGUMENT);
        assert_eq!(boundary("y", || Ok(())), DPC_SUCCESS);
        let e = last_error();
        assert_eq!(e.status, DPC_ERROR_INVALID_ARGUMENT);
        assert_eq!(e.message, "bad thing");
    }

    #[test]
    fn names_round_trip() {
        for s in dpc_status::ALL {
            assert_eq!(dpc_status::from_code(*s as i32), Some(*s));
            let p = dpc_status_name(*s as i32);
            // SAFETY: dpc_status_name returns a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(p) }.to_str().unwrap();
            assert_eq!(name, s.name());
        }
        let p = dpc_status_name(12345);
        assert_eq!(
            // SAFETY: dpc_status_name returns a static NUL-terminated string.
            unsafe { std::ffi::CStr::from_ptr(p) }.to_str().unwrap(),
            "DPC_STATUS_UNKNOWN"
        );
    }

    #[test]
    fn last_error_message_two_call() {
        let _ = boundary("x", || Err(Error::invalid_arg("hello")));
        let mut n = 0usize;
        assert_eq!(
            // SAFETY: `buf` NULL (size query only); `n` is a live local.
            unsafe { dpc_last_error_message(std::ptr::null_mut(), 0, &mut n) },
            DPC_SUCCESS
        );
        assert_eq!(n, 6);
        let mut small = [0 as c_char; 3];
        assert_eq!(
            // SAFETY: `small` is a live local array of 3 bytes; `n` a live local.
            unsafe { dpc_last_error_message(small.as_mut_ptr(), 3, &mut n) },
            DPC_ERROR_BUFFER_TOO_SMALL
        );
        assert_eq!(n, 6);
        // The failed read did not replace the record.
        assert_eq!(last_error().message, "hello");
        let mut buf = [0 as c_char; 16];
        assert_eq!(
            // SAFETY: `buf` is a live local array of 16 bytes; `n` a live local.
            unsafe { dpc_last_error_message(buf.as_mut_ptr(), 16, &mut n) },
            DPC_SUCCESS
        );
        // SAFETY: the successful call above wrote "hello" and its NUL into
        // `buf`, which is still alive.
        let s = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(s.to_str().unwrap(), "hello");
    }
}
