//! Loading the backend plugins at first use.
//!
//! The core has no link-time dependency on SYCL, OpenCL, Level Zero or the
//! C++ runtime. On first use it loads every plugin it knows, in this order
//! (which is the order of their devices in the device list):
//!
//! 1. the SYCL plugin `libdpcore_sycl.so` — so that a device's position
//!    among the SYCL devices, its `kDLOneAPI` DLPack id, is the same as in
//!    dpctl and dpnp;
//! 2. the plugins named in `DPCORE_PLUGINS` (paths separated by `:`), in
//!    that order.
//!
//! A built-in plugin is looked for at the path in its variable
//! (`DPCORE_SYCL_PLUGIN`, and nowhere else when it is set), else in the
//! directory of the module that contains dpcore (`libdpcore.so`, or a
//! program that links dpcore statically), else in `../lib` relative to it.
//!
//! Whatever happens is recorded in a [`LoadReport`], per plugin: each path
//! tried with the `dlerror` text, the interface version check, and the
//! runtime found. A plugin that does not load takes nothing from the
//! others; when none loads dpcore still works and reports 0 devices.

use crate::export;
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use dpcore_backend_abi as abi;

use crate::error::{dpc_status, dpc_status::*, Error, Result};

/// File name of the SYCL plugin.
pub const SYCL_PLUGIN_NAME: &str = "libdpcore_sycl.so";
/// Environment variable naming the plugin's path.
pub const PLUGIN_ENV: &str = "DPCORE_SYCL_PLUGIN";
/// Environment variable naming more plugins to load after the built-in
/// ones (paths separated by `:`).
pub const EXTRA_PLUGINS_ENV: &str = "DPCORE_PLUGINS";
/// The name of the SYCL plugin in reports and device tags.
pub const SYCL: &str = "sycl";

/// A loaded plugin. Lives for the rest of the process (never unloaded:
/// SYCL runtimes do not support being unloaded and reloaded).
pub struct Backend {
    /// The plugin's name: `sycl` for the SYCL plugin, the file's stem
    /// without `libdpcore_` for others (`libdpcore_mock.so` → `mock`).
    pub name: String,
    pub table: &'static abi::BackendV1,
    pub path: PathBuf,
    pub runtime: abi::RuntimeInfoV1,
    /// The runtime libraries found for it, and how (`crate::runtime`).
    pub found: Vec<crate::runtime::Found>,
}

// `Backend` is Send + Sync without an `unsafe impl`: the table is a
// `&'static` of a struct of `u32`s and function pointers, the rest plain
// data. `REPORT` (a `static OnceLock<LoadReport>`) makes the compiler check
// it. That the table's functions may be called from any thread is the
// backend interface's convention, relied on where they are called.

/// One place the loader looked.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub path: PathBuf,
    /// `None` when this attempt succeeded.
    pub error: Option<String>,
}

/// What happened when one plugin was looked for.
pub struct PluginLoad {
    /// The plugin's name (see [`Backend::name`]).
    pub name: String,
    pub attempts: Vec<Attempt>,
    pub backend: std::result::Result<Backend, Error>,
}

/// What happened when the plugins were looked for, in load order.
pub struct LoadReport {
    /// Where the core itself was found (the base of the search).
    pub core_path: Option<PathBuf>,
    pub plugins: Vec<PluginLoad>,
}

impl LoadReport {
    /// The SYCL plugin's record (always the first).
    pub fn sycl(&self) -> &PluginLoad {
        &self.plugins[0]
    }
}

static REPORT: OnceLock<LoadReport> = OnceLock::new();

