//! A plain-text account of how dpcore found (or failed to find) its
//! backend and devices, with advice (`dpc_diagnostics`, and
//! `dpcore-info --diagnose`).

use crate::export;
use std::ffi::{c_char, CString};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::backend::{self, field};
use crate::device;
use crate::error::dpc_status;
use crate::strings::{check_ptr, write_out_str};

/// Environment variables that change what the runtime sees.
pub const ENV_VARS: &[&str] = &[
    "DPCORE_SYCL_PLUGIN",
    "DPCORE_PLUGINS",
    "DPCORE_LOG",
    "DPCORE_BUNDLE_CACHE",
    "DPCORE_SYCL_RUNTIME",
    "DPCORE_PYTHON_PREFIX",
    "DPCORE_LEAK_CHECK",
    "DPCORE_FAULTS",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CMPLR_ROOT",
    "ONEAPI_ROOT",
    "ONEAPI_DEVICE_SELECTOR",
    "SYCL_DEVICE_FILTER",
    "SYCL_UR_TRACE",
    "SYCL_CACHE_PERSISTENT",
    "OCL_ICD_FILENAMES",
    "OCL_ICD_VENDORS",
    "ZE_FLAT_DEVICE_HIERARCHY",
    "ZE_AFFINITY_MASK",
    "LD_LIBRARY_PATH",
];

fn env_lines(out: &mut String) {
    let _ = writeln!(out, "environment:");
    let mut names: Vec<String> = ENV_VARS.iter().map(|s| s.to_string()).collect();
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if (k.starts_with("SYCL_") || k.starts_with("UR_")) && !names.contains(&k) {
            names.push(k);
        }
    }
    for n in names {
        match std::env::var_os(&n) {
            Some(v) => {
                let _ = writeln!(out, "  {n}={}", v.to_string_lossy());
            }
            None => {
                let _ = writeln!(out, "  {n} (not set)");
            }
        }
    }
}

/// Try to load a library by name and unload it again.
fn probe_library(name: &str) -> Result<(), String> {
    let c = CString::new(name).map_err(|_| "bad name".to_string())?;
    // SAFETY: `c` is a NUL-terminated name that outlives the call. Loading
    // a system library (the names probed are the OpenCL ICD and Level Zero
    // loaders) runs its initialisers, as any program linking it would.
    let h = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_LAZY | libc::RTLD_LOCAL) };
    if h.is_null() {
        // SAFETY: dlerror takes no arguments; it reads and clears this
        // thread's dynamic-linker error state.
        let e = unsafe { libc::dlerror() };
        return Err(if e.is_null() {
            "not found".into()
        } else {
            // SAFETY: a non-NULL `dlerror` result is a NUL-terminated string
            // valid until the next `dlerror` call on this thread; it is
            // copied at once.
            unsafe { std::ffi::CStr::from_ptr(e) }
                .to_string_lossy()
                .into_owned()
        });
    }
    // SAFETY: `h` is the non-NULL handle dlopen returned above, closed once,
    // here; nothing loaded through it is used afterwards.
    unsafe { libc::dlclose(h) };
    Ok(())
}

