//! Finding the runtime a backend plugin needs (`libsycl.so.N` for the SYCL
//! plugin) the way its users have it, so that an installed dpcore works
//! from its prefix alone: the plugin carries no RUNPATH into a build tree.
//!
//! Before the plugin is opened, each `libsycl.so.N` it names in its ELF
//! `DT_NEEDED` entries is made available, in this order:
//!
//! 1. already loaded in the process (a Python program that imported dpctl
//!    or dpnp first, a program linked with `-lsycl`);
//! 2. `DPCORE_SYCL_RUNTIME`: the library's path, or the directory holding it;
//! 3. the dynamic loader's own search: `LD_LIBRARY_PATH`, `ld.so.conf`;
//! 4. the active Python environment: `$VIRTUAL_ENV/lib`, `$CONDA_PREFIX/lib`,
//!    and the `sys.prefix` the dpcore Python package passes in
//!    `DPCORE_PYTHON_PREFIX`;
//! 5. a oneAPI installation: `$CMPLR_ROOT/lib`, `$ONEAPI_ROOT/compiler/latest/lib`,
//!    `/opt/intel/oneapi/compiler/latest/lib`;
//! 6. the Python environment `libdpcore.so` is installed in (a wheel's
//!    `<env>/lib/pythonX.Y/site-packages/dpcore/lib` gives `<env>/lib`),
//!    beside `libdpcore.so`, and in its `../lib` (a prefix that ships the
//!    runtime with dpcore).
//!
//! A library found in 4–6 is opened by path with `RTLD_GLOBAL`, so the
//! plugin's `DT_NEEDED` entry resolves to it by its SONAME. What was found,
//! where and how, goes to the load report and `dpcore-info --diagnose`.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

/// Environment variable naming the SYCL runtime library or its directory.
pub const RUNTIME_ENV: &str = "DPCORE_SYCL_RUNTIME";

/// One runtime library made available for a plugin.
#[derive(Debug, Clone)]
pub struct Found {
    pub soname: String,
    /// The file, when it could be told.
    pub path: Option<PathBuf>,
    /// How it was found, for people.
    pub how: String,
}

fn le_u16(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn le_u32(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn le_u64(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

/// The `DT_NEEDED` names of a 64-bit little-endian ELF file (None when the
/// bytes are not one, or are malformed).
pub fn needed(elf: &[u8]) -> Option<Vec<String>> {
    if elf.get(0..4)? != b"\x7fELF" || *elf.get(4)? != 2 || *elf.get(5)? != 1 {
        return None;
    }
    let phoff = le_u64(elf, 0x20)? as usize;
    let phentsize = le_u16(elf, 0x36)? as usize;
    let phnum = le_u16(elf, 0x38)? as usize;
    let mut loads = Vec::new();
    let mut dynamic = None;
    for i in 0..phnum {
        let h = phoff.checked_add(i.checked_mul(phentsize)?)?;
        let p_type = le_u32(elf, h)?;
        let (off, vaddr, filesz) = (
            le_u64(elf, h + 8)?,
            le_u64(elf, h + 16)?,
            le_u64(elf, h + 32)?,
        );
        match p_type {
            1 => loads.push((off, vaddr, filesz)),
            2 => dynamic = Some((off as usize, filesz as usize)),
            _ => {}
        }
    }
    let (doff, dsize) = dynamic?;
    let mut names = Vec::new();
    let mut strtab = None;
    let mut k = 0;
    while k + 16 <= dsize {
        let tag = le_u64(elf, doff + k)?;
        let val = le_u64(elf, doff + k + 8)?;
        match tag {
            0 => break,
            1 => names.push(val),
            5 => strtab = Some(val),
            _ => {}
        }
        k += 16;
    }
    let strtab = strtab?;
    let (off, vaddr, _) = loads
        .iter()
        .copied()
        .find(|(_, v, n)| strtab >= *v && strtab < v + n)?;
    let base = (off + (strtab - vaddr)) as usize;
    names
        .into_iter()
        .map(|o| {
            let s = elf.get(base.checked_add(o as usize)?..)?;
            let end = s.iter().position(|c| *c == 0)?;
            Some(String::from_utf8_lossy(&s[..end]).into_owned())
        })
        .collect()
}

/// The file the process has mapped for `soname`, from /proc/self/maps.
fn mapped_path(soname: &str) -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| Path::new(p).file_name().is_some_and(|f| f == soname))
        .map(PathBuf::from)
}

fn dlopen(name: &str, flags: i32) -> bool {
    let Ok(c) = CString::new(name) else {
        return false;
    };
    // SAFETY: opening a shared library runs its initialisers, which is
    // what loading the runtime means; the handle is kept for the life of
    // the process (never closed).
    !unsafe { libc::dlopen(c.as_ptr(), flags) }.is_null()
}

fn dlerror_text() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated thread-local string.
    unsafe {
        let e = libc::dlerror();
        if e.is_null() {
            String::new()
        } else {
            CStr::from_ptr(e).to_string_lossy().into_owned()
        }
    }
}