thread_local! {
    static PLUGIN_ERROR: RefCell<Option<Error>> = const { RefCell::new(None) };
    static PLUGIN_BUILD_LOG: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// [`abi::HostV1::set_build_log`]: record a plugin's build log on this
/// thread.
///
/// # Safety
/// `log` is NULL or valid for reads of `len` bytes for the call (the
/// interface's contract for `set_build_log`).
unsafe extern "C" fn host_set_build_log(log: *const u8, len: usize) {
    let _ = std::panic::catch_unwind(|| {
        let text = if log.is_null() {
            String::new()
        } else {
            // SAFETY: `log` is non-NULL (checked above) and, by this
            // function's contract, valid for reads of `len` bytes, which
            // stay unchanged while the slice lives: it is copied at once
            // into an owned `String`.
            let bytes = unsafe { std::slice::from_raw_parts(log, len) };
            String::from_utf8_lossy(bytes).into_owned()
        };
        PLUGIN_BUILD_LOG.with(|p| *p.borrow_mut() = Some(text));
    });
}

/// [`abi::HostV1::set_error`]: record a plugin's failure on this thread,
/// for [`check`] to take.
///
/// # Safety
/// `msg` is NULL or valid for reads of `len` bytes for the call (the
/// interface's contract for `set_error`).
unsafe extern "C" fn host_set_error(status: i32, backend_code: i64, msg: *const u8, len: usize) {
    let _ = std::panic::catch_unwind(|| {
        let text = if msg.is_null() {
            String::from("(no message)")
        } else {
            // SAFETY: `msg` is non-NULL (checked above) and, by this
            // function's contract, valid for reads of `len` bytes; the
            // slice is copied at once into an owned `String`.
            let bytes = unsafe { std::slice::from_raw_parts(msg, len) };
            String::from_utf8_lossy(bytes).into_owned()
        };
        let st = dpc_status::from_code(status).unwrap_or(DPC_ERROR_BACKEND);
        PLUGIN_ERROR.with(|p| {
            *p.borrow_mut() = Some(Error::new(st, text).with_backend_code(backend_code));
        });
    });
}

/// [`abi::HostV1::log`]: route a plugin's log line to dpcore's logger.
///
/// # Safety
/// `msg` is NULL or valid for reads of `len` bytes for the call (the
/// interface's contract for `log`).
unsafe extern "C" fn host_log(level: i32, msg: *const u8, len: usize) {
    let _ = std::panic::catch_unwind(|| {
        if msg.is_null() {
            return;
        }
        // SAFETY: `msg` is non-NULL (checked above) and, by this function's
        // contract, valid for reads of `len` bytes for the call; `text`
        // and `line`, which borrow it, end before the function returns.
        let bytes = unsafe { std::slice::from_raw_parts(msg, len) };
        let text = String::from_utf8_lossy(bytes);
        let line = format!("sycl plugin: {text}");
        match level {
            0 => crate::log::error(&line),
            1 | 2 => crate::log::info(&line),
            _ => crate::log::debug(&line),
        }
    });
}

static HOST: abi::HostV1 = abi::HostV1 {
    abi_version: abi::BACKEND_ABI_VERSION,
    struct_size: std::mem::size_of::<abi::HostV1>() as u32,
    set_error: host_set_error,
    log: host_log,
    set_build_log: host_set_build_log,
};

/// Record `e` as the plugin's failure on this thread, as `set_error` does,
/// for [`check`] to take (an injected fault, `crate::faults`).
pub(crate) fn record_plugin_error(e: Error) {
    PLUGIN_BUILD_LOG.with(|p| *p.borrow_mut() = None);
    PLUGIN_ERROR.with(|p| *p.borrow_mut() = Some(e));
}

/// Turn a plugin status into a `Result`, taking the plugin's message.
pub fn check(status: i32, what: &str) -> Result<()> {
    if status == 0 {
        return Ok(());
    }
    let recorded = PLUGIN_ERROR.with(|p| p.borrow_mut().take());
    let log = PLUGIN_BUILD_LOG.with(|p| p.borrow_mut().take());
    let mut e = match recorded {
        Some(e) => e,
        None => Error::new(
            dpc_status::from_code(status).unwrap_or(DPC_ERROR_BACKEND),
            format!("{what}: the backend failed with status {status} and no message"),
        ),
    };
    e.build_log = log;
    Err(e)
}

fn dlerror_text() -> String {
    // SAFETY: dlerror takes no arguments; it reads and clears this thread's
    // dynamic-linker error state.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown dlopen error".into()
    } else {
        // SAFETY: a non-NULL `dlerror` result is a NUL-terminated string
        // that stays valid until the next `dlerror` call on this thread;
        // it is copied into an owned `String` before anything else runs.
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

/// The file that contains this code: `libdpcore.so`, or the executable
/// for a program that links dpcore statically.
pub fn core_module_path() -> Option<PathBuf> {
    // SAFETY: `Dl_info` is four raw pointers, for which all-zero bytes
    // (NULL) are valid values.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let addr = core_module_path as *const c_void;
    // SAFETY: dladdr only looks the address up (any value is allowed) and
    // writes `info`, a live local `Dl_info`.
    let ok = unsafe { libc::dladdr(addr, &mut info) };
    if ok != 0 && !info.dli_fname.is_null() {
        // SAFETY: dladdr succeeded and `dli_fname` is non-NULL (both
        // checked above): it is the NUL-terminated path of the object that
        // contains this function, owned by the dynamic linker while that
        // object is loaded, which it is while this code runs; it is copied
        // at once.
        let p = unsafe { CStr::from_ptr(info.dli_fname) }
            .to_string_lossy()
            .into_owned();
        let p = PathBuf::from(p);
        if let Ok(c) = std::fs::canonicalize(&p) {
            return Some(c);
        }
    }
    std::env::current_exe().ok()
}

fn candidates(core: Option<&Path>) -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os(PLUGIN_ENV) {
        if !p.is_empty() {
            return vec![PathBuf::from(p)];
        }
    }
    let mut v = Vec::new();
    if let Some(dir) = core.and_then(|c| c.parent()) {
        v.push(dir.join(SYCL_PLUGIN_NAME));
        if let Some(up) = dir.parent() {
            let lib = up.join("lib").join(SYCL_PLUGIN_NAME);
            if !v.contains(&lib) {
                v.push(lib);
            }
        }
    }
    v
}

fn try_load(
    name: &str,
    path: &Path,
    core_dir: Option<&Path>,
) -> std::result::Result<Backend, String> {
    if !path.exists() {
        return Err("no such file".into());
    }
    let found = crate::runtime::provide_for_plugin(path, core_dir)?;
    crate::runtime::point_opencl_loader(&found);
    let c = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| "path contains a NUL byte".to_string())?;
    // SAFETY: `c` is a NUL-terminated path that outlives the call. Loading
    // a shared object runs its initialisers; that is the point (a file
    // named as a dpcore plugin is trusted to be one, as any library on the
    // search path is). RTLD_NOW reports missing dependencies here, not
    // later.
    let lib = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if lib.is_null() {
        return Err(format!("dlopen failed: {}", dlerror_text()));
    }
    // `name` is one of the `abi::SYM_*` constants (the only two calls
    // below), which end with their NUL.
    let sym = |name: &[u8]| -> std::result::Result<*mut c_void, String> {
        debug_assert_eq!(name.last(), Some(&0));
        // SAFETY: `lib` is the non-NULL handle dlopen returned above,
        // never closed; `name` is NUL-terminated (see above) and outlives
        // the call.
        let p = unsafe { libc::dlsym(lib, name.as_ptr() as *const c_char) };
        if p.is_null() {
            Err(format!(
                "not a dpcore backend plugin: symbol `{}` missing ({})",
                String::from_utf8_lossy(&name[..name.len() - 1]),
                dlerror_text()
            ))
        } else {
            Ok(p)
        }
    };
    // SAFETY: `sym` returned a non-NULL address (it fails on NULL), so the
    // function pointer is non-NULL. A plugin exports `SYM_ABI_VERSION` as a
    // function of exactly `AbiVersionFn`'s signature: this one is the same
    // in every interface version, which is why it is read first.
    let version_fn: abi::AbiVersionFn = unsafe { std::mem::transmute(sym(abi::SYM_ABI_VERSION)?) };
    // SAFETY: `version_fn` is the plugin's version function (see above),
    // which takes nothing and may be called at any time; the plugin stays
    // loaded (never closed).
    let version = unsafe { version_fn() };
    if version != abi::BACKEND_ABI_VERSION {
        return Err(format!(
            "incompatible plugin: it implements backend interface version {version}, \
             this libdpcore needs version {}; use the plugin built with this libdpcore",
            abi::BACKEND_ABI_VERSION
        ));
    }
    // SAFETY: `sym` returned a non-NULL address; the plugin implements
    // interface version `BACKEND_ABI_VERSION` (checked above), in which
    // `SYM_INIT` is a function of exactly `InitFn`'s signature.
    let init: abi::InitFn = unsafe { std::mem::transmute(sym(abi::SYM_INIT)?) };
    let mut table: *const abi::BackendV1 = std::ptr::null();
    // SAFETY: `init` is the plugin's init function (see above). `&HOST` is
    // a `'static` host table of this interface version, valid for as long
    // as the plugin keeps it; `table` is a live local the plugin writes.
    let st = unsafe { init(&HOST, &mut table) };
    if let Err(e) = check(st, "plugin initialisation") {
        return Err(format!("plugin initialisation failed: {}", e.message));
    }
    if table.is_null() {
        return Err("plugin initialisation returned no table".into());
    }
    // SAFETY: `table` is non-NULL (checked above) and points to the
    // plugin's `BackendV1`, of this interface version (checked before
    // `init`, so its layout is this crate's), which the plugin keeps alive
    // and unchanged for the life of the process (it is never unloaded).
    let table: &'static abi::BackendV1 = unsafe { &*table };
    if table.abi_version != abi::BACKEND_ABI_VERSION
        || table.struct_size as usize != std::mem::size_of::<abi::BackendV1>()
    {
        return Err(format!(
            "incompatible plugin: its table has version {} and size {}, expected version {} and size {}",
            table.abi_version,
            table.struct_size,
            abi::BACKEND_ABI_VERSION,
            std::mem::size_of::<abi::BackendV1>()
        ));
    }
    let mut runtime = abi::RuntimeInfoV1::zeroed();
    // SAFETY: `table` is the plugin's checked table (version and size
    // above); `runtime` is a live local record the plugin fills.
    let st = unsafe { crate::faults::table_call!(table, runtime_info(&mut runtime)) };
    if let Err(e) = check(st, "runtime_info") {
        return Err(format!(
            "the plugin loaded but its runtime failed: {}",
            e.message
        ));
    }
    Ok(Backend {
        name: name.to_string(),
        table,
        path: path.to_path_buf(),
        runtime,
        found,
    })
}

