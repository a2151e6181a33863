//! Diagnostics that never print unless asked: an optional logger callback
//! (`dpc_set_logger`) and the `DPCORE_LOG` environment variable
//! (`error`, `warn`, `info` or `debug`: lines at that level and above go
//! to standard error when no callback is set).

use crate::export;
use std::ffi::{c_char, c_void, CString};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::error::{dpc_status, Error};

/// Severity of a log line; lower is more severe.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[allow(non_camel_case_types)]
pub enum dpc_log_level {
    DPC_LOG_ERROR = 0,
    DPC_LOG_WARN = 1,
    DPC_LOG_INFO = 2,
    DPC_LOG_DEBUG = 3,
}

use dpc_log_level as Level;

/// Log at debug level.
pub fn debug(msg: &str) {
    log(Level::DPC_LOG_DEBUG, msg)
}

/// Log at error level.
pub fn error(msg: &str) {
    log(Level::DPC_LOG_ERROR, msg)
}

/// Log at info level.
pub fn info(msg: &str) {
    log(Level::DPC_LOG_INFO, msg)
}

/// A logger: receives the level, a NUL-terminated UTF-8 line (valid only
/// during the call) and the `user_data` given to `dpc_set_logger`. It may
/// be called from any thread, concurrently; it must not call back into
/// dpcore.
pub type dpc_logger_fn = Option<
    unsafe extern "C" fn(level: dpc_log_level, message: *const c_char, user_data: *mut c_void),
>;

struct Logger {
    f: unsafe extern "C" fn(dpc_log_level, *const c_char, *mut c_void),
    user_data: usize,
}

/// -1: nothing; otherwise the most verbose level that is emitted.
static THRESHOLD: AtomicI32 = AtomicI32::new(i32::MIN);
static LOGGER: Mutex<Option<Logger>> = Mutex::new(None);
static ENV_LEVEL: OnceLock<i32> = OnceLock::new();

fn env_level() -> i32 {
    *ENV_LEVEL.get_or_init(|| match std::env::var("DPCORE_LOG").as_deref() {
        Ok("error") => 0,
        Ok("warn") | Ok("warning") => 1,
        Ok("info") => 2,
        Ok("debug") | Ok("1") => 3,
        _ => -1,
    })
}

fn threshold() -> i32 {
    let t = THRESHOLD.load(Ordering::Relaxed);
    if t != i32::MIN {
        return t;
    }
    let t = env_level();
    THRESHOLD.store(t, Ordering::Relaxed);
    t
}

/// Emit a line if the logger or `DPCORE_LOG` asks for this level.
pub fn log(level: dpc_log_level, msg: &str) {
    if (level as i32) > threshold() {
        return;
    }
    let guard = match LOGGER.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if let Some(l) = guard.as_ref() {
        let line = CString::new(msg.replace('\0', " ")).unwrap_or_default();
        // SAFETY: `dpc_set_logger`'s contract: `l.f` is a valid callback
        // that may be called from any thread, and `user_data` is passed back
        // untouched. `line` is a NUL-terminated string that lives until the
        // end of this statement, the whole of the call (the callback may
        // only read it during the call, `dpc_logger_fn`'s contract).
        unsafe { (l.f)(level, line.as_ptr(), l.user_data as *mut c_void) };
    } else {
        let tag = match level {
            Level::DPC_LOG_ERROR => "error",
            Level::DPC_LOG_WARN => "warn",
            Level::DPC_LOG_INFO => "info",
            Level::DPC_LOG_DEBUG => "debug",
        };
        eprintln!("[dpcore {tag}] {msg}");
    }
}

/// Install (or, with `callback` NULL, remove) the logger.
///
/// Lines of `max_level` and more severe are passed to `callback`; when no
/// callback is set, lines go to standard error only if the environment
/// variable `DPCORE_LOG` asks for them. With no logger and no `DPCORE_LOG`
/// dpcore prints nothing.
///
/// Errors: `DPC_ERROR_INVALID_ARGUMENT` when `max_level` is not a
/// `dpc_log_level`. Ownership: `user_data` is passed back untouched and
/// never freed. Thread safety: any thread; the logger is process-wide.
#[no_mangle]
pub extern "C" fn dpc_set_logger(
    callback: dpc_logger_fn,
    user_data: *mut c_void,
    max_level: i32,
) -> dpc_status {
    export!(|| {
        if !(0..=3).contains(&max_level) {
            return Err(Error::invalid_arg(format!(
                "dpc_set_logger: max_level {max_level} is not a dpc_log_level (0 = DPC_LOG_ERROR … 3 = DPC_LOG_DEBUG)"
            )));
        }
        let mut g = match LOGGER.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match callback {
            Some(f) => {
                *g = Some(Logger {
                    f,
                    user_data: user_data as usize,
                });
                THRESHOLD.store(max_level, Ordering::Relaxed);
            }
            None => {
                *g = None;
                THRESHOLD.store(env_level(), Ordering::Relaxed);
            }
        }
        Ok(())
    })
}