/// The places of steps 4–6, each with the words the report uses.
fn directories(core_dir: Option<&Path>) -> Vec<(PathBuf, String)> {
    let mut v: Vec<(PathBuf, String)> = Vec::new();
    let env_dir = |var: &str, sub: &str| {
        std::env::var_os(var)
            .filter(|s| !s.is_empty())
            .map(|s| (PathBuf::from(s).join(sub), format!("${var}/{sub}")))
    };
    v.extend(env_dir("VIRTUAL_ENV", "lib"));
    v.extend(env_dir("CONDA_PREFIX", "lib"));
    v.extend(env_dir("DPCORE_PYTHON_PREFIX", "lib"));
    v.extend(env_dir("CMPLR_ROOT", "lib"));
    v.extend(env_dir("ONEAPI_ROOT", "compiler/latest/lib"));
    v.push((
        PathBuf::from("/opt/intel/oneapi/compiler/latest/lib"),
        "the default oneAPI installation".into(),
    ));
    if let Some(env_lib) = core_dir.and_then(python_env_lib) {
        v.push((
            env_lib,
            "the Python environment libdpcore.so is installed in".into(),
        ));
    }
    if let Some(d) = core_dir {
        v.push((d.to_path_buf(), "beside libdpcore.so".into()));
        if let Some(up) = d.parent() {
            v.push((up.join("lib"), "in libdpcore.so's ../lib".into()));
        }
    }
    v
}

/// `<env>/lib` when `core_dir` lies in a Python environment's
/// `<env>/lib/pythonX.Y/site-packages/...` (a wheel's
/// `site-packages/dpcore/lib`): where pip puts intel-sycl-rt's libraries.
fn python_env_lib(core_dir: &Path) -> Option<PathBuf> {
    let site = core_dir
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "site-packages"))?;
    let py = site.parent()?;
    let lib = py.parent()?;
    let is_py = py
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("python"));
    // (a platlib in lib64/ still has pip's data files, the runtime's
    // libraries, in <env>/lib)
    let is_lib = lib.file_name().is_some_and(|n| n == "lib" || n == "lib64");
    (is_py && is_lib).then(|| lib.parent().map(|env| env.join("lib")))?
}

/// Make `soname` loadable for the plugin about to be opened.
pub fn provide(soname: &str, core_dir: Option<&Path>) -> Result<Found, String> {
    let found = |path: Option<PathBuf>, how: String| Found {
        soname: soname.to_string(),
        path,
        how,
    };
    if dlopen(soname, libc::RTLD_NOW | libc::RTLD_NOLOAD) {
        return Ok(found(
            mapped_path(soname),
            "already loaded in the process".into(),
        ));
    }
    let mut tried = Vec::new();
    if let Some(v) = std::env::var_os(RUNTIME_ENV).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(v);
        let file = if p.is_dir() { p.join(soname) } else { p };
        if dlopen(&file.to_string_lossy(), libc::RTLD_NOW | libc::RTLD_GLOBAL) {
            return Ok(found(Some(file), RUNTIME_ENV.to_string()));
        }
        // Named explicitly: do not look anywhere else.
        return Err(format!(
            "{RUNTIME_ENV} names {} but it cannot be loaded: {}",
            file.display(),
            dlerror_text()
        ));
    }
    if dlopen(soname, libc::RTLD_NOW | libc::RTLD_GLOBAL) {
        let path = mapped_path(soname);
        let in_ld_path = path.as_ref().and_then(|p| p.parent()).is_some_and(|dir| {
            std::env::var("LD_LIBRARY_PATH")
                .unwrap_or_default()
                .split(':')
                .any(|d| !d.is_empty() && Path::new(d).canonicalize().ok().as_deref() == Some(dir))
        });
        let how = if in_ld_path {
            "LD_LIBRARY_PATH"
        } else {
            "the dynamic loader's search (ld.so.conf or a RUNPATH)"
        };
        return Ok(found(path, how.into()));
    }
    tried.push("LD_LIBRARY_PATH and ld.so.conf".to_string());
    for (dir, how) in directories(core_dir) {
        let file = dir.join(soname);
        if !file.exists() {
            tried.push(format!("{} ({how})", dir.display()));
            continue;
        }
        if dlopen(&file.to_string_lossy(), libc::RTLD_NOW | libc::RTLD_GLOBAL) {
            return Ok(found(Some(file), how));
        }
        tried.push(format!("{} ({how}): {}", file.display(), dlerror_text()));
    }
    Err(format!(
        "{soname} (the SYCL runtime) was not found; looked in: {}. Install it (`pip install \
         intel-sycl-rt` in the Python environment you run from, or a oneAPI compiler), then \
         activate that environment, add its lib directory to LD_LIBRARY_PATH, or set {RUNTIME_ENV}",
        tried.join("; ")
    ))
}

