//! Build script of `dpcore-sycl`: finds a SYCL runtime, compiles the C++
//! half of the plugin against it with `cxx_build` and links `libsycl`.
//!
//! SYCL is looked for, in this order, in
//! 1. `$SYCL_ROOT`,
//! 2. `$CMPLR_ROOT` (set by oneAPI's `setvars.sh`),
//! 3. the installation of an `icpx` found on `PATH` (`dirname(dirname(icpx))`),
//! 4. the workspace's Python venv, `<crate>/../.venv` (what `make setup`
//!    installs from PyPI).
//!
//! A root is usable when it has `include/sycl/sycl.hpp` and
//! `lib/libsycl.so`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// The plugin's `#[cxx::bridge]` modules, one per concept.
const BRIDGES: &[&str] = &[
    "src/error.rs",
    "src/platform.rs",
    "src/device.rs",
    "src/context.rs",
    "src/queue.rs",
    "src/event.rs",
    "src/enqueue.rs",
    "src/usm.rs",
    "src/native_handle.rs",
    "src/kernel.rs",
];

/// The C++ half of the plugin: one source file per bridge (`common.cpp` for
/// `error.rs` and what every part shares).
const CXX_SOURCES: &[&str] = &[
    "src/bridge/common.cpp",
    "src/bridge/platform.cpp",
    "src/bridge/device.cpp",
    "src/bridge/context.cpp",
    "src/bridge/queue.cpp",
    "src/bridge/event.cpp",
    "src/bridge/enqueue.cpp",
    "src/bridge/usm.cpp",
    "src/bridge/native_handle.cpp",
    "src/bridge/kernel.cpp",
];

/// Their headers.
const CXX_HEADERS: &[&str] = &[
    "src/bridge/common.h",
    "src/bridge/platform.h",
    "src/bridge/device.h",
    "src/bridge/context.h",
    "src/bridge/queue.h",
    "src/bridge/event.h",
    "src/bridge/enqueue.h",
    "src/bridge/usm.h",
    "src/bridge/native_handle.h",
    "src/bridge/kernel.h",
];

/// The test-only helpers (see `src/test_support.rs`): their bridge, C++
/// source and header.
const TEST_BRIDGE: &str = "src/test_support.rs";
const TEST_SOURCE: &str = "src/test_support.cpp";
const TEST_HEADER: &str = "src/test_support.h";

/// One place where SYCL may be installed, and how it was found.
struct Candidate {
    /// Where the root comes from, for messages.
    origin: String,
    /// `None` when that source gives nothing (variable unset, no `icpx`).
    root: Option<PathBuf>,
    /// Whether the user named this root explicitly (an environment variable).
    explicit: bool,
}

fn main() {
    println!("cargo:rerun-if-env-changed=SYCL_ROOT");
    println!("cargo:rerun-if-env-changed=CMPLR_ROOT");
    for src in BRIDGES
        .iter()
        .chain(CXX_SOURCES)
        .chain(CXX_HEADERS)
        .chain(&[TEST_BRIDGE, TEST_SOURCE, TEST_HEADER])
    {
        println!("cargo:rerun-if-changed={src}");
    }

    let manifest_dir = PathBuf::from(
        env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set by cargo"),
    );
    let mut tried = Vec::new();
    let mut found = None;
    for c in candidates(&manifest_dir) {
        let Some(root) = &c.root else {
            tried.push(format!("  - {}", c.origin));
            continue;
        };
        match check_root(root) {
            Ok(()) => {
                found = Some(c);
                break;
            }
            Err(why) => {
                if c.explicit {
                    println!(
                        "cargo:warning=dpcore-sycl: {} = {} is not a usable SYCL root: {why}",
                        c.origin,
                        root.display()
                    );
                }
                tried.push(format!("  - {} = {}: {why}", c.origin, root.display()));
            }
        }
    }
    let Some(Candidate {
        root: Some(root), ..
    }) = found
    else {
        panic!(
            "\n\ndpcore-sycl: no SYCL runtime found.\n\
             A SYCL root must contain include/sycl/sycl.hpp and lib/libsycl.so.\n\
             Places tried, in order:\n{}\n\
             Fix: run `make setup` (installs the SYCL runtime into .venv) or set SYCL_ROOT \
             to the root of a SYCL installation (e.g. an oneAPI compiler directory).\n",
            tried.join("\n")
        );
    };

    // Absolute and free of `..`, since it ends up in the RUNPATH.
    let root = fs::canonicalize(&root).unwrap_or(root);
    let include_dir = root.join("include");
    let lib_dir = root.join("lib");
    println!(
        "cargo:rerun-if-changed={}",
        include_dir.join("sycl").join("version.hpp").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        lib_dir.join("libsycl.so").display()
    );

    let abi_major = sycl_abi_major(&lib_dir, &include_dir);
    if let Some(header_major) = header_major_version(&include_dir) {
        if header_major != abi_major {
            println!(
                "cargo:warning=dpcore-sycl: headers in {} say libsycl major {header_major} \
                 but {} has libsycl.so.{abi_major}",
                include_dir.display(),
                lib_dir.display()
            );
        }
    }

    let abi_major_str = abi_major.to_string();
    // The settings every C++ file of the crate is compiled with.
    macro_rules! cxx_library {
        ($bridges:expr, $sources:expr, $name:expr) => {
            cxx_build::bridges($bridges)
                .files($sources)
                .std("c++17")
                .include(&include_dir)
                .include("src")
                .define("SYCL_DISABLE_FSYCL_SYCLHPP_WARNING", None)
                .define("DPCORE_SYCL_ABI_MAJOR", abi_major_str.as_str())
                .opt_level(2)
                .flag_if_supported("-Wno-deprecated-declarations")
                .compile($name)
        };
    }
    cxx_library!(BRIDGES, CXX_SOURCES, "dpcore_sycl_bridge");
    // Test-only helpers (src/test_support.rs): a static library of their own,
    // which only the unit-test binary refers to, so the linker leaves it out
    // of libdpcore_sycl.so.
    cxx_library!([TEST_BRIDGE], [TEST_SOURCE], "dpcore_sycl_test_support");

    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    println!("cargo:rustc-link-lib=dylib=sycl");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libdpcore_sycl.so");
    // A RUNPATH to the SYCL library directory. Given to every linked target
    // (`rustc-link-arg`), not only the cdylib, so that the unit-test harness,
    // which links libsycl too, finds it without LD_LIBRARY_PATH as well.
    println!("cargo:rustc-link-arg=-Wl,--enable-new-dtags");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib_dir.display());
    // A second entry, the one an installed wheel's plugin keeps
    // (site-packages/dpcore/lib -> the environment's lib): the install
    // rewrites the RUNPATH in place (scripts/set-runpath.py cannot grow it),
    // so the built one always has room for it, however short the SYCL
    // root's path. In the build tree it points nowhere dpcore uses.
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN/../../../..");
    println!("cargo:rustc-env=DPCORE_SYCL_ABI_MAJOR={abi_major}");
    println!("cargo:rustc-env=DPCORE_SYCL_ROOT={}", root.display());
}