/// What the OpenCL ICD loader will read, and whether it points anywhere.
fn opencl_icd(out: &mut String) -> Vec<String> {
    let mut advice = Vec::new();
    let _ = writeln!(out, "OpenCL ICD loader:");
    match probe_library("libOpenCL.so.1") {
        Ok(()) => {
            let _ = writeln!(out, "  libOpenCL.so.1: loadable");
        }
        Err(e) => {
            let _ = writeln!(out, "  libOpenCL.so.1: NOT loadable ({e})");
        }
    }
    if let Some((value, why)) = crate::runtime::opencl_loader_setting() {
        let _ = writeln!(out, "  OCL_ICD_FILENAMES set by dpcore to {value}: {why}");
    }
    if let Some(v) = std::env::var_os("OCL_ICD_FILENAMES") {
        for f in std::env::split_paths(&v) {
            let ok = f.exists();
            let _ = writeln!(
                out,
                "  OCL_ICD_FILENAMES entry {}: {}",
                f.display(),
                if ok { "exists" } else { "MISSING" }
            );
            if !ok {
                advice.push(format!(
                    "OCL_ICD_FILENAMES names {}, which does not exist",
                    f.display()
                ));
            }
        }
        return advice;
    }
    let dir = std::env::var_os("OCL_ICD_VENDORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/OpenCL/vendors"));
    let mut any_good = false;
    match std::fs::read_dir(&dir) {
        Ok(rd) => {
            for e in rd.flatten() {
                let p = e.path();
                if p.extension().and_then(|x| x.to_str()) != Some("icd") {
                    continue;
                }
                let lib = std::fs::read_to_string(&p)
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                let good = !lib.is_empty() && (!lib.starts_with('/') || Path::new(&lib).exists());
                any_good |= good;
                let _ = writeln!(
                    out,
                    "  {} -> {lib} ({})",
                    p.display(),
                    if good { "ok" } else { "target missing" }
                );
            }
        }
        Err(_) => {
            let _ = writeln!(out, "  {}: no such directory", dir.display());
        }
    }
    if !any_good {
        advice.push(
            "no OpenCL ICD points at an existing library: for Intel's OpenCL CPU runtime from \
             PyPI (intel-opencl-rt) set OCL_ICD_FILENAMES=<venv>/lib/libintelocl.so \
             (`source scripts/env.sh` does this for the project's venv)"
                .into(),
        );
    }
    advice
}

/// One plugin's part of the report: where it was looked for, what loaded,
/// the runtime behind it and how that was found; advice when it failed.
fn plugin_lines(out: &mut String, pl: &backend::PluginLoad, advice: &mut Vec<String>) {
    let _ = writeln!(out, "backend plugin `{}` search:", pl.name);
    if pl.attempts.is_empty() {
        let _ = writeln!(
            out,
            "  (nowhere to look: the core's own path is unknown and {} is not set)",
            backend::PLUGIN_ENV
        );
    }
    for a in &pl.attempts {
        let _ = writeln!(
            out,
            "  {}: {}",
            a.path.display(),
            match &a.error {
                None => "loaded".to_string(),
                Some(e) => e.clone(),
            }
        );
    }
    let what = if pl.name == backend::SYCL {
        "SYCL runtime".to_string()
    } else {
        format!("runtime of `{}`", pl.name)
    };
    match &pl.backend {
        Ok(b) => {
            let _ = writeln!(out, "{what}: {}", field(&b.runtime.runtime));
            let rp = field(&b.runtime.runtime_path);
            if !rp.is_empty() {
                let _ = writeln!(out, "  loaded from {rp}");
            }
            for f in &b.found {
                let _ = writeln!(
                    out,
                    "  {} found through {}{}",
                    f.soname,
                    f.how,
                    f.path
                        .as_ref()
                        .map(|p| format!(" ({})", p.display()))
                        .unwrap_or_default()
                );
            }
            if pl.name == backend::SYCL {
                let _ = writeln!(
                    out,
                    "  built for libsycl.so.{}; {} platform(s)",
                    b.runtime.runtime_abi_major, b.runtime.n_platforms
                );
            } else {
                let _ = writeln!(out, "  {} platform(s)", b.runtime.n_platforms);
            }
        }
        Err(e) => {
            let _ = writeln!(out, "{what}: not loaded ({})", e.status.name());
            if pl
                .attempts
                .iter()
                .all(|a| a.error.as_deref() == Some("no such file"))
            {
                advice.push(if pl.name == backend::SYCL {
                    format!(
                        "the plugin {} is missing: build it (`cargo build --release` builds it next to \
                         libdpcore.so) or set {} to its path",
                        backend::SYCL_PLUGIN_NAME,
                        backend::PLUGIN_ENV
                    )
                } else {
                    format!("the plugin `{}` named in {} does not exist", pl.name, backend::EXTRA_PLUGINS_ENV)
                });
            } else if pl
                .attempts
                .iter()
                .any(|a| a.error.as_deref().is_some_and(|e| e.contains("libsycl")))
            {
                advice.push(format!(
                    "the plugin was found but the SYCL runtime it needs (libsycl.so) was not: \
                     activate the Python environment that has intel-sycl-rt, add the runtime's lib \
                     directory to LD_LIBRARY_PATH, or set {} to it",
                    crate::runtime::RUNTIME_ENV
                ));
            } else {
                advice.push(e.message.clone());
            }
        }
    }
}