/// Try `paths` in order for plugin `name`; the first that loads wins.
fn load_plugin(name: &str, paths: Vec<PathBuf>, core_dir: Option<&Path>, what: &str) -> PluginLoad {
    let mut attempts = Vec::new();
    for p in paths {
        match try_load(name, &p, core_dir) {
            Ok(b) => {
                crate::log::info(&format!("loaded backend plugin {}", p.display()));
                attempts.push(Attempt {
                    path: p,
                    error: None,
                });
                return PluginLoad {
                    name: name.to_string(),
                    attempts,
                    backend: Ok(b),
                };
            }
            Err(e) => {
                crate::log::info(&format!("backend plugin {}: {e}", p.display()));
                attempts.push(Attempt {
                    path: p,
                    error: Some(e),
                });
            }
        }
    }
    let backend = Err(unavailable_error(what, &attempts));
    PluginLoad {
        name: name.to_string(),
        attempts,
        backend,
    }
}

/// The name of a plugin loaded from `path`: `libdpcore_mock.so` → `mock`.
fn plugin_name(path: &Path) -> String {
    let stem = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem.split(".so").next().unwrap_or(&stem);
    stem.strip_prefix("libdpcore_")
        .or_else(|| stem.strip_prefix("lib"))
        .unwrap_or(stem)
        .to_string()
}

