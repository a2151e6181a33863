//! The host's callbacks (`HostV1`), kept by `dpcore_backend_init`: the
//! plugin's errors (see [`crate::error::Failure`]), log lines and build logs
//! reach the host through them.

use std::sync::RwLock;

/// The host's callbacks, copied out of the `HostV1` given to init (the core
/// does not promise that struct outlives the call).
#[derive(Clone, Copy)]
pub(crate) struct Host {
    pub(crate) set_error:
        unsafe extern "C" fn(status: i32, backend_code: i64, msg: *const u8, len: usize),
    pub(crate) log: unsafe extern "C" fn(level: i32, msg: *const u8, len: usize),
    pub(crate) set_build_log: unsafe extern "C" fn(log: *const u8, len: usize),
}

/// Set by `dpcore_backend_init` (the latest call wins).
pub(crate) static HOST: RwLock<Option<Host>> = RwLock::new(None);

pub(crate) fn host() -> Option<Host> {
    match HOST.read() {
        Ok(guard) => *guard,
        Err(poisoned) => *poisoned.into_inner(),
    }
}

/// Log levels of [`HostV1::log`](dpcore_backend_abi::HostV1::log).
pub(crate) const LOG_WARNING: i32 = 1;
pub(crate) const LOG_DEBUG: i32 = 3;

pub(crate) fn log(level: i32, msg: &str) {
    if let Some(h) = host() {
        // SAFETY: the host promised a valid callback that copies `len`
        // bytes from `msg`.
        unsafe { (h.log)(level, msg.as_ptr(), msg.len()) }
    }
}

/// Record the build log of a failed build with the host (on this thread).
pub(crate) fn set_build_log(text: &[u8]) {
    if let Some(h) = host() {
        let text = String::from_utf8_lossy(text);
        // SAFETY: the host promised a valid callback that copies `len`
        // bytes from `log`.
        unsafe { (h.set_build_log)(text.as_ptr(), text.len()) }
    }
}