/// The full report.
pub fn report() -> String {
    let mut out = String::new();
    let r = backend::report();
    let _ = writeln!(out, "dpcore {}", env!("CARGO_PKG_VERSION"));
    if let Some(p) = &r.core_path {
        let _ = writeln!(out, "core: {}", p.display());
    }
    let mut advice: Vec<String> = Vec::new();
    for pl in &r.plugins {
        plugin_lines(&mut out, pl, &mut advice);
    }
    let _ = writeln!(out, "Level Zero loader:");
    match probe_library("libze_loader.so.1") {
        Ok(()) => {
            let _ = writeln!(out, "  libze_loader.so.1: loadable");
        }
        Err(e) => {
            let _ = writeln!(
                out,
                "  libze_loader.so.1: not loadable ({e}); Intel GPUs need it and their driver"
            );
        }
    }
    let icd_advice = opencl_icd(&mut out);
    env_lines(&mut out);
    let _ = writeln!(out, "fault injection:");
    out.push_str(&crate::faults::describe());
    let reg = device::registry();
    let _ = writeln!(out, "devices: {}", reg.devices.len());
    for d in &reg.devices {
        let _ = writeln!(out, "  {}", d.describe());
    }
    if reg.devices.is_empty() {
        if r.sycl().backend.is_ok() {
            advice.extend(icd_advice);
            if std::env::var_os("ONEAPI_DEVICE_SELECTOR").is_some() {
                advice.push("ONEAPI_DEVICE_SELECTOR is set and may hide every device: unset it to see them all".into());
            }
            advice.push(
                "no GPU driver is visible: Intel GPUs need the Level Zero loader and the GPU driver installed".into(),
            );
        }
        let _ = writeln!(out, "why there are no devices, and what to do:");
        for a in &advice {
            let _ = writeln!(out, "  - {a}");
        }
    } else if !advice.is_empty() {
        let _ = writeln!(out, "notes:");
        for a in &advice {
            let _ = writeln!(out, "  - {a}");
        }
    }
    out
}

/// A multi-line, human-readable report: where the backend plugin was
/// looked for and what happened (with `dlerror` text), the SYCL runtime
/// found, the OpenCL ICD and Level Zero loader status, the environment
/// variables in effect, the devices, and for 0 devices the likely reason
/// and what to do.
///
/// Two-call pattern: `*size_out` receives the size needed (NUL
/// included); the text is copied when `buf` is non-NULL and `capacity`
/// suffices. The text can differ between calls (environment changes), so
/// allow some slack in the second call's buffer.
/// Errors: `DPC_ERROR_NULL_POINTER` (`size_out`), `DPC_ERROR_BUFFER_TOO_SMALL`.
/// Ownership: `buf` is the caller's. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn dpc_diagnostics(
    buf: *mut c_char,
    capacity: usize,
    size_out: *mut usize,
) -> dpc_status {
    export!(|| {
        check_ptr("size_out", size_out)?;
        let text = report();
        // SAFETY: the export's contract is `buf` NULL or writable for
        // `capacity` bytes and `size_out` writable (checked non-NULL
        // above), `write_out_str`'s contract; `text` is a fresh `String` the
        // caller's buffer cannot overlap.
        unsafe { write_out_str(&text, buf, capacity, size_out) }
    })
}