/// Provide every `libsycl.so*` the plugin at `plugin` needs.
pub fn provide_for_plugin(plugin: &Path, core_dir: Option<&Path>) -> Result<Vec<Found>, String> {
    let bytes = std::fs::read(plugin).map_err(|e| format!("cannot read: {e}"))?;
    let names = needed(&bytes).ok_or("not a 64-bit little-endian ELF shared object")?;
    names
        .iter()
        .filter(|n| n.starts_with("libsycl.so"))
        .map(|n| provide(n, core_dir))
        .collect()
}

/// What `point_opencl_loader` set, for the report: the value given to
/// `OCL_ICD_FILENAMES`, and why.
static OPENCL_LOADER: std::sync::OnceLock<Option<(String, String)>> = std::sync::OnceLock::new();

/// The ICD libraries the system registers (`/etc/OpenCL/vendors/*.icd`, or
/// `OCL_ICD_VENDORS`), each file's one line.
fn registered_icds() -> Vec<String> {
    let dir = std::env::var_os("OCL_ICD_VENDORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/OpenCL/vendors"));
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "icd"))
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty() && (!l.starts_with('/') || Path::new(l).exists()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Point the OpenCL ICD loader at Intel's OpenCL CPU runtime of the
/// environment the SYCL runtime was found in, when the user has not said
/// where ICDs are. The `intel-opencl-rt` wheel's ICD file names a
/// placeholder path and the loader reads only `/etc/OpenCL/vendors`, so
/// without this a pip-installed stack sees no OpenCL platform (dpctl's and
/// dpnp's users set `OCL_ICD_FILENAMES` by hand). Nothing is done when
/// `OCL_ICD_FILENAMES` or `OCL_ICD_VENDORS` is set, or when the
/// environment has no `libintelocl.so` (a SYCL runtime loaded before dpcore
/// that has already listed its platforms keeps what it found); the ICDs the system registers are
/// kept in the list. Called once, before the plugin (and with it the SYCL
/// runtime and the OpenCL loader) is loaded; `setenv` then races only with
/// other threads reading the environment at that moment, which the
/// process's first device call does not expect. Returns what it set.
pub fn point_opencl_loader(found: &[Found]) -> Option<(String, String)> {
    OPENCL_LOADER
        .get_or_init(|| {
            let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
            if set("OCL_ICD_FILENAMES") || set("OCL_ICD_VENDORS") {
                return None;
            }
            // (also when the runtime was loaded before dpcore: it reads the
            // variable when it first lists platforms, not when it loads)
            let dir = found.iter().find_map(|f| f.path.as_ref()?.parent())?;
            let cpu = dir.join("libintelocl.so");
            if !cpu.exists() {
                return None;
            }
            let cpu = cpu.to_string_lossy().into_owned();
            let mut list = vec![cpu.clone()];
            list.extend(registered_icds().into_iter().filter(|l| *l != cpu));
            let value = list.join(":");
            std::env::set_var("OCL_ICD_FILENAMES", &value);
            Some((
                value,
                format!(
                    "Intel's OpenCL CPU runtime beside the SYCL runtime in {} (OCL_ICD_FILENAMES and \
                     OCL_ICD_VENDORS were unset)",
                    dir.display()
                ),
            ))
        })
        .clone()
}

/// What `point_opencl_loader` set, if it ran and set anything.
pub fn opencl_loader_setting() -> Option<(String, String)> {
    OPENCL_LOADER.get().cloned().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(
        miri,
        ignore = "reads the test binary from disk, which Miri's isolation forbids"
    )]
    fn reads_the_needed_entries_of_this_test_binary() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let names = needed(&exe).expect("an ELF file");
        assert!(names.iter().any(|n| n.starts_with("libc.so")), "{names:?}");
    }

    #[test]
    fn a_wheel_finds_its_environments_lib() {
        let p = Path::new("/e/venv/lib/python3.12/site-packages/dpcore/lib");
        assert_eq!(python_env_lib(p), Some(PathBuf::from("/e/venv/lib")));
        assert_eq!(python_env_lib(Path::new("/opt/dpcore/lib")), None);
        assert_eq!(
            python_env_lib(Path::new("/x/site-packages/dpcore/lib")),
            None
        );
        assert_eq!(
            python_env_lib(Path::new("/x/lib64/python3.12/site-packages/dpcore/lib")),
            Some(PathBuf::from("/x/lib"))
        );
    }

    #[test]
    fn rejects_what_is_not_elf() {
        assert!(needed(b"not an elf file at all").is_none());
        assert!(needed(b"\x7fELF\x02\x01").is_none());
        assert!(needed(&[]).is_none());
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls dlopen, a foreign function Miri cannot run")]
    fn a_missing_runtime_names_every_place_tried() {
        let e = provide(
            "libdpcore-no-such-runtime.so.77",
            Some(Path::new("/nonexistent/lib")),
        )
        .unwrap_err();
        assert!(e.contains("LD_LIBRARY_PATH"), "{e}");
        assert!(e.contains("/nonexistent/lib"), "{e}");
        assert!(e.contains(RUNTIME_ENV), "{e}");
    }
}