/// Every place to look, in order of preference.
fn candidates(manifest_dir: &Path) -> Vec<Candidate> {
    let mut out = Vec::new();
    for var in ["SYCL_ROOT", "CMPLR_ROOT"] {
        let root = env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        out.push(Candidate {
            origin: if root.is_some() {
                format!("${var}")
            } else {
                format!("${var} (not set)")
            },
            root,
            explicit: true,
        });
    }
    match find_on_path("icpx") {
        Some(icpx) => {
            let mut roots: Vec<PathBuf> = Vec::new();
            if let Some(root) = icpx.parent().and_then(Path::parent) {
                roots.push(root.to_path_buf());
            }
            // icpx is often a symlink (e.g. /usr/bin/icpx); also try where
            // it really lives.
            if let Ok(real) = fs::canonicalize(&icpx) {
                if let Some(root) = real.parent().and_then(Path::parent) {
                    if !roots.iter().any(|r| r == root) {
                        roots.push(root.to_path_buf());
                    }
                }
            }
            for root in roots {
                out.push(Candidate {
                    origin: format!("dirname(dirname({}))", icpx.display()),
                    root: Some(root),
                    explicit: false,
                });
            }
        }
        None => out.push(Candidate {
            origin: "icpx on PATH (not found)".to_string(),
            root: None,
            explicit: false,
        }),
    }
    out.push(Candidate {
        origin: "workspace venv <crate>/../.venv".to_string(),
        root: Some(manifest_dir.join("..").join(".venv")),
        explicit: false,
    });
    out
}

fn find_on_path(exe: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(exe))
        .find(|p| p.is_file())
}

fn check_root(root: &Path) -> Result<(), String> {
    if !root.is_dir() {
        return Err("not a directory".to_string());
    }
    let header = root.join("include").join("sycl").join("sycl.hpp");
    if !header.is_file() {
        return Err(format!("no {}", header.display()));
    }
    let lib = root.join("lib").join("libsycl.so");
    if !lib.exists() {
        return Err(format!("no {}", lib.display()));
    }
    Ok(())
}

/// The N of `libsycl.so.N`: the highest N for which `lib_dir/libsycl.so.N`
/// exists; failing that, the first number after `libsycl.so.` in the target
/// of the `libsycl.so` symlink; failing that, `__LIBSYCL_MAJOR_VERSION` from
/// the headers.
fn sycl_abi_major(lib_dir: &Path, include_dir: &Path) -> u32 {
    let mut best: Option<u32> = None;
    if let Ok(entries) = fs::read_dir(lib_dir) {
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(n) = name
                .strip_prefix("libsycl.so.")
                .and_then(|s| s.parse::<u32>().ok())
            {
                best = Some(best.map_or(n, |b| b.max(n)));
            }
        }
    }
    if let Some(n) = best {
        return n;
    }
    if let Ok(target) = fs::read_link(lib_dir.join("libsycl.so")) {
        if let Some(n) = target
            .file_name()
            .and_then(|f| f.to_str())
            .and_then(|f| f.strip_prefix("libsycl.so."))
            .and_then(|rest| rest.split('.').next())
            .and_then(|n| n.parse::<u32>().ok())
        {
            return n;
        }
    }
    if let Some(n) = header_major_version(include_dir) {
        println!(
            "cargo:warning=dpcore-sycl: no libsycl.so.N in {}; using __LIBSYCL_MAJOR_VERSION {n} \
             from the headers",
            lib_dir.display()
        );
        return n;
    }
    panic!(
        "dpcore-sycl: cannot tell the SYCL ABI major version: no libsycl.so.N in {}, \
         libsycl.so is not a versioned symlink and {} has no __LIBSYCL_MAJOR_VERSION",
        lib_dir.display(),
        include_dir.join("sycl").join("version.hpp").display()
    );
}

/// `__LIBSYCL_MAJOR_VERSION` from `include/sycl/version.hpp`, if present.
fn header_major_version(include_dir: &Path) -> Option<u32> {
    let text = fs::read_to_string(include_dir.join("sycl").join("version.hpp")).ok()?;
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("#define")?.trim_start();
        let value = rest.strip_prefix("__LIBSYCL_MAJOR_VERSION")?;
        value.trim().parse().ok()
    })
}