fn load() -> LoadReport {
    let core_path = core_module_path();
    let core_dir = core_path.as_deref().and_then(|c| c.parent());
    let mut plugins = vec![load_plugin(
        SYCL,
        candidates(core_path.as_deref()),
        core_dir,
        "the SYCL backend plugin",
    )];
    let extra = std::env::var_os(EXTRA_PLUGINS_ENV).unwrap_or_default();
    for p in std::env::split_paths(&extra).filter(|p| !p.as_os_str().is_empty()) {
        let name = plugin_name(&p);
        let what = format!("the backend plugin {}", p.display());
        plugins.push(load_plugin(&name, vec![p], core_dir, &what));
    }
    LoadReport { core_path, plugins }
}

fn unavailable_error(what: &str, attempts: &[Attempt]) -> Error {
    let incompatible = attempts.iter().any(|a| {
        a.error
            .as_deref()
            .is_some_and(|e| e.starts_with("incompatible"))
    });
    let mut msg = format!("{what} could not be loaded");
    if attempts.is_empty() {
        msg.push_str(": no place to look for it (set DPCORE_SYCL_PLUGIN to its path)");
    }
    for a in attempts {
        msg.push_str(&format!(
            "; tried {}: {}",
            a.path.display(),
            a.error.as_deref().unwrap_or("ok")
        ));
    }
    msg.push_str(&format!(
        ". Put {SYCL_PLUGIN_NAME} next to libdpcore.so or set {PLUGIN_ENV} to its path; \
         `dpcore-info --diagnose` explains more"
    ));
    Error::new(
        if incompatible {
            DPC_ERROR_PLUGIN_INCOMPATIBLE
        } else {
            DPC_ERROR_BACKEND_UNAVAILABLE
        },
        msg,
    )
}

/// Whether the plugins were loaded (a runtime may have threads running).
pub(crate) fn was_loaded() -> bool {
    REPORT.get().is_some()
}

/// The load report, loading the plugin on first call.
pub fn report() -> &'static LoadReport {
    REPORT.get_or_init(|| {
        crate::error::init_once();
        load()
    })
}

/// The SYCL backend (the one that adopts `sycl::` objects), or why there
/// is none.
pub fn sycl() -> Result<&'static Backend> {
    report().sycl().backend.as_ref().map_err(|e| e.clone())
}

/// Every loaded backend, in load order.
pub fn loaded() -> impl Iterator<Item = &'static Backend> {
    report()
        .plugins
        .iter()
        .filter_map(|p| p.backend.as_ref().ok())
}

/// Ok when at least one backend is loaded, else why the SYCL one is not.
pub fn any() -> Result<()> {
    if loaded().next().is_some() {
        Ok(())
    } else {
        sycl().map(|_| ())
    }
}

/// Decode a fixed string field.
pub fn field(s: &[c_char]) -> String {
    String::from_utf8_lossy(abi::read_str(s)).into_owned()
}

// ---------------------------------------------------------------- exports

/// Load the backend plugins if that has not been tried yet and return the
/// outcome: `DPC_SUCCESS` when at least one plugin is loaded, otherwise
/// the status of the SYCL plugin's failure (`DPC_ERROR_BACKEND_UNAVAILABLE`
/// or `DPC_ERROR_PLUGIN_INCOMPATIBLE`), with the reason (every path tried
/// and the `dlerror` text) in the last-error message.
///
/// Loading happens once per process; later calls return the same outcome.
/// A failed load does not stop the rest of dpcore working: it then reports
/// 0 devices. Thread safety: any thread; concurrent first calls load once.
#[no_mangle]
pub extern "C" fn dpc_backend_load() -> dpc_status {
    export!(any)
}

/// The path of the loaded SYCL backend plugin.
///
/// Two-call pattern: `*size_out` receives the size needed (NUL included);
/// the path is copied when `buf` is non-NULL and `capacity` suffices.
/// Errors: `DPC_ERROR_NULL_POINTER` (`size_out`), `DPC_ERROR_BUFFER_TOO_SMALL`,
/// and the load failure (see `dpc_backend_load`) when no plugin is loaded.
/// Ownership: `buf` is the caller's. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_backend_get_plugin_path(
    buf: *mut c_char,
    capacity: usize,
    size_out: *mut usize,
) -> dpc_status {
    export!(|| {
        crate::strings::check_ptr("size_out", size_out)?;
        let b = sycl()?;
        // SAFETY: the export's contract is `buf` NULL or writable for
        // `capacity` bytes and `size_out` writable (checked non-NULL
        // above), `write_out_str`'s contract; the path is a fresh `String`
        // the caller's buffer cannot overlap.
        unsafe { crate::strings::write_out_str(&b.path.to_string_lossy(), buf, capacity, size_out) }
    })
}

/// A description of the runtime behind the loaded SYCL plugin, e.g.
/// `"Intel SYCL runtime libsycl.so.9 (...)"`.
///
/// Two-call pattern and errors as `dpc_backend_get_plugin_path`.
/// Ownership: `buf` is the caller's. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_backend_get_runtime(
    buf: *mut c_char,
    capacity: usize,
    size_out: *mut usize,
) -> dpc_status {
    export!(|| {
        crate::strings::check_ptr("size_out", size_out)?;
        let b = sycl()?;
        // SAFETY: as in `dpc_backend_get_plugin_path`: the export's contract
        // on `buf`/`capacity` and `size_out` is `write_out_str`'s; the text
        // is a fresh `String`.
        unsafe {
            crate::strings::write_out_str(&field(&b.runtime.runtime), buf, capacity, size_out)
        }
    })
}
